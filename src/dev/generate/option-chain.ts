/** The listed options of a day: Deribit-style expiries (daily, weekly, monthly, quarterly) and strikes. */
import type { Rng } from './rng.js';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

export interface OptionSpec {
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

export function optionChain(rng: Rng, dayStartUs: number, underlying: string, spot: number): OptionSpec[] {
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
