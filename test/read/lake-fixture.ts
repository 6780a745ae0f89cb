/**
 * The lake the read, cache, SQL and serve tests share the shape of: every real Tardis sample (through
 * the local Tardis server, when ../shared is present) plus generated (labelled generated) Binance
 * trades of two instruments over two days whose timestamps interleave and tie, in 1000-row row groups.
 */
import { expect } from 'vitest';
import { putVendorFile, realDataMissing, realTardisFiles, stageRealTardis } from '../helpers/fixtures.js';
import { type LakeEnv, lakeEnv } from '../helpers/lake.js';

export const GEN_DAYS = ['2024-08-01', '2024-08-02'];
export const BTC = 'BINANCE:SPOT_PAIR:BTC-USDT';
export const ETH = 'BINANCE:SPOT_PAIR:ETH-USDT';
export const REAL_TRADES_KEY = 'BINANCE:PERP:BTC-USDT';
export const REAL_TRADES_DAY = '2020-02-22';
export const GEN_ROWS = 3000;

const H = 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount';

/** Generated trades: BTC every 15 s, ETH every 10 s (ties every 30 s), ids unique per symbol. */
export function generatedTrades(symbol: 'BTCUSDT' | 'ETHUSDT', day: string): string {
  const d0 = Date.parse(`${day}T00:00:00Z`) * 1000;
  const step = symbol === 'BTCUSDT' ? 15_000_000 : 10_000_000;
  const base = symbol === 'BTCUSDT' ? 60000 : 3000;
  const lines = [H];
  for (let i = 0; i < GEN_ROWS; i++) {
    const ts = d0 + i * step;
    lines.push(
      `binance,${symbol},${ts},${ts + 1500},${symbol[0]}${day.slice(-2)}${i},${i % 3 === 0 ? 'sell' : 'buy'},${base + (i % 97) * 0.5},${((i % 13) + 1) / 100}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function buildReadLake(opts: { real?: boolean; cacheMaxBytes?: number } = {}): Promise<LakeEnv> {
  const real = opts.real !== false && realDataMissing === null;
  const env = await lakeEnv(
    async (dir) => {
      if (real) await stageRealTardis(dir);
      for (const day of GEN_DAYS) {
        await putVendorFile(dir, 'binance', 'trades', day, 'BTCUSDT', generatedTrades('BTCUSDT', day));
        await putVendorFile(dir, 'binance', 'trades', day, 'ETHUSDT', generatedTrades('ETHUSDT', day));
      }
    },
    {
      config: {
        ingest: { rowGroupRows: 1000 },
        ...(opts.cacheMaxBytes !== undefined ? { cache: { maxBytes: opts.cacheMaxBytes } } : {}),
      },
    },
  );
  const s = await env.lake.ingest({
    exchange: 'binance',
    dataTypes: ['trades'],
    symbols: ['BTCUSDT', 'ETHUSDT'],
    from: GEN_DAYS[0]!,
    to: GEN_DAYS[1]!,
  });
  expect(s.failed).toBe(0);
  if (real) {
    for (const f of realTardisFiles()) {
      const r = await env.lake.ingest({
        exchange: f.exchange,
        dataTypes: [f.dataType],
        symbols: [f.symbol],
        from: f.day,
        to: f.day,
      });
      expect(r.failed, `${f.name}`).toBe(0);
    }
  }
  return env;
}
