/** Book: price level (ticks) → size (lots) per side, kept consistent (bid < ask). */
import { lotsOf } from './market.js';
import type { Rng } from './rng.js';

export class Book {
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
