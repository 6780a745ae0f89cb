/**
 * The candle engine on its own: rolling 15 s bars up gives exactly what computing each timeframe
 * directly gives; pushing in many small batches (and flushing part-way, as the live stream will)
 * gives exactly what one push gives; empty buckets, unknown sides and bad input behave as documented.
 */
import { describe, expect, it } from 'vitest';
import { CandleEngine, type ClosedBars, computeCandles, mergeInto } from '../../src/candles/engine.js';
import { TIMEFRAMES } from '../../src/candles/timeframes.js';
import { sliceBatch } from '../../src/columns/ops.js';
import type { ColumnBatch, Float64Column } from '../../src/columns/types.js';
import { TicklakeError } from '../../src/errors.js';

const DAY = 86_400_000_000;
const D0 = Date.UTC(2024, 7, 1) * 1000;

/** Seeded generated trades (labelled generated: not market data) over `days` days, sorted. */
function genTrades(n: number, days = 1, seed = 1, sides = ['buy', 'sell', 'unknown']): ColumnBatch {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const ts = new Float64Array(n);
  const price = new Float64Array(n);
  const amount = new Float64Array(n);
  const side = new Int32Array(n);
  let p = 60000;
  // Trades in bursts, leaving gaps (empty buckets), starting a few hours into the first day.
  let t = D0 + 3 * 3_600_000_000 + 123_456;
  const step = ((days * DAY - 4 * 3_600_000_000) / n) * 2;
  for (let i = 0; i < n; i++) {
    t += Math.floor(rnd() ** 3 * step);
    ts[i] = t;
    if (rnd() < 0.4) p = Math.round((p + (rnd() - 0.5) * 20) * 10) / 10;
    price[i] = p;
    amount[i] = Math.round(rnd() * 2000) / 1000 + 0.001;
    side[i] = Math.floor(rnd() * sides.length);
  }
  return {
    length: n,
    columns: {
      timestamp: { kind: 'timestamp', values: ts, validity: null },
      price: { kind: 'float64', values: price, validity: null },
      amount: { kind: 'float64', values: amount, validity: null },
      side: { kind: 'dict', indices: side, dictionary: sides, validity: null },
    },
  };
}

function genQuotes(n: number, seed = 2): ColumnBatch {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const ts = new Float64Array(n);
  const bid = new Float64Array(n);
  const ask = new Float64Array(n);
  const ba = new Float64Array(n);
  const aa = new Float64Array(n);
  const bidValid = new Uint8Array(n).fill(1);
  let t = D0 + 2 * 3_600_000_000;
  for (let i = 0; i < n; i++) {
    t += Math.floor(rnd() * 5_000_000);
    ts[i] = t;
    bid[i] = 60000 + Math.round(rnd() * 100) / 10;
    ask[i] = bid[i]! + 0.1 + Math.round(rnd() * 10) / 10;
    ba[i] = Math.round(rnd() * 5000) / 1000;
    aa[i] = Math.round(rnd() * 5000) / 1000;
    if (i % 97 === 5) bidValid[i] = 0; // an empty bid side now and then
  }
  return {
    length: n,
    columns: {
      timestamp: { kind: 'timestamp', values: ts, validity: null },
      bid_price: { kind: 'float64', values: bid, validity: bidValid },
      ask_price: { kind: 'float64', values: ask, validity: null },
      bid_amount: { kind: 'float64', values: ba, validity: null },
      ask_amount: { kind: 'float64', values: aa, validity: null },
    },
  };
}

function expectSameBars(a: ColumnBatch | undefined, b: ColumnBatch | undefined): void {
  expect(a).toBeDefined();
  expect(b).toBeDefined();
  expect(a!.length).toBe(b!.length);
  for (const name of Object.keys(b!.columns)) {
    const x = a!.columns[name] as Float64Column;
    const y = b!.columns[name] as Float64Column;
    const vx = Array.from(x.values, (v, i) => (x.validity && x.validity[i] === 0 ? null : v));
    const vy = Array.from(y.values, (v, i) => (y.validity && y.validity[i] === 0 ? null : v));
    expect(vx, name).toEqual(vy);
  }
}

const col = (b: ColumnBatch, name: string): (number | null)[] => {
  const c = b.columns[name] as Float64Column;
  return Array.from(c.values, (v, i) => (c.validity && c.validity[i] === 0 ? null : v));
};

describe('candle engine', () => {
  const trades = genTrades(60_000, 2);
  const quotes = genQuotes(8_000);

  it('rolls 15 s bars up into exactly what each timeframe computed directly gives', () => {
    const all = computeCandles(trades);
    for (const tf of TIMEFRAMES) {
      const direct = computeCandles(trades, { timeframes: [tf] });
      expectSameBars(all.get(tf), direct.get(tf));
    }
  });

  it('rolls quote features up exactly too', () => {
    const day = sliceBatch(trades, 0, 20_000);
    const all = computeCandles(day, { quoteBatches: [quotes] });
    for (const tf of ['1m', '1h', '24h'] as const) {
      expectSameBars(all.get(tf), computeCandles(day, { timeframes: [tf], quoteBatches: [quotes] }).get(tf));
    }
    expect(col(all.get('1m')!, 'twap_mid').some((v) => v !== null)).toBe(true);
  });

  it('gives the same bars for many small pushes with partial flushes as for one push', () => {
    const one = computeCandles(trades);
    const engine = new CandleEngine();
    const out: ClosedBars = new Map();
    const ts = (trades.columns.timestamp as Float64Column).values;
    for (let i = 0; i < trades.length; i += 777) {
      const part = sliceBatch(trades, i, Math.min(trades.length, i + 777));
      mergeInto(out, engine.push(part));
      // The live stream flushes on a clock: no trade before the next one's time can still come.
      const next = ts[Math.min(trades.length - 1, i + 777)]!;
      mergeInto(out, engine.flush(next));
    }
    mergeInto(out, engine.flush());
    for (const tf of TIMEFRAMES) expectSameBars(out.get(tf), one.get(tf));
  });

  it('emits bars as soon as they close', () => {
    const engine = new CandleEngine({ timeframes: ['1m'] });
    const first = engine.push(sliceBatch(trades, 0, 1000));
    const bars = first.get('1m')!;
    const lastTs = (trades.columns.timestamp as Float64Column).values[999]!;
    // Every closed minute ends at or before the last pushed trade.
    const starts = col(bars, 'timestamp') as number[];
    expect(starts[starts.length - 1]! + 60_000_000).toBeLessThanOrEqual(lastTs);
    expect(starts[starts.length - 1]! + 120_000_000).toBeGreaterThan(lastTs);
  });

  it('fills empty buckets with the previous close and zero volume, from the first trade to the end of the day', () => {
    const bars = computeCandles(sliceBatch(trades, 0, 5000), { timeframes: ['15s'] }).get('15s')!;
    const ts = col(bars, 'timestamp') as number[];
    const t0 = (trades.columns.timestamp as Float64Column).values[0]!;
    expect(ts[0]).toBe(Math.floor(t0 / 15e6) * 15e6);
    expect(ts[ts.length - 1]).toBe(D0 + DAY - 15e6);
    const c = Object.fromEntries(Object.keys(bars.columns).map((name) => [name, col(bars, name)]));
    const close = c.close!;
    let empties = 0;
    for (let i = 1; i < bars.length; i++) {
      if (c.trade_count![i] !== 0) continue;
      empties++;
      for (const name of ['open', 'high', 'low', 'close']) expect(c[name]![i]).toBe(close[i - 1]);
      expect(c.volume![i]).toBe(0);
      expect(c.vwap![i]).toBeNull();
      expect(c.first_trade_ts![i]).toBeNull();
      expect(c.log_return![i]).toBe(0);
      expect(c.realized_variance![i]).toBe(0);
    }
    expect(empties).toBeGreaterThan(100);
    expect(c.log_return![0]).toBeNull();
  });

  it('counts unknown-side trades in volume but not in buy/sell', () => {
    const mk = (side: number[]): ColumnBatch => ({
      length: 3,
      columns: {
        timestamp: { kind: 'timestamp', values: Float64Array.from([D0 + 1, D0 + 2, D0 + 3]), validity: null },
        price: { kind: 'float64', values: Float64Array.from([100, 101, 99]), validity: null },
        amount: { kind: 'float64', values: Float64Array.from([1, 2, 4]), validity: null },
        side: {
          kind: 'dict',
          indices: Int32Array.from(side),
          dictionary: ['buy', 'sell', 'unknown'],
          validity: null,
        },
      },
    });
    const bar = computeCandles(mk([0, 2, 1]), { timeframes: ['1m'] }).get('1m')!;
    expect(col(bar, 'volume')[0]).toBe(7);
    expect(col(bar, 'buy_volume')[0]).toBe(1);
    expect(col(bar, 'sell_volume')[0]).toBe(4);
    expect(col(bar, 'buy_count')[0]).toBe(1);
    expect(col(bar, 'sell_count')[0]).toBe(1);
    expect(col(bar, 'trade_count')[0]).toBe(3);
    expect(col(bar, 'order_flow_imbalance')[0]).toBe((1 - 4) / 7);
    expect(col(bar, 'open')[0]).toBe(100);
    expect(col(bar, 'high')[0]).toBe(101);
    expect(col(bar, 'low')[0]).toBe(99);
    expect(col(bar, 'close')[0]).toBe(99);
    expect(col(bar, 'vwap')[0]).toBe((100 + 202 + 396) / 7);
    expect(col(bar, 'max_trade_amount')[0]).toBe(4);
    expect(col(bar, 'realized_variance')[0]).toBeCloseTo(
      Math.log(101 / 100) ** 2 + Math.log(99 / 101) ** 2,
      15,
    );
    // With the previous day's close, the first trade's return and the bar's log return exist.
    const withPrev = computeCandles(mk([0, 2, 1]), { timeframes: ['1m'], prevClose: 98 }).get('1m')!;
    expect(col(withPrev, 'log_return')[0]).toBeCloseTo(Math.log(99 / 98), 15);
    expect(col(withPrev, 'realized_variance')[0]).toBeCloseTo(
      Math.log(100 / 98) ** 2 + Math.log(101 / 100) ** 2 + Math.log(99 / 101) ** 2,
      15,
    );
  });

  it('weights quotes by the time they were in force', () => {
    const q: ColumnBatch = {
      length: 2,
      columns: {
        timestamp: { kind: 'timestamp', values: Float64Array.from([D0 + 15e6, D0 + 45e6]), validity: null },
        bid_price: { kind: 'float64', values: Float64Array.from([100, 110]), validity: null },
        ask_price: { kind: 'float64', values: Float64Array.from([102, 111]), validity: null },
        bid_amount: { kind: 'float64', values: Float64Array.from([3, 1]), validity: null },
        ask_amount: { kind: 'float64', values: Float64Array.from([1, 1]), validity: null },
      },
    };
    const t: ColumnBatch = {
      length: 1,
      columns: {
        timestamp: { kind: 'timestamp', values: Float64Array.from([D0 + 5e6]), validity: null },
        price: { kind: 'float64', values: Float64Array.from([101]), validity: null },
        amount: { kind: 'float64', values: Float64Array.from([1]), validity: null },
      },
    };
    const bar = computeCandles(t, { timeframes: ['1m'], quoteBatches: [q] }).get('1m')!;
    // First minute: no quote for 15 s, then 101 for 30 s, then 110.5 for 15 s.
    expect(col(bar, 'twap_mid')[0]).toBe((101 * 30 + 110.5 * 15) / 45);
    expect(col(bar, 'mean_spread')[0]).toBe((2 * 30 + 1 * 15) / 45);
    expect(col(bar, 'mean_top_imbalance')[0]).toBe((0.5 * 30 + 0 * 15) / 45);
    expect(col(bar, 'close_bid')[0]).toBe(110);
    expect(col(bar, 'close_ask')[0]).toBe(111);
    // Later minutes: the last quote stays in force.
    expect(col(bar, 'twap_mid')[1]).toBe(110.5);
    expect(col(bar, 'close_bid')[bar.length - 1]).toBe(110);
  });

  it('rejects trades out of timestamp order and missing columns with typed errors', () => {
    const engine = new CandleEngine();
    const t = genTrades(10);
    const rev = sliceBatch(t, 5, 10);
    engine.push(rev);
    let err: unknown;
    try {
      engine.push(sliceBatch(t, 0, 5));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TicklakeError);
    expect((err as TicklakeError).code).toBe('DATA_TYPE_VALIDATION');
    expect(() => new CandleEngine().push({ length: 1, columns: {} })).toThrow(/no "timestamp" column/);
    expect(() => new CandleEngine({ timeframes: [] })).toThrow(/at least one timeframe/);
  });
});
