/**
 * Vendor exchange ids → VENUE (the exchange brand), one table (docs/INSTRUMENT_KEY.md).
 *
 * Several vendor feeds of one brand share a venue (`binance`, `binance-futures`, `binance-delivery`
 * → `BINANCE`); TYPE and SYMBOL keep their keys apart. Separately regulated or separate markets of a
 * brand get their own venue (`BINANCE_US`, `FTX_US`, `COINBASE_INTERNATIONAL`, `DYDX_V4`).
 */
import { UnknownExchangeError } from '../errors.js';

/** Every exchange id Tardis.dev lists (its `/v1/exchanges`), in Tardis's order. */
export const TARDIS_EXCHANGES = [
  'bitmex',
  'deribit',
  'binance-futures',
  'binance-delivery',
  'binance-options',
  'binance-european-options',
  'binance',
  'ftx',
  'okex-futures',
  'okex-options',
  'okex-swap',
  'okex',
  'okex-spreads',
  'huobi-dm',
  'huobi-dm-swap',
  'huobi-dm-linear-swap',
  'huobi',
  'bitfinex-derivatives',
  'bitfinex',
  'coinbase',
  'coinbase-international',
  'cryptofacilities',
  'kraken',
  'bitstamp',
  'gemini',
  'poloniex',
  'bybit',
  'bybit-spot',
  'bybit-options',
  'phemex',
  'delta',
  'ftx-us',
  'binance-us',
  'gate-io-futures',
  'gate-io',
  'okcoin',
  'bitflyer',
  'hitbtc',
  'coinflex',
  'binance-jersey',
  'binance-dex',
  'upbit',
  'ascendex',
  'dydx',
  'dydx-v4',
  'serum',
  'mango',
  'huobi-dm-options',
  'star-atlas',
  'crypto-com',
  'crypto-com-derivatives',
  'kucoin',
  'kucoin-futures',
  'bitnomial',
  'woo-x',
  'blockchain-com',
  'bitget',
  'bitget-futures',
  'hyperliquid',
  'bullish',
  'lighter',
  'polymarket',
] as const;

/** A Tardis exchange id. */
export type TardisExchange = (typeof TARDIS_EXCHANGES)[number];

/**
 * The one table: vendor exchange id → VENUE. Ids of every vendor go here (they do not clash: vendor
 * ids name feeds, and a feed id means the same market whoever sells it).
 */
export const VENUE_BY_VENDOR_EXCHANGE: Readonly<Record<TardisExchange, string>> = {
  bitmex: 'BITMEX',
  deribit: 'DERIBIT',
  'binance-futures': 'BINANCE',
  'binance-delivery': 'BINANCE',
  'binance-options': 'BINANCE',
  'binance-european-options': 'BINANCE',
  binance: 'BINANCE',
  ftx: 'FTX',
  'okex-futures': 'OKX',
  'okex-options': 'OKX',
  'okex-swap': 'OKX',
  okex: 'OKX',
  'okex-spreads': 'OKX',
  'huobi-dm': 'HUOBI',
  'huobi-dm-swap': 'HUOBI',
  'huobi-dm-linear-swap': 'HUOBI',
  huobi: 'HUOBI',
  'bitfinex-derivatives': 'BITFINEX',
  bitfinex: 'BITFINEX',
  coinbase: 'COINBASE',
  'coinbase-international': 'COINBASE_INTERNATIONAL',
  cryptofacilities: 'KRAKEN', // Kraken Futures (formerly Crypto Facilities); no spot, so no clash with `kraken`
  kraken: 'KRAKEN',
  bitstamp: 'BITSTAMP',
  gemini: 'GEMINI',
  poloniex: 'POLONIEX',
  bybit: 'BYBIT',
  'bybit-spot': 'BYBIT',
  'bybit-options': 'BYBIT',
  phemex: 'PHEMEX',
  delta: 'DELTA', // Delta Exchange
  'ftx-us': 'FTX_US',
  'binance-us': 'BINANCE_US',
  'gate-io-futures': 'GATE_IO',
  'gate-io': 'GATE_IO',
  okcoin: 'OKCOIN',
  bitflyer: 'BITFLYER',
  hitbtc: 'HITBTC',
  coinflex: 'COINFLEX',
  'binance-jersey': 'BINANCE_JERSEY',
  'binance-dex': 'BINANCE_DEX',
  upbit: 'UPBIT',
  ascendex: 'ASCENDEX',
  dydx: 'DYDX',
  'dydx-v4': 'DYDX_V4', // a different chain and order book from dYdX v3
  serum: 'SERUM',
  mango: 'MANGO',
  'huobi-dm-options': 'HUOBI',
  'star-atlas': 'STAR_ATLAS',
  'crypto-com': 'CRYPTO_COM',
  'crypto-com-derivatives': 'CRYPTO_COM',
  kucoin: 'KUCOIN',
  'kucoin-futures': 'KUCOIN',
  bitnomial: 'BITNOMIAL',
  'woo-x': 'WOO_X',
  'blockchain-com': 'BLOCKCHAIN_COM',
  bitget: 'BITGET',
  'bitget-futures': 'BITGET',
  hyperliquid: 'HYPERLIQUID',
  bullish: 'BULLISH',
  lighter: 'LIGHTER',
  polymarket: 'POLYMARKET',
};

const KNOWN: ReadonlySet<string> = new Set(TARDIS_EXCHANGES);

/** `true` for an exchange id Tardis lists. */
export function isTardisExchange(id: string): id is TardisExchange {
  return KNOWN.has(id);
}

/** Throws `UnknownExchangeError` (listing the known ids) unless `id` is a Tardis exchange id. */
export function assertTardisExchange(id: string): asserts id is TardisExchange {
  if (!isTardisExchange(id)) throw new UnknownExchangeError(id, TARDIS_EXCHANGES);
}

/**
 * The VENUE of a vendor exchange id. Ids in `VENUE_BY_VENDOR_EXCHANGE` use the table; any other id maps
 * to its upper-cased form with `-` replaced by `_` (`new-exchange` → `NEW_EXCHANGE`), per the contract.
 */
export function venueOf(vendorExchange: string): string {
  if (isTardisExchange(vendorExchange)) return VENUE_BY_VENDOR_EXCHANGE[vendorExchange];
  return vendorExchange.toUpperCase().replaceAll('-', '_');
}
