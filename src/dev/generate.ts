/**
 * Realistic generated Tardis CSV.gz files, for tests, benchmarks and the demo (no vendor account
 * needed). Output is laid out like the vendor's URLs (what `startTardisServer` serves) and always
 * carries a `{file}.generated.json` sidecar, so generated data is never mistaken for vendor data.
 *
 * Realism that matters downstream:
 * - timestamps in µs spread over the UTC day, bursty; files ordered by `local_timestamp`; `timestamp`
 *   = receive time minus a jittered latency, so a small share of rows is out of exchange-time order;
 *   millisecond exchange clocks where the venue has them;
 * - prices are integer ticks (a mean-reverting random walk) and amounts integer lots, printed from
 *   integers, so no float noise (`9682.5`, never `9682.500000001`);
 * - books are consistent: levels monotone, bid < ask, `incremental_book_L2` opens with an
 *   `is_snapshot=true` run and removes levels with `amount=0`; quotes/book_ticker follow that book.
 *
 * Deterministic from `seed` (mulberry32, no Math.random) and streamed: lines go into a ~256 KiB string
 * chunk that is gzipped with backpressure, so 20 M rows never sit in memory.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TransformOptions } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, type Gzip, type ZlibOptions } from 'node:zlib';
import { type DataType, tardisCsvColumns } from '../schema/datasets.js';
import { tardisFileSymbol } from '../sources/tardis/datasets.js';

export interface GenerateDatasetOptions {
  /** Root of the server layout (`dir/{exchange}/{data_type}/{YYYY}/{MM}/{DD}/{SYMBOL}.csv.gz`). */
  dir: string;
  exchange: string;
  dataType: DataType;
  /** Instrument (`BTCUSDT`, `BTC-PERPETUAL`) or, for options_chain, a group such as `OPTIONS`. */
  symbol: string;
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  /** Data rows (header excluded). */
  rows: number;
  seed: number;
  /** gzip level 1–9 (default 1: fast, as a generator should be). */
  gzipLevel?: number;
  /** options_chain underlying (default: from the symbol, else BTC). */
  underlying?: string;
}

export interface GeneratedDataset {
  path: string;
  sidecarPath: string;
  rows: number;
  /** Size of the .csv.gz. */
  bytes: number;
}

/** Contents of `{file}.generated.json`. */
export interface GeneratedSidecar {
  generator: 'ticklake';
  version: 1;
  seed: number;
  rows: number;
  exchange: string;
  dataType: DataType;
  symbol: string;
  day: string;
  note: string;
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_US = 86_400_000_000;
const CHUNK_BYTES = 1 << 20;
/** Room for one more line after `full` turns true (the longest line is ~2 KB). */
const CHUNK_SLACK = 1 << 16;

/** Write one generated dataset file (+ sidecar). Replaces an existing file atomically. */
export async function generateTardisDataset(options: GenerateDatasetOptions): Promise<GeneratedDataset> {
  const { exchange, dataType, symbol, day, rows, seed } = options;
  const m = DAY_RE.exec(day);
  if (!m) throw new RangeError(`day must look like YYYY-MM-DD, got "${day}"`);
  if (!Number.isSafeInteger(rows) || rows < 0) throw new RangeError(`rows must be a non-negative integer`);
  if (!/^[a-z0-9-]+$/.test(exchange)) throw new RangeError(`invalid exchange id "${exchange}"`);
  const dayStartUs = Date.parse(`${day}T00:00:00Z`) * 1000;
  if (Number.isNaN(dayStartUs)) throw new RangeError(`invalid day "${day}"`);

  const fileSymbol = tardisFileSymbol(symbol);
  const file = path.join(
    options.dir,
    exchange,
    dataType,
    m[1] ?? '',
    m[2] ?? '',
    m[3] ?? '',
    `${fileSymbol}.csv.gz`,
  );
  const sidecarPath = `${file}.generated.json`;
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;

  // A deep write buffer lets the next chunk be generated while zlib compresses on its own thread.
  const gzipOptions: ZlibOptions & TransformOptions = {
    level: options.gzipLevel ?? 1,
    chunkSize: 1 << 18,
    writableHighWaterMark: 1 << 23,
  };
  const gzip = createGzip(gzipOptions);
  const done = pipeline(gzip, createWriteStream(tmp));
  const out = new LineOut(gzip);
  try {
    out.line(tardisCsvColumns(dataType).join(','));
    const ctx: GenContext = {
      rng: new Rng(seed),
      out,
      rows,
      dayStartUs,
      exchange,
      symbol,
      profile: profileFor(exchange, symbol),
      prefix: ascii(`${exchange},${symbol},`),
      underlying: options.underlying,
    };
    await GENERATORS[dataType](ctx);
    await out.finish();
    await done;
    // The sidecar first: a data file without it would be served as vendor data.
    const sidecar: GeneratedSidecar = {
      generator: 'ticklake',
      version: 1,
      seed,
      rows,
      exchange,
      dataType,
      symbol,
      day,
      note: 'synthetic data generated by ticklake, not from Tardis.dev',
    };
    await writeFile(sidecarPath, `${JSON.stringify(sidecar, null, 2)}\n`);
    await rename(tmp, file);
  } catch (err) {
    gzip.destroy();
    await done.catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  const bytes = (await stat(file)).size;
  return { path: file, sidecarPath, rows, bytes };
}

// ---------------------------------------------------------------------------------------------------
// Output

/**
 * Lines are written as ASCII bytes straight into a chunk buffer (numbers digit by digit, no strings
 * per field); a full chunk goes to gzip and a fresh one takes its place (gzip may still hold the old).
 */
class LineOut {
  private buf = Buffer.allocUnsafe(CHUNK_BYTES + CHUNK_SLACK);
  private pos = 0;
  constructor(private readonly gzip: Gzip) {}

  /** ASCII text (at most CHUNK_SLACK bytes between `full` checks). */
  str(s: string): void {
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
    this.pos = pos;
  }

  /** Pre-encoded ASCII. */
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  char(c: number): void {
    this.buf[this.pos++] = c;
  }

  /** A safe integer in decimal. Split at 10^8 so the digit loops run on int32 values. */
  int(value: number): void {
    let n = value;
    if (n < 0) {
      this.buf[this.pos++] = 45;
      n = -n;
    }
    if (n < 1e8) {
      this.small(n);
      return;
    }
    const hi = Math.floor(n / 1e8);
    if (hi < 1e8) this.small(hi);
    else this.int(hi);
    this.padded(n - hi * 1e8, 8);
  }

  /** 0 <= n < 10^8, no padding. */
  private small(value: number): void {
    const n = value | 0;
    let digits = 1;
    for (let t = 10; n >= t && digits < 8; t *= 10) digits++;
    this.padded(n, digits);
  }

  /** 0 <= n < 10^digits, left-padded with zeros to `digits`. */
  private padded(value: number, digits: number): void {
    const buf = this.buf;
    let n = value | 0;
    let end = this.pos + digits;
    this.pos = end;
    for (let i = 0; i < digits; i++) {
      const q = (n / 10) | 0;
      buf[--end] = 48 + n - q * 10;
      n = q;
    }
  }

  /** Integer `units` of 10^-decimals, like `formatUnits`. */
  units(value: number, decimals: number): void {
    const p = POW10[decimals] ?? 1;
    let n = value;
    if (n < 0) {
      this.buf[this.pos++] = 45;
      n = -n;
    }
    const int = Math.floor(n / p);
    let frac = n - int * p;
    this.int(int);
    if (frac === 0) return;
    let d = decimals;
    while (frac % 10 === 0) {
      frac /= 10;
      d--;
    }
    this.buf[this.pos++] = 46;
    if (d <= 8) {
      this.padded(frac, d);
      return;
    }
    const buf = this.buf;
    let end = this.pos + d;
    this.pos = end;
    for (let i = 0; i < d; i++) {
      const q = Math.floor(frac / 10);
      buf[--end] = 48 + (frac - q * 10);
      frac = q;
    }
  }

  /** A whole line of text (any length) plus newline. */
  line(s: string): void {
    if (this.pos + s.length + 1 > this.buf.length) this.grow(s.length + 1);
    this.str(s);
    this.buf[this.pos++] = 10;
  }

  get full(): boolean {
    return this.pos >= CHUNK_BYTES;
  }

  async flush(): Promise<void> {
    if (this.pos === 0) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(CHUNK_BYTES + CHUNK_SLACK);
    this.pos = 0;
    if (!this.gzip.write(chunk)) await once(this.gzip, 'drain');
  }

  async finish(): Promise<void> {
    await this.flush();
    this.gzip.end();
  }

  private grow(extra: number): void {
    const next = Buffer.allocUnsafe(this.pos + extra + CHUNK_SLACK);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');

// ---------------------------------------------------------------------------------------------------
// Randomness and number formatting

/** mulberry32: small, fast, good enough for synthetic data. */
export class Rng {
  private state: number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Geometric count ≥ 1 with P(1) = p1, capped. */
  count(p1: number, max: number): number {
    let n = 1;
    while (n < max && this.next() > p1) n++;
    return n;
  }
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];

/** Integer `units` of 10^-decimals as a decimal string without trailing zeros (`96825, 1` → `9682.5`). */
export function formatUnits(units: number, decimals: number): string {
  if (decimals === 0 || units === 0) return String(units);
  const neg = units < 0;
  const u = neg ? -units : units;
  const p = POW10[decimals] ?? 10 ** decimals;
  const int = Math.floor(u / p);
  let frac = u - int * p;
  const sign = neg ? '-' : '';
  if (frac === 0) return sign + int;
  let d = decimals;
  while (frac % 10 === 0) {
    frac /= 10;
    d--;
  }
  return `${sign}${int}.${String(frac).padStart(d, '0')}`;
}

/** A float rounded to `decimals` places, printed exactly (via integer units). */
function fixed(x: number, decimals: number): string {
  return formatUnits(Math.round(x * (POW10[decimals] ?? 10 ** decimals)), decimals);
}

// ---------------------------------------------------------------------------------------------------
// Venues

interface Profile {
  /** Price printed in units of 10^-priceDecimals; one tick = tickUnits units. */
  priceDecimals: number;
  tickUnits: number;
  /** Amount printed in units of 10^-amountDecimals; one lot = lotUnits units. */
  amountDecimals: number;
  lotUnits: number;
  /** Typical trade size in lots (median). */
  typicalLots: number;
  startPrice: number;
  /** Exchange clock resolution: timestamps truncated to ms when true. */
  msClock: boolean;
  /** Median feed latency in µs. */
  latencyUs: number;
  /** derivative_ticker: gives a predicted funding rate / an 8-hourly funding timestamp. */
  predictedFunding: boolean;
  fundingTimestamp: boolean;
  /** liquidations carry an id. */
  liquidationIds: boolean;
}

function startPriceOf(symbol: string): number {
  const s = symbol.toUpperCase();
  if (s.startsWith('ETH')) return 3000;
  if (s.startsWith('SOL')) return 150;
  if (s.startsWith('BTC') || s.startsWith('XBT')) return 60000;
  return 100;
}

function profileFor(exchange: string, symbol: string): Profile {
  const startPrice = startPriceOf(symbol);
  const base: Profile = {
    priceDecimals: 2,
    tickUnits: 1,
    amountDecimals: 4,
    lotUnits: 1,
    typicalLots: 100,
    startPrice,
    msClock: true,
    latencyUs: 3000,
    predictedFunding: false,
    fundingTimestamp: true,
    liquidationIds: true,
  };
  if (exchange === 'binance-futures' || exchange === 'binance-delivery') {
    return {
      ...base,
      priceDecimals: 1,
      tickUnits: 1,
      amountDecimals: 3,
      typicalLots: 20,
      liquidationIds: false,
    };
  }
  if (exchange.startsWith('binance')) {
    return { ...base, amountDecimals: 5, typicalLots: 150, liquidationIds: false };
  }
  if (exchange === 'deribit') {
    return {
      ...base,
      priceDecimals: 1,
      tickUnits: 5,
      amountDecimals: 0,
      lotUnits: 10,
      typicalLots: 50,
      latencyUs: 2000,
      predictedFunding: false,
      fundingTimestamp: false,
    };
  }
  if (exchange === 'bitmex') {
    return {
      ...base,
      priceDecimals: 1,
      tickUnits: 5,
      amountDecimals: 0,
      lotUnits: 100,
      typicalLots: 20,
      predictedFunding: true,
    };
  }
  if (exchange.startsWith('coinbase')) {
    return { ...base, amountDecimals: 8, lotUnits: 1, typicalLots: 2_000_000, msClock: false };
  }
  return base;
}

// ---------------------------------------------------------------------------------------------------
// Time: bursty receive times over the day, exchange time = receive time − jittered latency.

/** Latency is capped so that `timestamp` never falls before the day: local times start after it. */
const MAX_LATENCY_US = 250_000;

class Clock {
  local: number;
  ts = 0;
  private readonly end: number;

  constructor(
    private readonly rng: Rng,
    dayStartUs: number,
    private readonly profile: Profile,
  ) {
    this.local = dayStartUs + MAX_LATENCY_US;
    this.end = dayStartUs + DAY_US - 1;
  }

  /** Move to the next message; `messagesLeft` (this one included) keeps the rows spread over the day. */
  advance(messagesLeft: number): void {
    const rng = this.rng;
    const mean = (this.end - this.local) / Math.max(1, messagesLeft);
    // 60% of messages arrive in bursts, the rest after longer pauses; the mean stays `mean`.
    const short = Math.min(mean * 0.05, 2000);
    const gap = rng.next() < 0.6 ? rng.exp(short) : rng.exp((mean - 0.6 * short) / 0.4);
    this.local = Math.min(this.end, this.local + Math.floor(gap));
    let latency = this.profile.latencyUs * (0.9 + 0.2 * rng.next()) + rng.exp(150);
    if (rng.next() < 0.003) latency += rng.exp(40_000); // occasional lag spike
    latency = Math.min(MAX_LATENCY_US, Math.floor(latency));
    const ts = this.local - latency;
    this.ts = this.profile.msClock ? ts - (ts % 1000) : ts;
  }
}

// ---------------------------------------------------------------------------------------------------
// Prices: a mean-reverting random walk on the tick grid.

class PriceWalk {
  /** Price in ticks. */
  ticks: number;
  private readonly anchor: number;

  constructor(
    private readonly rng: Rng,
    profile: Profile,
  ) {
    const unitsPerPrice = POW10[profile.priceDecimals] ?? 1;
    this.anchor = Math.max(10, Math.round((profile.startPrice * unitsPerPrice) / profile.tickUnits));
    this.ticks = this.anchor;
  }

  /** One step: usually flat, sometimes ±1..3 ticks, drifting back toward the anchor. */
  step(moveProb: number): number {
    const rng = this.rng;
    if (rng.next() >= moveProb) return 0;
    const pull = (this.ticks - this.anchor) / this.anchor; // relative deviation
    const up = rng.next() < 0.5 - Math.max(-0.2, Math.min(0.2, pull * 5));
    const size = rng.count(0.7, 3);
    const move = up ? size : -size;
    this.ticks = Math.max(2, this.ticks + move);
    return move;
  }
}

function lotsOf(rng: Rng, typicalLots: number): number {
  return Math.max(1, Math.round(typicalLots * Math.exp(rng.normal() * 1.3)));
}

// ---------------------------------------------------------------------------------------------------
// Book: price level (ticks) → size (lots) per side, kept consistent (bid < ask).

class Book {
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  bestBid: number;
  bestAsk: number;
  /** Last change, for the incremental feed. */
  side: 'bid' | 'ask' = 'bid';
  price = 0;
  lots = 0;

  constructor(
    private readonly rng: Rng,
    mid: number,
    readonly depth: number,
    private readonly typicalLots: number,
  ) {
    this.bestBid = mid;
    this.bestAsk = mid + 1;
    for (let i = 0; i < depth; i++) {
      this.bids.set(mid - i, this.levelLots(i));
      this.asks.set(mid + 1 + i, this.levelLots(i));
    }
  }

  private levelLots(offset: number): number {
    return lotsOf(this.rng, this.typicalLots * (1 + offset * 0.15));
  }

  /** Apply one random change and record it in side/price/lots (lots 0 = level removed). */
  mutate(topBias: number): void {
    const rng = this.rng;
    const r = rng.next();
    const bid = rng.next() < 0.5;
    const book = bid ? this.bids : this.asks;
    if (r < 0.15 && this.bestAsk - this.bestBid > 1) {
      // New best level inside the spread.
      const price = bid ? this.bestBid + 1 : this.bestAsk - 1;
      this.set(bid, price, lotsOf(rng, this.typicalLots * 0.5));
      return;
    }
    if (r < 0.3 && book.size > 3) {
      // Remove a level: the best one (price moves) or one near the top.
      const offset = rng.next() < 0.5 ? 0 : Math.floor(rng.exp(topBias));
      const price = this.existingNear(bid, offset);
      this.set(bid, price, 0);
      return;
    }
    // Change (or add) a level at or behind the best: mostly near the top, sometimes anywhere in depth.
    const offset =
      rng.next() < 0.2 ? rng.int(0, this.depth - 1) : Math.min(this.depth - 1, Math.floor(rng.exp(topBias)));
    const price = bid ? this.bestBid - offset : this.bestAsk + offset;
    this.set(bid, price, lotsOf(rng, this.typicalLots * (1 + offset * 0.15)));
  }

  /** The price of an existing level about `offset` levels from the best. */
  private existingNear(bid: boolean, offset: number): number {
    const book = bid ? this.bids : this.asks;
    let price = bid ? this.bestBid : this.bestAsk;
    const stepDir = bid ? -1 : 1;
    let found = price;
    for (let seen = 0, guard = 0; seen <= offset && guard < this.depth * 4; guard++, price += stepDir) {
      if (book.has(price)) {
        found = price;
        seen++;
      }
    }
    return found;
  }

  private set(bid: boolean, price: number, lots: number): void {
    const book = bid ? this.bids : this.asks;
    this.side = bid ? 'bid' : 'ask';
    this.price = price;
    this.lots = lots;
    if (lots > 0) {
      book.set(price, lots);
      if (bid && price > this.bestBid) this.bestBid = price;
      if (!bid && price < this.bestAsk) this.bestAsk = price;
      return;
    }
    book.delete(price);
    if (bid && price === this.bestBid) {
      let p = price - 1;
      while (!this.bids.has(p)) p--;
      this.bestBid = p;
    } else if (!bid && price === this.bestAsk) {
      let p = price + 1;
      while (!this.asks.has(p)) p++;
      this.bestAsk = p;
    }
  }

  /**
   * Make sure `n` levels sit within `n * 4` ticks of the best on both sides, adding deeper ones where
   * the book got thin (liquidity arriving far from the top). Not for the incremental feed: silent.
   */
  ensureDepth(n: number): void {
    for (const bid of [true, false]) {
      const book = bid ? this.bids : this.asks;
      const stepDir = bid ? -1 : 1;
      let price = bid ? this.bestBid : this.bestAsk;
      let found = 0;
      let last = price;
      for (let i = 0; i < n * 4 && found < n; i++, price += stepDir) {
        if (book.has(price)) {
          found++;
          last = price;
        }
      }
      for (; found < n; found++) {
        last += stepDir * this.rng.int(1, 2);
        book.set(last, this.levelLots(n));
      }
    }
  }

  /** Up to `n` levels from the best: fills prices/lots, returns how many were found. */
  top(bid: boolean, n: number, prices: number[], lots: number[]): number {
    const book = bid ? this.bids : this.asks;
    const stepDir = bid ? -1 : 1;
    let price = bid ? this.bestBid : this.bestAsk;
    let found = 0;
    for (let guard = 0; found < n && guard < n * 50; guard++, price += stepDir) {
      const l = book.get(price);
      if (l !== undefined) {
        prices[found] = price;
        lots[found] = l;
        found++;
      }
    }
    return found;
  }
}

// ---------------------------------------------------------------------------------------------------
// Per data type

interface GenContext {
  rng: Rng;
  out: LineOut;
  rows: number;
  dayStartUs: number;
  exchange: string;
  symbol: string;
  profile: Profile;
  /** `exchange,symbol,` as bytes */
  prefix: Uint8Array;
  underlying: string | undefined;
}

type Generator = (ctx: GenContext) => Promise<void>;

const COMMA = 44;
const NEWLINE = 10;
const BUY = ascii(',buy,');
const SELL = ascii(',sell,');
const BID = ascii(',bid,');
const ASK = ascii(',ask,');
const TRUE = ascii(',true');
const FALSE = ascii(',false');

/** `exchange,symbol,timestamp,local_timestamp` */
function rowHead(out: LineOut, ctx: GenContext, clock: Clock): void {
  out.bytes(ctx.prefix);
  out.int(clock.ts);
  out.char(COMMA);
  out.int(clock.local);
}

function priceText(p: Profile, ticks: number): string {
  return formatUnits(ticks * p.tickUnits, p.priceDecimals);
}

function amountText(p: Profile, lots: number): string {
  return formatUnits(lots * p.lotUnits, p.amountDecimals);
}

async function genTrades(ctx: GenContext, liquidations: boolean): Promise<void> {
  const { rng, out, profile: p, prefix } = ctx;
  const clock = new Clock(rng, ctx.dayStartUs, p);
  const walk = new PriceWalk(rng, p);
  let id = liquidations ? 1 + rng.int(0, 99_999) : 100_000_000 + rng.int(0, 900_000_000);
  const withId = !liquidations || p.liquidationIds;
  const avgGroup = liquidations ? 2.5 : 1.4;
  let buy = rng.next() < 0.5;
  let written = 0;
  while (written < ctx.rows) {
    clock.advance(Math.ceil((ctx.rows - written) / avgGroup));
    walk.step(liquidations ? 0.9 : 0.35);
    // Order flow is persistent; a liquidation cascade keeps its side.
    if (rng.next() < (liquidations ? 0.15 : 0.4)) buy = !buy;
    const group = Math.min(ctx.rows - written, liquidations ? rng.count(0.4, 12) : rng.count(0.8, 15));
    let ticks = buy ? walk.ticks + 1 : walk.ticks; // buys lift the ask, sells hit the bid
    for (let i = 0; i < group; i++) {
      const lots = lotsOf(rng, liquidations ? p.typicalLots * 3 : p.typicalLots);
      // exchange,symbol,timestamp,local_timestamp,id,side,price,amount
      out.bytes(prefix);
      out.int(clock.ts);
      out.char(COMMA);
      out.int(clock.local);
      out.char(COMMA);
      if (withId) out.int(id++);
      out.bytes(buy ? BUY : SELL);
      out.units(ticks * p.tickUnits, p.priceDecimals);
      out.char(COMMA);
      out.units(lots * p.lotUnits, p.amountDecimals);
      out.char(NEWLINE);
      // A sweep walks through levels.
      if (rng.next() < 0.3) ticks += buy ? 1 : -1;
    }
    written += group;
    if (out.full) await out.flush();
  }
}

/** Levels per side of the opening snapshot: grows with the file, capped like a real venue's depth. */
function snapshotDepth(rows: number): number {
  return Math.max(5, Math.min(500, Math.floor(rows / 40)));
}

function newBook(ctx: GenContext, depth: number): Book {
  const walk = new PriceWalk(ctx.rng, ctx.profile);
  return new Book(ctx.rng, walk.ticks, depth, ctx.profile.typicalLots * 4);
}

async function genIncrementalL2(ctx: GenContext): Promise<void> {
  const { rng, out, profile: p } = ctx;
  const clock = new Clock(rng, ctx.dayStartUs, p);
  const depth = snapshotDepth(ctx.rows);
  const book = newBook(ctx, depth);
  const level = (snapshot: boolean, bid: boolean, price: number, lots: number): void => {
    // exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount
    rowHead(out, ctx, clock);
    out.bytes(snapshot ? TRUE : FALSE);
    out.bytes(bid ? BID : ASK);
    out.units(price * p.tickUnits, p.priceDecimals);
    out.char(COMMA);
    out.units(lots * p.lotUnits, p.amountDecimals);
    out.char(NEWLINE);
  };
  let written = 0;
  // The opening snapshot: asks ascending, then bids descending, all in one message.
  clock.advance(Math.ceil(ctx.rows / 2.5));
  for (const bid of [false, true]) {
    const prices: number[] = [];
    const lots: number[] = [];
    const n = book.top(bid, depth, prices, lots);
    for (let i = 0; i < n && written < ctx.rows; i++, written++) {
      level(true, bid, prices[i] ?? 0, lots[i] ?? 0);
      if (out.full) await out.flush();
    }
  }
  while (written < ctx.rows) {
    clock.advance(Math.ceil((ctx.rows - written) / 2.5));
    const group = Math.min(ctx.rows - written, rng.count(0.45, 8));
    for (let i = 0; i < group; i++) {
      book.mutate(4);
      level(false, book.side === 'bid', book.price, book.lots);
    }
    written += group;
    if (out.full) await out.flush();
  }
}

async function genSnapshots(ctx: GenContext, levels: number): Promise<void> {
  const { rng, out, profile: p } = ctx;
  const clock = new Clock(rng, ctx.dayStartUs, p);
  const book = newBook(ctx, Math.max(levels * 2, 50));
  const ap: number[] = [];
  const al: number[] = [];
  const bp: number[] = [];
  const bl: number[] = [];
  const pair = (n: number, i: number, prices: number[], lots: number[]): void => {
    out.char(COMMA);
    if (i < n) out.units((prices[i] ?? 0) * p.tickUnits, p.priceDecimals);
    out.char(COMMA);
    if (i < n) out.units((lots[i] ?? 0) * p.lotUnits, p.amountDecimals);
  };
  for (let written = 0; written < ctx.rows; written++) {
    clock.advance(ctx.rows - written);
    const changes = rng.count(0.3, 12);
    for (let i = 0; i < changes; i++) book.mutate(levels / 2);
    book.ensureDepth(levels);
    const na = book.top(false, levels, ap, al);
    const nb = book.top(true, levels, bp, bl);
    // ...,asks[i].price,asks[i].amount,bids[i].price,bids[i].amount for each level
    rowHead(out, ctx, clock);
    for (let i = 0; i < levels; i++) {
      pair(na, i, ap, al);
      pair(nb, i, bp, bl);
    }
    out.char(NEWLINE);
    if (out.full) await out.flush();
  }
}

async function genQuotes(ctx: GenContext): Promise<void> {
  const { rng, out, profile: p } = ctx;
  const clock = new Clock(rng, ctx.dayStartUs, p);
  const book = newBook(ctx, 50);
  let bid = 0;
  let ask = 0;
  let bidLots = 0;
  let askLots = 0;
  for (let written = 0; written < ctx.rows; written++) {
    clock.advance(ctx.rows - written);
    // Change the book until its top changes: one quote per top-of-book change.
    for (let guard = 0; guard < 64; guard++) {
      book.mutate(0.7);
      const nb = book.bids.get(book.bestBid) ?? 0;
      const na = book.asks.get(book.bestAsk) ?? 0;
      const changed = book.bestBid !== bid || book.bestAsk !== ask || nb !== bidLots || na !== askLots;
      bid = book.bestBid;
      ask = book.bestAsk;
      bidLots = nb;
      askLots = na;
      if (changed) break;
    }
    // exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount
    rowHead(out, ctx, clock);
    out.char(COMMA);
    out.units(askLots * p.lotUnits, p.amountDecimals);
    out.char(COMMA);
    out.units(ask * p.tickUnits, p.priceDecimals);
    out.char(COMMA);
    out.units(bid * p.tickUnits, p.priceDecimals);
    out.char(COMMA);
    out.units(bidLots * p.lotUnits, p.amountDecimals);
    out.char(NEWLINE);
    if (out.full) await out.flush();
  }
}

const FUNDING_PERIOD_US = 8 * 3_600_000_000;

async function genDerivativeTicker(ctx: GenContext): Promise<void> {
  const { rng, out, profile: p } = ctx;
  const clock = new Clock(rng, ctx.dayStartUs, p);
  const walk = new PriceWalk(rng, p);
  const units = POW10[p.priceDecimals] ?? 1;
  let fundingRate = 0.0001; // per 8 h
  let predicted = 0.0001;
  let fundingEnd = 0;
  let openInterestLots = Math.round(p.typicalLots * 50_000 * (0.8 + 0.4 * rng.next()));
  let basis = rng.normal() * 3;
  const oiStarts = Math.floor(ctx.rows * 0.02); // OI arrives on its own channel, a bit later
  for (let written = 0; written < ctx.rows; written++) {
    clock.advance(ctx.rows - written);
    walk.step(0.5);
    const next = clock.ts - (clock.ts % FUNDING_PERIOD_US) + FUNDING_PERIOD_US;
    if (next !== fundingEnd) {
      // A funding event: the predicted rate becomes the rate of the new period.
      if (fundingEnd !== 0) fundingRate = predicted;
      fundingEnd = next;
    }
    predicted = Math.max(-0.0075, Math.min(0.0075, predicted + rng.normal() * 0.000002));
    basis = basis * 0.99 + rng.normal() * 0.3;
    openInterestLots = Math.max(1, openInterestLots + Math.round(rng.normal() * p.typicalLots));
    const lastTicks = walk.ticks;
    const indexUnits = lastTicks * p.tickUnits - Math.round(basis * units);
    const markUnits = indexUnits + Math.round(fundingRate * 0.5 * indexUnits);
    const fields = [
      p.fundingTimestamp ? String(fundingEnd) : '',
      formatUnits(Math.round(fundingRate * 1e8), 8),
      p.predictedFunding ? formatUnits(Math.round(predicted * 1e8), 8) : '',
      written >= oiStarts ? amountText(p, openInterestLots) : '',
      rng.next() < 0.03 ? '' : priceText(p, lastTicks),
      formatUnits(indexUnits, p.priceDecimals),
      formatUnits(markUnits, p.priceDecimals),
    ];
    rowHead(out, ctx, clock);
    out.char(COMMA);
    out.line(fields.join(','));
    if (out.full) await out.flush();
  }
}

// Options: Deribit-style chains (BTC-27DEC24-60000-C), priced with Black-76 off a synthetic forward.

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

interface OptionSpec {
  symbol: string;
  call: boolean;
  strike: number;
  /** Expiry, µs. */
  expiry: number;
  code: string;
  underlyingIndex: string;
  openInterestTenths: number;
  /** Last trade price in 0.0001 units, 0 = never traded. */
  lastUnits: number;
}

function expiryCode(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCDate()}${MONTHS[d.getUTCMonth()]}${String(d.getUTCFullYear()).slice(2)}`;
}

function lastFridayOfMonth(year: number, month: number): number {
  const last = new Date(Date.UTC(year, month + 1, 0, 8));
  const back = (last.getUTCDay() - 5 + 7) % 7;
  return last.getTime() - back * 86_400_000;
}

function optionChain(rng: Rng, dayStartUs: number, underlying: string, spot: number): OptionSpec[] {
  const dayMs = dayStartUs / 1000;
  const expiries = new Set<number>();
  for (let i = 1; i <= 2; i++) expiries.add(dayMs + i * 86_400_000 + 8 * 3_600_000);
  const d = new Date(dayMs);
  const toFriday = (5 - d.getUTCDay() + 7) % 7 || 7;
  for (let w = 0; w < 3; w++) expiries.add(dayMs + (toFriday + 7 * w) * 86_400_000 + 8 * 3_600_000);
  const quarterly = new Set<number>();
  for (let mo = 0; mo < 7; mo++) {
    const y = d.getUTCFullYear() + Math.floor((d.getUTCMonth() + mo) / 12);
    const m = (d.getUTCMonth() + mo) % 12;
    const t = lastFridayOfMonth(y, m);
    if (t <= dayMs + 86_400_000) continue;
    if (mo <= 2) expiries.add(t);
    if (m % 3 === 2) {
      expiries.add(t);
      quarterly.add(t);
    }
  }
  const step = spot >= 20_000 ? 1000 : spot >= 1000 ? 50 : 5;
  const atm = Math.round(spot / step) * step;
  const specs: OptionSpec[] = [];
  for (const t of [...expiries].sort((a, b) => a - b)) {
    const code = expiryCode(t);
    const days = (t - dayMs) / 86_400_000;
    const width = Math.min(12, 4 + Math.round(days / 10));
    for (let k = -width; k <= width; k++) {
      const strike = atm + k * step * (Math.abs(k) > 6 ? 2 : 1);
      if (strike <= 0) continue;
      for (const call of [true, false]) {
        specs.push({
          symbol: `${underlying}-${code}-${strike}-${call ? 'C' : 'P'}`,
          call,
          strike,
          expiry: t * 1000,
          code,
          underlyingIndex: quarterly.has(t) ? `${underlying}-${code}` : `SYN.${underlying}-${code}`,
          openInterestTenths: rng.next() < 0.1 ? 0 : Math.round(rng.exp(2000)),
          lastUnits: 0,
        });
      }
    }
  }
  // Drop duplicate strikes produced by the wider wings.
  const seen = new Set<string>();
  return specs.filter((s) => {
    if (seen.has(s.symbol)) return false;
    seen.add(s.symbol);
    return true;
  });
}

function normCdf(x: number): number {
  // Abramowitz–Stegun 7.1.26 on erf.
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

function normPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

async function genOptionsChain(ctx: GenContext): Promise<void> {
  const { rng, out, profile: p } = ctx;
  const underlying = (ctx.underlying ?? (/^[A-Z]{2,5}(?=-)/.exec(ctx.symbol)?.[0] || 'BTC')).toUpperCase();
  const clock = new Clock(rng, ctx.dayStartUs, p);
  const spot0 = startPriceOf(underlying);
  const specs = optionChain(rng, ctx.dayStartUs, underlying, spot0);
  for (const s of specs) {
    if (rng.next() < 0.7) s.lastUnits = 1; // priced below on first quote
  }
  let spot = spot0;
  for (let written = 0; written < ctx.rows; written++) {
    clock.advance(ctx.rows - written);
    spot *= 1 + rng.normal() * 0.0002;
    const s = specs[rng.int(0, specs.length - 1)] as OptionSpec;
    const years = Math.max(60e6, s.expiry - clock.ts) / (365 * DAY_US);
    const forward = spot * (1 + 0.05 * years);
    const moneyness = Math.log(s.strike / forward);
    const vol = 0.5 + 0.1 / Math.sqrt(years * 12 + 0.5) + 0.8 * moneyness * moneyness - 0.1 * moneyness;
    const sq = vol * Math.sqrt(years);
    const d1 = (-moneyness + 0.5 * sq * sq) / sq;
    const d2 = d1 - sq;
    const usd = s.call
      ? forward * normCdf(d1) - s.strike * normCdf(d2)
      : s.strike * normCdf(-d2) - forward * normCdf(-d1);
    const mark = Math.max(0, usd / forward); // premium in the underlying
    const vega = (forward * normPdf(d1) * Math.sqrt(years)) / 100; // USD per vol point
    const markUnits8 = Math.round(mark * 1e8);
    const markUnits4 = Math.round(mark * 1e4);
    const half = Math.max(1, Math.round(markUnits4 * 0.03)) + rng.int(0, 2);
    const bidUnits = markUnits4 - half;
    const askUnits = markUnits4 + half;
    const ivOf = (units: number): string =>
      vega > forward * 1e-6 ? fixed(Math.max(0, vol * 100 + ((units / 1e4 - mark) * forward) / vega), 2) : '';
    if (s.lastUnits !== 0 && rng.next() < 0.02) s.lastUnits = Math.max(1, markUnits4 + rng.int(-half, half));
    if (s.lastUnits === 1) s.lastUnits = Math.max(1, markUnits4);
    const hasBid = bidUnits > 0 && rng.next() > 0.05;
    const hasAsk = rng.next() > 0.02;
    const fields = [
      s.symbol,
      String(clock.ts),
      String(clock.local),
      s.call ? 'call' : 'put',
      String(s.strike),
      String(s.expiry),
      formatUnits(s.openInterestTenths, 1),
      s.lastUnits > 0 ? formatUnits(s.lastUnits, 4) : '',
      hasBid ? formatUnits(bidUnits, 4) : '',
      hasBid ? formatUnits(rng.int(1, 300), 1) : '',
      hasBid ? ivOf(bidUnits) : '',
      hasAsk ? formatUnits(askUnits, 4) : '',
      hasAsk ? formatUnits(rng.int(1, 300), 1) : '',
      hasAsk ? ivOf(askUnits) : '',
      formatUnits(markUnits8, 8),
      fixed(vol * 100, 2),
      s.underlyingIndex,
      fixed(forward, 2),
      fixed(s.call ? normCdf(d1) : normCdf(d1) - 1, 5),
      fixed(normPdf(d1) / (forward * sq), 5),
      fixed(vega, 5),
      fixed(-(forward * normPdf(d1) * vol) / (2 * Math.sqrt(years)) / 365, 5),
      fixed(((s.call ? 1 : -1) * s.strike * years * normCdf(s.call ? d2 : -d2)) / 100, 5),
    ];
    out.line(`${ctx.exchange},${fields.join(',')}`);
    if (out.full) await out.flush();
  }
}

const GENERATORS: Readonly<Record<DataType, Generator>> = {
  trades: (ctx) => genTrades(ctx, false),
  liquidations: (ctx) => genTrades(ctx, true),
  incremental_book_L2: genIncrementalL2,
  book_snapshot_25: (ctx) => genSnapshots(ctx, 25),
  book_snapshot_5: (ctx) => genSnapshots(ctx, 5),
  quotes: genQuotes,
  book_ticker: genQuotes,
  derivative_ticker: genDerivativeTicker,
  options_chain: genOptionsChain,
};

// ---------------------------------------------------------------------------------------------------
// Demo sample

interface VenueSample {
  symbol: string;
  type: 'spot' | 'perpetual' | 'option';
  dataTypes: readonly DataType[];
}

const BOOK_TYPES: readonly DataType[] = [
  'trades',
  'incremental_book_L2',
  'book_snapshot_25',
  'book_snapshot_5',
  'quotes',
];

/** What the demo generates per exchange (unknown exchanges get a spot pair). */
function venueSamples(exchange: string): VenueSample[] {
  switch (exchange) {
    case 'binance':
      return [{ symbol: 'BTCUSDT', type: 'spot', dataTypes: [...BOOK_TYPES, 'book_ticker'] }];
    case 'binance-futures':
      return [
        {
          symbol: 'BTCUSDT',
          type: 'perpetual',
          dataTypes: [...BOOK_TYPES, 'book_ticker', 'derivative_ticker', 'liquidations'],
        },
      ];
    case 'deribit':
      return [
        {
          symbol: 'BTC-PERPETUAL',
          type: 'perpetual',
          dataTypes: [...BOOK_TYPES, 'derivative_ticker', 'liquidations'],
        },
        { symbol: 'OPTIONS', type: 'option', dataTypes: ['options_chain'] },
      ];
    case 'bitmex':
      return [
        {
          symbol: 'XBTUSD',
          type: 'perpetual',
          dataTypes: [...BOOK_TYPES, 'derivative_ticker', 'liquidations'],
        },
      ];
    case 'coinbase':
      return [{ symbol: 'BTC-USD', type: 'spot', dataTypes: BOOK_TYPES }];
    default:
      return [{ symbol: 'BTCUSDT', type: 'spot', dataTypes: BOOK_TYPES }];
  }
}

export interface GenerateSampleOptions {
  dir: string;
  exchanges: readonly string[];
  /** Days to generate (default `['2024-03-01']`, a free first-of-month day). */
  days?: readonly string[];
  /** Rows per file (default 20 000; liquidations get a tenth, options_chain half). */
  rows?: number;
  seed?: number;
  /** Restrict to these data types. */
  dataTypes?: readonly DataType[];
  /** Also write a minimal `dir/_api/exchanges/{exchange}.json` (default true). */
  exchangeInfo?: boolean;
}

/** Generate a small lake-worth of files for the demo; returns every file written. */
export async function generateTardisSample(options: GenerateSampleOptions): Promise<GeneratedDataset[]> {
  const days = options.days ?? ['2024-03-01'];
  const rows = options.rows ?? 20_000;
  const seed = options.seed ?? 1;
  const written: GeneratedDataset[] = [];
  for (const exchange of options.exchanges) {
    const samples = venueSamples(exchange);
    for (const day of days) {
      for (const sample of samples) {
        for (const dataType of sample.dataTypes) {
          if (options.dataTypes && !options.dataTypes.includes(dataType)) continue;
          const n =
            dataType === 'liquidations'
              ? Math.max(1, Math.floor(rows / 10))
              : dataType === 'options_chain'
                ? Math.max(1, Math.floor(rows / 2))
                : rows;
          written.push(
            await generateTardisDataset({
              dir: options.dir,
              exchange,
              dataType,
              symbol: sample.symbol,
              day,
              rows: n,
              seed: fileSeed(seed, `${exchange}/${dataType}/${sample.symbol}/${day}`),
            }),
          );
        }
      }
    }
    if (options.exchangeInfo ?? true) await writeExchangeInfo(options.dir, exchange, samples, days);
  }
  return written;
}

/** FNV-1a of the file identity mixed with the seed: each file gets its own stream. */
function fileSeed(seed: number, id: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

async function writeExchangeInfo(
  dir: string,
  exchange: string,
  samples: readonly VenueSample[],
  days: readonly string[],
): Promise<void> {
  const sorted = [...days].sort();
  const since = `${sorted[0] ?? '2024-03-01'}T00:00:00.000Z`;
  const last = sorted[sorted.length - 1] ?? '2024-03-01';
  const until = new Date(Date.parse(`${last}T00:00:00Z`) + 86_400_000).toISOString();
  const info = {
    id: exchange,
    name: `${exchange} (generated)`,
    enabled: true,
    availableSince: since,
    availableChannels: [],
    availableSymbols: samples.map((s) => ({ id: s.symbol, type: s.type, availableSince: since })),
    incidentReports: [],
    datasets: {
      formats: ['csv'],
      exportedFrom: since,
      exportedUntil: until,
      symbols: samples.map((s) => ({
        id: s.symbol,
        type: s.type,
        availableSince: since,
        availableTo: until,
        dataTypes: s.dataTypes,
      })),
    },
    generated: true,
  };
  const file = path.join(dir, '_api', 'exchanges', `${exchange}.json`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(info, null, 2)}\n`);
}
