/** Shared helpers of the Tardis CSV parser tests. */
import { expect } from 'vitest';
import { concatBatches, valueAt } from '../../src/columns/ops.js';
import type { ColumnBatch } from '../../src/columns/types.js';
import { CANONICAL_SCHEMAS, type DataType } from '../../src/schema/datasets.js';
import {
  createTardisCsvParser,
  type ParseSummary,
  type TardisCsvParserOptions,
} from '../../src/sources/tardis/csv.js';
import { canonicalNameOf } from '../../src/sources/tardis/csv-plan.js';

export interface BadRow {
  line: number;
  reason: string;
  raw: string;
}

export interface Parsed {
  batch: ColumnBatch;
  batches: ColumnBatch[];
  summary: ParseSummary;
  bad: BadRow[];
  resolved: string[];
}

export const keyOf = (symbol: string): string => `TEST:PERP:${symbol}`;

/**
 * Parse `input` fed in chunks of `chunkSize` bytes (or of the given cycle of sizes).
 * resolveKey defaults to `keyOf`; the symbols it was called with are returned in `resolved`.
 */
export async function parse(
  input: Uint8Array | string,
  dataType: DataType,
  chunkSize: number | readonly number[] = 65_536,
  options: Partial<TardisCsvParserOptions> = {},
): Promise<Parsed> {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  const batches: ColumnBatch[] = [];
  const bad: BadRow[] = [];
  const resolved: string[] = [];
  const parser = createTardisCsvParser({
    dataType,
    source: 'test.csv',
    resolveKey: (s) => {
      resolved.push(s);
      return keyOf(s);
    },
    onBatch: (b) => {
      batches.push(b);
    },
    onBadRow: (line, reason, raw) => {
      bad.push({ line, reason, raw });
    },
    ...options,
  });
  const sizes = typeof chunkSize === 'number' ? [chunkSize] : chunkSize;
  let i = 0;
  for (let o = 0; o < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    await parser.push(bytes.subarray(o, Math.min(o + n, bytes.length)));
    o += n;
  }
  const summary = await parser.end();
  const batch = batches.length > 0 ? concatBatches(batches) : { length: 0, columns: {} };
  return { batch, batches, summary, bad, resolved };
}

/** The batch as rows of JS values (`valueAt`), columns in schema order. */
export function rowsOf(batch: ColumnBatch): (string | number | boolean | null)[][] {
  const cols = Object.values(batch.columns);
  const rows: (string | number | boolean | null)[][] = [];
  for (let i = 0; i < batch.length; i++) rows.push(cols.map((c) => valueAt(c, i)));
  return rows;
}

/** The batch's columns match the canonical schema of `dataType`: names, order, kinds, nullability. */
export function expectCanonicalSchema(batch: ColumnBatch, dataType: DataType): void {
  const fields = CANONICAL_SCHEMAS[dataType].fields;
  expect(Object.keys(batch.columns)).toEqual(fields.map((f) => f.name));
  for (const f of fields) {
    const col = batch.columns[f.name]!;
    expect(col.kind, f.name).toBe(f.kind);
    if (!f.nullable) expect(col.validity, `${f.name} is not nullable`).toBeNull();
  }
}

/**
 * Check every value of `batch` against the CSV text values (`text[column][row]`, null = empty field,
 * as DuckDB's all_varchar read gives them): numbers as Number(text), timestamps as BigInt(text)
 * (an empty `timestamp` = local_timestamp), enums and ids as the text, symbols through keyOf.
 */
export function expectMatchesText(
  batch: ColumnBatch,
  text: Readonly<Record<string, readonly (string | null)[]>>,
  dataType: DataType,
): void {
  const fields = new Map(CANONICAL_SCHEMAS[dataType].fields.map((f) => [f.name, f]));
  const n = batch.length;
  for (const [column, values] of Object.entries(text)) {
    const name = canonicalNameOf(column);
    if (name === null) continue;
    const field = fields.get(name);
    if (field === undefined) continue;
    expect(values.length, column).toBe(n);
    const col = batch.columns[name]!;
    for (let i = 0; i < n; i++) {
      const t = values[i] ?? null;
      const got = valueAt(col, i);
      let want: string | number | boolean | null;
      if (t === null || t === '') {
        want = name === 'timestamp' ? Number(BigInt(text.local_timestamp![i]!)) : null;
      } else if (field.kind === 'timestamp') {
        expect(BigInt(got as number), `${column} row ${i}`).toBe(BigInt(t));
        continue;
      } else if (field.kind === 'float64') {
        want = Number(t);
      } else if (field.kind === 'bool') {
        want = t === 'true';
      } else if (name === 'instrument_key') {
        want = keyOf(t);
      } else {
        want = t;
      }
      if (!Object.is(got, want)) expect(got, `${column} row ${i} (text ${JSON.stringify(t)})`).toBe(want);
    }
  }
}
