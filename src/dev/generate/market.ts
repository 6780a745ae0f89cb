/** Venue conventions (tick and lot sizes, clocks, latency) and the price/size models on that grid. */
import { POW10 } from './format.js';
import type { Rng } from './rng.js';

export interface Profile {
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

export function startPriceOf(symbol: string): number {
  const s = symbol.toUpperCase();
  if (s.startsWith('ETH')) return 3000;
  if (s.startsWith('SOL')) return 150;
  if (s.startsWith('BTC') || s.startsWith('XBT')) return 60000;
  return 100;
}

export function profileFor(exchange: string, symbol: string): Profile {
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
// Prices: a mean-reverting random walk on the tick grid.

export class PriceWalk {
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

export function lotsOf(rng: Rng, typicalLots: number): number {
  return Math.max(1, Math.round(typicalLots * Math.exp(rng.normal() * 1.3)));
}
