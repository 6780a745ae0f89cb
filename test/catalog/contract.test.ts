/**
 * The catalog contract, run unchanged against every backend (SQLite, PostgreSQL): migrations,
 * intents committed atomically with task results, task bookkeeping, jobs, plans, exact value
 * round-trips and byte-wise ordering. Raw SQL checks go around the catalog code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATEST_CATALOG_VERSION, MIGRATIONS } from '../../src/catalog/migrations.js';
import type { SqlCatalog } from '../../src/catalog/sql/catalog.js';
import type { FileRecord, PlanTask, TaskKey } from '../../src/catalog/types.js';
import { CatalogError } from '../../src/errors.js';
import { BACKENDS } from './backends.js';

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

describe.each(BACKENDS)('catalog contract on $name', (backend) => {
  const test = it.skipIf(backend.skip !== null);
  const opened: SqlCatalog[] = [];
  const fresh = async () => {
    const c = await backend.fresh();
    opened.push(c);
    return c;
  };
  const reopen = async () => {
    const c = await backend.reopen();
    opened.push(c);
    return c;
  };
  beforeAll(async () => {
    if (!backend.skip) await backend.setup();
  });
  afterAll(async () => {
    for (const c of opened) await c.close().catch(() => {});
    if (!backend.skip) await backend.teardown();
  });

  test('applies migrations once and records their versions', async () => {
    const cat = await fresh();
    expect(cat.schemaVersion).toBe(LATEST_CATALOG_VERSION);
    await cat.close();
    const again = await reopen();
    expect(again.schemaVersion).toBe(LATEST_CATALOG_VERSION);
    const rows = await backend.sql('SELECT version, name FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => [Number(r.version), r.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
  });

  test('refuses a catalog from a newer ticklake', async () => {
    const cat = await fresh();
    await cat.close();
    await backend.sql("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)");
    await expect(reopen()).rejects.toThrow(CatalogError);
    await expect(reopen()).rejects.toThrow(/schema version 999, newer than this ticklake understands/);
  });

  test('commits intents and the task result in one transaction', async () => {
    const cat = await fresh();
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

  test('a failing commit changes nothing', async () => {
    const cat = await fresh();
    await cat.startTask(task, null);
    await cat.recordIntent(rec('a.parquet'));
    await expect(
      cat.commitFiles(['a.parquet', 'missing.parquet'], { key: task, result: { status: 'done' } }),
    ).rejects.toThrow(/no pending intent for missing.parquet/);
    expect(await cat.getFile('a.parquet')).toBeNull();
    expect((await cat.listIntents()).map((r) => r.path)).toEqual(['a.parquet']);
    expect((await cat.getTask(task))!.status).toBe('running');
  });

  test('replacing a file keeps one record per path with the newest checksum', async () => {
    const cat = await fresh();
    await cat.recordIntent(rec('a.parquet', '1'.repeat(64)));
    await cat.commitFiles(['a.parquet']);
    await cat.recordIntent(rec('a.parquet', '2'.repeat(64)));
    await cat.commitFiles(['a.parquet']);
    const files = await cat.listFiles();
    expect(files).toHaveLength(1);
    expect(files[0]!.checksum).toBe('2'.repeat(64));
  });

  test('counts attempts and keeps the last error', async () => {
    const cat = await fresh();
    expect(await cat.startTask(task, 1)).toMatchObject({ ...task, attempts: 1, status: 'running', jobId: 1 });
    await cat.finishTask(task, {
      status: 'failed',
      errorCode: 'NETWORK',
      error: 'boom',
      sourceUrl: 'http://x/a.csv.gz',
    });
    await cat.startTask(task, 2);
    const t = await cat.getTask(task);
    expect(t).toMatchObject({ attempts: 2, status: 'running', jobId: 2 });
    await cat.finishTask(task, { status: 'absent', errorCode: 'VENDOR_NOT_FOUND', error: 'gone' });
    expect(await cat.getTask(task)).toMatchObject({
      status: 'absent',
      errorCode: 'VENDOR_NOT_FOUND',
      error: 'gone',
      sourceUrl: 'http://x/a.csv.gz',
      badExamples: [],
      outputs: [],
    });
    expect(await cat.listTasks({ status: 'absent' })).toHaveLength(1);
    expect(await cat.listTasks({ status: 'failed' })).toHaveLength(0);
    expect(await cat.listTasks({ jobId: 2 })).toHaveLength(1);
    expect(await cat.listTasks({ jobId: 1 })).toHaveLength(0);
    expect(await cat.getTask({ ...task, day: '2024-08-02' })).toBeNull();
  });

  test('a task finished without being started has 0 attempts', async () => {
    const cat = await fresh();
    await cat.finishTask(task, {
      status: 'done',
      rows: 5,
      badRows: 1,
      badExamples: ['line 3: bad price: x'],
      sourceBytes: 2 ** 40,
    });
    expect(await cat.getTask(task)).toMatchObject({
      attempts: 0,
      status: 'done',
      rows: 5,
      badRows: 1,
      badExamples: ['line 3: bad price: x'],
      sourceBytes: 2 ** 40,
      jobId: null,
    });
  });

  test('filters files by dataset, type, key and day range', async () => {
    const cat = await fresh();
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

  test('round-trips every value exactly and sorts byte-wise with NULLs first', async () => {
    const cat = await fresh();
    const big = 2 ** 53 - 1;
    const records: FileRecord[] = [
      { ...rec('b/Z.parquet'), minTs: big, maxTs: big, bytes: 2 ** 45, generated: true },
      { ...rec('b/a.parquet'), dataType: null, instrumentKey: null, day: null, minTs: null, maxTs: null },
      { ...rec('b/_.parquet'), vendor: null, sourceUrl: null, sourceChecksum: null, sourceBytes: null },
      { ...rec('B.parquet'), instrumentKey: 'a:b' },
      { ...rec('b.parquet'), instrumentKey: 'Z:b' },
      { ...rec('c.parquet'), dataset: 'quarantine' },
    ];
    await cat.putFiles(records);
    for (const r of records) expect(await cat.getFile(r.path)).toEqual(r);
    // Independent order: dataset, data_type, instrument_key, day (NULLs first), path, by code unit.
    const cmp = (a: string | null, b: string | null) =>
      a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1;
    const expected = [...records].sort(
      (x, y) =>
        cmp(x.dataset, y.dataset) ||
        cmp(x.dataType, y.dataType) ||
        cmp(x.instrumentKey, y.instrumentKey) ||
        cmp(x.day, y.day) ||
        cmp(x.path, y.path),
    );
    expect((await cat.listFiles()).map((f) => f.path)).toEqual(expected.map((f) => f.path));
    expect(typeof (await cat.getFile('b/Z.parquet'))!.minTs).toBe('number');
  });

  test('drops intents, deletes files, and clears all but jobs and plans for a rebuild', async () => {
    const cat = await fresh();
    await cat.recordIntent(rec('a.parquet', '1'.repeat(64)));
    await cat.recordIntent(rec('a.parquet', '2'.repeat(64)));
    await cat.dropIntent('a.parquet', '1'.repeat(64));
    expect((await cat.listIntents()).map((r) => r.checksum)).toEqual(['2'.repeat(64)]);
    await cat.putFiles([rec('x.parquet'), rec('y.parquet')]);
    await cat.deleteFile('x.parquet');
    expect((await cat.listFiles()).map((f) => f.path)).toEqual(['y.parquet']);
    await cat.startTask(task, null);
    const job = await cat.createJob('ingest', {});
    const plan = await cat.savePlan({}, {}, [{ ...task, instrumentKey: null }]);
    await cat.clearForRebuild();
    expect(await cat.listFiles()).toEqual([]);
    expect(await cat.listIntents()).toEqual([]);
    expect(await cat.listTasks()).toEqual([]);
    expect(await cat.getJob(job)).not.toBeNull();
    expect(await cat.planTasks(plan)).toHaveLength(1);
  });

  test('jobs record their parameters and summary', async () => {
    const cat = await fresh();
    const id = await cat.createJob('ingest', { exchange: 'binance' });
    expect(await cat.getJob(id)).toMatchObject({ status: 'running', summary: null, finishedAt: null });
    await cat.finishJob(id, 'done', { tasks: 3 });
    expect(await cat.getJob(id)).toMatchObject({
      kind: 'ingest',
      status: 'done',
      params: { exchange: 'binance' },
      summary: { tasks: 3 },
    });
    expect(await cat.createJob('ingest', {})).toBe(id + 1);
    expect(await cat.getJob(id + 7)).toBeNull();
  });

  test('saves plans with 100k+ tasks and reads them back in order', async () => {
    const cat = await fresh();
    const tasks: PlanTask[] = Array.from({ length: 100_003 }, (_, i) => ({
      vendor: 'tardis',
      exchange: i % 2 ? 'binance' : 'deribit',
      dataType: 'trades',
      symbol: `S${(i * 7919) % 100_003}`,
      day: `2024-08-${String((i % 28) + 1).padStart(2, '0')}`,
      instrumentKey: i % 3 ? `X:SPOT_PAIR:S${i}-USD` : null,
    }));
    const id = await cat.savePlan({ exchange: ['binance'] }, { tasks: tasks.length }, tasks);
    const id2 = await cat.savePlan({ exchange: ['x'] }, { tasks: 0 }, []);
    expect(id2).toBeGreaterThan(id);
    expect(await cat.planTasks(id)).toEqual(tasks);
    expect(await cat.planTasks(id2)).toEqual([]);
    const [n] = await backend.sql(`SELECT count(*) AS n FROM plan_tasks WHERE plan_id = ${id}`);
    expect(Number(n!.n)).toBe(100_003);
    expect(await cat.getPlan(id)).toMatchObject({
      id,
      params: { exchange: ['binance'] },
      summary: { tasks: 100_003 },
    });
    expect((await cat.listPlans()).map((p) => p.id)).toEqual([id, id2]);
    expect(await cat.getPlan(id2 + 1)).toBeNull();
  });
});
