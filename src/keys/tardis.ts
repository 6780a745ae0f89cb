/**
 * Tardis.dev instruments → canonical keys.
 *
 * - `tardisInstrumentKey(attributes)`: the general mapping from instrument attributes (what
 *   `/v1/instruments` gives, or what the user states).
 * - `tardisDefinitionToKey(definition)`: the same for one `/v1/instruments` object as received.
 * - `inferTardisInstrument(exchange, symbol)`: symbol-only heuristics per exchange, for users without
 *   instrument definitions (conventions as in tardis-node's `src/mappers/*`). Anything not inferable
 *   reliably throws `UnsupportedInstrumentError` rather than guessing.
 */
import { UnsupportedInstrumentError } from '../errors.js';
import { formatInstrumentKey, formatStrike, type InstrumentType, toExpiryDate } from './key.js';
import { type TardisExchange, venueOf } from './venues.js';

/** Instrument types in Tardis's vocabulary. */
export type TardisInstrumentType = 'spot' | 'perpetual' | 'future' | 'option' | 'combo' | 'prediction';

/** Option right in Tardis's vocabulary. */
export type TardisOptionType = 'call' | 'put';

/** What a key is made from. Currencies are as the vendor spells them (normalized here). */
export interface TardisInstrumentAttributes {
  /** Tardis exchange id, e.g. `deribit`. */
  exchange: string;
  /** Vendor symbol (used in error messages). */
  symbol: string;
  type: TardisInstrumentType;
  base: string;
  quote: string;
  /** Expiry as `Date`, epoch ms, or ISO (`2025-02-14T08:00:00.000Z` or `2025-02-14`); the UTC date is used. */
  expiry?: Date | string | number;
  strike?: number | string;
  optionType?: TardisOptionType;
}

/** What `inferTardisInstrument` derives from a symbol. `expiry` is `YYYY-MM-DD`, `strike` canonical. */
export interface InferredTardisInstrument {
  type: TardisInstrumentType;
  base: string;
  quote: string;
  expiry?: string;
  strike?: string;
  optionType?: TardisOptionType;
}

/**
 * The fields of a Tardis `/v1/instruments` object this module reads. Numbers may arrive as strings;
 * other fields are ignored.
 */
export interface TardisInstrumentDefinition {
  id: string;
  exchange: string;
  baseCurrency: string;
  quoteCurrency: string;
  type: string;
  expiry?: string | null;
  strikePrice?: number | string | null;
  optionType?: string | null;
}

// ---------------------------------------------------------------------------------------------------
// Currency normalization

/**
 * Currency aliases applied everywhere: the vendor spelling → the common code. Kept small on purpose;
 * the vendor's own spelling stays in the instrument definition.
 */
export const CURRENCY_ALIASES: Readonly<Record<string, string>> = {
  XBT: 'BTC', // BitMEX, Kraken, Kraken Futures, KuCoin Futures
  XDG: 'DOGE', // Kraken
};

/**
 * Aliases that hold on one exchange only (`UST` is Tether on Bitfinex but TerraUSD elsewhere).
 */
export const EXCHANGE_CURRENCY_ALIASES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  bitfinex: { UST: 'USDT', EUT: 'EURT', DSH: 'DASH', IOT: 'IOTA', QTM: 'QTUM' },
  'bitfinex-derivatives': { UST: 'USDT', EUT: 'EURT' },
};

/** Upper-case a currency and apply the aliases (exchange-specific first, then the global ones). */
export function normalizeCurrency(currency: string, exchange?: string): string {
  const c = currency.trim().toUpperCase();
  const local = exchange === undefined ? undefined : EXCHANGE_CURRENCY_ALIASES[exchange]?.[c];
  return local ?? CURRENCY_ALIASES[c] ?? c;
}

// ---------------------------------------------------------------------------------------------------
// Attributes → key

const KEY_TYPE: Record<'spot' | 'perpetual' | 'future' | 'option', InstrumentType> = {
  spot: 'SPOT_PAIR',
  perpetual: 'PERP',
  future: 'FUTURE',
  option: 'OPTION',
};

const NO_KEY_TYPE: Record<'combo' | 'prediction', string> = {
  combo: 'a combo (multi-leg spread)',
  prediction: 'a prediction market',
};

/**
 * The canonical key for a Tardis instrument. VENUE from `venueOf(exchange)`; currencies normalized;
 * for derivatives BASE-QUOTE is the underlying pair: when the vendor reports the quote as the base
 * currency itself (Deribit and OKX inverse options quote premiums in BTC), the underlying is BASE-USD.
 * Linear contracts keep their quote (USDT, USDC). Combos and prediction markets have no key type and
 * throw `UnsupportedInstrumentError`, as do options without strike/expiry/type and futures without expiry.
 */
export function tardisInstrumentKey(attrs: TardisInstrumentAttributes): string {
  const { exchange, symbol, type } = attrs;
  const what = `tardis ${exchange} "${symbol}"`;
  if (type === 'combo' || type === 'prediction') {
    throw new UnsupportedInstrumentError(
      `${what} is ${NO_KEY_TYPE[type]}; instrument keys have no type for it (SPOT_PAIR, PERP, FUTURE, OPTION only)`,
      { hint: 'ingest its single-instrument legs instead', details: { exchange, symbol, type } },
    );
  }
  const keyType = KEY_TYPE[type];
  if (keyType === undefined) {
    throw new UnsupportedInstrumentError(`${what} has unknown instrument type "${String(type)}"`, {
      details: { exchange, symbol, type },
    });
  }
  const base = normalizeCurrency(attrs.base, exchange);
  let quote = normalizeCurrency(attrs.quote, exchange);
  if (keyType !== 'SPOT_PAIR' && quote === base) quote = 'USD'; // inverse: premium/settlement in the base coin
  const venue = venueOf(exchange);
  const missing = (field: string) =>
    new UnsupportedInstrumentError(`${what} is a ${type} without ${field}`, {
      hint: 'pass the instrument attributes (or sync instrument definitions)',
      details: { exchange, symbol },
    });
  switch (keyType) {
    case 'SPOT_PAIR':
    case 'PERP':
      return formatInstrumentKey({ venue, type: keyType, base, quote });
    case 'FUTURE':
      if (attrs.expiry === undefined) throw missing('an expiry');
      return formatInstrumentKey({ venue, type: keyType, base, quote, expiry: toExpiryDate(attrs.expiry) });
    default: {
      if (attrs.expiry === undefined) throw missing('an expiry');
      if (attrs.strike === undefined) throw missing('a strike');
      if (attrs.optionType !== 'call' && attrs.optionType !== 'put')
        throw missing('an option type (call/put)');
      return formatInstrumentKey({
        venue,
        type: 'OPTION',
        base,
        quote,
        strike: formatStrike(attrs.strike),
        expiry: toExpiryDate(attrs.expiry),
        optionType: attrs.optionType === 'call' ? 'CALL' : 'PUT',
      });
    }
  }
}

const TARDIS_TYPES: ReadonlySet<string> = new Set([
  'spot',
  'perpetual',
  'future',
  'option',
  'combo',
  'prediction',
]);

function isTardisType(s: string): s is TardisInstrumentType {
  return TARDIS_TYPES.has(s);
}

/** The key for one Tardis `/v1/instruments` object (numbers may be strings; expiry ISO → UTC date). */
export function tardisDefinitionToKey(def: TardisInstrumentDefinition): string {
  const type = def.type;
  if (!isTardisType(type)) {
    throw new UnsupportedInstrumentError(
      `tardis ${def.exchange} "${def.id}" has unknown instrument type "${type}"`,
      {
        details: { exchange: def.exchange, symbol: def.id, type },
      },
    );
  }
  const right = def.optionType?.toLowerCase();
  return tardisInstrumentKey({
    exchange: def.exchange,
    symbol: def.id,
    type,
    base: def.baseCurrency,
    quote: def.quoteCurrency,
    ...(def.expiry != null ? { expiry: def.expiry } : {}),
    ...(def.strikePrice != null && def.strikePrice !== '' ? { strike: def.strikePrice } : {}),
    ...(right === 'call' || right === 'put' ? { optionType: right } : {}),
  });
}

// ---------------------------------------------------------------------------------------------------
// Symbol heuristics

type SymbolParser = (symbol: string, exchange: string) => InferredTardisInstrument;

const HINT = 'pass the instrument attributes (or sync instrument definitions)';

function cannot(exchange: string, symbol: string, why: string): UnsupportedInstrumentError {
  return new UnsupportedInstrumentError(
    `cannot infer tardis ${exchange} "${symbol}" from its symbol: ${why}`,
    {
      hint: HINT,
      details: { exchange, symbol },
    },
  );
}

/** Quote currencies recognized at the end of concatenated Binance spot symbols (`ETHBTC`). */
// biome-ignore format: a table
export const BINANCE_SPOT_QUOTES: readonly string[] = [
  'USDT', 'BUSD', 'USDC', 'FDUSD', 'TUSD', 'USDP', 'PAX', 'DAI', 'USDS', 'VAI',
  'BTC', 'ETH', 'BNB', 'XRP', 'TRX', 'DOGE',
  'EUR', 'GBP', 'AUD', 'TRY', 'BRL', 'RUB', 'UAH', 'NGN', 'ZAR', 'JPY', 'PLN', 'RON', 'ARS', 'MXN', 'CZK',
  'BIDR', 'IDRT', 'BKRW', 'BVND', 'GYEN',
];

/** Quote currencies recognized at the end of concatenated symbols on other venues (`btcusd`). */
// biome-ignore format: a table
export const COMMON_QUOTES: readonly string[] = [
  'USDT', 'USDC', 'BUSD', 'TUSD', 'GUSD', 'HUSD', 'USD', 'EUR', 'GBP', 'JPY', 'KRW', 'AUD', 'CAD', 'CHF', 'SGD',
  'TRY', 'BTC', 'ETH', 'BNB', 'DAI',
];

/**
 * Split a concatenated symbol by its quote suffix (`BTCUSDT` → BTC/USDT). Exactly one quote of the table
 * must match: when two do (`BNBUSD` with BUSD and USD: BN-BUSD or BNB-USD?) the symbol is refused as
 * ambiguous rather than guessed.
 */
function splitBySuffix(
  exchange: string,
  symbol: string,
  pair: string,
  quotes: readonly string[],
): { base: string; quote: string } {
  const hits = quotes
    .filter((q) => pair.length > q.length && pair.endsWith(q))
    .sort((a, b) => b.length - a.length);
  const quote = hits[0];
  if (quote === undefined) throw cannot(exchange, symbol, `no known quote currency at the end of "${pair}"`);
  if (hits.length > 1) {
    const readings = hits.map((q) => `${pair.slice(0, -q.length)}-${q}`).join(' or ');
    throw cannot(exchange, symbol, `ambiguous pair "${pair}" (${readings})`);
  }
  return { base: pair.slice(0, -quote.length), quote };
}

// biome-ignore format: a table
const MONTHS: Readonly<Record<string, number>> = {
  JAN: 1, FEB: 2, MAR: 3, APR: 4, MAY: 5, JUN: 6, JUL: 7, AUG: 8, SEP: 9, OCT: 10, NOV: 11, DEC: 12,
};

/** Futures month codes (CME convention, used by BitMEX and Bybit). */
// biome-ignore format: a table
const MONTH_CODES: Readonly<Record<string, number>> = {
  F: 1, G: 2, H: 3, J: 4, K: 5, M: 6, N: 7, Q: 8, U: 9, V: 10, X: 11, Z: 12,
};

const isoDates = new Map<number, string | null>();

function isoDate(y: number, m: number, d: number): string | undefined {
  const k = y * 10_000 + m * 100 + d;
  let out = isoDates.get(k);
  if (out === undefined) {
    const t = new Date(Date.UTC(y, m - 1, d));
    out =
      t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d
        ? null
        : t.toISOString().slice(0, 10);
    if (isoDates.size > 100_000) isoDates.clear();
    isoDates.set(k, out);
  }
  return out ?? undefined;
}

function date(exchange: string, symbol: string, y: number, m: number, d: number): string {
  const iso = isoDate(y, m, d);
  if (iso === undefined) throw cannot(exchange, symbol, 'its expiry is not a calendar date');
  return iso;
}

/** `240329` → `2024-03-29` */
function fromYYMMDD(exchange: string, symbol: string, s: string): string {
  return date(exchange, symbol, 2000 + Number(s.slice(0, 2)), Number(s.slice(2, 4)), Number(s.slice(4, 6)));
}

/** `27DEC24` / `6AUG21` → `2024-12-27` / `2021-08-06` */
function fromDDMMMYY(exchange: string, symbol: string, s: string): string {
  const m = /^([0-9]{1,2})([A-Z]{3})([0-9]{2})$/.exec(s);
  const month = m ? MONTHS[m[2]!] : undefined;
  if (!m || month === undefined) throw cannot(exchange, symbol, `"${s}" is not a DDMMMYY date`);
  return date(exchange, symbol, 2000 + Number(m[3]), month, Number(m[1]));
}

/** The last Friday of a month, `YYYY-MM-DD`. */
export function lastFridayOfMonth(year: number, month: number): string {
  const last = new Date(Date.UTC(year, month, 0));
  const back = (last.getUTCDay() - 5 + 7) % 7;
  return new Date(Date.UTC(year, month - 1, last.getUTCDate() - back)).toISOString().slice(0, 10);
}

/** `Z24` → last Friday of December 2024 (BitMEX and Bybit quarterly futures expire then). */
function fromMonthCode(exchange: string, symbol: string, code: string, yy: string): string {
  const month = MONTH_CODES[code];
  if (month === undefined) throw cannot(exchange, symbol, `"${code}" is not a futures month code`);
  return lastFridayOfMonth(2000 + Number(yy), month);
}

const DDMMMYY = '[0-9]{1,2}[A-Z]{3}[0-9]{2}';
const STRIKE = '[0-9]+(?:\\.[0-9]+)?';

function spot(base: string, quote: string): InferredTardisInstrument {
  return { type: 'spot', base, quote };
}
function perp(base: string, quote: string): InferredTardisInstrument {
  return { type: 'perpetual', base, quote };
}
function future(base: string, quote: string, expiry: string): InferredTardisInstrument {
  return { type: 'future', base, quote, expiry };
}
function option(
  base: string,
  quote: string,
  expiry: string,
  strike: string,
  right: string,
): InferredTardisInstrument {
  return {
    type: 'option',
    base,
    quote,
    expiry,
    strike: formatStrike(strike),
    optionType: right === 'C' ? 'call' : 'put',
  };
}

/** `BTC-USD`, `XBT/USD`, `BTC_USDT`, `DOGE:USD`, or concatenated `btcusd` (by quote suffix). */
function spotPair(quotes: readonly string[]): SymbolParser {
  return (symbol, exchange) => {
    const fields = symbol.split(/[-/_:]/);
    if (fields.length === 2 && fields[0] !== '' && fields[1] !== '') return spot(fields[0]!, fields[1]!);
    if (fields.length > 2) throw cannot(exchange, symbol, 'expected a spot pair BASE-QUOTE');
    const { base, quote } = splitBySuffix(exchange, symbol, symbol, quotes);
    return spot(base, quote);
  };
}

const binanceSpot = spotPair(BINANCE_SPOT_QUOTES);
const commonSpot = spotPair(COMMON_QUOTES);

function binanceFutures(symbol: string, exchange: string): InferredTardisInstrument {
  const m = /^([A-Z0-9]+?)(?:_([0-9]{6}))?$/.exec(symbol);
  if (!m) throw cannot(exchange, symbol, 'expected BTCUSDT (perpetual) or BTCUSDT_240329 (future)');
  const { base, quote } = splitBySuffix(exchange, symbol, m[1]!, ['USDT', 'USDC', 'BUSD', 'FDUSD', 'BTC']);
  return m[2] === undefined ? perp(base, quote) : future(base, quote, fromYYMMDD(exchange, symbol, m[2]));
}

function binanceDelivery(symbol: string, exchange: string): InferredTardisInstrument {
  const m = /^([A-Z0-9]+)_(PERP|[0-9]{6})$/.exec(symbol);
  if (!m) throw cannot(exchange, symbol, 'expected BTCUSD_PERP or BTCUSD_240329');
  const { base, quote } = splitBySuffix(exchange, symbol, m[1]!, ['USD']);
  return m[2] === 'PERP' ? perp(base, quote) : future(base, quote, fromYYMMDD(exchange, symbol, m[2]!));
}

/** `BTC-240329-60000-C`: USDT-margined options on the BTCUSDT index → BTC-USDT. */
function binanceOptions(symbol: string, exchange: string): InferredTardisInstrument {
  const m = new RegExp(`^([A-Z0-9]+)-([0-9]{6})-(${STRIKE})-([CP])$`).exec(symbol);
  if (!m) throw cannot(exchange, symbol, 'expected BTC-240329-60000-C');
  return option(m[1]!, 'USDT', fromYYMMDD(exchange, symbol, m[2]!), m[3]!, m[4]!);
}

/**
 * Deribit: `BTC-PERPETUAL` (inverse, BTC-USD), `ETH_USDC-PERPETUAL` (linear), `BTC-27DEC24`,
 * `BTC-27DEC24-60000-C` (inverse options on the BTC-USD index), `XRP_USDC-30AUG24-0d625-C` (`d` is the
 * decimal point), `BTC_USDC` (spot). Combos (`BTC-FS-28MAR25_PERP`, `ETH-CS-...`) have no key type.
 */
function deribit(symbol: string, exchange: string): InferredTardisInstrument {
  const s = /^([A-Z0-9]+)_([A-Z0-9]+)$/.exec(symbol);
  if (s) return spot(s[1]!, s[2]!);
  const fields = symbol.split('-');
  const [underlying, second] = [fields[0] ?? '', fields[1] ?? ''];
  if (/^[A-Z]+$/.test(second) && second !== 'PERPETUAL') {
    throw new UnsupportedInstrumentError(
      `tardis deribit "${symbol}" looks like a combo (spread); instrument keys have no type for combos`,
      { hint: 'ingest its single-instrument legs instead', details: { exchange, symbol } },
    );
  }
  const u = /^([A-Z0-9]+)(?:_([A-Z0-9]+))?$/.exec(underlying);
  if (!u) throw cannot(exchange, symbol, `"${underlying}" is not BASE or BASE_QUOTE`);
  const base = u[1]!;
  const quote = u[2] ?? 'USD'; // no quote: inverse contract on the BASE-USD index
  if (fields.length === 2 && second === 'PERPETUAL') return perp(base, quote);
  if (fields.length === 2 && new RegExp(`^${DDMMMYY}$`).test(second)) {
    return future(base, quote, fromDDMMMYY(exchange, symbol, second));
  }
  if (fields.length === 4 && /^[0-9]+(?:[dD][0-9]+)?$/.test(fields[2]!) && /^[CP]$/.test(fields[3]!)) {
    return option(
      base,
      quote,
      fromDDMMMYY(exchange, symbol, second),
      fields[2]!.replace(/d/i, '.'),
      fields[3]!,
    );
  }
  throw cannot(exchange, symbol, 'expected BTC-PERPETUAL, BTC-27DEC24, BTC-27DEC24-60000-C or BTC_USDC');
}

/**
 * BitMEX: perpetuals `XBTUSD`, `ETHUSD`, `XBTUSDT`; dated futures `XBTZ24`, `ETHUSDZ24`, `XBTUSDTZ24`.
 * Futures expire on the last Friday of the coded month (12:00 UTC). A future with no quote in its root
 * is USD-quoted for XBT (`XBTZ24` → BTC-USD) and XBT-quoted for others (`ETHZ20`, `ADAZ20`: BitMEX's
 * alt-coin futures were priced in XBT).
 */
function bitmex(symbol: string, exchange: string): InferredTardisInstrument {
  if (!/^[A-Z0-9]+$/.test(symbol))
    throw cannot(exchange, symbol, 'indices (.BXBT) and special contracts have no heuristic');
  const quotes = ['USDT', 'USDC', 'USD', 'EUR', 'XBT'];
  const f = /^([A-Z0-9]+)([FGHJKMNQUVXZ])([0-9]{2})$/.exec(symbol);
  if (f) {
    const root = f[1]!;
    const expiry = fromMonthCode(exchange, symbol, f[2]!, f[3]!);
    const hit = quotes.find((q) => root.length > q.length && root.endsWith(q));
    if (hit) return future(root.slice(0, -hit.length), hit, expiry);
    return future(root, root === 'XBT' ? 'USD' : 'XBT', expiry);
  }
  const { base, quote } = splitBySuffix(exchange, symbol, symbol, quotes.slice(0, 4));
  return perp(base, quote);
}

function okexSwap(symbol: string, exchange: string): InferredTardisInstrument {
  const m = /^([A-Z0-9]+)-([A-Z0-9]+)-SWAP$/.exec(symbol);
  if (!m) throw cannot(exchange, symbol, 'expected BTC-USDT-SWAP');
  return perp(m[1]!, m[2]!);
}

function okexFutures(symbol: string, exchange: string): InferredTardisInstrument {
  const m = /^([A-Z0-9]+)-([A-Z0-9]+)-([0-9]{6})$/.exec(symbol);
  if (!m) throw cannot(exchange, symbol, 'expected BTC-USD-240329');
  return future(m[1]!, m[2]!, fromYYMMDD(exchange, symbol, m[3]!));
}

function okexOptions(symbol: string, exchange: string): InferredTardisInstrument {
  const m = new RegExp(`^([A-Z0-9]+)-([A-Z0-9]+)-([0-9]{6})-(${STRIKE})-([CP])$`).exec(symbol);
  if (!m) throw cannot(exchange, symbol, 'expected BTC-USD-240329-60000-C');
  return option(m[1]!, m[2]!, fromYYMMDD(exchange, symbol, m[3]!), m[4]!, m[5]!);
}

const HUOBI_ALIAS_RE = /_(CW|NW|CQ|NQ)$|-(CW|NW|CQ|NQ)$/;

function huobiAlias(symbol: string, exchange: string): UnsupportedInstrumentError {
  return new UnsupportedInstrumentError(
    `tardis ${exchange} "${symbol}" is a rolling contract alias (this/next week/quarter) with no expiry in its name`,
    {
      hint: 'sync instrument definitions (or pass the instrument attributes) to map it',
      details: { exchange, symbol },
    },
  );
}

/** Huobi coin-margined futures: `BTC_CW` aliases (no expiry) are refused; `BTC240329` contract codes work. */
function huobiDm(symbol: string, exchange: string): InferredTardisInstrument {
  if (HUOBI_ALIAS_RE.test(symbol)) throw huobiAlias(symbol, exchange);
  const m = /^([A-Z]+)([0-9]{6})$/.exec(symbol);
  if (!m) throw cannot(exchange, symbol, 'expected BTC240329');
  return future(m[1]!, 'USD', fromYYMMDD(exchange, symbol, m[2]!));
}

/** Huobi swaps: `BTC-USD` (coin-margined) / `BTC-USDT` (linear); linear futures `BTC-USDT-240329`. */
function huobiSwap(symbol: string, exchange: string): InferredTardisInstrument {
  if (HUOBI_ALIAS_RE.test(symbol)) throw huobiAlias(symbol, exchange);
  const m = /^([A-Z0-9]+)-([A-Z0-9]+)(?:-([0-9]{6}))?$/.exec(symbol);
  if (!m) throw cannot(exchange, symbol, 'expected BTC-USD or BTC-USDT');
  return m[3] === undefined ? perp(m[1]!, m[2]!) : future(m[1]!, m[2]!, fromYYMMDD(exchange, symbol, m[3]));
}

/** Huobi options: `BTC-USDT-210326-C-32000`. */
function huobiOptions(symbol: string, exchange: string): InferredTardisInstrument {
  const m = new RegExp(`^([A-Z0-9]+)-([A-Z0-9]+)-([0-9]{6})-([CP])-(${STRIKE})$`).exec(symbol);
  if (!m) throw cannot(exchange, symbol, 'expected BTC-USDT-210326-C-32000');
  return option(m[1]!, m[2]!, fromYYMMDD(exchange, symbol, m[3]!), m[5]!, m[4]!);
}

/**
 * Bybit derivatives: `BTCUSDT` (linear perp), `BTCUSD` (inverse perp), `BTCPERP` (USDC perp),
 * `BTCUSDZ24` (inverse future, last Friday of the month), `BTC-27DEC24` (USDC future),
 * `BTCUSDT-27DEC24` (USDT future).
 */
function bybit(symbol: string, exchange: string): InferredTardisInstrument {
  const quotes = ['USDT', 'USDC', 'USD'];
  let m = new RegExp(`^([A-Z0-9]+)-(${DDMMMYY})$`).exec(symbol);
  if (m) {
    const expiry = fromDDMMMYY(exchange, symbol, m[2]!);
    const hit = quotes.find((q) => m![1]!.length > q.length && m![1]!.endsWith(q));
    return hit ? future(m[1]!.slice(0, -hit.length), hit, expiry) : future(m[1]!, 'USDC', expiry);
  }
  m = /^([A-Z0-9]+)USD([FGHJKMNQUVXZ])([0-9]{2})$/.exec(symbol);
  if (m) return future(m[1]!, 'USD', fromMonthCode(exchange, symbol, m[2]!, m[3]!));
  m = /^([A-Z0-9]+)PERP$/.exec(symbol);
  if (m) return perp(m[1]!, 'USDC');
  if (!/^[A-Z0-9]+$/.test(symbol)) throw cannot(exchange, symbol, 'expected BTCUSDT, BTCUSD or BTCUSDZ24');
  const { base, quote } = splitBySuffix(exchange, symbol, symbol, quotes);
  return perp(base, quote);
}

/** Bybit options: `BTC-27DEC24-60000-C` (USDC), `BTC-27DEC24-60000-C-USDT`. */
function bybitOptions(symbol: string, exchange: string): InferredTardisInstrument {
  const m = new RegExp(`^([A-Z0-9]+)-(${DDMMMYY})-(${STRIKE})-([CP])(?:-(USDT|USDC))?$`).exec(symbol);
  if (!m) throw cannot(exchange, symbol, 'expected BTC-27DEC24-60000-C');
  return option(m[1]!, m[5] ?? 'USDC', fromDDMMMYY(exchange, symbol, m[2]!), m[3]!, m[4]!);
}

/**
 * FTX: `BTC/USD` (spot), `BTC-PERP` (USD), dated futures `BTC-0326` / `BTC-20190927`. An `MMDD` future
 * has no year: FTX traded 2019–2022 and its futures expired on Fridays, so the year is the one in
 * 2019–2022 in which that date is a Friday (there is at most one). MOVE contracts, prediction markets
 * and the like are not inferred.
 */
function ftx(symbol: string, exchange: string): InferredTardisInstrument {
  if (symbol.includes('/')) return commonSpot(symbol, exchange);
  let m = /^([A-Z0-9]+)-PERP$/.exec(symbol);
  if (m) return perp(m[1]!, 'USD');
  m = /^([A-Z0-9]+)-(20[0-9]{2})([0-9]{2})([0-9]{2})$/.exec(symbol);
  if (m) return future(m[1]!, 'USD', date(exchange, symbol, Number(m[2]), Number(m[3]), Number(m[4])));
  m = /^([A-Z0-9]+)-([0-9]{2})([0-9]{2})$/.exec(symbol);
  if (m) {
    const [mm, dd] = [Number(m[2]), Number(m[3])];
    const years = [2019, 2020, 2021, 2022].filter((y) => {
      const iso = isoDate(y, mm, dd);
      return iso !== undefined && new Date(`${iso}T00:00:00Z`).getUTCDay() === 5;
    });
    if (years.length !== 1)
      throw cannot(exchange, symbol, 'no FTX-era (2019-2022) Friday matches its MMDD expiry');
    return future(m[1]!, 'USD', date(exchange, symbol, years[0]!, mm, dd));
  }
  throw cannot(exchange, symbol, 'expected BTC/USD, BTC-PERP or BTC-0326');
}

/**
 * Kraken Futures: `PI_XBTUSD` (inverse perp), `FI_XBTUSD_240329` (inverse future). Linear
 * multi-collateral contracts (`PF_XBTUSD`, `FF_XBTUSD_240329`) are refused: they are priced against
 * the same BTC-USD pair, so they would share a key with the inverse contracts.
 */
function cryptofacilities(symbol: string, exchange: string): InferredTardisInstrument {
  const m = /^(PI|FI|PF|FF|PV|FV)_([A-Z0-9]+)(?:_([0-9]{6}))?$/.exec(symbol);
  if (!m) throw cannot(exchange, symbol, 'expected PI_XBTUSD or FI_XBTUSD_240329');
  const [kind, pair, yymmdd] = [m[1]!, m[2]!, m[3]];
  if (kind !== 'PI' && kind !== 'FI') {
    throw cannot(
      exchange,
      symbol,
      `${kind}_ contracts share their underlying pair with the inverse PI_/FI_ contracts, so their key would clash`,
    );
  }
  const { base, quote } = splitBySuffix(exchange, symbol, pair, ['USD', 'EUR', 'GBP']);
  if (kind === 'PI') {
    if (yymmdd !== undefined) throw cannot(exchange, symbol, 'PI_ perpetuals have no expiry');
    return perp(base, quote);
  }
  if (yymmdd === undefined) throw cannot(exchange, symbol, 'FI_ futures need an expiry (FI_XBTUSD_240329)');
  return future(base, quote, fromYYMMDD(exchange, symbol, yymmdd));
}

/** Bitfinex spot: `BTCUSD` (3+3 letters) or `DOGE:USD`. */
function bitfinex(symbol: string, exchange: string): InferredTardisInstrument {
  if (symbol.includes(':')) return commonSpot(symbol, exchange);
  if (/^[A-Z0-9]{6}$/.test(symbol)) return spot(symbol.slice(0, 3), symbol.slice(3));
  throw cannot(exchange, symbol, 'expected BTCUSD or DOGE:USD');
}

/** Bitfinex derivatives: `BTCF0:USTF0` (perpetual, USDT-margined). */
function bitfinexDerivatives(symbol: string, exchange: string): InferredTardisInstrument {
  const m = /^([A-Z0-9]+)F0:([A-Z0-9]+)F0$/.exec(symbol);
  if (!m) throw cannot(exchange, symbol, 'expected BTCF0:USTF0');
  return perp(m[1]!, m[2]!);
}

/** Upbit writes QUOTE-BASE: `KRW-BTC`. */
function upbit(symbol: string, exchange: string): InferredTardisInstrument {
  const m = /^([A-Z0-9]+)-([A-Z0-9]+)$/.exec(symbol);
  if (!m) throw cannot(exchange, symbol, 'expected KRW-BTC (QUOTE-BASE)');
  return spot(m[2]!, m[1]!);
}

/**
 * Symbol heuristics per Tardis exchange (a plain table). Exchanges not listed (or symbols a parser does
 * not recognize) throw `UnsupportedInstrumentError`.
 */
const PARSERS: Partial<Record<TardisExchange, SymbolParser>> = {
  binance: binanceSpot,
  'binance-us': commonSpot,
  'binance-jersey': commonSpot,
  'binance-futures': binanceFutures,
  'binance-delivery': binanceDelivery,
  'binance-options': binanceOptions,
  'binance-european-options': binanceOptions,
  deribit,
  bitmex,
  okex: commonSpot,
  'okex-swap': okexSwap,
  'okex-futures': okexFutures,
  'okex-options': okexOptions,
  'huobi-dm': huobiDm,
  'huobi-dm-swap': huobiSwap,
  'huobi-dm-linear-swap': huobiSwap,
  'huobi-dm-options': huobiOptions,
  huobi: commonSpot,
  bybit,
  'bybit-spot': commonSpot,
  'bybit-options': bybitOptions,
  ftx,
  'ftx-us': commonSpot,
  cryptofacilities,
  coinbase: commonSpot,
  kraken: commonSpot,
  bitstamp: commonSpot,
  gemini: commonSpot,
  okcoin: commonSpot,
  bitflyer: commonSpot,
  kucoin: commonSpot,
  'gate-io': commonSpot,
  'blockchain-com': commonSpot,
  bitfinex,
  'bitfinex-derivatives': bitfinexDerivatives,
  upbit,
};

/** Exchanges `inferTardisInstrument` has symbol heuristics for. */
export const INFERABLE_TARDIS_EXCHANGES: readonly TardisExchange[] = Object.keys(PARSERS) as TardisExchange[];

/**
 * Instrument attributes from a Tardis exchange id and symbol alone (any case). Currencies are returned
 * normalized (`XBT` → `BTC`). Throws `UnsupportedInstrumentError` naming the exchange and symbol when
 * the exchange has no heuristic or the symbol is not recognized; grouped symbols (`OPTIONS`, ...) and
 * combos are refused too.
 */
export function inferTardisInstrument(exchange: string, symbol: string): InferredTardisInstrument {
  const sym = symbol.trim().toUpperCase();
  const parser = (PARSERS as Partial<Record<string, SymbolParser>>)[exchange];
  if (parser === undefined) {
    throw new UnsupportedInstrumentError(
      `cannot infer tardis ${exchange} "${symbol}": no symbol heuristic for ${exchange}`,
      {
        hint: HINT,
        details: { exchange, symbol },
      },
    );
  }
  if (/^(SPOT|FUTURES|PERPETUALS|OPTIONS|COMBOS)$/.test(sym)) {
    throw cannot(
      exchange,
      symbol,
      'it is a grouped symbol holding many instruments (use the per-row symbols)',
    );
  }
  const inferred = parser(sym, exchange);
  return {
    ...inferred,
    base: normalizeCurrency(inferred.base, exchange),
    quote: normalizeCurrency(inferred.quote, exchange),
  };
}

/** `inferTardisInstrument` + `tardisInstrumentKey`: the key for a Tardis symbol without definitions. */
export function tardisKeyForSymbol(exchange: string, symbol: string): string {
  return tardisInstrumentKey({ exchange, symbol, ...inferTardisInstrument(exchange, symbol) });
}

/** A symbol as the Tardis datasets URLs write it: upper case, `/` and `:` → `-`. */
export function tardisDatasetSymbol(symbol: string): string {
  return symbol.toUpperCase().replace(/[/:]/g, '-');
}
