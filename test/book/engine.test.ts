/**
 * The order book and the snapshot engine on hand-made rows: book vs a Map under random updates,
 * bucket-end rule, rows before the first snapshot, crossed books, mid/spread/imbalance, bad inputs.
 */
import { describe, expect, it } from 'vitest';
import { ASK, BID, OrderBook } from '../../src/book/book.js';
import { BookSnapshotEngine, bookSnapshotSchema } from '../../src/book/snapshots.js';
import type { Timeframe } from '../../src/candles/timeframes.js';
import type { ColumnBatch, Float64Column, Int32Column, TimestampColumn } from '../../src/columns/types.js';
import { TicklakeError } from '../../src/errors.js';
import { dayStartMicros } from '../../src/util/time.js';

const DAY = '2024-08-01';
const D0 = dayStartMicros(DAY);
const S = 1_000_000;
const KEY = 'DERIBIT:PERP:BTC-USD';

type Row = [ts: number, snap: boolean, side: 'bid' | 'ask', price: number, amount: number];

function l2Batch(rows: Row[]): ColumnBatch {
  const n = rows.length;
  const ts = new Float64Array(n);
  const snap = new Uint8Array(n);
  const side = new Int32Array(n);
  const price = new Float64Array(n);
  const amount = new Float64Array(n);
  rows.forEach(([t, s, sd, p, a], i) => {
    ts[i] = t;
    snap[i] = s ? 1 : 0;
    side[i] = sd === 'bid' ? 0 : 1;
    price[i] = p;
    amount[i] = a;
  });
  return {
    length: n,
    columns: {
      timestamp: { kind: 'timestamp', values: ts, validity: null },
      is_snapshot: { kind: 'bool', values: snap, validity: null },
      side: { kind: 'dict', indices: side, dictionary: ['bid', 'ask'], validity: null },
      price: { kind: 'float64', values: price, validity: null },
      amount: { kind: 'float64', values: amount, validity: null },
    },
  };
}

function run(rows: Row[], timeframes: Timeframe[] = ['15s'], levels = 3) {
  const e = new BookSnapshotEngine({ day: DAY, timeframes, levels, instrumentKey: KEY });
  // Split in two batches to exercise batch boundaries.
  const half = Math.floor(rows.length / 2);
  e.pushIncremental(l2Batch(rows.slice(0, half)));
  e.pushIncremental(l2Batch(rows.slice(half)));
  return e.finish();
}

const f64 = (b: ColumnBatch, name: string, i: number): number | null => {
  const c = b.columns[name] as Float64Column | TimestampColumn;
  return c.validity && c.validity[i] === 0 ? null : c.values[i]!;
};

describe('OrderBook', () => {
  it('matches a plain Map under 200k random updates concentrated near the top', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const book = new OrderBook();
    const ref = [new Map<number, number>(), new Map<number, number>()];
    for (let i = 0; i < 200_000; i++) {
      const side = rnd() < 0.5 ? BID : ASK;
      // bids 900..1000, asks 1000..1100 mostly, with occasional far levels; 30% deletes.
      const dist = rnd() < 0.9 ? Math.floor(rnd() * 20) : Math.floor(rnd() * 2000);
      const price = side === BID ? 1000 - dist * 0.5 : 1000.5 + dist * 0.5;
      const amount = rnd() < 0.3 ? 0 : Math.floor(rnd() * 100) + 1;
      book.set(side, price, amount);
      if (amount === 0) ref[side]!.delete(price);
      else ref[side]!.set(price, amount);
      if (i % 10_000 === 0 || i === 199_999) {
        const bids = [...ref[BID]!.entries()].sort((a, b) => b[0] - a[0]);
        const asks = [...ref[ASK]!.entries()].sort((a, b) => a[0] - b[0]);
        expect(book.bids.size).toBe(bids.length);
        expect(book.asks.size).toBe(asks.length);
        for (let l = 0; l < bids.length; l++)
          expect([book.bids.price(l), book.bids.amount(l)]).toEqual(bids[l]);
        for (let l = 0; l < asks.length; l++)
          expect([book.asks.price(l), book.asks.amount(l)]).toEqual(asks[l]);
      }
    }
  });

  it('removing an absent level is a no-op; missing levels read as NaN', () => {
    const b = new OrderBook();
    b.set(BID, 10, 0);
    expect(b.bids.size).toBe(0);
    expect(b.bestBid()).toBeNaN();
    b.set(BID, 10, 1);
    b.set(BID, 9, 2);
    b.set(BID, 11, 0);
    expect(b.bids.size).toBe(2);
    expect(b.bids.amountAt(9)).toBe(2);
    expect(b.bids.amount(2)).toBeNaN();
  });

  it('counts crossed levels and keeps them', () => {
    const b = new OrderBook();
    for (const p of [100, 99, 98]) b.set(BID, p, 1);
    for (const p of [101, 102]) b.set(ASK, p, 1);
    expect(b.crossedLevels()).toBe(0);
    b.set(ASK, 99, 5); // ask at 99 crosses bids 100 and 99
    expect(b.isCrossed()).toBe(true);
    expect(b.crossedLevels()).toBe(3); // bids 100, 99 ≥ best ask 99; ask 99 ≤ best bid 100
    expect(b.bestAsk()).toBe(99);
    expect(b.asks.size).toBe(3);
  });
});

describe('BookSnapshotEngine', () => {
  it('skips rows before the first snapshot, and buckets run from the first book to the end of the day', () => {
    const rows: Row[] = [
      [D0 + 1 * S, false, 'bid', 99, 1], // before any snapshot: skipped
      [D0 + 2 * S, false, 'ask', 1, 1], // skipped (would be a crossing ask)
      [D0 + 40 * S, true, 'bid', 100, 2],
      [D0 + 40 * S, true, 'ask', 101, 3],
      [D0 + 50 * S, false, 'bid', 100.5, 4],
    ];
    const r = run(rows);
    expect(r.skippedBeforeSnapshot).toBe(2);
    expect(r.applied).toBe(3);
    const b = r.batches.get('15s')!;
    // First book at 00:00:40 → first bucket [00:00:30, 00:00:45); every 15 s bucket to the day end.
    expect(b.length).toBe(5760 - 2);
    expect(f64(b, 'timestamp', 0)).toBe(D0 + 30 * S);
    expect(f64(b, 'bid_price_0', 0)).toBe(100);
    expect(f64(b, 'book_ts', 0)).toBe(D0 + 40 * S);
    expect(f64(b, 'bid_price_0', 1)).toBe(100.5);
    expect(f64(b, 'bid_price_1', 1)).toBe(100);
    expect(f64(b, 'bid_price_2', 1)).toBeNull();
    expect(f64(b, 'timestamp', b.length - 1)).toBe(D0 + 86_400 * S - 15 * S);
    expect(f64(b, 'book_ts', b.length - 1)).toBe(D0 + 50 * S);
  });

  it('an update stamped exactly at a bucket end belongs to the next bucket', () => {
    const rows: Row[] = [
      [D0, true, 'bid', 100, 1],
      [D0, true, 'ask', 101, 1],
      [D0 + 15 * S, false, 'bid', 100, 7], // at the end of bucket 0: not in it
      [D0 + 30 * S - 1, false, 'ask', 101, 9], // 1 µs before the end of bucket 1: in it
    ];
    const b = run(rows).batches.get('15s')!;
    expect(f64(b, 'bid_amount_0', 0)).toBe(1);
    expect(f64(b, 'bid_amount_0', 1)).toBe(7);
    expect(f64(b, 'ask_amount_0', 1)).toBe(9);
    expect(f64(b, 'book_ts', 1)).toBe(D0 + 30 * S - 1);
  });

  it('replays in feed order: a late row (stamped before one already seen) lands in the open bucket', () => {
    const rows: Row[] = [
      [D0, true, 'bid', 100, 1],
      [D0, true, 'ask', 101, 1],
      [D0 + 16 * S, false, 'bid', 100, 2], // closes bucket 0 (end 00:00:15)
      [D0 + 14 * S, false, 'ask', 101, 3], // late: stamped in bucket 0, arrived after it closed
    ];
    const r = run(rows);
    expect(r.late).toBe(1);
    const b = r.batches.get('15s')!;
    expect([f64(b, 'bid_amount_0', 0), f64(b, 'ask_amount_0', 0)]).toEqual([1, 1]);
    expect([f64(b, 'bid_amount_0', 1), f64(b, 'ask_amount_0', 1)]).toEqual([2, 3]);
    expect(f64(b, 'book_ts', 1)).toBe(D0 + 16 * S);
  });

  it('a later snapshot replaces the book; amount 0 removes a level', () => {
    const rows: Row[] = [
      [D0, true, 'bid', 100, 1],
      [D0, true, 'bid', 99, 1],
      [D0, true, 'ask', 101, 1],
      [D0 + 5 * S, false, 'bid', 100, 0],
      [D0 + 20 * S, true, 'bid', 90, 2],
      [D0 + 20 * S, true, 'ask', 91, 3],
    ];
    const b = run(rows).batches.get('15s')!;
    expect([f64(b, 'bid_price_0', 0), f64(b, 'bid_price_1', 0)]).toEqual([99, null]);
    expect([f64(b, 'bid_price_0', 1), f64(b, 'ask_price_0', 1), f64(b, 'ask_price_1', 1)]).toEqual([
      90,
      91,
      null,
    ]);
  });

  it('computes mid, spread and top-level imbalance; null when a side is empty', () => {
    const rows: Row[] = [
      [D0, true, 'bid', 100, 3],
      [D0, true, 'bid', 99, 50],
      [D0, true, 'ask', 102, 1],
      [D0 + 16 * S, false, 'ask', 102, 0],
    ];
    const b = run(rows).batches.get('15s')!;
    expect(f64(b, 'mid', 0)).toBe(101);
    expect(f64(b, 'spread', 0)).toBe(2);
    expect(f64(b, 'imbalance', 0)).toBe((3 - 1) / (3 + 1));
    expect([f64(b, 'mid', 1), f64(b, 'spread', 1), f64(b, 'imbalance', 1)]).toEqual([null, null, null]);
    expect(f64(b, 'ask_price_0', 1)).toBeNull();
  });

  it('counts crossed bucket ends once per instant and keeps the crossed book', () => {
    const rows: Row[] = [
      [D0, true, 'bid', 100, 1],
      [D0, true, 'ask', 101, 1],
      [D0 + 20 * S, false, 'ask', 99.5, 2], // injected crossing ask
      [D0 + 50 * S, false, 'ask', 99.5, 0], // uncrossed again
    ];
    const r = run(rows, ['15s', '1m']);
    // Crossed at the ends 00:00:30 and 00:00:45 (00:01:00 is after the uncrossing at 00:00:50).
    expect(r.crossed).toBe(2);
    const b = r.batches.get('15s')!;
    const crossed = b.columns.crossed as Int32Column;
    expect([...crossed.values.subarray(0, 5)]).toEqual([0, 2, 2, 0, 0]);
    expect(f64(b, 'ask_price_0', 1)).toBe(99.5);
    expect(f64(b, 'ask_price_1', 1)).toBe(101);
    expect(f64(b, 'spread', 1)).toBe(-0.5);
    expect((r.batches.get('1m')!.columns.crossed as Int32Column).values[0]).toBe(0);
  });

  it('coarse timeframes see the same book as the finer one at shared ends', () => {
    const rows: Row[] = [];
    for (let i = 0; i < 2000; i++)
      rows.push([
        D0 + i * 7 * S,
        i === 0,
        i % 2 ? 'ask' : 'bid',
        i % 2 ? 200 + (i % 13) : 100 - (i % 11),
        i % 5,
      ]);
    rows[0] = [D0, true, 'bid', 100, 1];
    const r = run(rows, ['15s', '1m', '5m', '1h', '24h'], 5);
    const fine = r.batches.get('15s')!;
    for (const [tf, w] of [
      ['1m', 4],
      ['5m', 20],
      ['1h', 240],
      ['24h', 5760],
    ] as const) {
      const b = r.batches.get(tf)!;
      expect(b.length).toBe(5760 / w);
      for (let i = 0; i < b.length; i++) {
        for (const name of bookSnapshotSchema(5).fields.map((f) => f.name)) {
          if (name === 'timestamp' || name === 'instrument_key' || name === 'crossed') continue;
          expect(f64(b, name, i)).toBe(f64(fine, name, (i + 1) * w - 1));
        }
      }
    }
  });

  it('rejects bad inputs with typed errors', () => {
    const mk = (o: Partial<ConstructorParameters<typeof BookSnapshotEngine>[0]>) => () =>
      new BookSnapshotEngine({ day: DAY, timeframes: ['1m'], instrumentKey: KEY, ...o });
    expect(mk({ levels: 0 })).toThrow(/book levels 0/);
    expect(mk({ levels: 2.5 })).toThrow(TicklakeError);
    expect(mk({ timeframes: [] })).toThrow(/no timeframes/);
    expect(mk({ timeframes: ['2m' as Timeframe] })).toThrow(/unknown timeframe "2m"/);
    const e = new BookSnapshotEngine({ day: DAY, timeframes: ['1m'], instrumentKey: KEY });
    const missing = l2Batch([[D0, true, 'bid', 1, 1]]);
    const { price: _p, ...cols } = missing.columns;
    expect(() => e.pushIncremental({ length: 1, columns: cols })).toThrow(
      expect.objectContaining({
        code: 'MISSING_REQUIRED_COLUMN',
        message: expect.stringContaining('"price"'),
      }),
    );
    const bad = l2Batch([[D0, true, 'bid', 1, 1]]);
    const badSide = {
      ...bad,
      columns: {
        ...bad.columns,
        side: { kind: 'dict', indices: new Int32Array(1), dictionary: ['buy'], validity: null },
      },
    } as ColumnBatch;
    expect(() => e.pushIncremental(badSide)).toThrow(
      expect.objectContaining({ code: 'DATA_TYPE_VALIDATION' }),
    );
  });
});
