/** The SQLite catalog: migrations, intents committed atomically with task results, task bookkeeping. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LATEST_CATALOG_VERSION } from '../../src/catalog/migrations.js';
import { SqliteCatalog } from '../../src/catalog/sqlite/catalog.js';
import type { FileRecord, TaskKey } from '../../src/catalog/types.js';
import { CatalogError } from '../../src/errors.js';
import { tempDir } from '../helpers/fixtures.js';

const task: TaskKey = {
  vendor: 'tardis',
  exchange: 'binance',
  dataType: 'trades',
  symbol: 'BTCUSDT',
  day: '2024-08-01',
};

function rec(path: string, checksum = 'a'.repeat(64)): FileRecord {
  return {
    path,
    dataset: 'raw_tick_data',
    dataType: 'trades',
    instrumentKey: 'BINANCE:SPOT_PAIR:BTC-USDT',
    day: '2024-08-01',
    rows: 10,
    bytes: 1234,
    minTs: 1722470400000000,
    maxTs: 1722556799999999,
    checksum,
    schemaVersion: 1,
    codec: 'zstd',
    vendor: 'tardis',
    vendorExchange: 'binance',
    vendorSymbol: 'BTCUSDT',
    sourceUrl: 'http://x/v1/binance/trades/2024/08/01/BTCUSDT.csv.gz',
    sourceChecksum: 'b'.repeat(64),
    sourceBytes: 99,
    generated: false,
    codeVersion: '0.1.0',
    createdAt: 1,
  };
}

describe('SqliteCatalog', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let path: string;
  let cat: SqliteCatalog;
  beforeEach(async () => {
    tmp = await tempDir();
    path = join(tmp.path, 'catalog.sqlite');
    cat = SqliteCatalog.open(path);
  });
  afterEach(async () => {
    await cat.close().catch(() => {});
    await tmp.cleanup();
  });

  it('applies migrations once and records their versions', async () => {
    expect(cat.schemaVersion).toBe(LATEST_CATALOG_VERSION);
    await cat.close();
    cat = SqliteCatalog.open(path);
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({
      n: LATEST_CATALOG_VERSION,
    });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('refuses a catalog from a newer ticklake', async () => {
    await cat.close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('future');
    db.close();
    expect(() => SqliteCatalog.open(path)).toThrow(CatalogError);
    expect(() => SqliteCatalog.open(path)).toThrow(
      /schema version 999, newer than this ticklake understands/,
    );
    cat = SqliteCatalog.open(join(tmp.path, 'other.sqlite'));
  });

  it('commits intents and the task result in one transaction', async () => {
    await cat.startTask(task, null);
    await cat.recordIntent(rec('a.parquet'));
    await cat.recordIntent(rec('b.parquet'));
    expect(await cat.getFile('a.parquet')).toBeNull();
    expect((await cat.listIntents()).map((r) => r.path)).toEqual(['a.parquet', 'b.parquet']);
    await cat.commitFiles(['a.parquet', 'b.parquet'], {
      key: task,
      result: { status: 'done', rows: 20, outputs: ['a.parquet', 'b.parquet'] },
    });
    expect(await cat.getFile('a.parquet')).toEqual(rec('a.parquet'));
    expect(await cat.listIntents()).toEqual([]);
    const t = await cat.getTask(task);
    expect(t).toMatchObject({ status: 'done', rows: 20, attempts: 1, outputs: ['a.parquet', 'b.parquet'] });
  });

  it('a failing commit changes nothing', async () => {
    await cat.startTask(task, null);
    await cat.recordIntent(rec('a.parquet'));
    await expect(
      cat.commitFiles(['a.parquet', 'missing.parquet'], { key: task, result: { status: 'done' } }),
    ).rejects.toThrow(/no pending intent for missing.parquet/);
    expect(await cat.getFile('a.parquet')).toBeNull();
    expect((await cat.listIntents()).map((r) => r.path)).toEqual(['a.parquet']);
    expect((await cat.getTask(task))!.status).toBe('running');
  });

  it('replacing a file keeps one record per path with the newest checksum', async () => {
    await cat.recordIntent(rec('a.parquet', '1'.repeat(64)));
    await cat.commitFiles(['a.parquet']);
    await cat.recordIntent(rec('a.parquet', '2'.repeat(64)));
    await cat.commitFiles(['a.parquet']);
    const files = await cat.listFiles();
    expect(files).toHaveLength(1);
    expect(files[0]!.checksum).toBe('2'.repeat(64));
  });

  it('counts attempts and keeps the last error', async () => {
    await cat.startTask(task, 1);
    await cat.finishTask(task, { status: 'failed', errorCode: 'NETWORK', error: 'boom' });
    await cat.startTask(task, 2);
    const t = await cat.getTask(task);
    expect(t).toMatchObject({ attempts: 2, status: 'running', jobId: 2 });
    await cat.finishTask(task, { status: 'absent', errorCode: 'VENDOR_NOT_FOUND', error: 'gone' });
    expect(await cat.listTasks({ status: 'absent' })).toHaveLength(1);
    expect(await cat.listTasks({ status: 'failed' })).toHaveLength(0);
  });

  it('filters files by dataset, type, key and day range', async () => {
    const days = ['2024-08-01', '2024-08-02', '2024-08-03'];
    await cat.putFiles(days.map((day) => ({ ...rec(`${day}.parquet`), day })));
    expect((await cat.listFiles({ fromDay: '2024-08-02' })).map((f) => f.day)).toEqual([
      '2024-08-02',
      '2024-08-03',
    ]);
    expect((await cat.listFiles({ toDay: '2024-08-01' })).map((f) => f.day)).toEqual(['2024-08-01']);
    expect(await cat.listFiles({ instrumentKey: 'X:SPOT_PAIR:A-B' })).toEqual([]);
    expect(await cat.listFiles({ dataset: 'quarantine' })).toEqual([]);
  });

  it('jobs record their parameters and summary', async () => {
    const id = await cat.createJob('ingest', { exchange: 'binance' });
    await cat.finishJob(id, 'done', { tasks: 3 });
    expect(await cat.getJob(id)).toMatchObject({
      kind: 'ingest',
      status: 'done',
      params: { exchange: 'binance' },
      summary: { tasks: 3 },
    });
  });
});
