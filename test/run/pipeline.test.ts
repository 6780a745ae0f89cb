/**
 * `runPipeline` in-process on a local lake with a SQLite catalog and the local Tardis server
 * (GENERATED vendor files, 3 perpetuals × 3 days of trades): every stage's outcome checked against the
 * lake (DuckDB reads the raw files back), a second run that redoes nothing, shards that partition the
 * work, stage subsets, and typed errors for bad requests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTardisServer, type TardisServer } from '../../src/dev/tardis-server.js';
import { TicklakeError } from '../../src/errors.js';
import { type Lake, openLake } from '../../src/lake/lake.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { duckRows } from '../helpers/duck.js';
import { EXCHANGE, generateVendor } from './env.js';

const FROM = '2024-03-01';
const TO = '2024-03-03';
const ROWS = 500;
const BASE = {
  exchanges: [EXCHANGE],
  dataTypes: ['trades'],
  from: FROM,
  to: TO,
  groupMin: 0,
  timeframes: ['1h', '24h'] as const,
  featureSets: ['volatility'],
};

describe('runPipeline (local lake, SQLite catalog)', () => {
  let tmp: string;
  let server: TardisServer;
  let symbols: string[];
  const lakes: Lake[] = [];
  const open = async (name: string) => {
    const lake = await openLake({
      root: join(tmp, name),
      config: { tardis: { datasetsUrl: server.url, apiUrl: server.apiUrl, apiKey: undefined } },
    });
    lakes.push(lake);
    return lake;
  };

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'ticklake-pipeline-'));
    ({ symbols } = await generateVendor(join(tmp, 'vendor'), { symbols: 3, from: FROM, to: TO, rows: ROWS }));
    server = await startTardisServer({ dir: join(tmp, 'vendor'), port: 0 });
  }, 60_000);

  afterAll(async () => {
    for (const l of lakes) await l.close().catch(() => {});
    await server?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('runs every stage, then a second run redoes nothing', async () => {
    const lake = await open('full');
    const events: string[] = [];
    const s = await runPipeline(lake, {
      ...BASE,
      timeframes: [...BASE.timeframes],
      onEvent: (e) => {
        if (e.type === 'stage-end') events.push(e.stage);
      },
    });
    expect(events).toEqual(['sync', 'plan', 'ingest', 'check', 'candles', 'features']);
    expect(s.days).toEqual(['2024-03-01', '2024-03-02', '2024-03-03']);
    expect(s.tasks).toBe(9);
    expect(s.failed).toEqual([]);
    expect(s.stages.ingest).toMatchObject({ tasks: 9, done: 9, skipped: 0, failed: 0, rounds: 1 });
    expect(s.stages.check).toMatchObject({ qualityFiles: 9 });
    expect((s.stages.check as { missing: Record<string, number> }).missing.present).toBe(9);
    expect(s.stages.candles).toMatchObject({ built: 9, skipped: 0 });
    // Raw files as DuckDB reads them: one per symbol and day, every generated row.
    const raw = await lake.files({ dataset: 'raw_tick_data' });
    expect(raw).toHaveLength(9);
    const counts = await duckRows(
      `SELECT count(*)::INT AS n FROM read_parquet([${raw.map((f) => `'${join(tmp, 'full', f.path)}'`).join(',')}])`,
    );
    expect(counts[0]!.n).toBe(9 * ROWS);
    expect(new Set(raw.map((f) => f.instrumentKey))).toEqual(
      new Set(symbols.map((sym) => `BINANCE:PERP:${sym.replace(/USDT$/, '')}-USDT`)),
    );
    const candles = await lake.files({ dataset: 'processed_candles' });
    expect(candles.map((f) => f.dataType).sort()).toEqual([...Array(9).fill('1h'), ...Array(9).fill('24h')]);
    // Features: one file per candle file of a timeframe the set is built for (1h, 24h here).
    const features = await lake.files({ dataset: 'features' });
    expect(s.stages.features).toEqual({ volatility: { built: features.length, skipped: 0 } });
    expect(features.length).toBeGreaterThan(0);
    const before = new Map((await lake.files()).map((f) => [f.path, `${f.checksum}@${f.createdAt}`]));

    const again = await runPipeline(lake, { ...BASE, timeframes: [...BASE.timeframes] });
    expect(again.stages.sync).toMatchObject({ written: 0, unchanged: 3 });
    expect(again.stages.ingest).toMatchObject({ done: 0, skipped: 9 });
    expect(again.stages.candles).toMatchObject({ built: 0, skipped: 9 });
    expect(again.stages.features).toEqual({ volatility: { built: 0, skipped: features.length } });
    const after = new Map((await lake.files()).map((f) => [f.path, `${f.checksum}@${f.createdAt}`]));
    // Nothing rewritten (same checksum, same creation time); only new missing reports may be added.
    for (const [p, v] of before) if (!p.startsWith('missing_data_reports/')) expect(after.get(p), p).toBe(v);
  }, 120_000);

  it('shards partition the days and, together, equal the unsharded run', async () => {
    const one = await open('one');
    const sharded = await open('sharded');
    const stages = ['sync', 'plan', 'ingest'] as const;
    await runPipeline(one, { ...BASE, timeframes: undefined, stages: [...stages] });
    const parts = [];
    for (const index of [0, 1]) {
      parts.push(
        await runPipeline(sharded, {
          ...BASE,
          timeframes: undefined,
          stages: [...stages],
          shard: { index, count: 2 },
        }),
      );
    }
    expect(parts.map((p) => p.days)).toEqual([['2024-03-01', '2024-03-03'], ['2024-03-02']]);
    expect(parts.map((p) => p.tasks)).toEqual([6, 3]);
    const sums = async (l: Lake) =>
      new Map((await l.files({ dataset: 'raw_tick_data' })).map((f) => [f.path, f.checksum] as const));
    expect(await sums(sharded)).toEqual(await sums(one));
    // More shards than days: a shard without a day does nothing and says so.
    const notices: string[] = [];
    const empty = await runPipeline(sharded, {
      ...BASE,
      timeframes: undefined,
      shard: { index: 4, count: 5 },
      onEvent: (e) => {
        if (e.type === 'notice') notices.push(e.message);
      },
    });
    expect(empty.days).toEqual([]);
    expect(empty.stages).toEqual({});
    expect(notices[0]).toMatch(/shard 4\/5 has no day in 2024-03-01…2024-03-03/);
  }, 120_000);

  it('rejects bad requests with typed errors', async () => {
    const lake = await open('bad');
    const bad = async (req: Partial<Parameters<typeof runPipeline>[1]>, pattern: RegExp) => {
      const err = await runPipeline(lake, { ...BASE, timeframes: undefined, ...req } as Parameters<
        typeof runPipeline
      >[1]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TicklakeError);
      expect((err as TicklakeError).code).toBe('USAGE');
      expect((err as Error).message).toMatch(pattern);
    };
    await bad({ to: '2024-02-01' }, /--to 2024-02-01 is before --from 2024-03-01/);
    await bad({ exchanges: [] }, /no exchange given/);
    await bad({ shard: { index: 2, count: 2 } }, /invalid shard 2\/2/);
    await bad({ from: '2024-3-1' }, /--from/);
  });
});
