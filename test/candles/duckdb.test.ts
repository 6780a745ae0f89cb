/**
 * The engine's candles equal an independent DuckDB SQL implementation over the raw Parquet:
 * exactly for counts, OHLC, volumes and trade times, within 1e-9 relative for averages, for every
 * timeframe. Real trades (binance-futures BTCUSDT with its real quotes, bitmex XBTUSD) go through a
 * real ingest from a local Tardis server; the day boundary uses generated data (labelled generated)
 * over two days, since each real sample covers a single day.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCandles } from '../../src/candles/build.js';
import { TIMEFRAMES, timeframeMicros } from '../../src/candles/timeframes.js';
import { generateTardisDataset } from '../../src/dev/generate.js';
import { dayStartMicros } from '../../src/util/time.js';
import { realDataMissing, stageRealTardis } from '../helpers/fixtures.js';
import { type LakeEnv, lakeEnv } from '../helpers/lake.js';
import { diffCandles, lakeCandles, sqlCandles } from './sql.js';

const DAY = 86_400_000_000;

async function rawPaths(env: LakeEnv, dataType: string, key: string): Promise<string[]> {
  const files = await env.lake.files({ dataset: 'raw_tick_data', dataType, instrumentKey: key });
  return files.map((f) => join(env.lakeDir, f.path));
}

async function candlePaths(env: LakeEnv, key: string, tf: string): Promise<string[]> {
  const files = await env.lake.files({ dataset: 'processed_candles', instrumentKey: key, dataType: tf });
  return files.sort((a, b) => a.path.localeCompare(b.path)).map((f) => join(env.lakeDir, f.path));
}

describe.skipIf(realDataMissing !== null)('candles on real trades = DuckDB SQL', () => {
  let env: LakeEnv;
  const cases = [
    {
      exchange: 'binance-futures',
      symbol: 'BTCUSDT',
      day: '2020-02-22',
      key: 'BINANCE:PERP:BTC-USDT',
      quotes: true,
    },
    { exchange: 'bitmex', symbol: 'XBTUSD', day: '2020-03-01', key: 'BITMEX:PERP:BTC-USD', quotes: false },
  ];

  beforeAll(async () => {
    env = await lakeEnv(async (dir) => {
      await stageRealTardis(dir);
    });
    for (const c of cases) {
      const s = await env.lake.ingest({
        exchange: c.exchange,
        dataTypes: c.quotes ? ['trades', 'quotes'] : ['trades'],
        symbols: [c.symbol],
        from: c.day,
        to: c.day,
      });
      expect(s.failed).toBe(0);
    }
    const summary = await buildCandles(env.lake, { from: '2020-02-22', to: '2020-03-01', books: false });
    expect(summary.built).toBe(2);
    expect(summary.files).toBe(14);
  }, 60_000);

  afterAll(async () => {
    await env?.close();
  });

  for (const c of cases) {
    for (const tf of TIMEFRAMES) {
      it(`${c.key} ${tf}${c.quotes ? ' (with quote features)' : ''}`, async () => {
        const start = dayStartMicros(c.day);
        const ref = await sqlCandles({
          tradeFiles: await rawPaths(env, 'trades', c.key),
          quoteFiles: c.quotes ? await rawPaths(env, 'quotes', c.key) : [],
          fromUs: start,
          toUs: start + DAY,
          w: timeframeMicros(tf),
        });
        const ours = await lakeCandles(await candlePaths(env, c.key, tf));
        expect(ref.length).toBeGreaterThan(0);
        expect(diffCandles(ours, ref)).toEqual([]);
        // The table really has trades, sides, empty buckets (except 24h) and quote features.
        expect(ours.some((r) => r.trade_count > 0 && r.sell_count > 0)).toBe(true);
        if (c.quotes) expect(ours.some((r) => r.buy_count > 0)).toBe(true);
        if (tf !== '24h' && c.quotes) expect(ours.some((r) => r.trade_count === 0)).toBe(true);
        if (c.quotes) expect(ours.some((r) => r.twap_mid !== null && r.close_bid !== null)).toBe(true);
      });
    }
  }

  it('the library reads the same candles back (lake.read)', async () => {
    const c = cases[0]!;
    const t = await env.lake.read({
      dataset: 'candles',
      key: c.key,
      timeframe: '1m',
      from: c.day,
      to: '2020-02-23',
    });
    const ours = await lakeCandles(await candlePaths(env, c.key, '1m'));
    expect(t.numRows).toBe(ours.length);
    expect(Array.from(t.getChild('close')!.toArray() as Float64Array)).toEqual(ours.map((r) => r.close));
    const part = await env.lake.read({
      dataset: 'candles',
      key: c.key,
      timeframe: '1m',
      from: '2020-02-22T00:10:00Z',
      to: '2020-02-22T00:20:00Z',
      columns: ['timestamp', 'volume'],
    });
    expect(part.numRows).toBe(10);
    expect(part.schema.fields.map((f) => f.name)).toEqual(['timestamp', 'volume']);
  });

  it('several keys in one read: an instrument_key column, each key in timestamp order', async () => {
    const [a, b] = [cases[0]!, cases[1]!];
    const t = await env.lake.read({
      dataset: 'candles',
      keys: [a.key, b.key],
      timeframe: '1h',
      from: '2020-01-01',
      to: '2020-12-31',
      columns: ['timestamp', 'close'],
    });
    const ka = await lakeCandles(await candlePaths(env, a.key, '1h'));
    const kb = await lakeCandles(await candlePaths(env, b.key, '1h'));
    expect(t.numRows).toBe(ka.length + kb.length);
    const keys = t.getChild('instrument_key')!.toArray() as string[];
    expect(keys.slice(0, ka.length).every((k) => k === a.key)).toBe(true);
    expect(keys.slice(ka.length).every((k) => k === b.key)).toBe(true);
    expect(Array.from(t.getChild('close')!.toArray() as Float64Array)).toEqual([
      ...ka.map((r) => r.close),
      ...kb.map((r) => r.close),
    ]);
  });
});

describe('candles across a day boundary = DuckDB SQL (generated data)', () => {
  let env: LakeEnv;
  const days = ['2024-08-01', '2024-08-02'];
  const key = 'BINANCE:PERP:BTC-USDT';

  beforeAll(async () => {
    env = await lakeEnv(async (dir) => {
      let seed = 11;
      for (const day of days) {
        for (const dataType of ['trades', 'quotes'] as const) {
          await generateTardisDataset({
            dir,
            exchange: 'binance-futures',
            dataType,
            symbol: 'BTCUSDT',
            day,
            rows: 20_000,
            seed: seed++,
          });
        }
      }
    });
    const s = await env.lake.ingest({
      exchange: 'binance-futures',
      dataTypes: ['trades', 'quotes'],
      symbols: ['BTCUSDT'],
      from: days[0]!,
      to: days[1]!,
    });
    expect(s.failed).toBe(0);
    const summary = await buildCandles(env.lake, { from: days[0]!, to: days[1]!, books: false });
    expect(summary.built).toBe(2);
  }, 60_000);

  afterAll(async () => {
    await env?.close();
  });

  for (const tf of TIMEFRAMES) {
    it(`${tf}: both days, the second continuing the first's close`, async () => {
      const start = dayStartMicros(days[0]!);
      const ref = await sqlCandles({
        tradeFiles: await rawPaths(env, 'trades', key),
        quoteFiles: await rawPaths(env, 'quotes', key),
        fromUs: start,
        toUs: start + 2 * DAY,
        w: timeframeMicros(tf),
      });
      const ours = await lakeCandles(await candlePaths(env, key, tf));
      expect(diffCandles(ours, ref)).toEqual([]);
      const second = ours.findIndex((r) => r.ts >= start + DAY);
      expect(second).toBeGreaterThan(0);
      // The second day's first bar has a log return against the first day's close.
      expect(ours[second]!.log_return).not.toBeNull();
      expect(ours[0]!.log_return).toBeNull();
    });
  }

  it('every bucket from the first trade to the end of the day is present', async () => {
    const rows = await lakeCandles(await candlePaths(env, key, '15s'));
    const byDay = new Map<number, number[]>();
    for (const r of rows) {
      const d = Math.floor(r.ts / DAY) * DAY;
      byDay.set(d, [...(byDay.get(d) ?? []), r.ts]);
    }
    for (const [d, ts] of byDay) {
      expect(ts[ts.length - 1]).toBe(d + DAY - 15_000_000);
      for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBe(15_000_000);
    }
  });
});

describe.skipIf(realDataMissing !== null)('candles build also builds book snapshots', () => {
  let env: LakeEnv;

  beforeAll(async () => {
    env = await lakeEnv(async (dir) => {
      await stageRealTardis(dir);
    });
    const s = await env.lake.ingest({
      exchange: 'binance-futures',
      dataTypes: ['book_snapshot_5'],
      symbols: ['BTCUSDT'],
      from: '2020-09-01',
      to: '2020-09-01',
    });
    expect(s.failed).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await env?.close();
  });

  it('for a (key, day) with book data and no trades, and reads them back with lake.read', async () => {
    const s = await buildCandles(env.lake, {
      from: '2020-09-01',
      to: '2020-09-01',
      timeframes: ['1m', '1h'],
    });
    expect(s).toMatchObject({ built: 0, empty: 1, files: 0 });
    expect(s.bookFiles).toBe(2);
    expect(s.paths.every((p) => p.startsWith('processed_book_snapshots/by_date/day=2020-09-01/'))).toBe(true);
    const t = await env.lake.read({
      dataset: 'book_snapshots',
      key: 'BINANCE:PERP:BTC-USDT',
      timeframe: '1m',
      from: '2020-09-01',
      to: '2020-09-02',
    });
    const files = await env.lake.files({ dataset: 'processed_book_snapshots' });
    expect(t.numRows).toBe(files.find((f) => f.path.includes('timeframe=1m/'))!.rows);
    expect(t.numRows).toBeGreaterThan(0);
  });
});
