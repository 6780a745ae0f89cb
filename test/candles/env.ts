/**
 * A lake holding generated (labelled generated) binance-futures BTCUSDT trades for a few days, ingested
 * through the local Tardis server like real data.
 */
import { expect } from 'vitest';
import { generateTardisDataset } from '../../src/dev/generate.js';
import { type LakeEnv, lakeEnv } from '../helpers/lake.js';

export const GEN_KEY = 'BINANCE:PERP:BTC-USDT';

export async function generateDay(dir: string, day: string, rows: number, seed: number): Promise<void> {
  await generateTardisDataset({
    dir,
    exchange: 'binance-futures',
    dataType: 'trades',
    symbol: 'BTCUSDT',
    day,
    rows,
    seed,
  });
}

export async function ingestDays(env: LakeEnv, from: string, to: string, force = false): Promise<void> {
  const s = await env.lake.ingest({
    exchange: 'binance-futures',
    dataTypes: ['trades'],
    symbols: ['BTCUSDT'],
    from,
    to,
    force,
  });
  expect(s.failed).toBe(0);
}

/** Lake with generated trades for `days` (rows per day), ingested. */
export async function generatedLake(days: readonly string[], rows: number): Promise<LakeEnv> {
  const env = await lakeEnv(async (dir) => {
    let seed = 100;
    for (const day of days) await generateDay(dir, day, rows, seed++);
  });
  await ingestDays(env, days[0]!, days[days.length - 1]!);
  return env;
}
