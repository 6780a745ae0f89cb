/**
 * `ticklake inspect` and `ticklake stats`, spawned from dist/ as a user runs them, checked against
 * the files on disk and DuckDB's reading of their footers.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  Float64,
  makeData,
  makeVector,
  Table,
  TimestampMicrosecond,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InspectReport } from '../../src/lake/inspect.js';
import { openLake } from '../../src/lake/lake.js';
import { runCli } from '../helpers/cli.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import { tempDir } from '../helpers/fixtures.js';

const DAY_US = 86_400_000_000;
const T0 = Date.UTC(2024, 6, 31) * 1000; // 2024-07-31, so the data spans two months

function ohlcv(keys: string[], days: number): Table {
  const ts: bigint[] = [];
  const key: string[] = [];
  const px: number[] = [];
  for (let d = 0; d < days; d++) {
    for (let i = 0; i < 50; i++) {
      for (const k of keys) {
        ts.push(BigInt(T0 + d * DAY_US + i * 60_000_000));
        key.push(k);
        px.push(100 + i + d);
      }
    }
  }
  const num = () => vectorFromArray(px, new Float64());
  return new Table({
    timestamp: makeVector(
      makeData({ type: new TimestampMicrosecond(), length: ts.length, data: BigInt64Array.from(ts) }),
    ),
    instrument_key: vectorFromArray(key, new Utf8()),
    open: num(),
    high: num(),
    low: num(),
    close: num(),
    volume: num(),
  });
}

describe('ticklake inspect / stats (built CLI)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let lakeDir: string;
  let written: string[] = [];

  beforeAll(async () => {
    tmp = await tempDir();
    lakeDir = join(tmp.path, 'lake');
    const lake = await openLake({ root: lakeDir });
    const a = await lake.write({
      dataset: 'ohlcv',
      table: ohlcv(['BINANCE:SPOT_PAIR:BTC-USDT'], 2),
      sidecar: true,
      metadata: { quality: { gaps: 0 } },
    });
    const b = await lake.write({
      dataset: 'ohlcv',
      table: ohlcv(['DERIBIT:PERP:BTC-USD'], 2),
      name: 'deribit',
      compression: 'gzip',
    });
    written = [...a.files, ...b.files].map((f) => f.record.path);
    await lake.close();
  });
  afterAll(async () => {
    await tmp.cleanup();
  });

  it('inspect FILE --json: footer metadata, schema with descriptions, stats, row groups, sidecar', async () => {
    const file = join(lakeDir, 'ohlcv/day=2024-07-31/part-0.parquet');
    const r = await runCli(['inspect', file, '--lake', lakeDir, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [rep] = JSON.parse(r.stdout) as InspectReport[];
    expect(rep).toMatchObject({
      path: 'ohlcv/day=2024-07-31/part-0.parquet',
      bytes: statSync(file).size,
      rows: 50,
      codec: 'zstd',
      metadata: {
        dataset: 'ohlcv',
        layer: 'processed',
        schema_version: '1',
        instrument_key: 'BINANCE:SPOT_PAIR:BTC-USDT',
        day: '2024-07-31',
        partition: { day: '2024-07-31' },
        quality: { gaps: 0 },
      },
      sidecar: { dataset: 'ohlcv', recordCount: 50, fileSize: statSync(file).size },
    });
    expect(rep!.catalog!.path).toBe('ohlcv/day=2024-07-31/part-0.parquet');
    const cols = rep!.columns;
    expect(cols[0]).toEqual({
      name: 'timestamp',
      type: 'timestamp',
      nullable: false,
      description: 'bar start (µs, UTC)',
      min: '2024-07-31T00:00:00.000000Z',
      max: '2024-07-31T00:49:00.000000Z',
      nulls: 0,
    });
    const duck = await duckRows(
      `SELECT min(open) AS mn, max(open) AS mx, count(*) AS n FROM read_parquet(${sqlString(file)})`,
    );
    expect(cols.find((c) => c.name === 'open')).toMatchObject({ min: duck[0]!.mn, max: duck[0]!.mx });
    const rgs = await duckRows(
      `SELECT row_group_id, any_value(row_group_num_rows) AS rows, sum(total_compressed_size) AS c, sum(total_uncompressed_size) AS u FROM parquet_metadata(${sqlString(file)}) GROUP BY row_group_id ORDER BY row_group_id`,
    );
    expect(rep!.rowGroups).toEqual(
      rgs.map((g) => ({ rows: g.rows, compressedBytes: g.c, uncompressedBytes: g.u })),
    );
  });

  it('inspect KEY --day finds the file through the catalog; the text form names each part', async () => {
    const r = await runCli(['inspect', 'DERIBIT:PERP:BTC-USD', '--day', '2024-08-01', '--lake', lakeDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('file      ohlcv/day=2024-08-01/deribit.parquet');
    expect(r.stdout).toMatch(/size {6}.* · 50 rows · 1 row group · gzip/);
    expect(r.stdout).toContain('  instrument_key');
    expect(r.stdout).toContain('bar start (µs, UTC)');
    expect(r.stdout).toContain('sidecar   none');
  });

  it('inspect of nothing, and of a damaged file, fail with one clear line', async () => {
    const r = await runCli(['inspect', 'NOPE:SPOT_PAIR:X-Y', '--lake', lakeDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'ticklake: error: no file, instrument key or dataset matches "NOPE:SPOT_PAIR:X-Y". give a Parquet file path, an instrument key (with --day / --data-type) or a dataset name; `ticklake ls --files` lists files\n',
    );
    const bad = join(tmp.path, 'bad.parquet');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bad, 'PAR1 this is not parquet');
    const c = await runCli(['inspect', bad, '--lake', lakeDir]);
    expect(c.code).toBe(1);
    expect(c.stderr).toBe(
      `ticklake: error: ${bad}: not a Parquet file (bad magic). the file is damaged; re-ingest it with --force\n`,
    );
  });

  it('stats --by dataset,venue,month --json: files, rows, bytes and ratio from the files themselves', async () => {
    const r = await runCli(['stats', '--by', 'dataset,venue,month', '--lake', lakeDir, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    const expected: Record<string, unknown>[] = [];
    for (const venue of ['BINANCE', 'DERIBIT']) {
      for (const month of ['2024-07', '2024-08']) {
        const day = month === '2024-07' ? '2024-07-31' : '2024-08-01';
        const path = written.find(
          (p) => p.includes(day) && p.endsWith(venue === 'BINANCE' ? 'part-0.parquet' : 'deribit.parquet'),
        )!;
        const file = join(lakeDir, path);
        const m = await duckRows(
          `SELECT sum(total_uncompressed_size) AS u, sum(total_compressed_size) AS c FROM parquet_metadata(${sqlString(file)})`,
        );
        expected.push({
          dataset: 'ohlcv',
          venue,
          month,
          files: 1,
          rows: 50,
          bytes: statSync(file).size,
          uncompressedBytes: m[0]!.u,
          compressionRatio: (m[0]!.u as number) / (m[0]!.c as number),
        });
      }
    }
    expect(rows).toEqual(expected);
  });

  it('stats (text, default by dataset) and a bad --by', async () => {
    const r = await runCli(['stats', '--lake', lakeDir, '--no-ratio']);
    expect(r.code).toBe(0);
    const total = written.reduce((s, p) => s + statSync(join(lakeDir, p)).size, 0);
    expect(r.stdout).toMatch(/^dataset\s+files\s+rows\s+size\s+uncompressed\s+ratio\n/);
    expect(r.stdout).toMatch(/\nohlcv\s+4\s+200\s+/);
    expect(r.stdout).toContain(`4 files · 200 rows · `);
    expect(total).toBeGreaterThan(0);
    const bad = await runCli(['stats', '--by', 'color', '--lake', lakeDir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'ticklake: error: --by color is not a grouping. use dataset, venue, month (comma-separated)\n',
    );
  });
});
