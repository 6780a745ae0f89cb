/** trades and liquidations: bursts of prints, sweeps through levels, persistent order flow. */
import { Clock } from './clock.js';
import { BUY, COMMA, type GenContext, NEWLINE, SELL } from './context.js';
import { lotsOf, PriceWalk } from './market.js';

export async function genTrades(ctx: GenContext, liquidations: boolean): Promise<void> {
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
