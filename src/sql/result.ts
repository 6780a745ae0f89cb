/**
 * DuckDB query results → our columnar batch (and from there Arrow or Parquet), one typed array per
 * column, filled chunk by chunk. Timestamps stay µs; integers that fit in 32 bits stay int32, wider
 * ones become exact doubles (int64 kind); DECIMAL/FLOAT become float64; DATE, strings and every other
 * type (lists, structs, intervals, ...) become UTF-8 text.
 */
import { DuckDBTypeId, type DuckDBResult, type DuckDBType } from '@duckdb/node-api';
import type { Table } from 'apache-arrow';
import { batchToArrow } from '../columns/arrow.js';
import type { Column, ColumnBatch, Field, ColumnKind, Schema } from '../columns/types.js';
import { ResultTooLargeError } from '../errors.js';

/** A query result in both forms: the column batch (for Parquet) and the Arrow Table. */
export interface SqlTable {
  schema: Schema;
  batch: ColumnBatch;
  table: Table;
}

function kindOf(t: DuckDBType): ColumnKind {
  switch (t.typeId) {
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_NS:
      return 'timestamp';
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DECIMAL:
      return 'float64';
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
      return 'int32';
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return 'int64';
    case DuckDBTypeId.BOOLEAN:
      return 'bool';
    default:
      return 'utf8';
  }
}

const encoder = new TextEncoder();

/** Column accumulator: grows typed arrays chunk by chunk. */
class Acc {
  private n = 0;
  private nums: Float64Array | Int32Array | Uint8Array;
  private valid = new Uint8Array(1024);
  private nulls = 0;
  private strings: string[] = [];
  constructor(
    readonly kind: ColumnKind,
    private readonly typeId: DuckDBTypeId,
  ) {
    this.nums =
      kind === 'int32'
        ? new Int32Array(1024)
        : kind === 'bool'
          ? new Uint8Array(1024)
          : new Float64Array(1024);
  }

  push(values: readonly unknown[]): void {
    const need = this.n + values.length;
    if (need > this.valid.length) {
      let cap = this.valid.length;
      while (cap < need) cap *= 2;
      const v = new Uint8Array(cap);
      v.set(this.valid);
      this.valid = v;
      if (this.kind !== 'utf8') {
        const ctor = this.nums.constructor as new (n: number) => Float64Array | Int32Array | Uint8Array;
        const nn = new ctor(cap);
        nn.set(this.nums as never);
        this.nums = nn;
      }
    }
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const at = this.n + i;
      if (v === null || v === undefined) {
        this.nulls++;
        this.valid[at] = 0;
        if (this.kind === 'utf8') this.strings.push('');
        continue;
      }
      this.valid[at] = 1;
      switch (this.kind) {
        case 'timestamp':
          this.nums[at] = timestampMicros(v, this.typeId);
          break;
        case 'float64':
        case 'int64':
          this.nums[at] = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : Number(String(v));
          break;
        case 'int32':
          this.nums[at] = v as number;
          break;
        case 'bool':
          this.nums[at] = v ? 1 : 0;
          break;
        default:
          this.strings.push(typeof v === 'string' ? v : String(v));
      }
    }
    this.n = need;
  }

  finish(): Column {
    const validity = this.nulls > 0 ? this.valid.slice(0, this.n) : null;
    if (this.kind === 'utf8') {
      const offsets = new Int32Array(this.n + 1);
      const parts: Uint8Array[] = [];
      let bytes = 0;
      for (let i = 0; i < this.n; i++) {
        const b = encoder.encode(this.strings[i]!);
        parts.push(b);
        bytes += b.length;
        offsets[i + 1] = bytes;
      }
      const data = new Uint8Array(bytes);
      let p = 0;
      for (const b of parts) {
        data.set(b, p);
        p += b.length;
      }
      return { kind: 'utf8', offsets, data, validity };
    }
    const values = this.nums.slice(0, this.n);
    return { kind: this.kind, values, validity } as Column;
  }
}

function timestampMicros(v: unknown, typeId: DuckDBTypeId): number {
  const o = v as { micros?: bigint; millis?: bigint; seconds?: bigint; nanos?: bigint };
  if (o.micros !== undefined) return Number(o.micros);
  if (o.millis !== undefined) return Number(o.millis) * 1000;
  if (o.seconds !== undefined) return Number(o.seconds) * 1_000_000;
  if (o.nanos !== undefined) return Math.floor(Number(o.nanos) / 1000);
  throw new Error(`unexpected timestamp value for type ${typeId}`);
}

/** Read every chunk of `result` into columns; more than `maxRows` rows → ResultTooLargeError. */
export async function collectResult(
  result: DuckDBResult,
  maxRows = Number.POSITIVE_INFINITY,
): Promise<SqlTable> {
  const names = result.columnNames();
  const types = result.columnTypes();
  // Duplicate output names (SELECT a, a) get a suffix so every column stays addressable.
  const seen = new Map<string, number>();
  const unique = names.map((n) => {
    const k = seen.get(n) ?? 0;
    seen.set(n, k + 1);
    return k === 0 ? n : `${n}_${k}`;
  });
  const accs = types.map((t) => new Acc(kindOf(t), t.typeId));
  let rows = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    rows += chunk.rowCount;
    if (rows > maxRows) throw new ResultTooLargeError('SQL result', rows, maxRows, 'rows');
    for (let c = 0; c < accs.length; c++) accs[c]!.push(chunk.getColumnValues(c));
  }
  const fields: Field[] = unique.map((name, i) => ({
    name,
    kind: accs[i]!.kind,
    nullable: true,
    description: `${types[i]!.toString()}`,
  }));
  const schema: Schema = { fields };
  const columns: Record<string, Column> = {};
  fields.forEach((f, i) => {
    columns[f.name] = accs[i]!.finish();
  });
  const batch: ColumnBatch = { length: rows, columns };
  return { schema, batch, table: batchToArrow(batch, schema) };
}
