/**
 * An L2 order book for rebuilding books from incremental updates: per side, two parallel typed arrays
 * (sort key, amount) kept sorted with the best level at the END, so the common case — an update at or
 * near the top — touches the tail and shifts only a few elements. No object per level.
 *
 * Rules: `set(side, price, amount)` replaces the amount at a price (amount 0 removes the level; removing
 * an absent level is a no-op); `clear()` empties both sides (a snapshot resets the book). A crossed book
 * (best bid ≥ best ask) is kept as it is — levels are never dropped to uncross it — and reported:
 * `crossedLevels()` counts the levels on both sides that overlap the other side's best price.
 */

export const BID = 0;
export const ASK = 1;
export type Side = typeof BID | typeof ASK;

const INITIAL = 256;

/**
 * One side. Keys ascend with index and the best level is last: bids key = price, asks key = −price
 * (so the lowest ask has the highest key).
 */
export class BookSide {
  keys = new Float64Array(INITIAL);
  amounts = new Float64Array(INITIAL);
  size = 0;

  constructor(readonly side: Side) {}

  clear(): void {
    this.size = 0;
  }

  /** Index of the first key ≥ k (lower bound), searching from the top end first. */
  private lowerBound(k: number): number {
    const keys = this.keys;
    let lo = 0;
    let hi = this.size;
    // Fast path: most updates land within the top few levels, so probe 8 below the top first.
    const probe = hi - 8;
    if (probe > 0) {
      if (keys[probe]! < k) lo = probe + 1;
      else hi = probe;
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  set(price: number, amount: number): void {
    const k = this.side === BID ? price : -price;
    const n = this.size;
    const i = this.lowerBound(k);
    const keys = this.keys;
    if (i < n && keys[i] === k) {
      if (amount === 0) {
        keys.copyWithin(i, i + 1, n);
        this.amounts.copyWithin(i, i + 1, n);
        this.size = n - 1;
      } else {
        this.amounts[i] = amount;
      }
      return;
    }
    if (amount === 0) return;
    if (n === keys.length) this.grow();
    const ks = this.keys;
    const as = this.amounts;
    if (i < n) {
      ks.copyWithin(i + 1, i, n);
      as.copyWithin(i + 1, i, n);
    }
    ks[i] = k;
    as[i] = amount;
    this.size = n + 1;
  }

  private grow(): void {
    const cap = this.keys.length * 2;
    const k = new Float64Array(cap);
    k.set(this.keys.subarray(0, this.size));
    const a = new Float64Array(cap);
    a.set(this.amounts.subarray(0, this.size));
    this.keys = k;
    this.amounts = a;
  }

  /** Price of level `i` (0 = best), NaN when the side has fewer levels. */
  price(i: number): number {
    if (i >= this.size) return Number.NaN;
    const k = this.keys[this.size - 1 - i]!;
    return this.side === BID ? k : -k;
  }

  /** Amount of level `i` (0 = best), NaN when the side has fewer levels. */
  amount(i: number): number {
    return i >= this.size ? Number.NaN : this.amounts[this.size - 1 - i]!;
  }

  /** Amount at an exact price, 0 when absent. */
  amountAt(price: number): number {
    const k = this.side === BID ? price : -price;
    const i = this.lowerBound(k);
    return i < this.size && this.keys[i] === k ? this.amounts[i]! : 0;
  }
}

export class OrderBook {
  readonly bids = new BookSide(BID);
  readonly asks = new BookSide(ASK);

  clear(): void {
    this.bids.clear();
    this.asks.clear();
  }

  set(side: Side, price: number, amount: number): void {
    (side === BID ? this.bids : this.asks).set(price, amount);
  }

  bestBid(): number {
    return this.bids.price(0);
  }

  bestAsk(): number {
    return this.asks.price(0);
  }

  /** True when both sides are non-empty and best bid ≥ best ask. */
  isCrossed(): boolean {
    return this.bids.size > 0 && this.asks.size > 0 && this.bids.price(0) >= this.asks.price(0);
  }

  /**
   * Levels that overlap the other side: bids priced ≥ the best ask plus asks priced ≤ the best bid
   * (0 for an uncrossed book). A touching book (best bid = best ask) counts 2.
   */
  crossedLevels(): number {
    if (!this.isCrossed()) return 0;
    const bestBid = this.bids.price(0);
    const bestAsk = this.asks.price(0);
    let n = 0;
    for (let i = 0; i < this.bids.size && this.bids.price(i) >= bestAsk; i++) n++;
    for (let i = 0; i < this.asks.size && this.asks.price(i) <= bestBid; i++) n++;
    return n;
  }
}
