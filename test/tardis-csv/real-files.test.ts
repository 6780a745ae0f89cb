/**
 * Every real Tardis CSV in ../shared/data/real/tardis, parsed in chunks of several sizes and
 * compared value by value with DuckDB reading the same file (all_varchar, converted here).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { valueAt } from '../../src/columns/ops.js';
import { DATA_TYPES, type DataType } from '../../src/schema/datasets.js';
import { expectCanonicalSchema, expectMatchesText, parse, rowsOf } from './helpers.js';

const DIR = resolve(import.meta.dirname, '../../../shared/data/real/tardis');
const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith('.csv')) : [];

/** The data type named in a Tardis file name: `{exchange}_{data_type}_{SYMBOL}_{date}.csv`. */
function dataTypeOf(file: string): DataType {
  const found = [...DATA_TYPES].sort((a, b) => b.length - a.length).find((dt) => file.includes(`_${dt}_`));
  if (found === undefined) throw new Error(`no data type in ${file}`);
  return found;
}

let duck: DuckDBInstance | null = null;

async function readWithDuckDb(path: string): Promise<Record<string, (string | null)[]>> {
  duck ??= await DuckDBInstance.create(':memory:');
  const conn = await duck.connect();
  try {
    const reader = await conn.runAndReadAll(
      `SELECT * FROM read_csv('${path.replaceAll("'", "''")}', header = true, all_varchar = true, auto_detect = true)`,
    );
    const cols = reader.getColumnsObjectJS();
    const out: Record<string, (string | null)[]> = {};
    for (const [name, values] of Object.entries(cols)) {
      out[name] = values.map((v) => (v === null ? null : String(v)));
    }
    return out;
  } finally {
    conn.closeSync();
  }
}

describe.skipIf(files.length === 0)('real Tardis files (skipped: ../shared/data/real/tardis absent)', () => {
  beforeAll(async () => {
    duck = await DuckDBInstance.create(':memory:');
  });
  afterAll(() => {
    duck?.closeSync();
  });

  for (const file of files) {
    const dataType = dataTypeOf(file);
    it(`${file} (${dataType}) matches DuckDB, in every chunking`, async () => {
      const path = join(DIR, file);
      const bytes = readFileSync(path);
      const ref = await parse(bytes, dataType, 65_536, { batchRows: 4096 });
      const want = await readWithDuckDb(path);
      const rowCount = Object.values(want)[0]!.length;

      expect(ref.summary.badRows).toBe(0);
      expect(ref.bad).toEqual([]);
      expect(ref.summary.rows).toBe(rowCount);
      expect(ref.batch.length).toBe(rowCount);
      expectCanonicalSchema(ref.batch, dataType);
      expectMatchesText(ref.batch, want, dataType);
      expect(ref.summary.symbols).toEqual([...new Set(want.symbol)]);
      expect(ref.resolved).toEqual(ref.summary.symbols);

      if (ref.batch.columns.id !== undefined) {
        const ids = new Set<unknown>();
        for (let i = 0; i < ref.batch.length; i++) ids.add(valueAt(ref.batch.columns.id, i));
        expect(ids).toEqual(new Set(want.id));
      }
      const ts = want.timestamp!.map((t) => Number(t));
      expect(ref.summary.minTimestamp).toBe(Math.min(...ts));
      expect(ref.summary.maxTimestamp).toBe(Math.max(...ts));
      expect(ref.summary.sorted).toBe(ts.every((t, i) => i === 0 || t >= ts[i - 1]!));

      const rows = rowsOf(ref.batch);
      // 1-byte chunks are slow on the 10,000-row files; the first 40 KB cover many lines and splits.
      const small = bytes.length > 100_000 ? bytes.subarray(0, bytes.lastIndexOf(10, 40_000) + 1) : bytes;
      const smallRows = small === bytes ? rows : rows.slice(0, (await parse(small, dataType)).batch.length);
      for (const sizes of [[1], [7], [3, 1, 64, 2, 1000, 5]]) {
        const got = await parse(small, dataType, sizes, { batchRows: 1000 });
        expect(rowsOf(got.batch), `chunks ${sizes.join(',')}`).toEqual(smallRows);
      }
      const seed = bytes.length % 9973;
      const randomSizes = Array.from({ length: 50 }, (_, i) => 1 + ((seed * (i + 7) * 7919) % 20_000));
      const got = await parse(bytes, dataType, randomSizes);
      expect(rowsOf(got.batch)).toEqual(rows);
    });
  }
});
