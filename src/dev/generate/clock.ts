/** Time: bursty receive times over the day, exchange time = receive time − jittered latency. */
import type { Profile } from './market.js';
import type { Rng } from './rng.js';

export const DAY_US = 86_400_000_000;

/** Latency is capped so that `timestamp` never falls before the day: local times start after it. */
const MAX_LATENCY_US = 250_000;

export class Clock {
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
