/**
 * Reads of raw tick data: one instrument, a time range `[from, to)` across day files, merged in
 * timestamp order, as an Apache Arrow Table. Row groups outside the range are skipped using the
 * footer statistics; only the requested columns are read.
 */
import { type Data, makeData, RecordBatch, Struct, Table } from 'apache-arrow';
import type { Catalog, FileRecord } from '../catalog/types.js';
import { batchToArrow, int64ToFloat64 } from '../columns/arrow.js';
import { concatBatches, lowerBound, sliceBatch, takeBatch } from '../columns/ops.js';
import type { ColumnBatch, Schema, TimestampColumn } from '../columns/types.js';
import { UnknownDataTypeError, UsageError } from '../errors.js';
import { parseInstrumentKey } from '../keys/key.js';
import { ParquetReader } from '../parquet/reader.js';
import { CANONICAL_SCHEMAS, DATA_TYPES, type DataType, isDataType } from '../schema/datasets.js';
import { addDays, dayOfMicros, parseTimeBound } from '../util/time.js';
import { RAW_TICK_DATA } from './layout.js';
import type { Storage } from './storage.js';

export type TimeLike = string | number | Date;

export interface ReadRequest {
  /** A raw tick data type: `trades`, `quotes`, `book_snapshot_5`, ... */
  dataset: string;
  key: string;
  /** Inclusive start: `YYYY-MM-DD` (UTC midnight), ISO time, Date or epoch milliseconds. */
  from: TimeLike;
  /** Exclusive end. */
  to: TimeLike;
  /** Columns to return (default: all). */
  columns?: readonly string[];
}

export interface ReadContext {
  storage: Storage;
  catalog: Catalog;
}

function timestampsOf(table: Table): Float64Array {
  const v = table.getChild('timestamp');
  if (!v) throw new Error('timestamp column missing');
  const out = new Float64Array(table.numRows);
  let p = 0;
  for (const d of v.data) {
    int64ToFloat64(d.values as BigInt64Array, out.subarray(p, p + d.length));
    p += d.length;
  }
  return out;
}

interface Piece {
  table: Table;
  first: number;
  last: number;
}

export async function readTicks(ctx: ReadContext, req: ReadRequest): Promise<Table> {
  if (!isDataType(req.dataset)) throw new UnknownDataTypeError(req.dataset, DATA_TYPES);
  const dataType: DataType = req.dataset;
  parseInstrumentKey(req.key);
  const schema = CANONICAL_SCHEMAS[dataType];
  const known = new Set(schema.fields.map((f) => f.name));
  const wanted = req.columns ? [...req.columns] : schema.fields.map((f) => f.name);
  for (const c of wanted) {
    if (!known.has(c)) {
      throw new UsageError(`unknown column "${c}" for ${dataType}`, {
        hint: `columns: ${[...known].join(', ')}`,
      });
    }
  }
  const fromUs = parseTimeBound(req.from, 'from');
  const toUs = parseTimeBound(req.to, 'to');
  const outSchema: Schema = { fields: schema.fields.filter((f) => wanted.includes(f.name)) };
  if (toUs <= fromUs) return batchToArrow(emptyBatch(outSchema), outSchema);
  const readCols = wanted.includes('timestamp') ? wanted : ['timestamp', ...wanted];
  const files = (
    await ctx.catalog.listFiles({
      dataset: RAW_TICK_DATA,
      dataType,
      instrumentKey: req.key,
      // Day files can hold a few rows just across midnight; look one day either side.
      fromDay: addDays(dayOfMicros(fromUs), -1),
      toDay: addDays(dayOfMicros(toUs - 1), 1),
    })
  ).filter((f) => f.rows > 0 && f.minTs !== null && f.maxTs !== null && f.maxTs >= fromUs && f.minTs < toUs);

  const pieces: Piece[] = [];
  for (const f of files) {
    const piece = await readFileRange(ctx.storage, f, readCols, fromUs, toUs);
    if (piece) pieces.push(piece);
  }
  let ordered = true;
  for (let i = 1; i < pieces.length; i++) if (pieces[i]!.first < pieces[i - 1]!.last) ordered = false;
  let table: Table;
  if (pieces.length === 0) {
    table = batchToArrow(emptyBatch(outSchema), outSchema);
  } else if (ordered) {
    table = pieces.length === 1 ? pieces[0]!.table : concatTables(pieces.map((p) => p.table));
  } else {
    table = await mergeByTimestamp(ctx.storage, files, readCols, fromUs, toUs, schema);
  }
  return wanted.length === readCols.length ? table : table.select(wanted);
}

/**
 * Concatenate tables with the same columns (zero copy). Each file's dictionary columns carry their own
 * Arrow dictionary id, so batches are re-labelled with the first table's field types.
 */
export function concatTables(tables: readonly Table[]): Table {
  const schema = tables[0]!.schema;
  const batches: RecordBatch[] = [];
  for (const t of tables) {
    for (const b of t.batches) {
      const children = schema.fields.map((f) => {
        const child = b.getChild(f.name)!.data[0]! as Data;
        return child.type === f.type ? child : child.clone(f.type);
      });
      const struct = makeData({ type: new Struct(schema.fields), length: b.numRows, nullCount: 0, children });
      batches.push(new RecordBatch(schema, struct));
    }
  }
  return new Table(schema, batches);
}

function emptyBatch(schema: Schema): ColumnBatch {
  const columns: ColumnBatch['columns'] = {};
  for (const f of schema.fields) {
    const c =
      f.kind === 'utf8'
        ? { kind: 'utf8' as const, offsets: new Int32Array(1), data: new Uint8Array(0), validity: null }
        : f.kind === 'dict'
          ? { kind: 'dict' as const, indices: new Int32Array(0), dictionary: [], validity: null }
          : f.kind === 'int32'
            ? { kind: 'int32' as const, values: new Int32Array(0), validity: null }
            : f.kind === 'bool'
              ? { kind: 'bool' as const, values: new Uint8Array(0), validity: null }
              : { kind: f.kind, values: new Float64Array(0), validity: null };
    (columns as Record<string, unknown>)[f.name] = c;
  }
  return { length: 0, columns };
}

function rowGroupsInRange(reader: ParquetReader, fromUs: number, toUs: number): number[] {
  const out: number[] = [];
  reader.metadata.rowGroups.forEach((rg, i) => {
    const st = rg.columns.timestamp;
    const min = typeof st?.min === 'number' ? st.min : Number.NEGATIVE_INFINITY;
    const max = typeof st?.max === 'number' ? st.max : Number.POSITIVE_INFINITY;
    if (max >= fromUs && min < toUs) out.push(i);
  });
  return out;
}

async function readFileRange(
  storage: Storage,
  f: FileRecord,
  cols: readonly string[],
  fromUs: number,
  toUs: number,
): Promise<Piece | null> {
  const src = await storage.openRead(f.path);
  try {
    const reader = await ParquetReader.open(src, f.path);
    const rowGroups = rowGroupsInRange(reader, fromUs, toUs);
    if (rowGroups.length === 0) return null;
    let table = await reader.readArrow({ columns: [...cols], rowGroups });
    const ts = timestampsOf(table);
    const start = lowerBound(ts, fromUs);
    const end = lowerBound(ts, toUs);
    if (start >= end) return null;
    if (start > 0 || end < ts.length) table = table.slice(start, end);
    return { table, first: ts[start]!, last: ts[end - 1]! };
  } finally {
    await src.close();
  }
}

/** Slow path for ranges whose day files overlap in time: read batches, stable-sort by timestamp. */
async function mergeByTimestamp(
  storage: Storage,
  files: readonly FileRecord[],
  cols: readonly string[],
  fromUs: number,
  toUs: number,
  schema: Schema,
): Promise<Table> {
  const parts: ColumnBatch[] = [];
  for (const f of files) {
    const src = await storage.openRead(f.path);
    try {
      const reader = await ParquetReader.open(src, f.path);
      const rowGroups = rowGroupsInRange(reader, fromUs, toUs);
      if (rowGroups.length === 0) continue;
      const b = await reader.readBatch({ columns: [...cols], rowGroups });
      const ts = (b.columns.timestamp as TimestampColumn).values;
      const start = lowerBound(ts, fromUs);
      const end = lowerBound(ts, toUs);
      if (end > start) parts.push(sliceBatch(b, start, end));
    } finally {
      await src.close();
    }
  }
  const all = concatBatches(parts);
  const ts = (all.columns.timestamp as TimestampColumn).values;
  const idx = Array.from({ length: all.length }, (_, i) => i);
  idx.sort((a, b) => ts[a]! - ts[b]! || a - b);
  const sorted = takeBatch(all, idx);
  return batchToArrow(sorted, { fields: schema.fields.filter((fl) => cols.includes(fl.name)) });
}
