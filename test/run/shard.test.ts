/**
 * Shards of `ticklake run` (src/pipeline/shard.ts): `--shard i/N`, the schedulers' environment
 * variables (Kubernetes Indexed Jobs, Cloud Run Jobs, GCP Batch), the round-robin day split, the stage
 * list, the recovery grace view of the catalog, and the CLI's typed usage errors.
 */
import { describe, expect, it } from 'vitest';
import type { Catalog, FileRecord } from '../../src/catalog/types.js';
import { TicklakeError } from '../../src/errors.js';
import { parseStages, STAGES, withRecoverGrace } from '../../src/pipeline/run.js';
import { dayRuns, parseShardSpec, resolveShard, shardDays } from '../../src/pipeline/shard.js';
import { daysInclusive } from '../../src/util/time.js';
import { runCli } from '../helpers/cli.js';

function usage(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TicklakeError);
    expect((err as TicklakeError).code).toBe('USAGE');
    expect((err as TicklakeError).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a usage error');
}

describe('resolveShard', () => {
  it('parses --shard i/N and rejects malformed or out-of-range specs', () => {
    expect(parseShardSpec('2/4')).toEqual({ index: 2, count: 4, source: '--shard' });
    expect(parseShardSpec(' 0/1 ')).toMatchObject({ index: 0, count: 1 });
    usage(() => parseShardSpec('4/4'), /shard index 4 is out of range for 4/);
    usage(() => parseShardSpec('1'), /must look like i\/N/);
    usage(() => parseShardSpec('-1/4'), /index must be an integer/);
    usage(() => parseShardSpec('1/0'), /count must be an integer ≥ 1/);
    usage(() => parseShardSpec('a/b'), /index must be an integer/);
    usage(() => parseShardSpec('1.5/4'), /index must be an integer/);
  });

  it('reads the schedulers’ variables; the flag wins over the environment', () => {
    expect(resolveShard({ env: {} })).toMatchObject({ index: 0, count: 1, source: 'none' });
    expect(resolveShard({ env: { TICKLAKE_SHARD: '1/3' } })).toMatchObject({ index: 1, count: 3 });
    expect(
      resolveShard({ shard: '0/2', env: { TICKLAKE_SHARD: '1/3', CLOUD_RUN_TASK_INDEX: '1' } }),
    ).toMatchObject({
      index: 0,
      count: 2,
    });
    // Kubernetes Indexed Job: index from JOB_COMPLETION_INDEX, count from the flag or the env.
    expect(resolveShard({ shardCount: '8', env: { JOB_COMPLETION_INDEX: '5' } })).toMatchObject({
      index: 5,
      count: 8,
    });
    expect(resolveShard({ env: { JOB_COMPLETION_INDEX: '5', TICKLAKE_SHARD_COUNT: '6' } })).toMatchObject({
      index: 5,
      count: 6,
    });
    expect(resolveShard({ env: { JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '2' } })).toMatchObject({
      index: 0,
      count: 2,
    });
    usage(
      () => resolveShard({ env: { JOB_COMPLETION_INDEX: '1' } }),
      /JOB_COMPLETION_INDEX=1 is set but the number of shards is unknown/,
    );
    usage(() => resolveShard({ shardCount: '2', env: { JOB_COMPLETION_INDEX: '2' } }), /out of range for 2/);
    // Cloud Run Jobs and GCP Batch set both.
    expect(resolveShard({ env: { CLOUD_RUN_TASK_INDEX: '3', CLOUD_RUN_TASK_COUNT: '10' } })).toMatchObject({
      index: 3,
      count: 10,
      source: 'CLOUD_RUN_TASK_INDEX + CLOUD_RUN_TASK_COUNT',
    });
    expect(resolveShard({ env: { BATCH_TASK_INDEX: '1', BATCH_TASK_COUNT: '2' } })).toMatchObject({
      index: 1,
      count: 2,
    });
    usage(() => resolveShard({ env: { BATCH_TASK_INDEX: '1' } }), /BATCH_TASK_INDEX=1 is set/);
    usage(
      () => resolveShard({ env: { CLOUD_RUN_TASK_INDEX: 'x', CLOUD_RUN_TASK_COUNT: '2' } }),
      /CLOUD_RUN_TASK_INDEX must be an integer/,
    );
    // Empty variables (as a pod spec may leave them) count as unset.
    expect(resolveShard({ env: { JOB_COMPLETION_INDEX: '', TICKLAKE_SHARD: '' } })).toMatchObject({
      count: 1,
    });
    usage(() => resolveShard({ shardCount: '4', env: {} }), /--shard-count 4 needs a shard index/);
    expect(resolveShard({ shardCount: '4', env: { TICKLAKE_SHARD_INDEX: '3' } })).toMatchObject({
      index: 3,
      count: 4,
    });
  });
});

describe('shardDays', () => {
  it('deals days round-robin: the shards partition the range, balanced to one day', () => {
    const days = daysInclusive('2024-02-27', '2024-03-12'); // 15 days, across a leap day
    for (const n of [1, 2, 3, 4, 7, 15, 20]) {
      const parts = Array.from({ length: n }, (_, i) => shardDays(days, { index: i, count: n }));
      expect(parts.flat().sort()).toEqual(days);
      const sizes = parts.map((p) => p.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      for (const [i, p] of parts.entries()) for (const d of p) expect(days.indexOf(d) % n).toBe(i);
    }
    expect(shardDays(days, { index: 1, count: 4 })).toEqual([
      '2024-02-28',
      '2024-03-03',
      '2024-03-07',
      '2024-03-11',
    ]);
  });

  it('groups consecutive days into runs', () => {
    expect(dayRuns(['2024-02-28', '2024-02-29', '2024-03-01', '2024-03-03'])).toEqual([
      { from: '2024-02-28', to: '2024-03-01' },
      { from: '2024-03-03', to: '2024-03-03' },
    ]);
    expect(dayRuns([])).toEqual([]);
  });
});

describe('parseStages', () => {
  it('keeps pipeline order and rejects unknown stages', () => {
    expect(parseStages(undefined)).toEqual([...STAGES]);
    expect(parseStages('all')).toEqual([...STAGES]);
    expect(parseStages('features,candles')).toEqual(['candles', 'features']);
    usage(() => parseStages('ingest,bake'), /unknown stage "bake"/);
  });
});

describe('withRecoverGrace', () => {
  it('hides intents younger than the grace period from recovery, and passes everything else through', async () => {
    const rec = (path: string, createdAt: number) => ({ path, createdAt }) as FileRecord;
    const inner = {
      listIntents: async () => [rec('old', 1_000), rec('fresh', 9_500)],
      getFile: async (p: string) => rec(p, 0),
    } as unknown as Catalog;
    const view = withRecoverGrace(inner, 1_000, () => 10_000);
    expect((await view.listIntents()).map((r) => r.path)).toEqual(['old']);
    expect((await view.getFile('x'))?.path).toBe('x');
  });
});

describe('ticklake run (CLI errors)', () => {
  it('needs a selection, and names a bad shard', async () => {
    const none = await runCli(['run', '--from', '2024-03-01']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/run needs --exchange, --data-types and --from/);
    const bad = await runCli([
      'run',
      '--exchange',
      'binance',
      '--data-types',
      'trades',
      '--from',
      '2024-03-01',
      '--shard',
      '4/4',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/shard index 4 is out of range for 4 shard\(s\)/);
    const k8s = await runCli(
      ['run', '--exchange', 'binance', '--data-types', 'trades', '--from', '2024-03-01'],
      {
        JOB_COMPLETION_INDEX: '1',
      },
    );
    expect(k8s.code).toBe(2);
    expect(k8s.stderr).toMatch(/pass --shard-count N or set TICKLAKE_SHARD_COUNT/);
    const stages = await runCli([
      'run',
      '--exchange',
      'binance',
      '--data-types',
      'trades',
      '--from',
      '2024-03-01',
      '--stages',
      'x',
    ]);
    expect(stages.code).toBe(2);
    expect(stages.stderr).toMatch(/unknown stage "x"/);
    const grace = await runCli([
      'run',
      '--exchange',
      'binance',
      '--data-types',
      'trades',
      '--from',
      '2024-03-01',
      '--recover-grace',
      '-1',
    ]);
    expect(grace.code).toBe(2);
    expect(grace.stderr).toMatch(/--recover-grace must be a number of minutes ≥ 0, got "-1"/);
  });
});
