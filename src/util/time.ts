/**
 * UTC day arithmetic. A `Day` is a `YYYY-MM-DD` string naming a UTC calendar date.
 * Timestamps are microseconds since the Unix epoch held as exact doubles.
 */
import { UsageError } from '../errors.js';

export type Day = string;

export const MICROS_PER_DAY = 86_400_000_000;

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Validate and normalise a `YYYY-MM-DD` day; throws UsageError naming `what`. */
export function parseDay(s: string, what = 'date'): Day {
  const m = DAY_RE.exec(s.trim());
  if (m) {
    const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    const d = new Date(ms);
    if (
      d.getUTCFullYear() === Number(m[1]) &&
      d.getUTCMonth() === Number(m[2]) - 1 &&
      d.getUTCDate() === Number(m[3])
    ) {
      return s.trim();
    }
  }
  throw new UsageError(`${what} "${s}" is not a valid date`, {
    hint: 'use YYYY-MM-DD (UTC), e.g. 2024-08-01',
  });
}

export function dayStartMs(day: Day): number {
  const m = DAY_RE.exec(day);
  if (!m) throw new UsageError(`"${day}" is not a valid date`, { hint: 'use YYYY-MM-DD' });
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

export function dayStartMicros(day: Day): number {
  return dayStartMs(day) * 1000;
}

export function dayOfMs(ms: number): Day {
  return new Date(ms).toISOString().slice(0, 10);
}

export function dayOfMicros(us: number): Day {
  return dayOfMs(Math.floor(us / 1000));
}

export function addDays(day: Day, n: number): Day {
  return dayOfMs(dayStartMs(day) + n * 86_400_000);
}

/** Every day from `from` to `to`, both inclusive. */
export function daysInclusive(from: Day, to: Day): Day[] {
  const start = dayStartMs(from);
  const end = dayStartMs(to);
  if (end < start) throw new UsageError(`--to ${to} is before --from ${from}`);
  const out: Day[] = [];
  for (let t = start; t <= end; t += 86_400_000) out.push(dayOfMs(t));
  return out;
}

/** Parse a time bound: `YYYY-MM-DD` (start of that UTC day), an ISO timestamp, or a Date/ms number. Returns µs. */
export function parseTimeBound(v: string | number | Date, what = 'time'): number {
  if (v instanceof Date) return v.getTime() * 1000;
  if (typeof v === 'number') return v * 1000;
  const s = v.trim();
  if (DAY_RE.test(s)) return dayStartMs(parseDay(s, what)) * 1000;
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) {
    throw new UsageError(`${what} "${v}" is not a date or time`, {
      hint: 'use YYYY-MM-DD or an ISO time like 2024-08-01T12:00:00Z',
    });
  }
  return ms * 1000;
}

/** ISO-8601 text of a µs timestamp, keeping microseconds. */
export function formatMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const rest = us - ms * 1000;
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 23)}${String(rest).padStart(3, '0')}Z`;
}
