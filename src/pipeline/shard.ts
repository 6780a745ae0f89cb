/**
 * Sharding of `ticklake run` over many machines: which share of a day range this worker runs.
 *
 * A shard is `{ index, count }` (0 ≤ index < count). It comes from, in order:
 *   1. `--shard i/N` (CLI) — both numbers explicit;
 *   2. `TICKLAKE_SHARD=i/N`;
 *   3. an index from the scheduler plus a count:
 *      - Kubernetes Indexed Job: `JOB_COMPLETION_INDEX`; the count from `--shard-count`,
 *        `TICKLAKE_SHARD_COUNT` or `JOB_COMPLETIONS` (pass the Job's `completions` as env);
 *      - Cloud Run Jobs: `CLOUD_RUN_TASK_INDEX` / `CLOUD_RUN_TASK_COUNT`;
 *      - GCP Batch: `BATCH_TASK_INDEX` / `BATCH_TASK_COUNT`;
 *   4. otherwise no sharding (`0/1`).
 *
 * Days are dealt round-robin: the day at position p of the range (0-based, from `--from`) belongs to
 * shard `p mod N`. Deterministic, balanced to ±1 day, and the same for every worker given the same
 * range — no coordination needed. (Not a hash: a hash of the day can leave a shard empty on short
 * ranges, and round-robin spreads busy weekdays evenly.)
 */
import { UsageError } from '../errors.js';
import type { Day } from '../util/time.js';

export interface Shard {
  index: number;
  count: number;
  /** Where the shard came from (`--shard`, `JOB_COMPLETION_INDEX`, ...; `none` when unsharded). */
  source: string;
}

export const NO_SHARD: Shard = { index: 0, count: 1, source: 'none' };

function int(v: string, what: string, min: number): number {
  const t = v.trim();
  const n = /^\d+$/.test(t) ? Number(t) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${what} must be an integer ≥ ${min}, got "${v}"`, {
      hint: 'shards are written i/N with 0 ≤ i < N, e.g. --shard 0/4',
    });
  }
  return n;
}

function make(index: number, count: number, source: string): Shard {
  if (index >= count) {
    throw new UsageError(`shard index ${index} is out of range for ${count} shard(s) (from ${source})`, {
      hint: `the index counts from 0: use 0…${count - 1}`,
    });
  }
  return { index, count, source };
}

/** Parse `i/N` (e.g. `2/4`). */
export function parseShardSpec(spec: string, source = '--shard'): Shard {
  const m = /^\s*([^/]+)\/([^/]+)\s*$/.exec(spec);
  if (!m) {
    throw new UsageError(`${source} must look like i/N (e.g. 0/4), got "${spec}"`, {
      hint: 'i is this worker (0-based), N the number of workers',
    });
  }
  return make(int(m[1]!, `${source} index`, 0), int(m[2]!, `${source} count`, 1), source);
}

export interface ShardInputs {
  /** `--shard i/N`. */
  shard?: string;
  /** `--shard-count N` (with an index from the environment). */
  shardCount?: string | number;
  env?: NodeJS.ProcessEnv;
}

const set = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/** Resolve this worker's shard from flags and the scheduler's environment (see the module comment). */
export function resolveShard(inputs: ShardInputs = {}): Shard {
  const env = inputs.env ?? process.env;
  if (set(inputs.shard)) return parseShardSpec(inputs.shard, '--shard');
  if (set(env.TICKLAKE_SHARD)) return parseShardSpec(env.TICKLAKE_SHARD, 'TICKLAKE_SHARD');
  const flagCount =
    inputs.shardCount !== undefined ? int(String(inputs.shardCount), '--shard-count', 1) : undefined;
  const countFrom = (...names: string[]): { count: number; name: string } | undefined => {
    if (flagCount !== undefined) return { count: flagCount, name: '--shard-count' };
    for (const name of names) if (set(env[name])) return { count: int(env[name]!, name, 1), name };
    return undefined;
  };
  const schedulers: { index: string; counts: string[]; hint: string }[] = [
    {
      index: 'JOB_COMPLETION_INDEX',
      counts: ['TICKLAKE_SHARD_COUNT', 'JOB_COMPLETIONS'],
      hint: 'a Kubernetes Indexed Job gives only the index: pass --shard-count N or set TICKLAKE_SHARD_COUNT to the Job’s completions',
    },
    {
      index: 'CLOUD_RUN_TASK_INDEX',
      counts: ['CLOUD_RUN_TASK_COUNT'],
      hint: 'Cloud Run sets CLOUD_RUN_TASK_COUNT',
    },
    { index: 'BATCH_TASK_INDEX', counts: ['BATCH_TASK_COUNT'], hint: 'GCP Batch sets BATCH_TASK_COUNT' },
  ];
  for (const s of schedulers) {
    if (!set(env[s.index])) continue;
    const index = int(env[s.index]!, s.index, 0);
    const c = countFrom(...s.counts);
    if (!c) {
      throw new UsageError(`${s.index}=${index} is set but the number of shards is unknown`, {
        hint: s.hint,
      });
    }
    return make(index, c.count, `${s.index} + ${c.name}`);
  }
  if (flagCount !== undefined) {
    if (set(env.TICKLAKE_SHARD_INDEX)) {
      return make(
        int(env.TICKLAKE_SHARD_INDEX, 'TICKLAKE_SHARD_INDEX', 0),
        flagCount,
        'TICKLAKE_SHARD_INDEX',
      );
    }
    throw new UsageError(`--shard-count ${flagCount} needs a shard index`, {
      hint: 'use --shard i/N, or run under an Indexed Job (JOB_COMPLETION_INDEX) or set TICKLAKE_SHARD_INDEX',
    });
  }
  if (set(env.TICKLAKE_SHARD_INDEX)) {
    const c = countFrom('TICKLAKE_SHARD_COUNT');
    if (!c) throw new UsageError('TICKLAKE_SHARD_INDEX is set but TICKLAKE_SHARD_COUNT is not');
    return make(int(env.TICKLAKE_SHARD_INDEX, 'TICKLAKE_SHARD_INDEX', 0), c.count, 'TICKLAKE_SHARD_INDEX');
  }
  return NO_SHARD;
}

/** The days of `days` (a whole range, in order) that belong to `shard`: position mod count == index. */
export function shardDays(days: readonly Day[], shard: Pick<Shard, 'index' | 'count'>): Day[] {
  return days.filter((_, p) => p % shard.count === shard.index);
}

/** Split sorted days into runs of consecutive days (`[from, to]` pairs). */
export function dayRuns(days: readonly Day[]): { from: Day; to: Day }[] {
  const runs: { from: Day; to: Day }[] = [];
  for (const d of days) {
    const last = runs[runs.length - 1];
    if (last && nextDay(last.to) === d) last.to = d;
    else runs.push({ from: d, to: d });
  }
  return runs;
}

function nextDay(d: Day): Day {
  return new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
