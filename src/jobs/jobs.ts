/**
 * Managed ingestion jobs (`ticklake jobs ...`, `lake.jobs`): a job is a persisted ingest request (a
 * selection, a saved plan, or an explicit task list) with a status and progress in the catalog's
 * `jobs` table, so any process can watch it, cancel it, or finish it after a crash.
 *
 * Lifecycle: `created` → `running` → `done` | `failed` | `cancelled` (via `cancelling` when a cancel
 * is requested while a process runs it). The running process records its pid, hostname and a
 * heartbeat, polls the cancel flag every `pollMs` (200 ms) and aborts the ingest through its
 * AbortController, so a cancel takes effect within a second; ingest then aborts the in-flight tasks'
 * staged files, and the runner removes their partial downloads. A job whose process is gone (same
 * host: pid not alive; other host: heartbeat older than `STALE_MS`) is `stale`: `resume` claims it
 * (compare-and-set on status + heartbeat), repairs crash leftovers (staging, catalog intents) and
 * re-runs the tasks not finished in this job; finished ones are not redone.
 *
 * Each run (start or resume) is one ingest, which records its own `ingest` row in `jobs` (params
 * `{ job: ID }`) and stamps the tasks with that run's id; `jobs list` hides those rows unless `all`.
 */
import { readFile, rm, rmdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Catalog, JobRecord, TaskKey } from '../catalog/types.js';
import type { TicklakeConfig } from '../config.js';
import { JobStateError, NotFoundError, UsageError } from '../errors.js';
import { LocalStorage } from '../lake/local-storage.js';
import type { Storage } from '../lake/storage.js';
import {
  defaultTmpDir,
  type IngestEvent,
  type IngestSummary,
  ingest,
  partialDownloadPath,
  planIngest,
  recoverLake,
} from '../pipeline/ingest.js';
import type { DataType } from '../schema/datasets.js';
import { tardisDatasetUrl } from '../sources/tardis/datasets.js';

/** `jobs.kind` of a managed ingestion job. */
export const INGEST_JOB_KIND = 'ingest-job';
/** A running job whose heartbeat is older than this (and whose pid cannot be checked) is stale. */
export const STALE_MS = 15_000;
const HEARTBEAT_MS = 1000;
/** Same host: a live pid whose heartbeat is older than this is another process that reused the pid. */
const SAME_HOST_STALE_MS = 10 * 60_000;

/** What a job ingests: a selection (like `ticklake ingest`), a saved plan, or explicit tasks. */
export interface JobSpec {
  exchange?: string;
  dataTypes?: readonly string[];
  symbols?: readonly string[];
  from?: string;
  to?: string;
  plan?: number;
  tasks?: readonly TaskKey[];
  force?: boolean;
  concurrency?: number;
}

export interface JobProgress {
  tasksTotal: number;
  tasksFinished: number;
  done: number;
  skipped: number;
  unchanged: number;
  absent: number;
  failed: number;
  rows: number;
  bytes: number;
}

export type JobState = JobRecord['status'];

export interface JobStatus {
  id: number;
  kind: string;
  status: JobState;
  /** A `running`/`cancelling` job whose process is gone: `resume` it. */
  stale: boolean;
  spec: JobSpec;
  progress: JobProgress;
  cancelRequested: boolean;
  /** When the cancel was requested (ms): with `finishedAt`, how long the cancel took. */
  cancelRequestedAt: number | null;
  owner: { pid: number; host: string } | null;
  heartbeatAt: number | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Final counters and the first failures (set when the job ends). */
  summary: Record<string, unknown> | null;
}

export interface RunOptions {
  /** Aborting it cancels the job (like `jobs cancel`). */
  signal?: AbortSignal;
  onEvent?: (e: IngestEvent) => void;
  /** How often the cancel flag is polled (ms, default 200). */
  pollMs?: number;
}

export interface JobsContext {
  storage: Storage;
  catalog: Catalog;
  config: TicklakeConfig;
}

const emptyProgress = (tasksTotal: number): JobProgress => ({
  tasksTotal,
  tasksFinished: 0,
  done: 0,
  skipped: 0,
  unchanged: 0,
  absent: 0,
  failed: 0,
  rows: 0,
  bytes: 0,
});

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the process recorded as running `job` is gone. */
export function isStale(job: JobRecord, now = Date.now()): boolean {
  if (job.status !== 'running' && job.status !== 'cancelling') return false;
  if (job.ownerPid == null) return true;
  // Same host: the pid tells; a heartbeat silent for very long also means gone (the pid was reused).
  if (job.ownerHost === hostname())
    return !isAlive(job.ownerPid) || (job.heartbeatAt != null && now - job.heartbeatAt > SAME_HOST_STALE_MS);
  return job.heartbeatAt == null || now - job.heartbeatAt > STALE_MS;
}

/** `30d`, `12h`, `45m`, `10s`, `500ms` → milliseconds. */
export function parseDuration(v: string, what = '--older-than'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(v.trim());
  if (!m)
    throw new UsageError(`${what} must be a duration like 30d, 12h or 45m, got "${v}"`, {
      hint: 'units: ms, s, m, h, d, w',
    });
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'ms'];
  return Number(m[1]) * unit;
}

function specOf(job: JobRecord): JobSpec {
  return job.params as JobSpec;
}

function toStatus(job: JobRecord): JobStatus {
  const spec = specOf(job);
  return {
    id: job.id,
    kind: job.kind,
    status: job.status,
    stale: isStale(job),
    spec,
    progress: { ...emptyProgress(0), ...((job.progress ?? {}) as Partial<JobProgress>) },
    cancelRequested: job.cancelRequested ?? false,
    cancelRequestedAt: job.cancelRequestedAt ?? null,
    owner: job.ownerPid != null ? { pid: job.ownerPid, host: job.ownerHost ?? '' } : null,
    heartbeatAt: job.heartbeatAt ?? null,
    createdAt: job.createdAt,
    startedAt: job.startedAt ?? null,
    finishedAt: job.finishedAt,
    summary: job.summary,
  };
}

const taskId = (t: TaskKey) => `${t.vendor}|${t.exchange}|${t.dataType}|${t.symbol}|${t.day}`;

export class Jobs {
  constructor(private readonly ctx: JobsContext) {}

  /** Validate and persist a job (status `created`); returns its id. Nothing runs yet. */
  async create(spec: JobSpec): Promise<number> {
    const kinds = [spec.plan !== undefined, spec.tasks !== undefined, spec.exchange !== undefined].filter(
      Boolean,
    );
    if (kinds.length !== 1)
      throw new UsageError(
        'a job needs exactly one of: a selection (exchange, data types, symbols, from), a plan, or tasks',
        {
          hint: 'e.g. ticklake jobs create --exchange binance --data-types trades --symbols BTCUSDT --from 2024-03-01, or --plan ID',
        },
      );
    if (spec.concurrency !== undefined && (!Number.isInteger(spec.concurrency) || spec.concurrency <= 0))
      throw new UsageError(`concurrency must be a positive integer, got ${spec.concurrency}`);
    const params: JobSpec = { ...spec };
    const tasks = await this.resolveTasks(params);
    if (spec.exchange !== undefined) {
      params.dataTypes = [...(spec.dataTypes ?? [])];
      params.symbols = [...(spec.symbols ?? [])];
      params.to = spec.to ?? spec.from;
    }
    const id = await this.ctx.catalog.insertJob(INGEST_JOB_KIND, 'created', { ...params });
    await this.ctx.catalog.updateJob(id, { progress: { ...emptyProgress(tasks.length) } });
    return id;
  }

  async status(id: number): Promise<JobStatus> {
    return toStatus(await this.get(id));
  }

  /** Managed jobs, newest first (`all`: also the per-run `ingest` rows and plain `ticklake ingest` runs). */
  async list(opts: { all?: boolean } = {}): Promise<JobStatus[]> {
    const rows = await this.ctx.catalog.listJobs(opts.all ? {} : { kinds: [INGEST_JOB_KIND] });
    return rows.map(toStatus);
  }

  /** Run a `created` job in this process until it ends (done, failed or cancelled). */
  async start(id: number, opts: RunOptions = {}): Promise<JobStatus> {
    const job = await this.get(id);
    if (job.status !== 'created')
      throw new JobStateError(
        `job ${id} is ${job.status}${isStale(job) ? ' (its process is gone)' : ''}, not created`,
        {
          hint:
            job.status === 'running' ||
            job.status === 'cancelling' ||
            job.status === 'failed' ||
            job.status === 'cancelled'
              ? `finish it with: ticklake jobs resume ${id}`
              : 'create a new job with: ticklake jobs create ...',
        },
      );
    const now = Date.now();
    const claimed = await this.ctx.catalog.updateJob(
      id,
      { status: 'running', ownerPid: process.pid, ownerHost: hostname(), heartbeatAt: now, startedAt: now },
      { statuses: ['created'] },
    );
    if (!claimed)
      throw new JobStateError(`job ${id} was started by another process`, {
        hint: `watch it with: ticklake jobs status ${id}`,
      });
    return this.run(id, false, opts);
  }

  /**
   * Finish a job whose process is gone (crash, kill), or re-run the unfinished tasks of a failed or
   * cancelled one. Tasks finished earlier in this job are not redone. A done job is returned as is.
   */
  async resume(id: number, opts: RunOptions = {}): Promise<JobStatus> {
    const job = await this.get(id);
    if (job.status === 'created') return this.start(id, opts);
    if (job.status === 'done') return toStatus(job);
    if ((job.status === 'running' || job.status === 'cancelling') && !isStale(job))
      throw new JobStateError(`job ${id} is ${job.status} in process ${job.ownerPid} on ${job.ownerHost}`, {
        hint: `wait for it, or stop it with: ticklake jobs cancel ${id}`,
      });
    const now = Date.now();
    const claimed = await this.ctx.catalog.updateJob(
      id,
      {
        status: 'running',
        ownerPid: process.pid,
        ownerHost: hostname(),
        heartbeatAt: now,
        startedAt: job.startedAt ?? now,
        cancelRequested: false,
        finishedAt: null,
        summary: null,
      },
      { statuses: [job.status], heartbeatAt: job.heartbeatAt ?? null },
    );
    if (!claimed)
      throw new JobStateError(`job ${id} was resumed by another process`, {
        hint: `watch it with: ticklake jobs status ${id}`,
      });
    // Crash leftovers: staging files of dead processes, unsettled catalog intents, the dead run's row.
    await recoverLake(this.ctx);
    for (const run of await this.ctx.catalog.listJobs({ kinds: ['ingest'], statuses: ['running'] })) {
      if (run.params.job === id)
        await this.ctx.catalog.updateJob(run.id, {
          status: 'failed',
          finishedAt: now,
          summary: { error: `process gone; resumed by job ${id}` },
        });
    }
    return this.run(id, true, opts);
  }

  /**
   * Request a cancel. A `created` job (or one whose process is gone) is cancelled at once; a running
   * one is marked `cancelling` and its process stops within a second. With `wait`, resolves once the
   * job has ended (or `timeoutMs` passed).
   */
  async cancel(id: number, opts: { wait?: boolean; timeoutMs?: number } = {}): Promise<JobStatus> {
    const job = await this.get(id);
    const { catalog } = this.ctx;
    const now = Date.now();
    if (job.status === 'created') {
      await catalog.updateJob(
        id,
        { status: 'cancelled', cancelRequested: true, finishedAt: now },
        { statuses: ['created'] },
      );
    } else if ((job.status === 'running' || job.status === 'cancelling') && isStale(job)) {
      const ok = await catalog.updateJob(
        id,
        { status: 'cancelled', cancelRequested: true, finishedAt: now },
        { statuses: [job.status], heartbeatAt: job.heartbeatAt ?? null },
      );
      if (ok) await this.removePartials(id, await this.unfinished(id, job));
    } else if (job.status === 'running') {
      await catalog.updateJob(id, { status: 'cancelling', cancelRequested: true }, { statuses: ['running'] });
      if (opts.wait) {
        const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
        while (Date.now() < deadline) {
          const j = await this.get(id);
          if (j.status !== 'running' && j.status !== 'cancelling') return toStatus(j);
          if (isStale(j)) return this.cancel(id, { wait: false });
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
    return this.status(id);
  }

  /**
   * Delete ended jobs (done, failed, cancelled) that finished more than `olderThanMs` ago, and the
   * per-run `ingest` rows of the same age. Ingest task rows are kept (they record which vendor file
   * produced which lake files, and make re-ingesting idempotent); their job id is cleared.
   */
  async cleanup(opts: {
    olderThanMs: number;
    dryRun?: boolean;
    now?: number;
  }): Promise<{ deleted: number[] }> {
    if (!Number.isFinite(opts.olderThanMs) || opts.olderThanMs < 0)
      throw new UsageError(`older-than must be a duration >= 0, got ${opts.olderThanMs}`);
    const cutoff = (opts.now ?? Date.now()) - opts.olderThanMs;
    const rows = await this.ctx.catalog.listJobs({
      statuses: ['done', 'failed', 'cancelled'],
      finishedBefore: cutoff,
    });
    const ids = rows.map((r) => r.id).sort((a, b) => a - b);
    if (!opts.dryRun) await this.ctx.catalog.deleteJobs(ids);
    return { deleted: ids };
  }

  private async get(id: number): Promise<JobRecord> {
    if (!Number.isInteger(id) || id <= 0)
      throw new UsageError(`job id must be a positive integer, got ${id}`);
    const job = await this.ctx.catalog.getJob(id);
    if (!job)
      throw new NotFoundError(`no job ${id} in the catalog`, { hint: 'list jobs with: ticklake jobs list' });
    return job;
  }

  private async resolveTasks(spec: JobSpec): Promise<TaskKey[]> {
    if (spec.tasks !== undefined) {
      if (spec.tasks.length === 0) throw new UsageError('a job needs at least one task');
      return spec.tasks.map((t) => ({
        vendor: t.vendor,
        exchange: t.exchange,
        dataType: t.dataType,
        symbol: t.symbol,
        day: t.day,
      }));
    }
    if (spec.plan !== undefined) {
      if (!Number.isInteger(spec.plan) || spec.plan <= 0)
        throw new UsageError(`plan id must be a positive integer, got ${spec.plan}`);
      if (!(await this.ctx.catalog.getPlan(spec.plan)))
        throw new NotFoundError(`no plan ${spec.plan} in the catalog`, {
          hint: 'list plans with: ticklake plan ls',
        });
      return this.ctx.catalog.planTasks(spec.plan);
    }
    return planIngest({
      exchange: spec.exchange ?? '',
      dataTypes: spec.dataTypes ?? [],
      symbols: spec.symbols ?? [],
      from: spec.from ?? '',
      to: spec.to,
    });
  }

  /** Tasks of the job not finished (done or absent at the vendor) since the job first started. */
  private async unfinished(id: number, job?: JobRecord): Promise<TaskKey[]> {
    const j = job ?? (await this.get(id));
    const tasks = await this.resolveTasks(specOf(j));
    const since = j.startedAt ?? Number.POSITIVE_INFINITY;
    const out: TaskKey[] = [];
    for (const t of tasks) {
      const rec = await this.ctx.catalog.getTask(t);
      if (!rec || !(rec.status === 'done' || rec.status === 'absent') || rec.updatedAt < since) out.push(t);
    }
    return out;
  }

  /** Partial vendor downloads of unfinished tasks (kept by ingest for a resume; a cancel removes them). */
  private async removePartials(_id: number, tasks: readonly TaskKey[]): Promise<void> {
    for (const t of tasks) {
      const url = tardisDatasetUrl(
        this.ctx.config.tardis.datasetsUrl,
        t.exchange,
        t.dataType as DataType,
        t.day,
        t.symbol,
      );
      const p = partialDownloadPath(this.ctx.storage, url);
      if (!p) continue;
      // The partial bytes and the `.json` naming their URL; the `.lock` unless a live process holds it.
      for (const f of [p, `${p}.json`]) await rm(f, { force: true }).catch(() => {});
      const holder = Number(await readFile(`${p}.lock`, 'utf8').catch(() => '0'));
      if (!(holder > 0 && holder !== process.pid && isAlive(holder)))
        await rm(`${p}.lock`, { force: true }).catch(() => {});
    }
  }

  private async run(id: number, resuming: boolean, opts: RunOptions): Promise<JobStatus> {
    const { catalog } = this.ctx;
    const job = await this.get(id);
    const spec = specOf(job);
    const all = await this.resolveTasks(spec);
    const progress = emptyProgress(all.length);
    let remaining = all;
    if (resuming) {
      // Tasks finished earlier in this job count as finished and are not run again (even with force).
      const left = new Set((await this.unfinished(id, job)).map(taskId));
      remaining = all.filter((t) => left.has(taskId(t)));
      for (const t of all) {
        if (left.has(taskId(t))) continue;
        const rec = await catalog.getTask(t);
        progress.tasksFinished++;
        if (rec?.status === 'absent') progress.absent++;
        else progress.done++;
        progress.rows += rec?.rows ?? 0;
        for (const p of rec?.outputs ?? []) progress.bytes += (await catalog.getFile(p))?.bytes ?? 0;
      }
    }
    await catalog.updateJob(id, { progress: { ...progress } });

    const controller = new AbortController();
    const onExternal = () => controller.abort();
    if (opts.signal?.aborted) controller.abort();
    opts.signal?.addEventListener('abort', onExternal, { once: true });
    let writes: Promise<unknown> = Promise.resolve();
    const write = (f: () => Promise<unknown>) => {
      writes = writes.then(f).catch(() => {});
    };
    let lastBeat = Date.now();
    let polling = false;
    const timer = setInterval(() => {
      if (polling) return;
      polling = true;
      (async () => {
        const j = await catalog.getJob(id);
        if (j?.cancelRequested) controller.abort();
        const now = Date.now();
        if (now - lastBeat >= HEARTBEAT_MS) {
          lastBeat = now;
          await catalog.updateJob(id, { heartbeatAt: now });
        }
      })()
        .catch(() => {})
        .finally(() => {
          polling = false;
        });
    }, opts.pollMs ?? 200);
    const onEvent = (e: IngestEvent) => {
      // A task stopped by the cancel is not finished: a resume runs it.
      const stopped = e.type === 'task-end' && e.outcome === 'failed' && e.error?.code === 'CANCELLED';
      if (e.type === 'task-end' && !stopped) {
        progress.tasksFinished++;
        progress[e.outcome]++;
        progress.rows += e.rows;
        progress.bytes += e.bytes;
        const snapshot = { ...progress };
        write(() => catalog.updateJob(id, { progress: snapshot }));
      }
      opts.onEvent?.(e);
    };
    let summary: IngestSummary | null = null;
    try {
      summary =
        remaining.length === 0
          ? null
          : await ingest(
              { ...this.ctx, tmpDir: defaultTmpDir(this.ctx.storage) },
              {
                tasks: remaining,
                params: { job: id },
                force: spec.force,
                concurrency: spec.concurrency,
                signal: controller.signal,
                onEvent,
              },
            );
    } catch (err) {
      clearInterval(timer);
      await writes;
      const e = err as Error & { code?: string };
      await catalog.updateJob(id, {
        status: 'failed',
        finishedAt: Date.now(),
        progress: { ...progress },
        summary: { error: { code: e.code ?? 'INTERNAL', message: e.message } },
      });
      throw err;
    } finally {
      clearInterval(timer);
      opts.signal?.removeEventListener('abort', onExternal);
    }
    await writes;
    const failures = (summary?.reports ?? []).filter((r) => r.outcome === 'failed');
    const cancelled = controller.signal.aborted && failures.length > 0;
    if (cancelled) {
      await this.removePartials(
        id,
        failures.map((r) => r.task),
      );
      if (summary) await catalog.updateJob(summary.jobId, { status: 'cancelled' });
      // Sort spill folder of this process: removed when empty (another ingest here may still use it).
      if (this.ctx.storage instanceof LocalStorage)
        await rmdir(defaultTmpDir(this.ctx.storage)).catch(() => {});
    }
    const status: JobState = cancelled ? 'cancelled' : failures.length > 0 ? 'failed' : 'done';
    const { reports: _r, ...counts } = summary ?? { reports: [] };
    await catalog.updateJob(id, {
      status,
      finishedAt: Date.now(),
      heartbeatAt: Date.now(),
      progress: { ...progress },
      summary: {
        ...counts,
        runs: summary ? [summary.jobId] : [],
        failures: failures
          .filter((r) => r.error?.code !== 'CANCELLED')
          .slice(0, 20)
          .map((r) => ({ task: r.task, error: r.error })),
      },
    });
    return this.status(id);
  }
}
