/**
 * The CLI as a user meets it: ingest (summary, --json, exit codes), ls, query in every format,
 * catalog rebuild, and the secret that must never leak.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTardisDataset } from '../../src/dev/generate.js';
import { startTardisServer, type TardisServer } from '../../src/dev/tardis-server.js';
import { runCli } from '../helpers/cli.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import { filesUnder, tempDir } from '../helpers/fixtures.js';

const SECRET = 'tl-secret-abcdef123456';

describe('ticklake CLI', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let server: TardisServer;
  let lake: string;
  let env: NodeJS.ProcessEnv;
  const outputs: string[] = [];
  const run = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const r = await runCli(['--lake', lake, ...args], { ...env, ...extraEnv });
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  beforeAll(async () => {
    tmp = await tempDir('ticklake-cli-');
    const vendor = join(tmp.path, 'vendor');
    lake = join(tmp.path, 'lake');
    for (const day of ['2024-08-01', '2024-08-02']) {
      await generateTardisDataset({
        dir: vendor,
        exchange: 'binance',
        dataType: 'trades',
        symbol: 'BTCUSDT',
        day,
        rows: 20_000,
        seed: day === '2024-08-01' ? 1 : 2,
      });
    }
    server = await startTardisServer({ dir: vendor, port: 0, apiKeys: [SECRET] });
    env = { TARDIS_DATASETS_URL: server.url, TARDIS_API_KEY: SECRET };
  });

  afterAll(async () => {
    await server?.close();
    await tmp?.cleanup();
  });

  it('ingest prints a closing summary and exits 0; a 404 is reported as absent, not failed', async () => {
    const r = await run([
      'ingest',
      '--exchange',
      'binance',
      '--data-types',
      'trades',
      '--symbols',
      'BTCUSDT,NOPEUSDT',
      '--from',
      '2024-08-01',
      '--to',
      '2024-08-02',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /ingest: 4 tasks — 2 done, 0 skipped \(already stored\), 2 absent at vendor, 0 failed · 40,000 rows/,
    );
    expect(r.stdout).toMatch(/absent at vendor: binance trades NOPEUSDT 2024-08-01 \(404\)/);
  });

  it('a second run downloads nothing and says so; --json prints events and a summary', async () => {
    const before = server.requests.length;
    const r = await run([
      'ingest',
      '--exchange',
      'binance',
      '--data-types',
      'trades',
      '--symbols',
      'BTCUSDT',
      '--from',
      '2024-08-01',
      '--to',
      '2024-08-02',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(server.requests.length).toBe(before);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({ type: 'plan', tasks: 2 });
    expect(lines.filter((l) => l.type === 'task-end').map((l) => l.outcome)).toEqual(['skipped', 'skipped']);
    const summary = lines.at(-1)!;
    expect(summary).toMatchObject({ type: 'summary', tasks: 2, skipped: 2, done: 0, failed: 0 });
  });

  it('ingest exits 1 when a task fails, with one clear line per failure', async () => {
    const r = await run(
      [
        'ingest',
        '--exchange',
        'binance',
        '--data-types',
        'trades',
        '--symbols',
        'BTCUSDT',
        '--from',
        '2024-08-05',
      ],
      {
        TARDIS_API_KEY: '',
      },
    );
    // 2024-08-05 does not exist at the vendor → absent; a non-free day without key → auth failure first.
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /failed: binance trades BTCUSDT 2024-08-05: .*needs an API key \(HTTP 401\)\. only the first day of each month is free; set TARDIS_API_KEY/,
    );
  });

  it('bad usage is one line and exit 2', async () => {
    const r = await run([
      'ingest',
      '--exchange',
      'binance',
      '--data-types',
      'trades',
      '--symbols',
      'BTCUSDT',
      '--from',
      '2024-13-01',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ticklake: error: --from "2024-13-01" is not a valid date\. use YYYY-MM-DD/);
    const u = await run([
      'ingest',
      '--exchange',
      'nope',
      '--data-types',
      'trades',
      '--symbols',
      'X',
      '--from',
      '2024-08-01',
    ]);
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(/^ticklake: error: unknown exchange "nope"\. known exchanges: bitmex, deribit/);
  });

  it('ls shows what the lake holds', async () => {
    const r = await run(['ls']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /trades\s+BINANCE:SPOT_PAIR:BTC-USDT \(generated\)\s+2\s+2024-08-01\s+2024-08-02\s+40,000/,
    );
    const j = await run(['ls', '--json']);
    expect(JSON.parse(j.stdout)).toEqual([
      expect.objectContaining({
        dataType: 'trades',
        key: 'BINANCE:SPOT_PAIR:BTC-USDT',
        days: 2,
        rows: 40_000,
      }),
    ]);
  });

  it('query returns the rows of the range in timestamp order, as csv, json lines and parquet', async () => {
    const csv = await run([
      'query',
      'trades',
      '--key',
      'BINANCE:SPOT_PAIR:BTC-USDT',
      '--from',
      '2024-08-01',
      '--to',
      '2024-08-02',
      '--columns',
      'timestamp,price,amount,side,id',
    ]);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('timestamp,price,amount,side,id');
    expect(lines).toHaveLength(40_001);
    expect(lines[1]).toMatch(
      /^2024-08-01T\d\d:\d\d:\d\d\.\d{6}Z,\d+(\.\d+)?,\d+(\.\d+)?,(buy|sell|unknown),\d+$/,
    );
    const ts = lines.slice(1).map((l) => l.split(',')[0]!);
    expect([...ts].sort()).toEqual(ts);
    // Half-open ISO range.
    const json = await run([
      'query',
      'trades',
      '--key',
      'BINANCE:SPOT_PAIR:BTC-USDT',
      '--from',
      '2024-08-01T06:00:00Z',
      '--to',
      '2024-08-01T07:00:00Z',
      '--format',
      'json',
    ]);
    const rows = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { timestamp: string; price: number });
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows)
      expect(row.timestamp >= '2024-08-01T06:00:00' && row.timestamp < '2024-08-01T07:00:00').toBe(true);
    // Parquet out, read back by DuckDB, equals the lake files.
    const out = join(tmp.path, 'out.parquet');
    const pq = await run([
      'query',
      'trades',
      '--key',
      'BINANCE:SPOT_PAIR:BTC-USDT',
      '--from',
      '2024-08-01',
      '--format',
      'parquet',
      '--out',
      out,
    ]);
    expect(pq.code, pq.stderr).toBe(0);
    const [got] = await duckRows(
      `SELECT count(*) AS n, sum(price * amount) AS notional FROM read_parquet(${sqlString(out)})`,
    );
    const [want] = await duckRows(
      `SELECT count(*) AS n, sum(price * amount) AS notional FROM read_parquet(${sqlString(join(lake, 'raw_tick_data/by_date/day=2024-08-01/data_type=trades/*.parquet'))})`,
    );
    expect(got).toEqual(want);
  });

  it('catalog rebuild recreates the same catalog from the Parquet footers alone', async () => {
    const before = await run(['ls', '--files', '--json']);
    execFileSync('rm', [
      '-f',
      join(lake, 'catalog.sqlite'),
      join(lake, 'catalog.sqlite-wal'),
      join(lake, 'catalog.sqlite-shm'),
    ]);
    const r = await run(['catalog', 'rebuild']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/catalog rebuilt from 2 files \(2 ingestion tasks\)/);
    const after = await run(['ls', '--files', '--json']);
    const strip = (s: string) =>
      (JSON.parse(s) as Record<string, unknown>[]).map(({ createdAt: _c, ...rest }) => rest);
    expect(strip(after.stdout)).toEqual(strip(before.stdout));
    // And the rebuilt tasks keep the ingest idempotent.
    const again = await run([
      'ingest',
      '--exchange',
      'binance',
      '--data-types',
      'trades',
      '--symbols',
      'BTCUSDT',
      '--from',
      '2024-08-01',
      '--to',
      '2024-08-02',
      '--json',
    ]);
    expect(JSON.parse(again.stdout.trim().split('\n').at(-1)!)).toMatchObject({ skipped: 2, done: 0 });
  });

  it('never writes the API key to output, errors, the catalog or lake files', async () => {
    for (const o of outputs) expect(o).not.toContain(SECRET);
    for (const f of filesUnder(lake)) {
      if (statSync(f).size > 50_000_000) continue;
      expect(readFileSync(f).includes(Buffer.from(SECRET)), f).toBe(false);
    }
  });
});
