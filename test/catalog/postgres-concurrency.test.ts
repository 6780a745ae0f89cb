/**
 * Many concurrent writers on one catalog: 8 connections (8 pools on PostgreSQL; 8 connections to one
 * file on SQLite) hammer overlapping tasks with startTask / finishTask / commitFiles, upsert shared
 * paths given in clashing orders (the catalog must not deadlock), and save plans and jobs at once.
 * Expected totals are counted by the test itself; the final state is read back with raw SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlCatalog } from '../../src/catalog/sql/catalog.js';
import type { FileRecord, TaskKey } from '../../src/catalog/types.js';
import { BACKENDS } from './backends.js';

const WORKERS = 8;
const ROUNDS = 30;
const TASKS = 5;
const SHARED = 6;

const taskKey = (t: number): TaskKey => ({
  vendor: 'tardis',
  exchange: 'binance',
  dataType: 'trades',
  symbol: `SYM${t}`,
  day: '2024-08-01',
});

function file(path: string, checksum: string): FileRecord {
  return {
    path,
    dataset: 'raw_tick_data',
    dataType: 'trades',
    instrumentKey: 'BINANCE:SPOT_PAIR:BTC-USDT',
    day: '2024-08-01',
    rows: 1,
    bytes: 1,
    minTs: 1,
    maxTs: 1,
    checksum,
    schemaVersion: 1,
    codec: 'zstd',
    vendor: 'tardis',
    vendorExchange: 'binance',
    vendorSymbol: 'BTCUSDT',
    sourceUrl: null,
    sourceChecksum: null,
    sourceBytes: null,
    generated: true,
    codeVersion: '0.1.0',
    createdAt: 1,
  };
}

describe.each(BACKENDS)('concurrent writers on $name', (backend) => {
  const cats: SqlCatalog[] = [];
  beforeAll(async () => {
    if (backend.skip) return;
    await backend.setup();
    cats.push(await backend.fresh());
    for (let i = 1; i < WORKERS; i++) cats.push(await backend.reopen());
  });
  afterAll(async () => {
    for (const c of cats) await c.close().catch(() => {});
    if (!backend.skip) await backend.teardown();
  });

  it.skipIf(backend.skip !== null)(
    'final counts are exact: no lost increments, one row per key',
    async () => {
      const starts = new Array<number>(TASKS).fill(0);
      const committed = new Set<string>();
      const jobIds: number[] = [];
      const planIds: number[] = [];
      await Promise.all(
        cats.map(async (cat, w) => {
          for (let r = 0; r < ROUNDS; r++) {
            const t = (w + r) % TASKS;
            const key = taskKey(t);
            starts[t]!++;
            const started = await cat.startTask(key, null);
            expect(started.status).toBe('running');
            expect(started.attempts).toBeGreaterThanOrEqual(1);
            if (r % 3 === 0) {
              await cat.finishTask(key, { status: 'failed', errorCode: 'NETWORK', error: `w${w} r${r}` });
            } else {
              const path = `t${t}/w${w}.parquet`;
              await cat.recordIntent(file(path, `${w}-${r}`.padEnd(64, '0')));
              await cat.commitFiles([path], { key, result: { status: 'done', rows: r, outputs: [path] } });
              committed.add(path);
            }
            if (r % 5 === 0) {
              // Every worker upserts all shared paths, each in its own rotation: clashing lock orders.
              const shared = Array.from({ length: SHARED }, (_, i) =>
                file(`shared/${(i + w) % SHARED}`, `${w}`.repeat(64)),
              );
              await cat.putFiles(shared);
              jobIds.push(await cat.createJob('ingest', { w, r }));
            }
            if (r % 10 === 0) {
              const plan = Array.from({ length: 1200 }, (_, i) => ({
                ...taskKey(i),
                instrumentKey: `w${w}`,
              }));
              planIds.push(await cat.savePlan({ w }, { r }, plan));
            }
          }
        }),
      );

      const cat = cats[0]!;
      const tasks = await cat.listTasks();
      expect(tasks.map((x) => [x.symbol, x.attempts])).toEqual(
        starts.map((n, t) => [taskKey(t).symbol, n]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      );
      expect(starts.reduce((a, b) => a + b, 0)).toBe(WORKERS * ROUNDS);
      const dupTasks = await backend.sql(
        'SELECT symbol, count(*) AS n FROM ingest_tasks GROUP BY vendor, exchange, data_type, symbol, day HAVING count(*) > 1',
      );
      expect(dupTasks).toEqual([]);

      const paths = (await cat.listFiles()).map((f) => f.path);
      const expectedPaths = [...committed, ...Array.from({ length: SHARED }, (_, i) => `shared/${i}`)].sort();
      expect(paths.slice().sort()).toEqual(expectedPaths);
      const [files] = await backend.sql('SELECT count(*) AS n, count(DISTINCT path) AS d FROM files');
      expect([Number(files!.n), Number(files!.d)]).toEqual([expectedPaths.length, expectedPaths.length]);
      for (const f of await cat.listFiles()) {
        if (f.path.startsWith('shared/')) expect(f.checksum).toMatch(/^([0-7])\1{63}$/);
      }
      expect(await cat.listIntents()).toEqual([]);

      expect(new Set(jobIds).size).toBe(jobIds.length);
      expect(jobIds.length).toBe(WORKERS * Math.ceil(ROUNDS / 5));
      expect(new Set(planIds).size).toBe(WORKERS * Math.ceil(ROUNDS / 10));
      for (const id of planIds) {
        const pt = await cat.planTasks(id);
        const owner = (await cat.getPlan(id))!.params.w;
        expect(pt.length).toBe(1200);
        expect(pt.every((p, i) => p.symbol === `SYM${i}` && p.instrumentKey === `w${owner}`)).toBe(true);
      }
    },
  );
});
