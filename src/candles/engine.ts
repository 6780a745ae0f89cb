/**
 * The candle engine: push trades (and optionally quotes) as columnar batches in timestamp order, get
 * closed bars out as columnar batches, one per timeframe. Batch builds are a loop over it; the live
 * stream reuses it unchanged.
 *
 * One pass accumulates the finest requested timeframe (the *base*, normally 15 s) into per-bucket
 * typed arrays covering the current UTC day; coarser bars are rolled up from base buckets when they
 * close. Every sum is kept as a double-double (TwoSum, hi + lo), so a rolled-up sum is the same
 * correctly rounded value as summing the trades directly (test/candles/rollup.test.ts) and as an exact
 * integer sum in DuckDB (test/candles/duckdb.test.ts).
 *
 * Rules (docs/SCHEMAS.md "Candles"):
 * - Trades are bucketed by exchange `timestamp`; buckets are aligned to UTC midnight. Every bucket from
 *   the one holding the day's first trade to the end of the day is emitted; an empty bucket has
 *   trade_count 0, zero volumes and OHLC equal to the previous close.
 * - `log_return` = ln(close / previous bar's close); the first bar of a day uses the previous day's
 *   close (`prevClose`, or the engine's own when it saw the previous day), else null.
 * - `realized_variance` sums (ln(p_i / p_{i−1}))² over the trades of the bucket, where p_{i−1} is the
 *   previous trade (the previous day's close for the day's first trade; none when that is unknown).
 * - Quotes: the quote in force at an instant is the last one with timestamp ≤ that instant (same UTC
 *   day only). `mean_spread`, `twap_mid` and `mean_top_imbalance` are averages weighted by how long
 *   each value was in force inside the bucket (time before the day's first quote, or with an empty
 *   side, is left out); `close_bid`/`close_ask` are the quote in force at the bucket's end.
 */
import type { ColumnBatch, DictColumn, Float64Column, TimestampColumn, Validity } from '../columns/types.js';
import { DataTypeValidationError, UsageError } from '../errors.js';
import { MICROS_PER_DAY } from '../util/time.js';
import { CANDLE_SCHEMA } from './schema.js';
import { TIMEFRAMES, type Timeframe, timeframeMicros } from './timeframes.js';

export interface CandleEngineOptions {
  /** Timeframes to emit (default: all seven). The finest one is accumulated; the others roll up. */
  timeframes?: readonly Timeframe[];
  /** Close of the previous day's last bar, for the first day's first log_return; null/undefined: unknown. */
  prevClose?: number | null;
  /**
   * Quote features: bars close only once both streams passed their end (push quotes before or along
   * with the trades of the same time; `flush` closes everything).
   */
  quotes?: boolean;
}

/** Closed bars per timeframe (only timeframes with at least one new bar). */
export type ClosedBars = Map<Timeframe, ColumnBatch>;

interface TfState {
  tf: Timeframe;
  micros: number;
  /** Base buckets per bucket of this timeframe. */
  k: number;
  /** Next bucket index (within the day) to emit; -1 before the day's first trade. */
  next: number;
  /** Close of the last emitted bar (NaN when unknown). */
  lastClose: number;
}

export class CandleEngine {
  readonly timeframes: readonly Timeframe[];
  private readonly base: number;
  private readonly nb: number;
  private readonly quotes: boolean;
  private readonly tfs: TfState[];

  // Day state.
  private dayStart = Number.NaN;
  private dayEnd = Number.NaN;
  private dayPrevClose: number;
  private firstBase = -1;
  private prevPrice = Number.NaN;
  private tradeW = Number.NEGATIVE_INFINITY;
  private lastTradeTs = Number.NEGATIVE_INFINITY;
  private lastQuoteTs = Number.NEGATIVE_INFINITY;
  private finishedDayStart = Number.NaN;
  private finishedDayClose = Number.NaN;

  // Per base bucket accumulators (one UTC day).
  private readonly cnt: Float64Array;
  private readonly bcnt: Float64Array;
  private readonly scnt: Float64Array;
  private readonly open: Float64Array;
  private readonly high: Float64Array;
  private readonly low: Float64Array;
  private readonly close: Float64Array;
  private readonly fts: Float64Array;
  private readonly lts: Float64Array;
  private readonly vH: Float64Array;
  private readonly vL: Float64Array;
  private readonly qH: Float64Array;
  private readonly qL: Float64Array;
  private readonly bH: Float64Array;
  private readonly bL: Float64Array;
  private readonly sH: Float64Array;
  private readonly sL: Float64Array;
  private readonly rH: Float64Array;
  private readonly rL: Float64Array;
  private readonly mx: Float64Array;
  // Quote accumulators: Σ value·dt (double-double) and Σ dt (exact µs).
  /** Interleaved double-doubles: [2b] hi, [2b + 1] lo. */
  private readonly sp: Float64Array;
  private readonly mi: Float64Array;
  private readonly dtM: Float64Array;
  private readonly im: Float64Array;
  private readonly dtI: Float64Array;
  private readonly qBid: Float64Array;
  private readonly qAsk: Float64Array;
  private readonly qSet: Uint8Array;
  private qFilled = 0;
  // Quote in force.
  private haveQuote = false;
  private qt = 0;
  private qSpread = Number.NaN;
  private qMid = Number.NaN;
  private qImb = Number.NaN;

  constructor(options: CandleEngineOptions = {}) {
    const tfs = options.timeframes ?? TIMEFRAMES;
    if (tfs.length === 0) throw new UsageError('the candle engine needs at least one timeframe');
    this.timeframes = TIMEFRAMES.filter((t) => tfs.includes(t));
    this.base = timeframeMicros(this.timeframes[0]!);
    this.nb = MICROS_PER_DAY / this.base;
    this.quotes = options.quotes ?? false;
    this.dayPrevClose = options.prevClose ?? Number.NaN;
    this.tfs = this.timeframes.map((tf) => ({
      tf,
      micros: timeframeMicros(tf),
      k: timeframeMicros(tf) / this.base,
      next: -1,
      lastClose: Number.NaN,
    }));
    const f = () => new Float64Array(this.nb);
    this.cnt = f();
    this.bcnt = f();
    this.scnt = f();
    this.open = f();
    this.high = f();
    this.low = f();
    this.close = f();
    this.fts = f();
    this.lts = f();
    this.vH = f();
    this.vL = f();
    this.qH = f();
    this.qL = f();
    this.bH = f();
    this.bL = f();
    this.sH = f();
    this.sL = f();
    this.rH = f();
    this.rL = f();
    this.mx = f();
    this.sp = new Float64Array(2 * this.nb);
    this.mi = new Float64Array(2 * this.nb);
    this.dtM = f();
    this.im = new Float64Array(2 * this.nb);
    this.dtI = f();
    this.qBid = f();
    this.qAsk = f();
    this.qSet = new Uint8Array(this.nb);
  }

  /** Push trades (columns `timestamp`, `price`, `amount`, optional dict `side`) in timestamp order. */
  push(batch: ColumnBatch): ClosedBars {
    const out: ClosedBars = new Map();
    const n = batch.length;
    if (n === 0) return out;
    const ts = column<TimestampColumn>(batch, 'timestamp', 'timestamp').values;
    const price = column<Float64Column>(batch, 'price', 'float64').values;
    const amount = column<Float64Column>(batch, 'amount', 'float64').values;
    const sideCol = batch.columns.side as DictColumn | undefined;
    if (sideCol !== undefined && sideCol.kind !== 'dict') {
      throw new UsageError('candle engine: trade column "side" must be dictionary-encoded');
    }
    // Per dictionary entry: 1 when buy (resp. sell), else 0; no side column means all unknown.
    const dict = sideCol ? sideCol.dictionary : ['unknown'];
    const isBuy = Float64Array.from(dict, (s) => (s === 'buy' ? 1 : 0));
    const isSell = Float64Array.from(dict, (s) => (s === 'sell' ? 1 : 0));
    const sideIdx = sideCol ? sideCol.indices : new Int32Array(n);
    // Chunks keep the hot loop a normally optimised function (rather than one long on-stack replacement).
    const CHUNK = 1 << 15;
    for (let from = 0; from < n; from += CHUNK) {
      this.run(out, ts, price, amount, sideIdx, isBuy, isSell, from, Math.min(n, from + CHUNK));
    }
    this.tradeW = this.lastTradeTs;
    mergeInto(out, this.emit(this.watermark()));
    return out;
  }

  /** Trades `from..to` of one push, one bucket at a time (see `accumulateBucket`). */
  private run(
    out: ClosedBars,
    ts: Float64Array,
    price: Float64Array,
    amount: Float64Array,
    sideIdx: Int32Array,
    isBuy: Float64Array,
    isSell: Float64Array,
    from: number,
    to: number,
  ): void {
    const st = this.st;
    const base = this.base;
    let i = from;
    while (i < to) {
      const t = ts[i]!;
      if (t < this.lastTradeTs) throw backwards(t, this.lastTradeTs);
      if (!(t < this.dayEnd)) {
        if (!Number.isNaN(this.dayStart)) mergeInto(out, this.finishDay());
        this.startDay(t);
      }
      // No previous price (first trade, previous close unknown): its return counts as 0.
      if (Number.isNaN(this.prevPrice)) this.prevPrice = price[i]!;
      const b = Math.floor((t - this.dayStart) / base);
      if (this.firstBase < 0) this.startTrades(b);
      const bEnd = Math.min(this.dayStart + (b + 1) * base, this.dayEnd);
      this.load(b);
      st[S_PREV] = this.prevPrice;
      st[S_LAST] = this.lastTradeTs;
      const j = accumulateBucket(st, ts, price, amount, sideIdx, isBuy, isSell, i, to, bEnd);
      this.store(b);
      this.prevPrice = st[S_PREV]!;
      this.lastTradeTs = st[S_LAST]!;
      if (j < 0) throw backwards(ts[-j - 1]!, this.lastTradeTs);
      i = j;
    }
  }

  /** Accumulator state of the bucket being filled (see the S_* slots). */
  private readonly st = new Float64Array(S_SIZE);

  private load(b: number): void {
    const st = this.st;
    st[S_CNT] = this.cnt[b]!;
    st[S_BCNT] = this.bcnt[b]!;
    st[S_SCNT] = this.scnt[b]!;
    st[S_OPEN] = this.open[b]!;
    st[S_HIGH] = this.high[b]!;
    st[S_LOW] = this.low[b]!;
    st[S_CLOSE] = this.close[b]!;
    st[S_FTS] = this.fts[b]!;
    st[S_LTS] = this.lts[b]!;
    st[S_MX] = this.mx[b]!;
    st[S_VH] = this.vH[b]!;
    st[S_VL] = this.vL[b]!;
    st[S_QH] = this.qH[b]!;
    st[S_QL] = this.qL[b]!;
    st[S_BH] = this.bH[b]!;
    st[S_BL] = this.bL[b]!;
    st[S_SH] = this.sH[b]!;
    st[S_SL] = this.sL[b]!;
    st[S_RH] = this.rH[b]!;
    st[S_RL] = this.rL[b]!;
  }

  private store(b: number): void {
    const st = this.st;
    this.cnt[b] = st[S_CNT]!;
    this.bcnt[b] = st[S_BCNT]!;
    this.scnt[b] = st[S_SCNT]!;
    this.open[b] = st[S_OPEN]!;
    this.high[b] = st[S_HIGH]!;
    this.low[b] = st[S_LOW]!;
    this.close[b] = st[S_CLOSE]!;
    this.fts[b] = st[S_FTS]!;
    this.lts[b] = st[S_LTS]!;
    this.mx[b] = st[S_MX]!;
    this.vH[b] = st[S_VH]!;
    this.vL[b] = st[S_VL]!;
    this.qH[b] = st[S_QH]!;
    this.qL[b] = st[S_QL]!;
    this.bH[b] = st[S_BH]!;
    this.bL[b] = st[S_BL]!;
    this.sH[b] = st[S_SH]!;
    this.sL[b] = st[S_SL]!;
    this.rH[b] = st[S_RH]!;
    this.rL[b] = st[S_RL]!;
  }

  /**
   * Push quotes or book tickers (columns `timestamp`, `bid_price`, `ask_price`, `bid_amount`,
   * `ask_amount`, nullable) in timestamp order. Needs `quotes: true` for bars to wait for them.
   */
  pushQuotes(batch: ColumnBatch): ClosedBars {
    const out: ClosedBars = new Map();
    const n = batch.length;
    if (n === 0) return out;
    const ts = column<TimestampColumn>(batch, 'timestamp', 'timestamp').values;
    const bidC = column<Float64Column>(batch, 'bid_price', 'float64');
    const askC = column<Float64Column>(batch, 'ask_price', 'float64');
    const bidAC = column<Float64Column>(batch, 'bid_amount', 'float64');
    const askAC = column<Float64Column>(batch, 'ask_amount', 'float64');
    const valid = (v: Validity, i: number) => v === null || v[i] === 1;
    let last = this.lastQuoteTs;
    for (let i = 0; i < n; i++) {
      const t = ts[i]!;
      if (t < last) {
        throw new DataTypeValidationError(
          `candle engine: quote timestamps go backwards (${t} after ${last} µs)`,
          { hint: 'push quotes sorted by exchange timestamp' },
        );
      }
      last = t;
      if (!(t < this.dayEnd)) {
        if (!Number.isNaN(this.dayStart)) mergeInto(out, this.finishDay());
        this.startDay(t);
      }
      this.integrate(t);
      const bid = valid(bidC.validity, i) ? bidC.values[i]! : Number.NaN;
      const ask = valid(askC.validity, i) ? askC.values[i]! : Number.NaN;
      const ba = valid(bidAC.validity, i) ? bidAC.values[i]! : Number.NaN;
      const aa = valid(askAC.validity, i) ? askAC.values[i]! : Number.NaN;
      this.qSpread = ask - bid;
      this.qMid = (bid + ask) / 2;
      const depth = ba + aa;
      this.qImb = depth > 0 ? (ba - aa) / depth : Number.NaN;
      const b = Math.floor((t - this.dayStart) / this.base);
      this.qBid[b] = bid;
      this.qAsk[b] = ask;
      this.qSet[b] = 1;
      this.haveQuote = true;
    }
    this.lastQuoteTs = last;
    mergeInto(out, this.emit(this.watermark()));
    return out;
  }

  /**
   * Declare that no trade or quote before `until` (µs) will come, and emit the bars that closed; with no
   * argument (or at/after the day's end) finish the current day: every bucket through its end.
   */
  flush(until?: number): ClosedBars {
    const out: ClosedBars = new Map();
    if (Number.isNaN(this.dayStart)) return out;
    if (until === undefined || until >= this.dayEnd) {
      mergeInto(out, this.finishDay());
      return out;
    }
    if (this.quotes) {
      this.integrate(Math.max(until, this.qt));
      this.lastQuoteTs = Math.max(this.lastQuoteTs, until);
    }
    this.tradeW = Math.max(this.tradeW, until);
    this.lastTradeTs = Math.max(this.lastTradeTs, until);
    mergeInto(out, this.emit(this.watermark()));
    return out;
  }

  private watermark(): number {
    return this.quotes ? Math.min(this.tradeW, this.lastQuoteTs) : this.tradeW;
  }

  private startDay(t: number): void {
    const start = Math.floor(t / MICROS_PER_DAY) * MICROS_PER_DAY;
    // The previous day's close carries over only to the next calendar day.
    if (!Number.isNaN(this.finishedDayStart)) {
      this.dayPrevClose =
        this.finishedDayStart + MICROS_PER_DAY === start ? this.finishedDayClose : Number.NaN;
    }
    this.dayStart = start;
    this.dayEnd = start + MICROS_PER_DAY;
    this.firstBase = -1;
    this.prevPrice = this.dayPrevClose;
    this.tradeW = Number.NEGATIVE_INFINITY;
    this.lastTradeTs = Number.NEGATIVE_INFINITY;
    this.lastQuoteTs = Number.NEGATIVE_INFINITY;
    this.haveQuote = false;
    this.qFilled = 0;
    for (const a of [
      this.cnt,
      this.bcnt,
      this.scnt,
      this.vH,
      this.vL,
      this.qH,
      this.qL,
      this.bH,
      this.bL,
      this.sH,
      this.sL,
      this.rH,
      this.rL,
      this.sp,
      this.mi,
      this.dtM,
      this.im,
      this.dtI,
    ])
      a.fill(0);
    this.qSet.fill(0);
    for (const s of this.tfs) {
      s.next = -1;
      s.lastClose = this.dayPrevClose;
    }
  }

  private startTrades(b: number): void {
    this.firstBase = b;
    for (const s of this.tfs) s.next = Math.floor(b / s.k);
  }

  private finishDay(): ClosedBars {
    if (this.haveQuote) this.integrate(this.dayEnd);
    this.tradeW = this.dayEnd;
    this.lastQuoteTs = this.dayEnd;
    const out = this.emit(this.dayEnd);
    this.finishedDayStart = this.dayStart;
    const last = this.tfs[0]!.lastClose;
    this.finishedDayClose = this.firstBase >= 0 ? last : Number.NaN;
    this.dayStart = Number.NaN;
    this.dayEnd = Number.NaN;
    this.lastTradeTs = Number.NEGATIVE_INFINITY;
    this.lastQuoteTs = Number.NEGATIVE_INFINITY;
    return out;
  }

  /** Add the quote in force from `qt` to `to` into the base buckets it spans. */
  private integrate(to: number): void {
    if (!this.haveQuote) {
      this.qt = to;
      return;
    }
    let a = this.qt;
    const base = this.base;
    const spOk = !Number.isNaN(this.qMid);
    const imOk = !Number.isNaN(this.qImb);
    while (a < to) {
      const b = Math.floor((a - this.dayStart) / base);
      const e = Math.min(this.dayStart + (b + 1) * base, to);
      const dt = e - a;
      if (spOk) {
        ddAddProduct(this.sp, 2 * b, this.qSpread, dt);
        ddAddProduct(this.mi, 2 * b, this.qMid, dt);
        this.dtM[b] = this.dtM[b]! + dt;
      }
      if (imOk) {
        ddAddProduct(this.im, 2 * b, this.qImb, dt);
        this.dtI[b] = this.dtI[b]! + dt;
      }
      a = e;
    }
    this.qt = to;
  }

  /** Forward-fill the quote in force at each base bucket's end through base bucket `upto` (exclusive). */
  private fillQuotes(upto: number): void {
    const { qBid, qAsk, qSet } = this;
    for (let b = this.qFilled; b < upto; b++) {
      if (qSet[b] === 0 && b > 0 && qSet[b - 1] === 1) {
        qBid[b] = qBid[b - 1]!;
        qAsk[b] = qAsk[b - 1]!;
        qSet[b] = 1;
      }
    }
    if (upto > this.qFilled) this.qFilled = upto;
  }

  /** Emit every bucket (per timeframe) that ends at or before `w`. */
  private emit(w: number): ClosedBars {
    const out: ClosedBars = new Map();
    if (this.firstBase < 0 || !(w >= this.dayStart)) return out;
    const rel = Math.min(w, this.dayEnd) - this.dayStart;
    this.fillQuotes(Math.floor(rel / this.base));
    for (const s of this.tfs) {
      const end = Math.floor(rel / s.micros);
      if (end > s.next) {
        out.set(s.tf, this.bars(s, s.next, end));
        s.next = end;
      }
    }
    return out;
  }

  /** Bars `from..to` (bucket indices of `s.tf` within the day), rolled up from base buckets. */
  private bars(s: TfState, from: number, to: number): ColumnBatch {
    const m = to - from;
    const f = () => new Float64Array(m);
    const v = () => new Uint8Array(m);
    const tsO = f();
    const oO = f();
    const hO = f();
    const lO = f();
    const cO = f();
    const volO = f();
    const qvO = f();
    const vwapO = f();
    const vwapV = v();
    const cntO = f();
    const buyO = f();
    const sellO = f();
    const bcO = f();
    const scO = f();
    const ftsO = f();
    const ltsO = f();
    const tsV = v();
    const lrO = f();
    const lrV = v();
    const rvO = f();
    const ofiO = f();
    const ofiV = v();
    const mxO = f();
    const meanO = f();
    const amtV = v();
    const spO = f();
    const spV = v();
    const midO = f();
    const cbO = f();
    const cbV = v();
    const caO = f();
    const caV = v();
    const imO = f();
    const imV = v();
    const { cnt, bcnt, scnt, open, high, low, close, fts, lts, vH, vL, qH, qL, bH, bL, sH, sL, rH, rL, mx } =
      this;
    const { sp, mi, dtM, im, dtI, qBid, qAsk, qSet } = this;
    // Quote sums of the bar being rolled up: [0..1] spread, [2..3] mid, [4..5] imbalance.
    const qacc = new Float64Array(6);
    const k = s.k;
    let lastClose = s.lastClose;
    for (let o = 0; o < m; o++) {
      const j = from + o;
      const b0 = j * k;
      const b1 = b0 + k;
      let n = 0;
      let nb = 0;
      let ns = 0;
      let op = Number.NaN;
      let hi = Number.NEGATIVE_INFINITY;
      let lo = Number.POSITIVE_INFINITY;
      let cl = Number.NaN;
      let ft = 0;
      let lt = 0;
      let mxa = Number.NEGATIVE_INFINITY;
      let vh = 0;
      let vl = 0;
      let qh = 0;
      let ql = 0;
      let bh = 0;
      let bl = 0;
      let sh = 0;
      let sl = 0;
      let rh = 0;
      let rl = 0;
      qacc.fill(0);
      let dm = 0;
      let di = 0;
      for (let b = b0; b < b1; b++) {
        if (this.quotes || dtM[b] !== 0 || dtI[b] !== 0) {
          ddAdd2(qacc, 0, sp[2 * b]!, sp[2 * b + 1]!);
          ddAdd2(qacc, 2, mi[2 * b]!, mi[2 * b + 1]!);
          ddAdd2(qacc, 4, im[2 * b]!, im[2 * b + 1]!);
          dm += dtM[b]!;
          di += dtI[b]!;
        }
        const c = cnt[b]!;
        if (c === 0) continue;
        if (n === 0) {
          op = open[b]!;
          ft = fts[b]!;
        }
        n += c;
        nb += bcnt[b]!;
        ns += scnt[b]!;
        if (high[b]! > hi) hi = high[b]!;
        if (low[b]! < lo) lo = low[b]!;
        if (mx[b]! > mxa) mxa = mx[b]!;
        cl = close[b]!;
        lt = lts[b]!;
        let x = vh + vH[b]!;
        let bb = x - vh;
        vl += vh - (x - bb) + (vH[b]! - bb) + vL[b]!;
        vh = x;
        x = qh + qH[b]!;
        bb = x - qh;
        ql += qh - (x - bb) + (qH[b]! - bb) + qL[b]!;
        qh = x;
        if (bH[b]! !== 0 || bL[b] !== 0) {
          x = bh + bH[b]!;
          bb = x - bh;
          bl += bh - (x - bb) + (bH[b]! - bb) + bL[b]!;
          bh = x;
        }
        if (sH[b]! !== 0 || sL[b] !== 0) {
          x = sh + sH[b]!;
          bb = x - sh;
          sl += sh - (x - bb) + (sH[b]! - bb) + sL[b]!;
          sh = x;
        }
        if (rH[b]! !== 0 || rL[b] !== 0) {
          x = rh + rH[b]!;
          bb = x - rh;
          rl += rh - (x - bb) + (rH[b]! - bb) + rL[b]!;
          rh = x;
        }
      }
      tsO[o] = this.dayStart + j * s.micros;
      cntO[o] = n;
      bcO[o] = nb;
      scO[o] = ns;
      const vol = vh + vl;
      volO[o] = vol;
      qvO[o] = qh + ql;
      buyO[o] = bh + bl;
      sellO[o] = sh + sl;
      rvO[o] = rh + rl;
      if (n === 0) {
        oO[o] = lastClose;
        hO[o] = lastClose;
        lO[o] = lastClose;
        cO[o] = lastClose;
      } else {
        oO[o] = op;
        hO[o] = hi;
        lO[o] = lo;
        cO[o] = cl;
        ftsO[o] = ft;
        ltsO[o] = lt;
        tsV[o] = 1;
        mxO[o] = mxa;
        meanO[o] = vol / n;
        amtV[o] = 1;
      }
      if (vol > 0) {
        vwapO[o] = qvO[o]! / vol;
        vwapV[o] = 1;
        ofiO[o] = (buyO[o]! - sellO[o]!) / vol;
        ofiV[o] = 1;
      }
      const c = cO[o]!;
      if (!Number.isNaN(lastClose)) {
        lrO[o] = Math.log(c / lastClose);
        lrV[o] = 1;
      }
      lastClose = c;
      if (dm > 0) {
        spO[o] = (qacc[0]! + qacc[1]!) / dm;
        midO[o] = (qacc[2]! + qacc[3]!) / dm;
        spV[o] = 1;
      }
      if (di > 0) {
        imO[o] = (qacc[4]! + qacc[5]!) / di;
        imV[o] = 1;
      }
      const lb = b1 - 1;
      if (qSet[lb] === 1) {
        cbO[o] = qBid[lb]!;
        caO[o] = qAsk[lb]!;
        cbV[o] = Number.isNaN(cbO[o]) ? 0 : 1;
        caV[o] = Number.isNaN(caO[o]) ? 0 : 1;
      }
    }
    s.lastClose = lastClose;
    const col = (values: Float64Array, validity: Uint8Array | null = null): Float64Column => ({
      kind: 'float64',
      values,
      validity: validity && !validity.every((x) => x === 1) ? validity : null,
    });
    const ts = (values: Float64Array, validity: Uint8Array | null = null) => ({
      kind: 'timestamp' as const,
      values,
      validity: validity && !validity.every((x) => x === 1) ? validity : null,
    });
    const int = (values: Float64Array) => ({ kind: 'int64' as const, values, validity: null });
    const columns = {
      timestamp: ts(tsO),
      open: col(oO),
      high: col(hO),
      low: col(lO),
      close: col(cO),
      volume: col(volO),
      quote_volume: col(qvO),
      vwap: col(vwapO, vwapV),
      trade_count: int(cntO),
      buy_volume: col(buyO),
      sell_volume: col(sellO),
      buy_count: int(bcO),
      sell_count: int(scO),
      first_trade_ts: ts(ftsO, tsV),
      last_trade_ts: ts(ltsO, tsV),
      log_return: col(lrO, lrV),
      realized_variance: col(rvO),
      order_flow_imbalance: col(ofiO, ofiV),
      max_trade_amount: col(mxO, amtV),
      mean_trade_amount: col(meanO, amtV),
      mean_spread: col(spO, spV),
      twap_mid: col(midO, spV),
      close_bid: col(cbO, cbV),
      close_ask: col(caO, caV),
      mean_top_imbalance: col(imO, imV),
    };
    void CANDLE_SCHEMA;
    return { length: m, columns };
  }
}

// Slots of the bucket state handed to `accumulateBucket`.
const S_CNT = 0;
const S_BCNT = 1;
const S_SCNT = 2;
const S_OPEN = 3;
const S_HIGH = 4;
const S_LOW = 5;
const S_CLOSE = 6;
const S_FTS = 7;
const S_LTS = 8;
const S_MX = 9;
const S_VH = 10;
const S_VL = 11;
const S_QH = 12;
const S_QL = 13;
const S_BH = 14;
const S_BL = 15;
const S_SH = 16;
const S_SL = 17;
const S_RH = 18;
const S_RL = 19;
const S_PREV = 20;
const S_LAST = 21;
const S_SIZE = 22;

function backwards(t: number, last: number): DataTypeValidationError {
  return new DataTypeValidationError(`candle engine: trade timestamps go backwards (${t} after ${last} µs)`, {
    hint: 'push trades sorted by exchange timestamp (lake reads and raw files are sorted)',
  });
}

/**
 * The hot loop: add trades from `i` while they fall before `bEnd` (and before `to`) into the bucket
 * state `st`, all in local doubles. Sums are TwoSum double-doubles (hi + lo is the exact sum); the
 * buy/sell split is branch-free (the other side adds an exact 0). Returns the index of the first trade
 * not taken, or −(index + 1) of a trade whose timestamp goes backwards.
 */
function accumulateBucket(
  st: Float64Array,
  ts: Float64Array,
  price: Float64Array,
  amount: Float64Array,
  sideIdx: Int32Array,
  isBuy: Float64Array,
  isSell: Float64Array,
  i: number,
  to: number,
  bEnd: number,
): number {
  let cnt = st[S_CNT]!;
  let bcnt = st[S_BCNT]!;
  let scnt = st[S_SCNT]!;
  let open = st[S_OPEN]!;
  let high = st[S_HIGH]!;
  let low = st[S_LOW]!;
  let close = st[S_CLOSE]!;
  let fts = st[S_FTS]!;
  let mx = st[S_MX]!;
  let vh = st[S_VH]!;
  let vl = st[S_VL]!;
  let qh = st[S_QH]!;
  let ql = st[S_QL]!;
  let bh = st[S_BH]!;
  let bl = st[S_BL]!;
  let sh = st[S_SH]!;
  let sl = st[S_SL]!;
  let rh = st[S_RH]!;
  let rl = st[S_RL]!;
  let prev = st[S_PREV]!;
  let last = st[S_LAST]!;
  let k = i;
  let bad = -1;
  for (; k < to; k++) {
    const t = ts[k]!;
    if (t >= bEnd) break;
    if (t < last) {
      bad = k;
      break;
    }
    last = t;
    const p = price[k]!;
    const a = amount[k]!;
    if (cnt === 0) {
      open = p;
      high = p;
      low = p;
      fts = t;
      mx = a;
    } else {
      high = p > high ? p : high;
      low = p < low ? p : low;
      mx = a > mx ? a : mx;
    }
    close = p;
    cnt += 1;
    let x = vh + a;
    let bb = x - vh;
    vl += vh - (x - bb) + (a - bb);
    vh = x;
    const q = p * a;
    x = qh + q;
    bb = x - qh;
    ql += qh - (x - bb) + (q - bb);
    qh = x;
    const si = sideIdx[k]!;
    const fb = isBuy[si]!;
    const fs = isSell[si]!;
    bcnt += fb;
    scnt += fs;
    const ab = a * fb;
    x = bh + ab;
    bb = x - bh;
    bl += bh - (x - bb) + (ab - bb);
    bh = x;
    const as = a * fs;
    x = sh + as;
    bb = x - sh;
    sl += sh - (x - bb) + (as - bb);
    sh = x;
    const r2 = sqLogReturn(p, prev);
    x = rh + r2;
    bb = x - rh;
    rl += rh - (x - bb) + (r2 - bb);
    rh = x;
    prev = p;
  }
  st[S_CNT] = cnt;
  st[S_BCNT] = bcnt;
  st[S_SCNT] = scnt;
  st[S_OPEN] = open;
  st[S_HIGH] = high;
  st[S_LOW] = low;
  st[S_CLOSE] = close;
  st[S_FTS] = fts;
  st[S_LTS] = last;
  st[S_MX] = mx;
  st[S_VH] = vh;
  st[S_VL] = vl;
  st[S_QH] = qh;
  st[S_QL] = ql;
  st[S_BH] = bh;
  st[S_BL] = bl;
  st[S_SH] = sh;
  st[S_SL] = sl;
  st[S_RH] = rh;
  st[S_RL] = rl;
  st[S_PREV] = prev;
  st[S_LAST] = last;
  return bad >= 0 ? -bad - 1 : k;
}

/**
 * (ln(p / prev))². For |p/prev − 1| < 1e-3 (almost every trade) a 5-term series of ln(1 + x), whose
 * relative error is below 2e-16 there; Math.log otherwise.
 */
function sqLogReturn(p: number, prev: number): number {
  const x = (p - prev) / prev;
  if (x < 1e-3 && x > -1e-3) {
    const r = x * (1 - x * (0.5 - x * (1 / 3 - x * (0.25 - x * 0.2))));
    return r * r;
  }
  const r = Math.log(p / prev);
  return r * r;
}

/** (acc[k], acc[k + 1]) += (h, l): double-double addition, renormalised. */
function ddAdd2(acc: Float64Array, k: number, h: number, l: number): void {
  const a = acc[k]!;
  const s = a + h;
  const bb = s - a;
  const t = a - (s - bb) + (h - bb) + (acc[k + 1]! + l);
  const x = s + t;
  acc[k] = x;
  acc[k + 1] = t - (x - s);
}

const SPLIT = 134217729; // 2^27 + 1 (Dekker)

/**
 * (acc[k], acc[k + 1]) += v · dt with the product taken exactly (Dekker's TwoProduct), so a quote
 * interval split across buckets sums to the same value as the unsplit interval.
 */
function ddAddProduct(acc: Float64Array, k: number, v: number, dt: number): void {
  const p = v * dt;
  let c = SPLIT * v;
  const vh = c - (c - v);
  const vl = v - vh;
  c = SPLIT * dt;
  const dh = c - (c - dt);
  const dl = dt - dh;
  const e = vh * dh - p + vh * dl + vl * dh + vl * dl;
  ddAdd2(acc, k, p, e);
}

function column<T extends { kind: string }>(batch: ColumnBatch, name: string, kind: string): T {
  const c = batch.columns[name];
  if (!c) {
    throw new UsageError(`candle engine: input has no "${name}" column`, {
      hint: `columns given: ${Object.keys(batch.columns).join(', ')}`,
    });
  }
  if (c.kind !== kind) throw new UsageError(`candle engine: column "${name}" is ${c.kind}, expected ${kind}`);
  return c as unknown as T;
}

/** Append the bars of `add` to `into` (concatenating per timeframe). */
export function mergeInto(into: ClosedBars, add: ClosedBars): void {
  for (const [tf, b] of add) {
    const prev = into.get(tf);
    into.set(tf, prev ? concatCandles(prev, b) : b);
  }
}

function concatCandles(a: ColumnBatch, b: ColumnBatch): ColumnBatch {
  const columns: Record<string, Float64Column | TimestampColumn> = {};
  const n = a.length + b.length;
  for (const name of Object.keys(a.columns)) {
    const ca = a.columns[name] as Float64Column;
    const cb = b.columns[name] as Float64Column;
    const values = new Float64Array(n);
    values.set(ca.values, 0);
    values.set(cb.values, a.length);
    let validity: Uint8Array | null = null;
    if (ca.validity || cb.validity) {
      validity = new Uint8Array(n);
      if (ca.validity) validity.set(ca.validity, 0);
      else validity.fill(1, 0, a.length);
      if (cb.validity) validity.set(cb.validity, a.length);
      else validity.fill(1, a.length);
    }
    columns[name] = { kind: ca.kind, values, validity } as Float64Column;
  }
  return { length: n, columns };
}

/**
 * Batch helper: candles of trades (and quotes) that all lie in one or more whole days, through the end
 * of the last day. Returns one batch per timeframe.
 */
export function computeCandles(
  trades: ColumnBatch | readonly ColumnBatch[],
  options: CandleEngineOptions & { quoteBatches?: readonly ColumnBatch[] } = {},
): ClosedBars {
  const quotes = options.quoteBatches ?? [];
  const engine = new CandleEngine({ ...options, quotes: options.quotes ?? quotes.length > 0 });
  const out: ClosedBars = new Map();
  for (const q of quotes) mergeInto(out, engine.pushQuotes(q));
  for (const t of Array.isArray(trades) ? trades : [trades as ColumnBatch]) mergeInto(out, engine.push(t));
  mergeInto(out, engine.flush());
  return out;
}
