/** derivative_ticker: funding (8-hourly), open interest, last/index/mark prices around the walk. */
import { Clock } from './clock.js';
import { amountText, COMMA, type GenContext, priceText, rowHead } from './context.js';
import { formatUnits, POW10 } from './format.js';
import { PriceWalk } from './market.js';

const FUNDING_PERIOD_US = 8 * 3_600_000_000;

export async function genDerivativeTicker(ctx: GenContext): Promise<void> {
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
