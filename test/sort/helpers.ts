/**
 * Test helpers for the external sorter: seeded random batches and a plain reference sort
 * (rows as JS values, `Array.prototype.sort` — stable — on row indices).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BoolBuilder,
  DictBuilder,
  Float64Builder,
  Int32Builder,
  Utf8Builder,
} from '../../src/columns/builders.js';
import { sliceBatch, valueAt } from '../../src/columns/ops.js';
import type { Column, ColumnBatch, Schema } from '../../src/columns/types.js';

export type Value = string | number | boolean | null;

/** mulberry32: small seeded PRNG, values in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A schema exercising every column kind; `seq` (push order) checks stability. */
export const MIXED_SCHEMA: Schema = {
  fields: [
    { name: 'timestamp', kind: 'timestamp', nullable: false },
    { name: 'seq', kind: 'int64', nullable: false },
    { name: 'id', kind: 'utf8', nullable: true },
    { name: 'side', kind: 'dict', nullable: true },
    { name: 'price', kind: 'float64', nullable: true },
    { name: 'level', kind: 'int32', nullable: true },
    { name: 'is_snapshot', kind: 'bool', nullable: true },
    { name: 'instrument_key', kind: 'dict', nullable: false },
  ],
};

const SIDES = ['buy', 'sell', 'unknown'];
const INSTRUMENTS = [
  'DERIBIT:OPTION:BTC-1',
  'DERIBIT:OPTION:BTC-10',
  'DERIBIT:OPTION:BTC-2',
  'DERIBIT:OPTION:ÉTH-3',
  'A',
];

/**
 * `n` rows with timestamps from `ts(i)`, the other columns random with ~10% nulls. Dictionaries are
 * built per batch in a shuffled order, so the sorter has to re-key them.
 */
export function mixedRows(
  n: number,
  ts: (i: number) => number,
  seed: number,
  batchSizes: readonly number[],
): ColumnBatch[] {
  const r = rng(seed);
  const out: ColumnBatch[] = [];
  let row = 0;
  let b = 0;
  while (row < n) {
    const size = Math.min(n - row, batchSizes[b++ % batchSizes.length]!);
    const t = new Float64Builder('timestamp', size);
    const seq = new Float64Builder('int64', size);
    const id = new Utf8Builder(size);
    const side = new DictBuilder(r() < 0.5 ? SIDES : [...SIDES].reverse(), size);
    const price = new Float64Builder('float64', size);
    const level = new Int32Builder(size);
    const snap = new BoolBuilder(size);
    const ik = new DictBuilder(
      [...INSTRUMENTS].sort(() => r() - 0.5),
      size,
    );
    for (let i = 0; i < size; i++) {
      const g = row + i;
      t.append(ts(g));
      seq.append(g);
      if (r() < 0.1) id.appendNull();
      else id.append(r() < 0.05 ? '' : `t-${g}-${'x'.repeat(Math.floor(r() * 5))}é`);
      if (r() < 0.1) side.appendNull();
      else side.append(SIDES[Math.floor(r() * 3)]!);
      if (r() < 0.1) price.appendNull();
      else price.append(Math.round(r() * 1e6) / 100);
      if (r() < 0.1) level.appendNull();
      else level.append(Math.floor(r() * 50) - 10);
      if (r() < 0.1) snap.appendNull();
      else snap.append(r() < 0.5);
      ik.append(INSTRUMENTS[Math.floor(r() * INSTRUMENTS.length)]!);
    }
    out.push({
      length: size,
      columns: {
        timestamp: t.finish(),
        seq: seq.finish(),
        id: id.finish(),
        side: side.finish(),
        price: price.finish(),
        level: level.finish(),
        is_snapshot: snap.finish(),
        instrument_key: ik.finish(),
      },
    });
    row += size;
  }
  return out;
}

/** Rows of batches as arrays of JS values, in schema order. */
export function toRows(schema: Schema, batches: readonly ColumnBatch[]): Value[][] {
  const rows: Value[][] = [];
  for (const b of batches) {
    const cols: Column[] = schema.fields.map((f) => b.columns[f.name]!);
    for (let i = 0; i < b.length; i++) rows.push(cols.map((c) => valueAt(c, i)));
  }
  return rows;
}

function isNullish(v: Value): boolean {
  return v === null || (typeof v === 'number' && Number.isNaN(v));
}

/** Reference order: keys left to right, strings in UTF-8 byte order, nulls/NaN last, stable. */
export function referenceSort(
  schema: Schema,
  sortKey: readonly string[],
  rows: readonly Value[][],
): Value[][] {
  const pos = sortKey.map((k) => schema.fields.findIndex((f) => f.name === k));
  const idx = rows.map((_, i) => i);
  idx.sort((a, b) => {
    for (const p of pos) {
      const x = rows[a]![p]!;
      const y = rows[b]![p]!;
      const xn = isNullish(x);
      const yn = isNullish(y);
      if (xn || yn) {
        if (xn !== yn) return xn ? 1 : -1;
        continue;
      }
      const c =
        typeof x === 'string' && typeof y === 'string'
          ? Buffer.compare(Buffer.from(x), Buffer.from(y))
          : (x as number) - (y as number);
      if (c !== 0) return c;
    }
    return 0;
  });
  return idx.map((i) => rows[i]!);
}

/**
 * Row-for-row equality that fails fast with the first differing row (a full diff of thousands of
 * rows takes the test runner minutes).
 */
export function firstDifference(actual: readonly Value[][], expected: readonly Value[][]): unknown {
  const n = Math.max(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    const a = actual[i];
    const e = expected[i];
    if (
      a === undefined ||
      e === undefined ||
      a.length !== e.length ||
      a.some((v, j) => !Object.is(v, e[j]))
    ) {
      return { row: i, actual: a, expected: e };
    }
  }
  return null;
}

export async function collect(it: AsyncIterable<ColumnBatch>): Promise<ColumnBatch[]> {
  const out: ColumnBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

export async function tempDir(prefix = 'ticklake-sort-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Re-cut batches into pieces of the given sizes (cycled), to push in odd sizes. */
export function recut(batches: readonly ColumnBatch[], sizes: readonly number[]): ColumnBatch[] {
  const out: ColumnBatch[] = [];
  let k = 0;
  for (const b of batches) {
    for (let s = 0; s < b.length; ) {
      const e = Math.min(b.length, s + sizes[k++ % sizes.length]!);
      out.push(sliceBatch(b, s, e));
      s = e;
    }
  }
  return out;
}
