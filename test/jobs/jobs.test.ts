/**
 * Managed ingestion jobs, end to end with the built CLI against a local Tardis server serving
 * generated data: a cancel from a second process mid-way, a SIGKILL mid-way then `jobs resume`
 * (equal to an uninterrupted run), list/status/cleanup values, --detach, and typed errors.
 * The vendor server holds one chosen request (a `delayMs` fault) so the job is reliably mid-way.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTardisDataset } from '../../src/dev/generate.js';
import { type FaultAction, startTardisServer, type TardisServer } from '../../src/dev/tardis-server.js';
import { isTicklakeError } from '../../src/errors.js';
import { openLake } from '../../src/lake/lake.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { filesUnder, tempDir } from '../helpers/fixtures.js';

const KEY = 'tl-jobs-key-5'; // generated data, not a real key
const DAYS = ['2024-08-01', '2024-08-02', '2024-08-03'];
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const TASKS = DAYS.length * SYMBOLS.length;
/** The held request: long enough that only a cancel or a kill ends the job while it waits. */
const HOLD_MS = 120_000;

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const parquetFiles = (lake: string) =>
  filesUnder(lake, { ext: '.parquet', skip: ['_staging'] }).map((f) =>
    relative(lake, f).split('\\').join('/'),
  );

/** Consistent: no intents, every record has its file (same checksum), every file has its record. */
function checkConsistent(lake: string): {
  files: number;
  tasks: { day: string; symbol: string; status: string }[];
} {
  const db = new Database(join(lake, 'catalog.sqlite'), { readonly: true });
  try {
    expect(db.prepare('SELECT count(*) AS n FROM file_intents').get()).toEqual({ n: 0 });
    const recs = db.prepare('SELECT path, checksum FROM files').all() as { path: string; checksum: string }[];
    for (const r of recs) {
      expect(existsSync(join(lake, r.path)), `${r.path} recorded but missing`).toBe(true);
      expect(sha(join(lake, r.path)), r.path).toBe(r.checksum);
    }
    expect(parquetFiles(lake).sort()).toEqual(recs.map((r) => r.path).sort());
    // A done task's outputs are all committed files.
    const tasks = db.prepare('SELECT day, symbol, status, outputs FROM ingest_tasks').all() as {
      day: string;
      symbol: string;
      status: string;
      outputs: string | null;
    }[];
    const recorded = new Set(recs.map((r) => r.path));
    for (const t of tasks)
      if (t.status === 'done')
        for (const p of JSON.parse(t.outputs ?? '[]') as string[]) expect(recorded.has(p)).toBe(true);
    return { files: recs.length, tasks: tasks.map(({ day, symbol, status }) => ({ day, symbol, status })) };
  } finally {
    db.close();
  }
}

/** Nothing left in staging: no staged files, no sort spills, no partial downloads. */
function stagingFiles(lake: string): string[] {
  return filesUnder(join(lake, '_staging'));
}

describe('ticklake jobs', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let server: TardisServer;
  let env: NodeJS.ProcessEnv;
  /** Path fragment of the next request to hold (then cleared, so a retry or resume is served). */
  let hold: string | null = null;
  const createArgs = (lake: string) => [
    '--lake',
    lake,
    'jobs',
    'create',
    '--exchange',
    'binance',
    '--data-types',
    'trades',
    '--symbols',
    SYMBOLS.join(','),
    '--from',
    DAYS[0]!,
    '--to',
    DAYS[DAYS.length - 1]!,
    '--concurrency',
    '1',
    '--json',
  ];
  const create = async (lake: string): Promise<number> => {
    const r = await runCli(createArgs(lake), env);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout).id as number;
  };
  const status = async (lake: string, id: number) => {
    const r = await runCli(['--lake', lake, 'jobs', 'status', String(id), '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };
  /** Wait until the server has received the held request (the job is then mid-way). */
  const waitHeld = async (fragment: string) => {
    while (!server.requests.some((q) => q.path.includes(fragment) && q.fault))
      await new Promise((r) => setTimeout(r, 20));
  };

  beforeAll(async () => {
    tmp = await tempDir('ticklake-jobs-');
    const vendor = join(tmp.path, 'vendor');
    let seed = 7;
    for (const day of DAYS)
      for (const symbol of SYMBOLS)
        await generateTardisDataset({
          dir: vendor,
          exchange: 'binance',
          dataType: 'trades',
          symbol,
          day,
          rows: 20_000,
          seed: seed++,
        });
    server = await startTardisServer({
      dir: vendor,
      port: 0,
      apiKeys: [KEY],
      faults: ({ path }): FaultAction | undefined => {
        if (hold !== null && path.includes(hold)) {
          hold = null;
          return { delayMs: HOLD_MS };
        }
        return undefined;
      },
    });
    env = { TARDIS_DATASETS_URL: server.url, TARDIS_API_KEY: KEY };
    // The uninterrupted reference run.
    const ref = join(tmp.path, 'reference');
    const id = await create(ref);
    const r = await runCli(['--lake', ref, 'jobs', 'start', String(id), '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.status).toBe('done');
    expect(s.progress).toMatchObject({
      tasksTotal: TASKS,
      tasksFinished: TASKS,
      done: TASKS,
      failed: 0,
      rows: TASKS * 20_000,
    });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await tmp?.cleanup();
  });

  it('a cancel from another process stops the job mid-way, with a consistent catalog and no partial output', async () => {
    const lake = join(tmp.path, 'cancelled');
    const id = await create(lake);
    expect((await status(lake, id)).status).toBe('created');
    hold = '2024/08/02/BTCUSDT';
    const child = spawnCli(['--lake', lake, 'jobs', 'start', String(id)], env);
    const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    await waitHeld('2024/08/02/BTCUSDT');
    const mid = await status(lake, id);
    expect(mid.status).toBe('running');
    expect(mid.stale).toBe(false);
    expect(mid.owner.pid).toBe(child.pid);
    const t0 = Date.now();
    const cancel = await runCli(['--lake', lake, 'jobs', 'cancel', String(id)], env);
    const code = await exited;
    const latencyMs = Date.now() - t0;
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`^job ${id} cancelled`));
    // Exit 3 = cancelled; it stopped while the vendor still held the response (HOLD_MS), i.e. promptly.
    expect(code).toBe(3);
    expect(latencyMs).toBeLessThan(HOLD_MS);
    const s = await status(lake, id);
    expect(s.status).toBe('cancelled');
    expect(s.cancelRequested).toBe(true);
    console.log(
      `cancel requested → job cancelled: ${s.finishedAt - s.cancelRequestedAt} ms; cancel CLI start → runner exit: ${latencyMs} ms`,
    );
    // Day 1 (2 tasks) was done before the held request; nothing after it ran or was marked done.
    expect(s.progress).toMatchObject({ tasksTotal: TASKS, done: 2, tasksFinished: 2, failed: 0 });
    const { files, tasks } = checkConsistent(lake);
    expect(files).toBe(2);
    const done = tasks.filter((t) => t.status === 'done').map((t) => `${t.day} ${t.symbol}`);
    expect(done.sort()).toEqual(['2024-08-01 BTCUSDT', '2024-08-01 ETHUSDT']);
    expect(tasks.find((t) => t.day === '2024-08-02' && t.symbol === 'BTCUSDT')?.status).toBe('failed');
    expect(stagingFiles(lake)).toEqual([]);
    // A cancelled job can be resumed: it finishes the rest and equals the uninterrupted run.
    const resumed = await runCli(['--lake', lake, 'jobs', 'resume', String(id), '--json'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).progress).toMatchObject({
      tasksFinished: TASKS,
      done: TASKS,
      failed: 0,
    });
    const ref = join(tmp.path, 'reference');
    expect(parquetFiles(lake).sort()).toEqual(parquetFiles(ref).sort());
    for (const f of parquetFiles(ref)) expect(sha(join(lake, f)), f).toBe(sha(join(ref, f)));
  }, 120_000);

  it('a cancel while a task is writing its staged Parquet file leaves nothing behind', async () => {
    // Bigger generated files (so the write is under way when the cancel lands) on other days.
    const days = ['2024-09-01', '2024-09-02', '2024-09-03'];
    for (const [i, day] of days.entries())
      await generateTardisDataset({
        dir: join(tmp.path, 'vendor'),
        exchange: 'binance',
        dataType: 'trades',
        symbol: 'BTCUSDT',
        day,
        rows: 400_000,
        seed: 50 + i,
      });
    const lake = join(tmp.path, 'cancel-writing');
    const c = await runCli(
      [
        '--lake',
        lake,
        'jobs',
        'create',
        '--exchange',
        'binance',
        '--data-types',
        'trades',
        '--symbols',
        'BTCUSDT',
      ].concat(['--from', days[0]!, '--to', days[2]!, '--concurrency', '1', '--json']),
      env,
    );
    const id = JSON.parse(c.stdout).id as number;
    const child = spawnCli(['--lake', lake, 'jobs', 'start', String(id)], env);
    const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    // Wait for a staged lake file of the runner (not a partial download) to exist, then cancel.
    const staged = () =>
      stagingFiles(lake).filter((f) => !f.includes('/downloads/') && f.endsWith('.parquet'));
    while (staged().length === 0) await new Promise((r) => setTimeout(r, 5));
    const l = await openLake({ root: lake, config: { tardis: { datasetsUrl: server.url, apiKey: KEY } } });
    try {
      await l.jobs.cancel(id, { wait: false });
    } finally {
      await l.close();
    }
    expect(await exited).toBe(3);
    const s = await status(lake, id);
    expect(s.status).toBe('cancelled');
    expect(s.progress.tasksFinished).toBeLessThan(3);
    const { files, tasks } = checkConsistent(lake);
    expect(files).toBe(s.progress.done);
    expect(tasks.filter((t) => t.status === 'done').length).toBe(s.progress.done);
    expect(stagingFiles(lake)).toEqual([]);
  }, 120_000);

  it('a job killed mid-way (SIGKILL) is stale, and `jobs resume` completes it equal to an uninterrupted run', async () => {
    const lake = join(tmp.path, 'killed');
    const id = await create(lake);
    hold = '2024/08/03/BTCUSDT';
    const child = spawnCli(['--lake', lake, 'jobs', 'start', String(id)], env);
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on('close', (_c, sig) => res(sig)));
    await waitHeld('2024/08/03/BTCUSDT');
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // Consistent right after the kill: no intents, no unrecorded or half-written visible file.
    expect(checkConsistent(lake).files).toBe(4);
    const dead = await status(lake, id);
    expect(dead.status).toBe('running');
    expect(dead.stale).toBe(true);
    expect(dead.progress.tasksFinished).toBe(4);
    const human = await runCli(['--lake', lake, 'jobs', 'status', String(id)], env);
    expect(human.stdout).toContain('process gone: resume it');
    // Starting it again is refused with a typed error naming the fix.
    const again = await runCli(['--lake', lake, 'jobs', 'start', String(id)], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/job \d+ is running \(its process is gone\), not created.*jobs resume/);
    const before = server.requests.length;
    const resumed = await runCli(['--lake', lake, 'jobs', 'resume', String(id), '--json'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const s = JSON.parse(resumed.stdout);
    expect(s.status).toBe('done');
    expect(s.stale).toBe(false);
    expect(s.progress).toMatchObject({
      tasksTotal: TASKS,
      tasksFinished: TASKS,
      done: TASKS,
      failed: 0,
      rows: TASKS * 20_000,
    });
    // Only the unfinished tasks were fetched again.
    expect(
      server.requests
        .slice(before)
        .map((q) => q.path.replace(/^.*trades\//, ''))
        .sort(),
    ).toEqual(['2024/08/03/BTCUSDT.csv.gz', '2024/08/03/ETHUSDT.csv.gz']);
    checkConsistent(lake);
    expect(stagingFiles(lake)).toEqual([]);
    const ref = join(tmp.path, 'reference');
    expect(parquetFiles(lake).sort()).toEqual(parquetFiles(ref).sort());
    for (const f of parquetFiles(ref)) expect(sha(join(lake, f)), f).toBe(sha(join(ref, f)));
    // The dead run's own ingest record is closed, not left running.
    const db = new Database(join(lake, 'catalog.sqlite'), { readonly: true });
    const runs = db.prepare("SELECT status FROM jobs WHERE kind = 'ingest' ORDER BY id").all();
    db.close();
    expect(runs).toEqual([{ status: 'failed' }, { status: 'done' }]);
    // Resuming a done job is a no-op.
    const noop = await runCli(['--lake', lake, 'jobs', 'resume', String(id), '--json'], env);
    expect(noop.code).toBe(0);
    expect(server.requests.length).toBe(before + 2);
  }, 120_000);

  it('list, status, --detach and cleanup report the right values', async () => {
    const lake = join(tmp.path, 'listed');
    const a = await create(lake);
    const b = await create(lake);
    const c = await create(lake);
    const det = await runCli(['--lake', lake, 'jobs', 'start', String(a), '--detach', '--json'], env);
    expect(det.code, det.stderr).toBe(0);
    let sa = await status(lake, a);
    while (sa.status !== 'done' && sa.status !== 'failed') {
      await new Promise((r) => setTimeout(r, 100));
      sa = await status(lake, a);
    }
    expect(sa.status).toBe('done');
    expect(sa.progress).toMatchObject({ tasksFinished: TASKS, done: TASKS });
    // b runs after a: every task is already stored, so all are skipped without a download.
    const before = server.requests.length;
    const rb = await runCli(['--lake', lake, 'jobs', 'start', String(b), '--json'], env);
    expect(rb.code, rb.stderr).toBe(0);
    expect(JSON.parse(rb.stdout).progress).toMatchObject({
      tasksFinished: TASKS,
      skipped: TASKS,
      done: 0,
      bytes: 0,
    });
    expect(server.requests.length).toBe(before);
    const cancelled = await runCli(['--lake', lake, 'jobs', 'cancel', String(c)], env);
    expect(cancelled.stdout).toBe(`job ${c} cancelled (0/${TASKS} tasks · 0 rows · 0 B)\n`);

    const list = (await runCli(['--lake', lake, 'jobs', 'list', '--json'], env)).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(list.map((j) => [j.id, j.status])).toEqual([
      [c, 'cancelled'],
      [b, 'done'],
      [a, 'done'],
    ]);
    const all = (await runCli(['--lake', lake, 'jobs', 'list', '--all', '--json'], env)).stdout
      .trim()
      .split('\n');
    expect(all.length).toBe(5); // + the two ingest runs
    const text = (await runCli(['--lake', lake, 'jobs', 'list'], env)).stdout;
    expect(text).toContain(`binance trades BTCUSDT,ETHUSDT 2024-08-01..2024-08-03`);

    const dry = await runCli(['--lake', lake, 'jobs', 'cleanup', '--older-than', '30d', '--json'], env);
    expect(JSON.parse(dry.stdout)).toEqual({ dryRun: false, deleted: [] });
    const gone = await runCli(['--lake', lake, 'jobs', 'cleanup', '--older-than', '0s', '--json'], env);
    expect(JSON.parse(gone.stdout).deleted.length).toBe(5);
    expect((await runCli(['--lake', lake, 'jobs', 'list', '--all', '--json'], env)).stdout).toBe('');
    // Task records stay (they back the files), detached from the deleted jobs.
    const db = new Database(join(lake, 'catalog.sqlite'), { readonly: true });
    expect(
      db.prepare("SELECT count(*) AS n, count(job_id) AS j FROM ingest_tasks WHERE status = 'done'").get(),
    ).toEqual({
      n: TASKS,
      j: 0,
    });
    db.close();
    checkConsistent(lake);
  }, 120_000);

  it('bad inputs get typed errors that name the thing', async () => {
    const lake = join(tmp.path, 'errors');
    const l = await openLake({ root: lake, config: { tardis: { datasetsUrl: server.url, apiKey: KEY } } });
    try {
      const codeOf = async (p: Promise<unknown>) => {
        try {
          await p;
          return 'no error';
        } catch (e) {
          expect(isTicklakeError(e)).toBe(true);
          return `${(e as { code: string }).code}: ${(e as Error).message}`;
        }
      };
      expect(await codeOf(l.jobs.status(42))).toBe('NOT_FOUND: no job 42 in the catalog');
      expect(
        await codeOf(
          l.jobs.create({ exchange: 'nope', dataTypes: ['trades'], symbols: ['X'], from: '2024-08-01' }),
        ),
      ).toMatch(/^UNKNOWN_EXCHANGE: /);
      expect(
        await codeOf(
          l.jobs.create({ exchange: 'binance', dataTypes: ['tradez'], symbols: ['X'], from: '2024-08-01' }),
        ),
      ).toMatch(/^UNKNOWN_DATA_TYPE: /);
      expect(await codeOf(l.jobs.create({ plan: 9 }))).toBe('NOT_FOUND: no plan 9 in the catalog');
      expect(await codeOf(l.jobs.create({}))).toMatch(/^USAGE: a job needs exactly one of/);
      expect(await codeOf(l.jobs.cleanup({ olderThanMs: -1 }))).toMatch(/^USAGE: /);
      const id = await l.jobs.create({
        tasks: [
          { vendor: 'tardis', exchange: 'binance', dataType: 'trades', symbol: 'BTCUSDT', day: '2024-08-01' },
        ],
      });
      const done = await l.jobs.start(id);
      expect(done.status).toBe('done');
      expect(await codeOf(l.jobs.start(id))).toBe(`JOB_STATE: job ${id} is done, not created`);
    } finally {
      await l.close();
    }
    const bad = await runCli(['--lake', lake, 'jobs', 'cleanup', '--older-than', '30 days'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--older-than must be a duration like 30d, 12h or 45m, got "30 days"');
    const noSel = await runCli(['--lake', lake, 'jobs', 'create', '--exchange', 'binance'], env);
    expect(noSel.code).toBe(2);
    expect(noSel.stderr).toContain(
      'jobs create needs --exchange, --data-types, --symbols and --from (or --plan ID)',
    );
    const badId = await runCli(['--lake', lake, 'jobs', 'status', 'abc'], env);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain('job id must be a positive integer, got "abc"');
  }, 60_000);
});
