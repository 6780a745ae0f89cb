/**
 * `runPipeline` (`ticklake run`): the whole daily pipeline for a day range, or for one shard of it —
 * instrument sync → plan → ingest → missing/quality check → candles → features.
 *
 * Resumable: every stage is idempotent (sync does not rewrite unchanged days, ingest skips done tasks,
 * candles and features skip outputs whose inputs did not change), so re-running the same command after
 * a crash redoes only what is missing. Shards (src/pipeline/shard.ts) take disjoint days, so two
 * healthy workers never share an ingest task; should two ever run the same task (a worker restarted
 * while its old instance still runs), the write protocol keeps one result: each output is written
 * deterministically, published by an atomic replace (rename / final PUT) and committed by an upsert
 * keyed on the path, and the task row is keyed on the task.
 *
 * Ingest failures are retried in extra rounds (`ingestRounds`, default 3) before the run gives up: a
 * task can fail for a transient reason, including another worker's start-up recovery settling this
 * worker's in-flight intent ("no pending intent"), after which a redo publishes the same bytes again.
 *
 * Concurrent workers share one catalog, and ingest and sync start by settling the catalog's pending
 * intents (`recoverLake` → `repairIntents`). Unfiltered, that also settles intents another LIVE worker
 * is about to commit: it drops an intent whose file is not uploaded yet (the owner's commit then fails
 * and its file would be visible but unrecorded until redone) or commits one the owner commits at the
 * same moment (`no pending intent for <path>`). So the stages run on a view of the catalog whose
 * `listIntents` returns only intents older than `recoverGraceMs` (default 30 min, far longer than any
 * stage → publish → commit window): recovery settles what crashed workers left, never what live ones
 * are writing. A crashed worker's fresh intents are settled anyway when its task is redone (the commit
 * of a path clears every intent of that path). A step that still loses a race (two workers on one
 * task; two recoveries of one stale intent) is idempotent and is run again (`withIntentRetry`).
 *
 * Derived data crosses days (candles of day D start from day D-1's close; features warm up on earlier
 * days). A shard builds them for its own days with what is there; a final unsharded
 * `ticklake run --stages candles,features` (cheap: everything unchanged is skipped) settles days whose
 * previous day came from another shard. docs/DEPLOY.md runs it as the batch's last step.
 */
import type { Catalog, PlanTask } from '../catalog/types.js';
import { buildCandles } from '../candles/build.js';
import type { Timeframe } from '../candles/timeframes.js';
import { buildFeatures } from '../features/build.js';
import { listFeatureSets } from '../features/registry.js';
import { CancelledError, isTicklakeError, UsageError } from '../errors.js';
import { buildPlan, type PlanRequest, type PlanSummary } from '../instruments/plan.js';
import type { Lake } from '../lake/lake.js';
import { daysInclusive, parseDay, type Day } from '../util/time.js';
import type { IngestEvent, IngestSummary, IngestTaskReport } from './ingest.js';
import { dayRuns, NO_SHARD, type Shard, shardDays } from './shard.js';

export const STAGES = ['sync', 'plan', 'ingest', 'check', 'candles', 'features'] as const;
export type Stage = (typeof STAGES)[number];

export interface RunRequest extends Omit<PlanRequest, 'to'> {
  to?: string;
  /** Definition source for the instrument sync (default tardis). */
  source?: string;
  /** This worker's share of the days (default: all). */
  shard?: Pick<Shard, 'index' | 'count'> & Partial<Pick<Shard, 'source'>>;
  /** Stages to run, in pipeline order (default all). `ingest` without `plan` plans anyway. */
  stages?: readonly Stage[];
  /** Candle/feature timeframes (default: all of each). */
  timeframes?: readonly Timeframe[];
  /** Feature sets to build (default: every registered set). */
  featureSets?: readonly string[];
  force?: boolean;
  concurrency?: number;
  /** Ingest rounds: the first plus retries of failed tasks (default 3). */
  ingestRounds?: number;
  /** Intents younger than this are left to their (live) writer by start-up recovery (default 30 min). */
  recoverGraceMs?: number;
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  onIngestEvent?: (e: IngestEvent) => void;
}

export type RunEvent =
  | { type: 'shard'; index: number; count: number; source: string; days: Day[] }
  | { type: 'stage-start'; stage: Stage }
  | { type: 'stage-end'; stage: Stage; seconds: number; summary: Record<string, unknown> }
  | { type: 'notice'; message: string };

export interface RunSummary {
  shard: { index: number; count: number; source: string };
  days: Day[];
  planId: number | null;
  tasks: number;
  stages: Partial<Record<Stage, Record<string, unknown>>>;
  /** Tasks still failed after every ingest round. */
  failed: { task: PlanTask | IngestTaskReport['task']; error: string }[];
  notices: string[];
  seconds: number;
}

const uniq = <T>(xs: readonly T[]) => [...new Set(xs)];

/** Validate the stage list (`--stages sync,plan,...`). */
export function parseStages(spec: string | readonly string[] | undefined): Stage[] {
  if (spec === undefined) return [...STAGES];
  const names = (typeof spec === 'string' ? spec.split(',') : spec).map((s) => s.trim()).filter(Boolean);
  if (names.length === 0 || (names.length === 1 && names[0] === 'all')) return [...STAGES];
  for (const n of names) {
    if (!(STAGES as readonly string[]).includes(n)) {
      throw new UsageError(`unknown stage "${n}"`, { hint: `stages: ${STAGES.join(', ')} (or all)` });
    }
  }
  return STAGES.filter((s) => names.includes(s));
}

/** True for the catalog error a worker gets when another worker's recovery settled its intent. */
export function isIntentRace(err: unknown): boolean {
  return isTicklakeError(err) && err.code === 'CATALOG' && /no pending intent/.test(err.message);
}

/** Run an idempotent step again when it lost an intent race (see the module comment). */
async function withIntentRetry<T>(
  what: string,
  fn: () => Promise<T>,
  notice: (m: string) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isIntentRace(err) || attempt >= 5) throw err;
      notice(`${what}: ${(err as Error).message} (another worker settled it); running the step again`);
      await new Promise((r) => setTimeout(r, 50 * attempt + Math.floor(Math.random() * 100)));
    }
  }
}

export const DEFAULT_RECOVER_GRACE_MS = 30 * 60_000;

/** A view of `catalog` whose `listIntents` lists only intents staged more than `graceMs` ago. */
export function withRecoverGrace(catalog: Catalog, graceMs: number, now = () => Date.now()): Catalog {
  return new Proxy(catalog, {
    get(target, prop) {
      if (prop === 'listIntents') {
        return async () => (await target.listIntents()).filter((r) => r.createdAt <= now() - graceMs);
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Run the pipeline (see the module comment). */
export async function runPipeline(outer: Lake, req: RunRequest): Promise<RunSummary> {
  // The same lake, seen through the grace view of its catalog (its methods read `this.catalog`).
  const lake: Lake = Object.create(outer, {
    catalog: { value: withRecoverGrace(outer.catalog, req.recoverGraceMs ?? DEFAULT_RECOVER_GRACE_MS) },
  });
  const started = performance.now();
  const from = parseDay(req.from, '--from');
  const to = parseDay(req.to ?? req.from, '--to');
  const all = daysInclusive(from, to);
  if (all.length === 0) throw new UsageError(`--from ${from} is after --to ${to}`);
  const exchanges = uniq((req.exchanges ?? []).map((s) => s.trim()).filter(Boolean));
  if (exchanges.length === 0)
    throw new UsageError('no exchange given', { hint: 'use --exchange binance-futures' });
  const shard = { ...NO_SHARD, ...req.shard, source: req.shard?.source ?? (req.shard ? 'request' : 'none') };
  if (
    !Number.isInteger(shard.count) ||
    shard.count < 1 ||
    !Number.isInteger(shard.index) ||
    shard.index < 0 ||
    shard.index >= shard.count
  ) {
    throw new UsageError(`invalid shard ${shard.index}/${shard.count}`, { hint: 'use i/N with 0 ≤ i < N' });
  }
  const stages = new Set(req.stages ?? STAGES);
  const days = shardDays(all, shard);
  const runs = dayRuns(days);
  const notices: string[] = [];
  const emit = (e: RunEvent) => req.onEvent?.(e);
  const notice = (message: string) => {
    notices.push(message);
    emit({ type: 'notice', message });
  };
  const summary: RunSummary = {
    shard: { index: shard.index, count: shard.count, source: shard.source },
    days,
    planId: null,
    tasks: 0,
    stages: {},
    failed: [],
    notices,
    seconds: 0,
  };
  emit({ type: 'shard', index: shard.index, count: shard.count, source: shard.source, days });
  if (days.length === 0) {
    notice(
      `shard ${shard.index}/${shard.count} has no day in ${from}…${to} (${all.length} day(s)): nothing to do`,
    );
    summary.seconds = (performance.now() - started) / 1000;
    return summary;
  }
  const checkAbort = () => {
    if (req.signal?.aborted) throw new CancelledError('run cancelled');
  };
  const stage = async (name: Stage, fn: () => Promise<Record<string, unknown>>) => {
    if (!stages.has(name)) return;
    checkAbort();
    emit({ type: 'stage-start', stage: name });
    const t0 = performance.now();
    const result = await fn();
    summary.stages[name] = result;
    emit({ type: 'stage-end', stage: name, seconds: (performance.now() - t0) / 1000, summary: result });
  };

  await stage('sync', async () => {
    let written = 0;
    let unchanged = 0;
    let definitions = 0;
    for (const r of runs) {
      checkAbort();
      const s = await withIntentRetry(
        'instruments sync',
        () =>
          lake.syncInstruments({
            exchanges,
            source: req.source,
            from: r.from,
            to: r.to,
            signal: req.signal,
            onNotice: notice,
          }),
        notice,
      );
      written += s.written;
      unchanged += s.unchanged;
      definitions += s.definitions;
    }
    return { days: days.length, written, unchanged, definitions };
  });

  // The plan of this shard's days: built per run of consecutive days, saved once.
  const tasks: PlanTask[] = [];
  // Ingest and check need a saved plan; candles and features only its instruments (built, not saved).
  const savePlan = stages.has('plan') || stages.has('ingest') || stages.has('check');
  const needPlan = savePlan || stages.has('candles') || stages.has('features');
  const build = async () => {
    const parts: PlanSummary[] = [];
    for (const r of runs) {
      checkAbort();
      const built = await buildPlan(lake, { ...planRequestOf(req, exchanges), from: r.from, to: r.to });
      if (savePlan) for (const n of built.notices) notice(n);
      tasks.push(...built.tasks);
      parts.push(built.summary);
    }
    const planSummary = mergePlanSummaries(parts, tasks, exchanges);
    summary.tasks = tasks.length;
    if (!savePlan) return { ...planSummary };
    const params = {
      ...planRequestOf(req, exchanges),
      from,
      to,
      shard: `${shard.index}/${shard.count}`,
      days: days.length,
    } as Record<string, unknown>;
    summary.planId = await lake.catalog.savePlan(params, { ...planSummary }, tasks);
    return { id: summary.planId, ...planSummary };
  };
  if (stages.has('plan')) await stage('plan', build);
  else if (needPlan) {
    checkAbort();
    await build();
  }

  await stage('ingest', async () => {
    const rounds = Math.max(1, req.ingestRounds ?? 3);
    let todo: readonly PlanTask[] = tasks;
    const totals = {
      tasks: tasks.length,
      done: 0,
      skipped: 0,
      unchanged: 0,
      absent: 0,
      failed: 0,
      rows: 0,
      bytes: 0,
      rounds: 0,
    };
    let last: IngestSummary | null = null;
    for (let round = 1; round <= rounds && todo.length > 0; round++) {
      checkAbort();
      totals.rounds = round;
      last = await withIntentRetry(
        'ingest',
        () =>
          lake.ingest({
            tasks: todo,
            params: { plan: summary.planId, shard: `${shard.index}/${shard.count}`, round },
            force: round === 1 ? req.force : false,
            concurrency: req.concurrency,
            signal: req.signal,
            onEvent: req.onIngestEvent,
          }),
        notice,
      );
      totals.done += last.done;
      totals.skipped += last.skipped;
      totals.unchanged += last.unchanged;
      totals.absent += last.absent;
      totals.rows += last.rows;
      totals.bytes += last.bytes;
      const failed = last.reports.filter((r) => r.outcome === 'failed');
      if (failed.length > 0 && round < rounds) {
        notice(`ingest round ${round}: ${failed.length} task(s) failed, retrying them`);
      }
      const failedKeys = new Set(failed.map((r) => taskId(r.task)));
      todo = tasks.filter((t) => failedKeys.has(taskId(t)));
    }
    summary.failed = (last?.reports ?? [])
      .filter((r) => r.outcome === 'failed')
      .map((r) => ({ task: r.task, error: r.error?.message ?? 'unknown error' }));
    totals.failed = summary.failed.length;
    return totals;
  });

  await stage('check', async () => {
    const counts: Record<string, number> = {};
    let qualityFiles = 0;
    let withIssues = 0;
    for (const r of runs) {
      checkAbort();
      const m = await withIntentRetry(
        'missing check',
        () =>
          lake.checkMissing({
            from: r.from,
            to: r.to,
            exchanges,
            dataTypes: req.dataTypes,
            ...(summary.planId !== null ? { planId: summary.planId } : {}),
          }),
        notice,
      );
      for (const [k, v] of Object.entries(m.counts)) counts[k] = (counts[k] ?? 0) + v;
      const q = await lake.checkQuality({ from: r.from, to: r.to, dataTypes: req.dataTypes });
      qualityFiles += q.length;
      withIssues += q.filter((f) => f.issues.length > 0).length;
    }
    return { missing: counts, qualityFiles, qualityIssues: withIssues };
  });

  // Derived data: the planned instruments when every task names one; with grouped tasks (OPTIONS, ...)
  // every instrument of the exchanges; nothing when nothing is planned.
  const plannedKeys = tasks.every((t) => t.instrumentKey !== null)
    ? uniq(tasks.map((t) => t.instrumentKey!)).sort()
    : null;
  const selections: ({ keys: string[] } | { exchange: string })[] =
    plannedKeys === null
      ? exchanges.map((exchange) => ({ exchange }))
      : plannedKeys.length > 0
        ? [{ keys: plannedKeys }]
        : [];

  await stage('candles', async () => {
    const totals = { built: 0, skipped: 0, empty: 0, files: 0, bookFiles: 0 };
    for (const r of runs) {
      for (const sel of selections) {
        checkAbort();
        const s = await withIntentRetry(
          'candles',
          () =>
            buildCandles(lake, {
              from: r.from,
              to: r.to,
              ...sel,
              timeframes: req.timeframes,
              force: req.force,
            }),
          notice,
        );
        totals.built += s.built;
        totals.skipped += s.skipped;
        totals.empty += s.empty;
        totals.files += s.files;
        totals.bookFiles += s.bookFiles;
      }
    }
    return totals;
  });

  await stage('features', async () => {
    const sets = req.featureSets ?? uniq(listFeatureSets().map((s) => s.name));
    const totals: Record<string, { built: number; skipped: number }> = {};
    for (const set of sets) {
      const t = (totals[set] = { built: 0, skipped: 0 });
      for (const r of runs) {
        for (const sel of selections) {
          checkAbort();
          const timeframes = req.timeframes?.filter((tf) => supports(set, tf));
          if (timeframes && timeframes.length === 0) continue;
          const s = await withIntentRetry(
            'features',
            () => buildFeatures(lake, { set, from: r.from, to: r.to, ...sel, timeframes, force: req.force }),
            notice,
          );
          t.built += s.built;
          t.skipped += s.skipped;
        }
      }
    }
    return totals;
  });

  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

function supports(set: string, tf: Timeframe): boolean {
  return listFeatureSets().some((s) => s.name === set && s.timeframes.includes(tf));
}

function taskId(t: { exchange: string; dataType: string; symbol: string; day: string }): string {
  return `${t.exchange}\u0000${t.dataType}\u0000${t.symbol}\u0000${t.day}`;
}

function planRequestOf(req: RunRequest, exchanges: string[]): PlanRequest {
  const out: PlanRequest = { exchanges, dataTypes: req.dataTypes, from: req.from };
  if (req.types) out.types = req.types;
  if (req.bases) out.bases = req.bases;
  if (req.quotes) out.quotes = req.quotes;
  if (req.symbols) out.symbols = req.symbols;
  if (req.expiringWithin !== undefined) out.expiringWithin = req.expiringWithin;
  if (req.groupMin !== undefined) out.groupMin = req.groupMin;
  return out;
}

function mergePlanSummaries(
  parts: PlanSummary[],
  tasks: readonly PlanTask[],
  exchanges: string[],
): PlanSummary {
  const byDataType: Record<string, number> = {};
  for (const t of tasks) byDataType[t.dataType] = (byDataType[t.dataType] ?? 0) + 1;
  const keys = new Set(tasks.map((t) => t.instrumentKey).filter((k) => k !== null));
  return {
    tasks: tasks.length,
    groupedTasks: tasks.filter((t) => t.instrumentKey === null).length,
    instruments: keys.size,
    days: parts.reduce((s, p) => s + p.days, 0),
    exchanges,
    byDataType,
    instrumentDays: parts.reduce((s, p) => s + p.instrumentDays, 0),
  };
}
