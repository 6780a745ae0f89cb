/**
 * Fault test of `ticklake run` (issue #8): 4 sharded worker processes against s3rver and PostgreSQL over
 * a plan of 200 tasks (25 GENERATED perpetuals × 8 days of trades); two workers are SIGKILLed at random
 * points mid-ingest and restarted. At the end every planned task is done exactly once, no intent is
 * pending, the catalog matches the bucket file by file (size and sha256, both ways for raw data), and
 * the lake equals a single-process run of the same selection into another prefix and database.
 *
 * Second case: two workers on the SAME tasks at the same time (full overlap, not sharded) produce one
 * result — one catalog row per path and per task, the same bytes as the single-process run.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog, FileRecord } from '../../src/catalog/types.js';
import { hashSource } from '../../src/lake/publish.js';
import { openLake } from '../../src/lake/lake.js';
import { runPipeline } from '../../src/pipeline/run.js';
import type { S3Storage } from '../../src/lake/s3-storage.js';
import { createTestDatabase, pgMissing, type TestDatabase } from '../catalog/pg.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { catalogAt, EXCHANGE, type RunWorld, startRunWorld } from './env.js';

const FROM = '2024-03-01';
const TO = '2024-03-08';
const SELECTION = [
  '--exchange',
  EXCHANGE,
  '--data-types',
  'trades',
  '--from',
  FROM,
  '--to',
  TO,
  '--group-min',
  '0',
  '--timeframes',
  '1h,24h',
  '--feature-sets',
  'volatility',
  '--concurrency',
  '3',
];

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function watch(child: ChildProcess): { done: Promise<Exit>; stderr: () => string } {
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout!.resume();
  const done = new Promise<Exit>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { done, stderr: () => stderr };
}

async function objectsOf(storage: S3Storage, prefix = ''): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const o of storage.list(prefix)) out.set(o.path, o.size);
  return out;
}

async function sha256Of(storage: S3Storage, path: string): Promise<string> {
  const src = await storage.openRead(path);
  try {
    return await hashSource(src);
  } finally {
    await src.close();
  }
}

const checksums = (files: readonly FileRecord[]) => new Map(files.map((f) => [f.path, f.checksum] as const));

/** Every catalog file is in the bucket with its size and sha256; every raw object is in the catalog. */
async function expectCatalogMatchesBucket(catalog: Catalog, storage: S3Storage): Promise<FileRecord[]> {
  const files = await catalog.listFiles();
  const objects = await objectsOf(storage);
  for (const f of files) {
    expect(objects.get(f.path), `catalog file ${f.path} in the bucket`).toBe(f.bytes);
    expect(await sha256Of(storage, f.path), `sha256 of ${f.path}`).toBe(f.checksum);
  }
  const catalogued = new Set(files.map((f) => f.path));
  const rawObjects = [...objects.keys()].filter((p) => p.startsWith('raw_tick_data/'));
  expect(rawObjects.filter((p) => !catalogued.has(p))).toEqual([]);
  expect(await catalog.listIntents()).toEqual([]);
  return files;
}

describe.skipIf(pgMissing !== null)('ticklake run: sharded workers, killed and restarted', () => {
  let world: RunWorld;
  const dbs: TestDatabase[] = [];
  let single: { files: FileRecord[]; planned: number } | null = null;

  beforeAll(async () => {
    world = await startRunWorld({ symbols: 25, from: FROM, to: TO, rows: 2000 });
  }, 120_000);

  afterAll(async () => {
    for (const db of dbs) await db.drop().catch(() => {});
    await world?.close();
  });

  async function singleRun(): Promise<{ files: FileRecord[]; planned: number }> {
    if (single) return single;
    const db = await createTestDatabase('run_single');
    dbs.push(db);
    await world.prepareLake('single');
    const r = await runCli(['run', ...SELECTION], world.cliEnv('single', db.url));
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    const catalog = await catalogAt(db.url);
    try {
      const plans = await catalog.listPlans();
      expect(plans).toHaveLength(1);
      const planned = (await catalog.planTasks(plans[0]!.id)).length;
      const files = await expectCatalogMatchesBucket(catalog, world.storage('single'));
      single = { files, planned };
      return single;
    } finally {
      await catalog.close();
    }
  }

  it('4 shards, 2 SIGKILLed mid-run and restarted: every task done once, catalog = bucket = single run', async () => {
    const db = await createTestDatabase('run_shards');
    dbs.push(db);
    await world.prepareLake('sharded');
    const env = world.cliEnv('sharded', db.url);
    const start = (i: number) => watch(spawnCli(['run', ...SELECTION, '--shard', `${i}/4`], env));
    const workers = [0, 1, 2, 3].map((i) => ({
      i,
      proc: spawnCli(['run', ...SELECTION, '--shard', `${i}/4`], env),
    }));
    const watched = workers.map((w) => watch(w.proc));
    // Two distinct victims, each killed once its own days have between 3 and 40 (of 50) tasks done.
    const victims = [0, 1, 2, 3].sort(() => Math.random() - 0.5).slice(0, 2);
    const thresholds = new Map(victims.map((v) => [v, 3 + Math.floor(Math.random() * 38)]));
    console.log(
      `fault test: killing shards ${victims.join(', ')} at ${victims.map((v) => thresholds.get(v)).join(', ')} done tasks`,
    );
    const shardOfDay = new Map(world.days.map((d, p) => [d, p % 4]));
    const killed = new Map<number, Exit>();
    const restarted: Promise<Exit>[] = [];
    while (killed.size < victims.length) {
      const doneByShard = [0, 0, 0, 0];
      const rows = await db
        .sql("SELECT day, count(*)::int AS n FROM ingest_tasks WHERE status = 'done' GROUP BY day")
        .catch(() => []);
      for (const r of rows) doneByShard[shardOfDay.get(String(r.day))!]! += Number(r.n);
      for (const v of victims) {
        if (killed.has(v) || doneByShard[v]! < thresholds.get(v)!) continue;
        workers[v]!.proc.kill('SIGKILL');
        const exit = await watched[v]!.done;
        killed.set(v, exit);
        restarted.push(start(v).done);
      }
      const exited = await Promise.race([
        Promise.all(victims.filter((v) => !killed.has(v)).map((v) => watched[v]!.done)).then(() => true),
        new Promise((r) => setTimeout(() => r(false), 100)),
      ]);
      if (exited && killed.size < victims.length) break;
    }
    // The victims died by SIGKILL (not by finishing first).
    for (const v of victims) {
      const early = killed.has(v) ? '' : (await watched[v]!.done).stderr;
      expect(killed.get(v)?.signal, `shard ${v} killed mid-run; it exited first: ${early}`).toBe('SIGKILL');
    }
    const survivors = [0, 1, 2, 3].filter((i) => !victims.includes(i)).map((i) => watched[i]!.done);
    for (const e of [...(await Promise.all(survivors)), ...(await Promise.all(restarted))]) {
      expect(e.stderr).not.toMatch(/error:/);
      expect(e.code).toBe(0);
    }
    // Settle derived data whose previous day came from another shard (docs/DEPLOY.md, last step).
    const settle = await runCli(['run', ...SELECTION, '--stages', 'candles,features'], env);
    expect(settle.code, settle.stderr).toBe(0);

    const ref = await singleRun();
    expect(ref.planned).toBeGreaterThanOrEqual(200);
    const catalog = await catalogAt(db.url);
    try {
      // Every planned task (the union of the four shard plans = the single run's plan) done exactly once.
      const plans = await catalog.listPlans();
      const planned = new Set<string>();
      for (const p of plans) {
        for (const t of await catalog.planTasks(p.id))
          planned.add(`${t.exchange}/${t.dataType}/${t.symbol}/${t.day}`);
      }
      expect(planned.size).toBe(ref.planned);
      const tasks = await catalog.listTasks();
      const ids = tasks.map((t) => `${t.exchange}/${t.dataType}/${t.symbol}/${t.day}`);
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(ids)).toEqual(planned);
      expect(tasks.filter((t) => t.status !== 'done')).toEqual([]);
      // A killed worker had tasks in flight: they were started again (attempts > 1) and finished once.
      const victimDays = new Set(world.days.filter((_, p) => victims.includes(p % 4)));
      const retried = tasks.filter((t) => victimDays.has(t.day) && t.attempts > 1);
      expect(retried.length).toBeGreaterThan(0);
      // The catalog matches the bucket file by file, and the lake equals the single-process run.
      const files = await expectCatalogMatchesBucket(catalog, world.storage('sharded'));
      expect(files.filter((f) => f.path.startsWith('raw_tick_data/'))).toHaveLength(ref.planned);
      expect(checksums(files)).toEqual(checksums(ref.files));
    } finally {
      await catalog.close();
    }
  }, 600_000);

  it('two workers on the same tasks at once publish one identical result', async () => {
    const ref = await singleRun();
    const db = await createTestDatabase('run_dupes');
    dbs.push(db);
    await world.prepareLake('dupes');
    const symbols = world.symbols.slice(0, 5);
    const open = () =>
      openLake({
        root: 's3://lake-bucket/dupes',
        catalog: db.url,
        storage: world.storage('dupes'),
        config: { tardis: { datasetsUrl: world.server.url, apiUrl: world.server.apiUrl, apiKey: undefined } },
      });
    const a = await open();
    const b = await open();
    try {
      const req = {
        exchanges: [EXCHANGE],
        dataTypes: ['trades'],
        symbols,
        from: FROM,
        to: '2024-03-02',
        groupMin: 0,
        stages: ['sync', 'plan', 'ingest'] as const,
        force: true,
      };
      const [ra, rb] = await Promise.all([
        runPipeline(a, { ...req, stages: [...req.stages] }),
        runPipeline(b, { ...req, stages: [...req.stages] }),
      ]);
      expect(ra.failed).toEqual([]);
      expect(rb.failed).toEqual([]);
      expect(ra.tasks).toBe(10);
      const tasks = await a.catalog.listTasks();
      expect(tasks).toHaveLength(10);
      expect(tasks.every((t) => t.status === 'done')).toBe(true);
      const files = await expectCatalogMatchesBucket(a.catalog, world.storage('dupes'));
      expect(files.filter((f) => f.path.startsWith('raw_tick_data/'))).toHaveLength(10);
      const want = checksums(ref.files);
      for (const f of files) expect(f.checksum, f.path).toBe(want.get(f.path));
      const rows = await db.sql(
        'SELECT path, count(*)::int AS n FROM files GROUP BY path HAVING count(*) > 1',
      );
      expect(rows).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  }, 300_000);
});
