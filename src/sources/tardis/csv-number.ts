/**
 * Numbers and timestamps parsed straight from CSV bytes (no string on the fast path).
 *
 * Decimals are correctly rounded, identical to `Number(text)`: when the digits form an integer
 * mantissa m < 2^53 and the net power of ten e (exponent minus fractional digits) has |e| <= 22,
 * both m and 10^|e| are exact doubles, so the single IEEE multiply or divide `m * 10^e` / `m / 10^-e`
 * is correctly rounded (Clinger's fast path). Anything else (long mantissas, large exponents,
 * `NaN`/`Infinity` text) falls back to `Number()` on the latin1 slice after a grammar check.
 */

const ZERO = 48;
const NINE = 57;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const LOWER_E = 101;
const UPPER_E = 69;

/** 2^53: integers below it are exact doubles. */
export const TWO_POW_53 = 9_007_199_254_740_992;

/** Exact powers of ten 10^0 .. 10^22 (all exactly representable as doubles). */
export const POW10 = new Float64Array(23);
for (let i = 0, p = 1; i < 23; i++, p *= 10) POW10[i] = p;

/**
 * End position of the last `fastDecimal` / `fastTimestamp` call (one past the last byte consumed).
 * A module-level cursor instead of a returned pair keeps the hot path allocation-free.
 */
export let scanEnd = 0;

/**
 * Fast path for the CSV hot loop: parse `[+-]digits[.digits][(e|E)[+-]digits]` starting at `p`,
 * stopping at the first byte that cannot continue the number (the caller checks it is a delimiter).
 * Returns NaN when the shape is outside the exact fast path (no digits, mantissa >= 2^53, |net
 * exponent| > 22, dangling exponent); the caller then re-parses the field with `parseDecimal`.
 * The byte after the field must exist (the hot loop only scans newline-terminated lines).
 */
export function fastDecimal(buf: Uint8Array, p: number): number {
  // Common shape first, in int32 arithmetic: <= 9 integer digits and <= 9 fractional digits, no
  // exponent. m = int * 10^k + frac is then exact (checked < 2^53) and m / 10^k is correctly rounded.
  const start = p;
  let b = buf[p]!;
  let neg = false;
  if (b === MINUS) {
    neg = true;
    b = buf[++p]!;
  } else if (b === PLUS) {
    b = buf[++p]!;
  }
  let ip = 0;
  let n = 0;
  let d = b - ZERO;
  while (d >= 0 && d <= 9 && n < 9) {
    ip = ip * 10 + d;
    n++;
    d = buf[++p]! - ZERO;
  }
  if (d >= 0 && d <= 9) return generalDecimal(buf, start);
  let fp = 0;
  let k = 0;
  if (d === DOT - ZERO) {
    d = buf[++p]! - ZERO;
    while (d >= 0 && d <= 9 && k < 9) {
      fp = fp * 10 + d;
      k++;
      d = buf[++p]! - ZERO;
    }
    if (d >= 0 && d <= 9) return generalDecimal(buf, start);
  }
  if (n + k === 0 || d === LOWER_E - ZERO || d === UPPER_E - ZERO) return generalDecimal(buf, start);
  let r: number;
  if (k === 0) r = ip;
  else {
    const m = ip * POW10[k]! + fp;
    if (m >= TWO_POW_53) return generalDecimal(buf, start);
    r = m / POW10[k]!;
  }
  scanEnd = p;
  return neg ? -r : r;
}

/** The general exact fast path (any digit count, exponents); see fastDecimal. */
function generalDecimal(buf: Uint8Array, p: number): number {
  let b = buf[p]!;
  let neg = false;
  if (b === MINUS) {
    neg = true;
    b = buf[++p]!;
  } else if (b === PLUS) {
    b = buf[++p]!;
  }
  let m = 0;
  let digits = 0;
  while (b >= ZERO && b <= NINE) {
    m = m * 10 + (b - ZERO);
    digits++;
    b = buf[++p]!;
  }
  let exp = 0;
  if (b === DOT) {
    b = buf[++p]!;
    while (b >= ZERO && b <= NINE) {
      m = m * 10 + (b - ZERO);
      exp--;
      b = buf[++p]!;
    }
    digits -= exp;
  }
  if (digits === 0) return Number.NaN;
  if (b === LOWER_E || b === UPPER_E) {
    b = buf[++p]!;
    let eneg = false;
    if (b === MINUS) {
      eneg = true;
      b = buf[++p]!;
    } else if (b === PLUS) {
      b = buf[++p]!;
    }
    if (b < ZERO || b > NINE) return Number.NaN;
    let e = 0;
    while (b >= ZERO && b <= NINE) {
      if (e < 100_000) e = e * 10 + (b - ZERO);
      b = buf[++p]!;
    }
    exp += eneg ? -e : e;
  }
  if (m >= TWO_POW_53) return Number.NaN;
  let r: number;
  if (exp === 0 || m === 0) r = m;
  else if (exp < 0) {
    if (exp < -22) return Number.NaN;
    r = m / POW10[-exp]!;
  } else {
    if (exp > 22) return Number.NaN;
    r = m * POW10[exp]!;
  }
  scanEnd = p;
  return neg ? -r : r;
}

/**
 * Fast path for µs timestamps: 1..16 ASCII digits starting at `p`, value < 2^53 (exact).
 * Returns -1 when there is no digit or the value is too large; the caller checks the stop byte.
 */
export function fastTimestamp(buf: Uint8Array, p: number): number {
  // Two runs of <= 8 digits in int32 arithmetic; hi * 10^m + lo is exact below 2^53.
  let hi = 0;
  let n = 0;
  let d = buf[p]! - ZERO;
  while (d >= 0 && d <= 9 && n < 8) {
    hi = hi * 10 + d;
    n++;
    d = buf[++p]! - ZERO;
  }
  if (n === 0) return -1;
  let lo = 0;
  let m = 0;
  while (d >= 0 && d <= 9 && m < 8) {
    lo = lo * 10 + d;
    m++;
    d = buf[++p]! - ZERO;
  }
  if (d >= 0 && d <= 9) return -1;
  const v = m === 0 ? hi : hi * POW10[m]! + lo;
  if (v >= TWO_POW_53) return -1;
  scanEnd = p;
  return v;
}

const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL_RE = /^([+-]?)(nan|inf|infinity)$/i;

/** The latin1 text of `buf[start, end)` (for the slow path and messages). */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

/**
 * Parse the whole of `buf[start, end)` as a decimal number. Returns the value exactly as
 * `Number(text)` would for every text of the decimal grammar
 * `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`; additionally accepts
 * `nan`, `inf`, `infinity` in any case with an optional sign (Python/pandas spellings).
 * Returns `undefined` for anything else: empty text, whitespace, hex/binary/octal literals,
 * `1_000`, `1,5`, a lone sign or dot — texts `Number()` would either reject or read surprisingly.
 */
export function parseDecimal(buf: Uint8Array, start: number, end: number): number | undefined {
  // The fast path reads one byte past the field (it stops where the number cannot continue), so it
  // is only used when that byte exists; it is right only if it consumed exactly the field.
  if (end > start && end < buf.length) {
    const v = fastDecimal(buf, start);
    if (!Number.isNaN(v) && scanEnd === end) return v;
  }
  return slowDecimal(latin1(buf, start, end));
}

/** Parse a decimal text with the same grammar and results as `parseDecimal`. */
export function slowDecimal(text: string): number | undefined {
  if (DECIMAL_RE.test(text)) return Number(text);
  const m = SPECIAL_RE.exec(text);
  if (m === null) return undefined;
  if (m[2]!.toLowerCase() === 'nan') return Number.NaN;
  return m[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
}

/** Parse the whole of `buf[start, end)` as a µs timestamp (1..16 digits, < 2^53), else undefined. */
export function parseTimestamp(buf: Uint8Array, start: number, end: number): number | undefined {
  const n = end - start;
  if (n === 0 || n > 16) return undefined;
  let v = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b < ZERO || b > NINE) return undefined;
    v = v * 10 + (b - ZERO);
  }
  return v < TWO_POW_53 ? v : undefined;
}
