/**
 * Canonical instrument keys, `VENUE:TYPE:SYMBOL` (docs/INSTRUMENT_KEY.md).
 *
 * `parseInstrumentKey` and `formatInstrumentKey` are exact inverses: `format(parse(k)) === k` for every
 * valid key, and `parse(format(p))` deep-equals `p` for every `p` that `parse` returns. Both reject
 * anything that is not canonical (lower case, `050000` strikes, impossible dates, ...) with an
 * `InvalidInstrumentKeyError` that says exactly what is wrong.
 */
import { InvalidInstrumentKeyError } from '../errors.js';

/** Instrument types a key can name. */
export type InstrumentType = 'SPOT_PAIR' | 'PERP' | 'FUTURE' | 'OPTION' | 'EQUITY' | 'INDEX';

/** All instrument types, in documentation order. */
export const INSTRUMENT_TYPES: readonly InstrumentType[] = [
  'SPOT_PAIR',
  'PERP',
  'FUTURE',
  'OPTION',
  'EQUITY',
  'INDEX',
];

/** Option right as written in keys. */
export type OptionType = 'CALL' | 'PUT';

/**
 * The parsed fields, all declared on every member of `InstrumentKeyParts` (absent ones as `undefined`)
 * so `parts.base` reads on any key while `type` (and `chain`) still narrow.
 */
interface AbsentKeyFields {
  base?: undefined;
  quote?: undefined;
  expiry?: undefined;
  strike?: undefined;
  optionType?: undefined;
  chain?: undefined;
}

/** `BINANCE:SPOT_PAIR:BTC-USDT` */
export interface SpotPairKeyParts extends Omit<AbsentKeyFields, 'base' | 'quote'> {
  venue: string;
  type: 'SPOT_PAIR';
  symbol: string;
  base: string;
  quote: string;
}

/** `BINANCE:PERP:BTC-USDT` */
export interface PerpKeyParts extends Omit<AbsentKeyFields, 'base' | 'quote'> {
  venue: string;
  type: 'PERP';
  symbol: string;
  base: string;
  quote: string;
}

/** `DERIBIT:FUTURE:BTC-USD-241227`; `expiry` is the UTC expiry date `YYYY-MM-DD`. */
export interface FutureKeyParts extends Omit<AbsentKeyFields, 'base' | 'quote' | 'expiry'> {
  venue: string;
  type: 'FUTURE';
  symbol: string;
  base: string;
  quote: string;
  expiry: string;
}

/** One option contract, `DERIBIT:OPTION:BTC-USD-50000-241225-CALL`. */
export interface OptionKeyParts {
  venue: string;
  type: 'OPTION';
  symbol: string;
  chain: false;
  base: string;
  quote: string;
  /** Canonical decimal string (see `formatStrike`). */
  strike: string;
  /** UTC expiry date `YYYY-MM-DD`. */
  expiry: string;
  optionType: OptionType;
}

/**
 * The options chain of one underlying, `DERIBIT:OPTION:BTC-USD`: names one file holding every option
 * contract on that underlying (e.g. Tardis `options_chain`).
 */
export interface OptionsChainKeyParts extends Omit<AbsentKeyFields, 'base' | 'quote' | 'chain'> {
  venue: string;
  type: 'OPTION';
  symbol: string;
  chain: true;
  base: string;
  quote: string;
}

/** `US:EQUITY:AAPL`, `US:EQUITY:BRK.B` */
export interface EquityKeyParts extends AbsentKeyFields {
  venue: string;
  type: 'EQUITY';
  symbol: string;
}

/** `DERIBIT:INDEX:BTC-USD` (the symbol is the index name, kept as one opaque part). */
export interface IndexKeyParts extends AbsentKeyFields {
  venue: string;
  type: 'INDEX';
  symbol: string;
}

/** A parsed key; narrow on `type` (and on `chain` for options). */
export type InstrumentKeyParts =
  | SpotPairKeyParts
  | PerpKeyParts
  | FutureKeyParts
  | OptionKeyParts
  | OptionsChainKeyParts
  | EquityKeyParts
  | IndexKeyParts;

/**
 * What `formatInstrumentKey` accepts: any `InstrumentKeyParts`, or the same fields without `symbol`
 * (built from base/quote/expiry/strike/optionType). An OPTION without strike, expiry and optionType is
 * an options-chain key. Fields that do not belong to the type are rejected.
 */
export interface InstrumentKeyInput {
  venue: string;
  type: InstrumentType;
  symbol?: string;
  base?: string;
  quote?: string;
  /** `YYYY-MM-DD` (UTC). */
  expiry?: string;
  strike?: string | number;
  optionType?: OptionType;
  chain?: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Lexical rules

/** Characters allowed in every part. */
const PART_CHARS_RE = /^[A-Z0-9_.-]+$/;
/** A venue: allowed characters, starting with a letter or digit. */
const VENUE_RE = /^[A-Z0-9][A-Z0-9_.-]*$/;
/** A currency inside a symbol: no `-` (it separates symbol fields), no leading/trailing/double `_` `.`. */
const CURRENCY_RE = /^[A-Z0-9]+(?:[_.][A-Z0-9]+)*$/;
/** EQUITY/INDEX symbols: no leading, trailing or doubled separators (a trailing `.` breaks Windows paths). */
const TICKER_RE = /^[A-Z0-9]+(?:[._-][A-Z0-9]+)*$/;
const CANONICAL_STRIKE_RE = /^(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?$/;
const YYMMDD_RE = /^([0-9]{2})([0-9]{2})([0-9]{2})$/;
const ISO_DATE_RE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

const TYPE_SET: ReadonlySet<string> = new Set(INSTRUMENT_TYPES);

function isInstrumentType(s: string): s is InstrumentType {
  return TYPE_SET.has(s);
}

function describeChars(part: string): string {
  const bad = [...new Set(part.replace(/[A-Za-z0-9_.-]/g, ''))].map((c) => JSON.stringify(c));
  const problems: string[] = [];
  if (/[a-z]/.test(part)) problems.push('must be upper case');
  if (bad.length > 0) problems.push(`contains ${bad.join(' ')}; parts use only A-Z 0-9 _ . -`);
  return problems.join(' and ');
}

// ---------------------------------------------------------------------------------------------------
// Strike and expiry

function strikeError(raw: string, problem: string): InvalidInstrumentKeyError {
  return new InvalidInstrumentKeyError(`strike ${raw}`, problem);
}

/** Expand a decimal string (optional sign, `.`, exponent) to canonical form without going through a float. */
function canonicalDecimal(raw: string): string {
  const m = /^\+?([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(raw.trim());
  if (!m || (m[1] === '' && (m[2] === undefined || m[2] === ''))) {
    throw strikeError(raw, 'a strike must be a positive decimal number such as 50000, 0.55 or 1250.5');
  }
  let digits = (m[1] ?? '') + (m[2] ?? '');
  let point = (m[1] ?? '').length + Number(m[3] ?? '0'); // position of the decimal point within `digits`
  // Strip leading zeros (moving the point) and trailing zeros.
  const lead = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(lead);
  point -= lead;
  digits = digits.replace(/0+$/, '');
  if (digits === '') return '0';
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return digits + '0'.repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * Write a strike as a plain decimal: no exponent, no trailing zeros, no trailing `.`, no leading zeros.
 * Exact: numbers are expanded from their shortest round-trip form (`0.55` → `"0.55"`, `1e-7` →
 * `"0.0000001"`), strings are rewritten digit by digit (`"50000.0"` → `"50000"`, `"1.5E3"` → `"1500"`).
 * Throws `InvalidInstrumentKeyError` for zero, negative, non-finite or non-numeric input.
 */
export function formatStrike(n: number | string): string {
  let raw: string;
  if (typeof n === 'number') {
    if (!Number.isFinite(n)) throw strikeError(String(n), 'a strike must be a finite number');
    raw = String(n);
  } else {
    raw = n;
  }
  if (raw.trim().startsWith('-')) throw strikeError(raw, 'a strike must be greater than 0');
  const s = canonicalDecimal(raw);
  if (s === '0') throw strikeError(raw, 'a strike must be greater than 0');
  return s;
}

/** `true` when `s` is a strike exactly as `formatStrike` writes it. */
export function isCanonicalStrike(s: string): boolean {
  return CANONICAL_STRIKE_RE.test(s) && s !== '0';
}

function expiryError(raw: string, problem: string): InvalidInstrumentKeyError {
  return new InvalidInstrumentKeyError(`expiry ${raw}`, problem);
}

const validDates = new Map<number, boolean>();

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const k = y * 10_000 + m * 100 + d;
  let ok = validDates.get(k);
  if (ok === undefined) {
    ok = d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
    if (validDates.size > 100_000) validDates.clear();
    validDates.set(k, ok);
  }
  return ok;
}

/** Expiry dates of strings already seen (instrument lists repeat a few hundred expiries many times). */
const expiryDates = new Map<string, string>();

/**
 * The UTC calendar date `YYYY-MM-DD` of a `Date`, epoch milliseconds, or an ISO string. ISO strings
 * without a zone are read as UTC. Only years 2000–2099 are accepted (keys write two-digit years).
 */
export function toExpiryDate(input: Date | string | number): string {
  if (typeof input === 'string') {
    const hit = expiryDates.get(input);
    if (hit !== undefined) return hit;
    const out = toExpiryDateUncached(input);
    if (expiryDates.size > 100_000) expiryDates.clear();
    expiryDates.set(input, out);
    return out;
  }
  return toExpiryDateUncached(input);
}

function toExpiryDateUncached(input: Date | string | number): string {
  let date: Date;
  if (input instanceof Date) {
    date = input;
  } else if (typeof input === 'number') {
    date = new Date(input);
  } else {
    const d = ISO_DATE_RE.exec(input);
    if (d) {
      const [y, m, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
      if (!validDate(y, m, day)) throw expiryError(input, 'not a calendar date');
      date = new Date(Date.UTC(y, m - 1, day));
    } else if (/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+$/.test(input)) {
      date = new Date(`${input}Z`);
    } else if (/^[0-9]{4}-[0-9]{2}-[0-9]{2}T/.test(input)) {
      date = new Date(input);
    } else {
      throw expiryError(input, 'expected a Date, epoch milliseconds or an ISO date such as 2024-03-29');
    }
  }
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw expiryError(String(input), 'not a valid date');
  const iso = date.toISOString().slice(0, 10);
  const year = date.getUTCFullYear();
  if (year < 2000 || year > 2099)
    throw expiryError(iso, 'expiry years must be 2000-2099 (keys write YYMMDD)');
  return iso;
}

/** Expiry as written in keys, `YYMMDD`, from a `Date`, epoch ms or ISO string (UTC date). */
export function formatExpiry(input: Date | string | number): string {
  const iso = toExpiryDate(input);
  return iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10);
}

/** `YYMMDD` from a key → `YYYY-MM-DD` (20YY). Throws `InvalidInstrumentKeyError` for impossible dates. */
export function parseExpiry(yymmdd: string): string {
  const m = YYMMDD_RE.exec(yymmdd);
  if (!m) throw expiryError(yymmdd, 'expected six digits YYMMDD');
  const [y, mo, d] = [2000 + Number(m[1]), Number(m[2]), Number(m[3])];
  if (!validDate(y, mo, d)) throw expiryError(yymmdd, 'not a calendar date');
  return `${y}-${m[2]}-${m[3]}`;
}

// ---------------------------------------------------------------------------------------------------
// Parse

function parseSymbolFields(
  key: string,
  venue: string,
  type: InstrumentType,
  symbol: string,
): InstrumentKeyParts {
  const fail = (problem: string) => new InvalidInstrumentKeyError(key, problem);
  if (type === 'EQUITY' || type === 'INDEX') {
    if (!TICKER_RE.test(symbol)) {
      throw fail(`${type} symbol "${symbol}" must not start or end with, or repeat, "-" "_" "."`);
    }
    return { venue, type, symbol };
  }
  const fields = symbol.split('-');
  const base = fields[0] ?? '';
  const quote = fields[1] ?? '';
  const shape: Record<typeof type, string> = {
    SPOT_PAIR: 'BASE-QUOTE',
    PERP: 'BASE-QUOTE',
    FUTURE: 'BASE-QUOTE-YYMMDD',
    OPTION: 'BASE-QUOTE-STRIKE-YYMMDD-CALL|PUT (or BASE-QUOTE for an options chain)',
  };
  const expected: Record<typeof type, readonly number[]> = {
    SPOT_PAIR: [2],
    PERP: [2],
    FUTURE: [3],
    OPTION: [2, 5],
  };
  if (!expected[type].includes(fields.length)) {
    throw fail(`a ${type} symbol is ${shape[type]}, found ${fields.length} field(s) in "${symbol}"`);
  }
  if (!CURRENCY_RE.test(base)) throw fail(`base currency "${base}" is empty or malformed`);
  if (!CURRENCY_RE.test(quote)) throw fail(`quote currency "${quote}" is empty or malformed`);
  switch (type) {
    case 'SPOT_PAIR':
    case 'PERP':
      return { venue, type, symbol, base, quote };
    case 'FUTURE':
      return { venue, type, symbol, base, quote, expiry: parseKeyExpiry(key, fields[2]!) };
    case 'OPTION': {
      if (fields.length === 2) return { venue, type, symbol, chain: true, base, quote };
      const strike = fields[2]!;
      if (!isCanonicalStrike(strike)) {
        let fix = '';
        try {
          fix = ` (write ${formatStrike(strike)})`;
        } catch {
          // not a number at all
        }
        throw fail(`strike "${strike}" is not a canonical positive decimal${fix}`);
      }
      const expiry = parseKeyExpiry(key, fields[3]!);
      const right = fields[4]!;
      if (right !== 'CALL' && right !== 'PUT') throw fail(`option type "${right}" must be CALL or PUT`);
      return { venue, type, symbol, chain: false, base, quote, strike, expiry, optionType: right };
    }
  }
}

function parseKeyExpiry(key: string, yymmdd: string): string {
  const m = YYMMDD_RE.exec(yymmdd);
  if (!m) throw new InvalidInstrumentKeyError(key, `expiry "${yymmdd}" must be six digits YYMMDD`);
  if (!validDate(2000 + Number(m[1]), Number(m[2]), Number(m[3]))) {
    throw new InvalidInstrumentKeyError(key, `expiry "${yymmdd}" is not a calendar date (YYMMDD)`);
  }
  return `20${m[1]}-${m[2]}-${m[3]}`;
}

/**
 * Parse `VENUE:TYPE:SYMBOL` into its parts. Throws `InvalidInstrumentKeyError` naming the first problem:
 * wrong number of parts, a character outside `A-Z 0-9 _ . -`, lower case, unknown TYPE, a symbol of the
 * wrong shape for its TYPE, a non-canonical strike, an impossible expiry date, ...
 */
export function parseInstrumentKey(key: string): InstrumentKeyParts {
  if (typeof key !== 'string' || key === '')
    throw new InvalidInstrumentKeyError(String(key), 'the key is empty');
  const parts = key.split(':');
  if (parts.length !== 3) {
    throw new InvalidInstrumentKeyError(
      key,
      `expected 3 parts VENUE:TYPE:SYMBOL separated by ":", found ${parts.length}`,
    );
  }
  const [venue, type, symbol] = parts as [string, string, string];
  const names = ['VENUE', 'TYPE', 'SYMBOL'] as const;
  for (let i = 0; i < 3; i++) {
    const part = parts[i]!;
    if (part === '') throw new InvalidInstrumentKeyError(key, `${names[i]} is empty`);
    if (!PART_CHARS_RE.test(part))
      throw new InvalidInstrumentKeyError(key, `${names[i]} "${part}" ${describeChars(part)}`);
  }
  if (!VENUE_RE.test(venue))
    throw new InvalidInstrumentKeyError(key, `VENUE "${venue}" must start with A-Z or 0-9`);
  if (!isInstrumentType(type)) {
    throw new InvalidInstrumentKeyError(key, `TYPE "${type}" is not one of ${INSTRUMENT_TYPES.join(', ')}`);
  }
  return parseSymbolFields(key, venue, type, symbol);
}

/** `true` when `parseInstrumentKey(key)` would succeed. */
export function isValidInstrumentKey(key: string): boolean {
  try {
    parseInstrumentKey(key);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------
// Format

const FIELDS_BY_TYPE: Record<InstrumentType, readonly (keyof InstrumentKeyInput)[]> = {
  SPOT_PAIR: ['base', 'quote'],
  PERP: ['base', 'quote'],
  FUTURE: ['base', 'quote', 'expiry'],
  OPTION: ['base', 'quote', 'expiry', 'strike', 'optionType', 'chain'],
  EQUITY: [],
  INDEX: [],
};
const STRUCTURED_FIELDS: readonly (keyof InstrumentKeyInput)[] = [
  'base',
  'quote',
  'expiry',
  'strike',
  'optionType',
  'chain',
];

/**
 * Build a key from its parts and validate it. `symbol` may be omitted for SPOT_PAIR, PERP, FUTURE and
 * OPTION (it is built from the fields); when given it must agree with them. `strike` may be a number
 * (written with `formatStrike`); `expiry` is `YYYY-MM-DD`. Throws `InvalidInstrumentKeyError`.
 */
export function formatInstrumentKey(parts: InstrumentKeyInput): string {
  const { venue, type } = parts;
  const draft = `${venue}:${type}:${parts.symbol ?? '?'}`;
  const fail = (problem: string) => new InvalidInstrumentKeyError(draft, problem);
  if (!isInstrumentType(type)) throw fail(`TYPE "${type}" is not one of ${INSTRUMENT_TYPES.join(', ')}`);
  const allowed = FIELDS_BY_TYPE[type];
  for (const f of STRUCTURED_FIELDS) {
    if (parts[f] !== undefined && !allowed.includes(f)) throw fail(`a ${type} key has no ${f}`);
  }
  let symbol: string;
  if (type === 'EQUITY' || type === 'INDEX') {
    if (parts.symbol === undefined) throw fail(`a ${type} key needs a symbol`);
    symbol = parts.symbol;
  } else {
    const { base, quote } = parts;
    if (base === undefined || quote === undefined) throw fail(`a ${type} key needs base and quote`);
    const fields = [base, quote];
    if (type === 'FUTURE') {
      if (parts.expiry === undefined) throw fail('a FUTURE key needs an expiry (YYYY-MM-DD)');
      fields.push(expiryField(draft, parts.expiry));
    } else if (type === 'OPTION') {
      const { strike, expiry, optionType } = parts;
      const given = [strike, expiry, optionType].filter((v) => v !== undefined).length;
      const chain = parts.chain ?? given === 0;
      if (chain) {
        if (given > 0) throw fail('an options-chain key (chain: true) has no strike, expiry or optionType');
      } else {
        if (strike === undefined || expiry === undefined || optionType === undefined) {
          throw fail('an OPTION contract key needs strike, expiry and optionType (or chain: true)');
        }
        const s = formatStrike(strike);
        if (typeof strike === 'string' && s !== strike)
          throw fail(`strike "${strike}" is not canonical (write ${s})`);
        if (optionType !== 'CALL' && optionType !== 'PUT')
          throw fail(`option type "${String(optionType)}" must be CALL or PUT`);
        fields.push(s, expiryField(draft, expiry), optionType);
      }
    }
    symbol = fields.join('-');
    if (parts.symbol !== undefined && parts.symbol !== symbol) {
      throw fail(`symbol "${parts.symbol}" does not match its fields (expected "${symbol}")`);
    }
  }
  const key = `${venue}:${type}:${symbol}`;
  parseInstrumentKey(key); // full validation with the precise message
  return key;
}

function expiryField(draft: string, expiry: string): string {
  const m = ISO_DATE_RE.exec(expiry);
  if (!m || !validDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
    throw new InvalidInstrumentKeyError(draft, `expiry "${expiry}" must be a calendar date YYYY-MM-DD`);
  }
  if (!m[1]!.startsWith('20'))
    throw new InvalidInstrumentKeyError(draft, `expiry "${expiry}" must be in 2000-2099`);
  return m[1]!.slice(2) + m[2] + m[3];
}

// ---------------------------------------------------------------------------------------------------
// Options chains

/** The options-chain key of an underlying: `optionsChainKey('DERIBIT', 'BTC', 'USD')` → `DERIBIT:OPTION:BTC-USD`. */
export function optionsChainKey(venue: string, base: string, quote: string): string {
  return formatInstrumentKey({ venue, type: 'OPTION', base, quote, chain: true });
}

/** The options-chain key an option key belongs to (a chain key is returned as is). Throws for non-options. */
export function underlyingOf(key: string): string {
  const p = parseInstrumentKey(key);
  if (p.type !== 'OPTION')
    throw new InvalidInstrumentKeyError(key, `underlyingOf needs an OPTION key, this is ${p.type}`);
  return optionsChainKey(p.venue, p.base, p.quote);
}

// ---------------------------------------------------------------------------------------------------
// Local file names

/** Platforms that need `:` mapped in file names. */
export type PathPlatform = NodeJS.Platform;

/** What replaces `:` in local file names on Windows. Not a key character, legal in Windows file names. */
export const WINDOWS_KEY_SEPARATOR = '~';

/**
 * The local file name (without extension) for a key. On `win32` every `:` becomes `~`
 * (`BINANCE~SPOT_PAIR~BTC-USDT`); elsewhere the key is used as is. Validates the key.
 * Use this wherever a key becomes a local path; `fileNameToKey` reverses it.
 */
export function keyToFileName(key: string, platform: PathPlatform = process.platform): string {
  parseInstrumentKey(key);
  return platform === 'win32' ? key.replaceAll(':', WINDOWS_KEY_SEPARATOR) : key;
}

/**
 * The key a local file name (without extension) stands for. Accepts both the `:` and the `~` form on
 * every platform, so a lake copied between systems still reads. Throws `InvalidInstrumentKeyError`.
 */
export function fileNameToKey(name: string): string {
  const key = name.replaceAll(WINDOWS_KEY_SEPARATOR, ':');
  parseInstrumentKey(key);
  return key;
}
