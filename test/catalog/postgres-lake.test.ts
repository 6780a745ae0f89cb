/**
 * End to end with the catalog on PostgreSQL: `openLake({ catalog: 'postgres://...' })` and the CLI's
 * `--catalog postgres://...` ingest generated Tardis files from the local Tardis server; every
 * Parquet file on disk has exactly one catalog row (raw SQL) whose rows and checksum match the file
 * itself (DuckDB, sha256), a second lake process skips what is stored, and the password never
 * appears in output. Uses its own database, dropped at the end.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTardisDataset } from '../../src/dev/generate.js';
import { startTardisServer, type TardisServer } from '../../src/dev/tardis-server.js';
import { openLake } from '../../src/lake/lake.js';
import { runCli } from '../helpers/cli.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import { filesUnder, tempDir } from '../helpers/fixtures.js';
import { TEST_API_KEY } from '../helpers/lake.js';
import { createTestDatabase, pgMissing, type TestDatabase } from './pg.js';

const DAYS = ['2024-08-01', '2024-08-02'];
const ROWS = 20_000;
const REQUEST = {
  exchange: 'binance',
  dataTypes: ['trades'],
  symbols: ['BTCUSDT'],
  from: DAYS[0]!,
  to: DAYS[1]!,
};

describe.skipIf(pgMissing !== null)('a lake whose catalog is on PostgreSQL', () => {
  let db: TestDatabase;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let server: TardisServer;

  beforeAll(async () => {
    db = await createTestDatabase('lake');
    tmp = await tempDir();
    const vendor = join(tmp.path, 'vendor');
    for (const [i, day] of DAYS.entries()) {
      await generateTardisDataset({
        dir: vendor,
        exchange: 'binance',
        dataType: 'trades',
        symbol: 'BTCUSDT',
        day,
        rows: ROWS,
        seed: i + 1,
      });
    }
    server = await startTardisServer({ dir: vendor, port: 0, apiKeys: [TEST_API_KEY] });
  });
  afterAll(async () => {
    await server?.close();
    await tmp?.cleanup();
    await db?.drop();
  });

  /** Every Parquet file under `lakeDir` ↔ one catalog row with the file's own row count and sha256. */
  async function expectCatalogMatchesDisk(lakeDir: string): Promise<void> {
    const onDisk = filesUnder(lakeDir, { ext: '.parquet', skip: ['_staging'] })
      .map((p) => relative(lakeDir, p).split('\\').join('/'))
      .sort();
    const rows = await db.sql('SELECT path, rows, checksum FROM files ORDER BY path');
    expect(rows.map((r) => r.path)).toEqual(onDisk);
    expect(onDisk.length).toBeGreaterThanOrEqual(DAYS.length);
    for (const r of rows) {
      const abs = join(lakeDir, String(r.path));
      const [c] = await duckRows(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(abs)})`);
      expect(Number(r.rows)).toBe(c!.n);
      expect(r.checksum).toBe(createHash('sha256').update(readFileSync(abs)).digest('hex'));
    }
    const raw = rows.filter((r) => String(r.path).startsWith('raw_tick_data/'));
    expect(raw.reduce((s, r) => s + Number(r.rows), 0)).toBe(ROWS * DAYS.length);
  }

  it('openLake + ingest records every file in PostgreSQL; a second process skips them', async () => {
    await db.reset();
    const lakeDir = join(tmp.path, 'lake-lib');
    const config = { tardis: { datasetsUrl: server.url, apiKey: TEST_API_KEY } };
    const lake = await openLake({ root: lakeDir, catalog: db.url, config });
    try {
      expect(lake.catalog.location).toBe(db.url);
      const s = await lake.ingest(REQUEST);
      expect([s.tasks, s.done, s.failed, s.rows]).toEqual([2, 2, 0, ROWS * DAYS.length]);
    } finally {
      await lake.close();
    }
    expect(existsSync(join(lakeDir, 'catalog.sqlite'))).toBe(false);
    await expectCatalogMatchesDisk(lakeDir);
    const tasks = await db.sql('SELECT day, status, attempts FROM ingest_tasks ORDER BY day');
    expect(tasks).toEqual(DAYS.map((day) => ({ day, status: 'done', attempts: 1 })));

    const again = await openLake({ root: lakeDir, catalog: db.url, config });
    try {
      const s = await again.ingest(REQUEST);
      expect([s.done, s.skipped]).toEqual([0, 2]);
      expect((await again.files({ dataset: 'raw_tick_data' })).map((f) => f.day)).toEqual(DAYS);
    } finally {
      await again.close();
    }
  });

  it('the CLI takes --catalog postgres://user:password@...; the password never shows', async () => {
    await db.reset();
    const lakeDir = join(tmp.path, 'lake-cli');
    const password = 'cli-pw-7d1e42ab';
    const u = new URL(db.url);
    u.password = password; // trust auth: accepted and ignored by the local server
    const env = { TARDIS_DATASETS_URL: server.url, TARDIS_API_KEY: TEST_API_KEY };
    const base = ['--lake', lakeDir, '--catalog', u.toString()];
    const ingest = await runCli(
      [
        ...base,
        'ingest',
        '--exchange',
        'binance',
        '--data-types',
        'trades',
        '--symbols',
        'BTCUSDT',
        '--from',
        DAYS[0]!,
        '--to',
        DAYS[1]!,
      ],
      env,
    );
    expect(ingest.code, ingest.stderr).toBe(0);
    expect(ingest.stdout).toMatch(/2 done/);
    await expectCatalogMatchesDisk(lakeDir);
    const rebuild = await runCli([...base, 'catalog', 'rebuild'], env);
    expect(rebuild.code, rebuild.stderr).toBe(0);
    expect(rebuild.stdout).toContain(`at ${db.url}`);
    await expectCatalogMatchesDisk(lakeDir);
    // TICKLAKE_CATALOG works the same, and an unreachable server is one clear line.
    const down = await runCli(['--lake', lakeDir, 'ls'], {
      ...env,
      TICKLAKE_CATALOG: `postgres://postgres:${password}@127.0.0.1:1/x`,
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/catalog postgres:\/\/postgres@127\.0\.0\.1:1\/x: cannot connect/);
    for (const text of [
      ingest.stdout,
      ingest.stderr,
      rebuild.stdout,
      rebuild.stderr,
      down.stdout,
      down.stderr,
    ]) {
      expect(text).not.toContain(password);
    }
  });
});
