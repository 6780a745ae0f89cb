/** DuckDB and hyparquet read our files back exactly; we read DuckDB's files. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { valueAt } from '../../src/columns/ops.js';
import type { ColumnBatch } from '../../src/columns/types.js';
import { type CodecName, ParquetReader, ParquetWriter } from '../../src/parquet/index.js';
import { allKindsSchema, FileSink, FileSource, randomBatch, rng, tempDir } from './helpers.js';

const schema = allKindsSchema();
const ROWS = 2500;
let tmp: ReturnType<typeof tempDir>;
let batch: ColumnBatch;
const files = new Map<CodecName, string>();

beforeAll(async () => {
  tmp = tempDir();
  batch = randomBatch(schema, ROWS, rng(1234));
  for (const codec of ['zstd', 'snappy', 'gzip', 'none'] as const) {
    const path = join(tmp.dir, `${codec}.parquet`);
    const sink = await FileSink.create(path);
    const w = new ParquetWriter(sink, {
      schema,
      codec,
      rowGroupRows: 1000,
      pageRows: 300,
      sortingColumns: ['timestamp_req'],
      keyValueMetadata: { 'ticklake.dataset': 'trades', 'ticklake.note': 'ünïcode ✓' },
    });
    await w.write(batch);
    w.setMetadata('late', 'yes');
    await w.close();
    await sink.close();
    files.set(codec, path);
  }
});

afterAll(() => tmp.cleanup());

/** Expected JS value of row i as DuckDB returns it from our SELECT (timestamps as epoch µs). */
function expected(name: string, i: number): unknown {
  const v = valueAt(batch.columns[name]!, i);
  return typeof v === 'boolean' ? v : v;
}

/** '2023-11-14 22:13:20.000627+00' → µs since the epoch. */
function parseTimestampUs(x: unknown): number {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))?/.exec(String(x));
  if (!m) throw new Error(`unexpected timestamp ${String(x)}`);
  return Date.parse(`${m[1]}T${m[2]}Z`) * 1000 + Number((m[3] ?? '').padEnd(6, '0'));
}

describe('DuckDB as the independent reader', () => {
  for (const codec of ['zstd', 'snappy', 'gzip', 'none'] as const) {
    it(`reads every value of a ${codec} file`, async () => {
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      const file = files.get(codec)!;
      const select = schema.fields
        .map((f) =>
          f.kind === 'timestamp' || f.kind === 'int64'
            ? `CAST(${f.kind === 'timestamp' ? `epoch_us("${f.name}")` : `"${f.name}"`} AS DOUBLE) AS "${f.name}"`
            : `"${f.name}"`,
        )
        .join(', ');
      const reader = await conn.runAndReadAll(`SELECT ${select} FROM read_parquet('${file}')`);
      const rows = reader.getRowsJS();
      expect(rows.length).toBe(ROWS);
      for (const [c, f] of schema.fields.entries()) {
        for (let i = 0; i < ROWS; i++) {
          const got = rows[i]![c];
          const want = expected(f.name, i);
          if (!Object.is(got ?? null, want) && got !== want) {
            throw new Error(`${codec} ${f.name}[${i}]: DuckDB read ${String(got)}, wrote ${String(want)}`);
          }
        }
      }
      conn.closeSync();
    });
  }

  it('sees our key-value metadata, types and statistics', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const file = files.get('zstd')!;
    const kv = (
      await conn.runAndReadAll(
        `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${file}')`,
      )
    ).getRowObjectsJS();
    const kvMap = Object.fromEntries(kv.map((r) => [r.k, r.v]));
    expect(kvMap).toMatchObject({ 'ticklake.dataset': 'trades', 'ticklake.note': 'ünïcode ✓', late: 'yes' });

    const desc = (
      await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)
    ).getRowObjectsJS();
    const types = Object.fromEntries(desc.map((r) => [r.column_name, r.column_type]));
    expect(types).toMatchObject({
      timestamp_req: 'TIMESTAMP WITH TIME ZONE',
      timestamp_opt: 'TIMESTAMP WITH TIME ZONE',
      float64_req: 'DOUBLE',
      int64_req: 'BIGINT',
      int32_req: 'INTEGER',
      bool_req: 'BOOLEAN',
      utf8_req: 'VARCHAR',
      dict_req: 'VARCHAR',
    });
    const pschema = (
      await conn.runAndReadAll(`SELECT name, logical_type, repetition_type FROM parquet_schema('${file}')`)
    ).getRowObjectsJS();
    const ts = pschema.find((r) => r.name === 'timestamp_req')!;
    expect(String(ts.logical_type)).toMatch(
      /TimestampType\(isAdjustedToUTC=1, unit=TimeUnit\(MILLIS=<null>, MICROS=MicroSeconds\(\)/,
    );
    expect(pschema.find((r) => r.name === 'utf8_opt')!.repetition_type).toBe('OPTIONAL');

    // Row-group statistics as DuckDB decodes them vs our own metadata.
    const ours = await ParquetReader.open(await FileSource.open(file));
    const stats = (
      await conn.runAndReadAll(
        `SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata('${file}')`,
      )
    ).getRowObjectsJS();
    expect(stats.length).toBe(3 * schema.fields.length);
    for (const s of stats) {
      const name = String(s.path_in_schema);
      const mine = ours.metadata.rowGroups[Number(s.row_group_id)]!.columns[name]!;
      expect(Number(s.stats_null_count), name).toBe(mine.nullCount);
      const kind = schema.fields.find((f) => f.name === name)!.kind;
      if (kind === 'float64' || kind === 'int32' || kind === 'int64') {
        expect(Number(s.stats_min_value), name).toBe(mine.min);
        expect(Number(s.stats_max_value), name).toBe(mine.max);
      } else if (kind === 'utf8' || kind === 'dict') {
        expect(s.stats_min_value ?? null, name).toBe(mine.min);
        expect(s.stats_max_value ?? null, name).toBe(mine.max);
      } else if (kind === 'timestamp') {
        expect(parseTimestampUs(s.stats_min_value), name).toBe(mine.min);
        expect(parseTimestampUs(s.stats_max_value), name).toBe(mine.max);
      }
    }
    await ours.close();
    // Row-group pruning by timestamp works in DuckDB from our statistics.
    const firstTs = valueAt(batch.columns.timestamp_req!, 0) as number;
    const n = (
      await conn.runAndReadAll(
        `SELECT count(*)::INT AS n FROM read_parquet('${file}') WHERE timestamp_req = make_timestamptz(${firstTs}::BIGINT)`,
      )
    ).getRowsJS();
    expect(n[0]![0]).toBe(1);
    conn.closeSync();
  });

  it('our reader decodes files DuckDB writes (v1 and v2 pages, dictionary, nulls)', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const decoded: string[] = [];
    for (const [i, opts] of [
      'COMPRESSION zstd',
      'COMPRESSION snappy, ROW_GROUP_SIZE 2048',
      'COMPRESSION uncompressed, PARQUET_VERSION v2',
    ].entries()) {
      const file = join(tmp.dir, `duck${i}.parquet`);
      await conn.run(`COPY (
        SELECT make_timestamptz(1700000000000000 + r * 1000) AS ts,
               CASE WHEN r % 7 = 0 THEN NULL ELSE (r * 0.5)::DOUBLE END AS price,
               r::BIGINT * 1000003 AS big,
               (r % 100)::INTEGER AS small,
               r % 3 = 0 AS flag,
               CASE WHEN r % 5 = 0 THEN NULL ELSE ['buy', 'sell'][1 + r % 2] END AS side,
               'id-' || r::VARCHAR AS id
        FROM range(10000) t(r)) TO '${file}' (FORMAT parquet, ${opts})`);
      try {
        const reader = await ParquetReader.open(await FileSource.open(file), file);
        const b = await reader.readBatch();
        expect(b.length).toBe(10000);
        for (const r of [0, 1, 5, 7, 2047, 2048, 9999]) {
          expect(valueAt(b.columns.ts!, r)).toBe(1700000000000000 + r * 1000);
          expect(valueAt(b.columns.price!, r)).toBe(r % 7 === 0 ? null : r * 0.5);
          expect(valueAt(b.columns.big!, r)).toBe(r * 1000003);
          expect(valueAt(b.columns.small!, r)).toBe(r % 100);
          expect(valueAt(b.columns.flag!, r)).toBe(r % 3 === 0);
          expect(valueAt(b.columns.side!, r)).toBe(r % 5 === 0 ? null : ['buy', 'sell'][r % 2]);
          expect(valueAt(b.columns.id!, r)).toBe(`id-${r}`);
        }
        expect((await reader.readArrow()).numRows).toBe(10000);
        await reader.close();
        decoded.push(opts);
      } catch (err) {
        // Encodings we do not implement must fail with a clear typed error, never wrong data.
        expect((err as Error).message, opts).toMatch(/unsupported Parquet feature/);
        expect((err as { code?: string }).code, opts).toBe('UNSUPPORTED_FILE');
      }
    }
    // DuckDB's default (v1) files must decode.
    expect(decoded).toContain('COMPRESSION zstd');
    expect(decoded).toContain('COMPRESSION snappy, ROW_GROUP_SIZE 2048');
    conn.closeSync();
  });
});

describe('hyparquet as a second reader', () => {
  for (const codec of ['zstd', 'snappy', 'gzip', 'none'] as const) {
    it(`reads every value of a ${codec} file`, async () => {
      const buf = readFileSync(files.get(codec)!);
      const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      const rows = (await parquetReadObjects({
        file,
        compressors,
        parsers: { timestampFromMicroseconds: (us: bigint) => Number(us) },
      })) as Record<string, unknown>[];
      expect(rows.length).toBe(ROWS);
      for (const f of schema.fields) {
        for (let i = 0; i < ROWS; i++) {
          let got = rows[i]![f.name];
          if (typeof got === 'bigint') got = Number(got);
          const want = expected(f.name, i);
          if (!Object.is(got ?? null, want) && got !== want) {
            throw new Error(`${codec} ${f.name}[${i}]: hyparquet read ${String(got)}, wrote ${String(want)}`);
          }
        }
      }
    });
  }
});
