/** options_chain: Deribit-style chains (BTC-27DEC24-60000-C), priced with Black-76 off a synthetic forward. */
import { Clock, DAY_US } from './clock.js';
import type { GenContext } from './context.js';
import { fixed, formatUnits } from './format.js';
import { startPriceOf } from './market.js';
import { type OptionSpec, optionChain } from './option-chain.js';

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

export async function genOptionsChain(ctx: GenContext): Promise<void> {
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
