/**
 * The candle and book-snapshot timeframes (DESIGN.md "Processing"): `15s` to `24h`. Every coarser
 * timeframe is a whole multiple of every finer one, so finer bars roll up into coarser ones and every
 * bucket boundary of a coarser timeframe is also a boundary of each finer one. Buckets are aligned to
 * UTC midnight.
 */
import { UsageError } from '../errors.js';

export const TIMEFRAMES = ['15s', '1m', '5m', '15m', '1h', '4h', '24h'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];

const MICROS: Record<Timeframe, number> = {
  '15s': 15_000_000,
  '1m': 60_000_000,
  '5m': 300_000_000,
  '15m': 900_000_000,
  '1h': 3_600_000_000,
  '4h': 14_400_000_000,
  '24h': 86_400_000_000,
};

export function isTimeframe(s: string): s is Timeframe {
  return (TIMEFRAMES as readonly string[]).includes(s);
}

/** Bucket width in microseconds. */
export function timeframeMicros(tf: Timeframe): number {
  return MICROS[tf];
}

/** Parse a comma-separated list (`1m,5m`) or `all`; order follows TIMEFRAMES, duplicates dropped. */
export function parseTimeframes(spec: string | readonly string[] | undefined): Timeframe[] {
  if (spec === undefined) return [...TIMEFRAMES];
  const parts = (typeof spec === 'string' ? spec.split(',') : [...spec]).map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0 || parts.includes('all')) return [...TIMEFRAMES];
  for (const p of parts) {
    if (!isTimeframe(p)) {
      throw new UsageError(`unknown timeframe "${p}"`, { hint: `use one of ${TIMEFRAMES.join(', ')}` });
    }
  }
  return TIMEFRAMES.filter((tf) => parts.includes(tf));
}
