/** Book feeds off one consistent `Book`: incremental_book_L2, book_snapshot_25/5, quotes and book_ticker. */
import { Clock } from './clock.js';
import { ASK, BID, COMMA, FALSE, type GenContext, NEWLINE, rowHead, TRUE } from './context.js';
import { PriceWalk } from './market.js';
import { Book } from './order-book.js';

/** Levels per side of the opening snapshot: grows with the file, capped like a real venue's depth. */
function snapshotDepth(rows: number): number {
  return Math.max(5, Math.min(500, Math.floor(rows / 40)));
}

function newBook(ctx: GenContext, depth: number): Book {
  const walk = new PriceWalk(ctx.rng, ctx.profile);
  return new Book(ctx.rng, walk.ticks, depth, ctx.profile.typicalLots * 4);
}

export async function genIncrementalL2(ctx: GenContext): Promise<void> {
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

export async function genSnapshots(ctx: GenContext, levels: number): Promise<void> {
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

export async function genQuotes(ctx: GenContext): Promise<void> {
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
