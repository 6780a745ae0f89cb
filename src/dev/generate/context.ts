/** What every data-type generator gets, and the row pieces they share. */
import type { Clock } from './clock.js';
import { formatUnits } from './format.js';
import { ascii, type LineOut } from './line-out.js';
import type { Profile } from './market.js';
import type { Rng } from './rng.js';

export interface GenContext {
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

export type Generator = (ctx: GenContext) => Promise<void>;

export const COMMA = 44;
export const NEWLINE = 10;
export const BUY = ascii(',buy,');
export const SELL = ascii(',sell,');
export const BID = ascii(',bid,');
export const ASK = ascii(',ask,');
export const TRUE = ascii(',true');
export const FALSE = ascii(',false');

/** `exchange,symbol,timestamp,local_timestamp` */
export function rowHead(out: LineOut, ctx: GenContext, clock: Clock): void {
  out.bytes(ctx.prefix);
  out.int(clock.ts);
  out.char(COMMA);
  out.int(clock.local);
}

export function priceText(p: Profile, ticks: number): string {
  return formatUnits(ticks * p.tickUnits, p.priceDecimals);
}

export function amountText(p: Profile, lots: number): string {
  return formatUnits(lots * p.lotUnits, p.amountDecimals);
}
