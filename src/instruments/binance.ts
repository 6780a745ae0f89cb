/**
 * Binance `exchangeInfo` → canonical definitions (pure function over parsed JSON), for the three
 * markets: spot (`/api/v3/exchangeInfo`), USDⓈ-M futures (`/fapi/v1/exchangeInfo`) and COIN-M futures
 * (`/dapi/v1/exchangeInfo`). All share the venue BINANCE; TYPE + SYMBOL keep them apart.
 */
import { UsageError } from '../errors.js';
import {
  formatInstrumentKey,
  type InstrumentType,
  normalizeCurrency,
  toExpiryDate,
  venueOf,
} from '../keys/index.js';
import { FieldReader, finishSet, isObject, isUnkeyable, keyCurrencies, realExpiry } from './json.js';
import type {
  DefinitionSet,
  DefinitionWithHistory,
  InstrumentDefinition,
  SkippedInstrument,
} from './types.js';

export type BinanceMarket = 'spot' | 'usdm' | 'coinm';

/** The Tardis exchange id of each market, used as `vendorExchange` (and mapped to the venue). */
export const BINANCE_VENDOR_EXCHANGE: Readonly<Record<BinanceMarket, string>> = {
  spot: 'binance',
  usdm: 'binance-futures',
  coinm: 'binance-delivery',
};

const ENDPOINT: Readonly<Record<BinanceMarket, string>> = {
  spot: '/api/v3/exchangeInfo',
  usdm: '/fapi/v1/exchangeInfo',
  coinm: '/dapi/v1/exchangeInfo',
};

/**
 * Definitions from an `exchangeInfo` response (`symbols[]`). `tickSize` from PRICE_FILTER `tickSize`,
 * `lotSize`/`minSize` from LOT_SIZE `stepSize`/`minQty` (null when the filter is absent). Futures:
 * `contractType` PERPETUAL (also `PERPETUAL DELIVERING`) → PERP, any other with a `deliveryDate` →
 * FUTURE (expiry = `deliveryDate`); symbols without a contract type (empty: settled) are skipped. COIN-M:
 * `contractSize` → `contractMultiplier`, inverse, settled in `marginAsset`; USDⓈ-M: linear, multiplier 1,
 * settled in `marginAsset`. `active` = `status` (COIN-M: `contractStatus`) TRADING; `listing` = `onboardDate`. Fees are not in
 * exchangeInfo (null).
 */
export function definitionsFromBinanceExchangeInfo(market: BinanceMarket, json: unknown): DefinitionSet {
  const source = `binance ${market} ${ENDPOINT[market] ?? 'exchangeInfo'}`;
  const vendorExchange = BINANCE_VENDOR_EXCHANGE[market];
  if (vendorExchange === undefined) {
    throw new UsageError(`unknown Binance market "${String(market)}" (spot, usdm or coinm)`);
  }
  const venue = venueOf(vendorExchange);
  const top = FieldReader.of(source, '$', json);
  const definitions: DefinitionWithHistory[] = [];
  const skipped: SkippedInstrument[] = [];
  top.array('symbols').forEach((item, i) => {
    const r0 = FieldReader.of(source, `$.symbols[${i}]`, item);
    const symbol = r0.str('symbol');
    const r = new FieldReader(source, `$.symbols[${i}] ("${symbol}")`, r0.obj);
    const vendorBase = r.str('baseAsset');
    const vendorQuote = r.str('quoteAsset');
    const filters = readFilters(r);
    const priceFilter = filters.get('PRICE_FILTER');
    const lotFilter = filters.get('LOT_SIZE');

    let type: InstrumentType = 'SPOT_PAIR';
    let expiry: number | null = null;
    if (market !== 'spot') {
      const contractType = r.obj.contractType === '' ? null : r.optStr('contractType');
      if (contractType === null) {
        skipped.push({
          symbol,
          reason: `${source} "${symbol}" has no contract type (settled or not listed)`,
        });
        return;
      }
      if (contractType.includes('PERPETUAL')) type = 'PERP';
      else {
        type = 'FUTURE';
        expiry = realExpiry(r.time('deliveryDate'));
        if (expiry === null)
          throw r.fail('deliveryDate', `a dated ${contractType} contract needs a delivery date`);
      }
    }
    const baseN = normalizeCurrency(vendorBase);
    const quoteN = normalizeCurrency(vendorQuote);
    let key: string;
    try {
      key = formatInstrumentKey({
        venue,
        type,
        base: baseN,
        quote: quoteN,
        ...(expiry !== null ? { expiry: toExpiryDate(expiry) } : {}),
      });
    } catch (err) {
      if (!isUnkeyable(err)) throw err;
      skipped.push({ symbol, reason: err.message });
      return;
    }
    const { base, quote } = keyCurrencies(key);
    const margin = market === 'spot' ? null : r.optStr('marginAsset');
    const definition: InstrumentDefinition = {
      instrumentKey: key,
      venue,
      instrumentType: type,
      baseAsset: base,
      quoteAsset: quote,
      settleAsset:
        margin === null
          ? market === 'coinm'
            ? base
            : market === 'usdm'
              ? quote
              : null
          : normalizeCurrency(margin),
      expiry,
      strike: null,
      optionType: null,
      inverse: market === 'spot' ? null : market === 'coinm',
      contractMultiplier: market === 'coinm' ? r.num('contractSize') : market === 'usdm' ? 1 : null,
      tickSize: priceFilter?.optNum('tickSize') ?? null,
      lotSize: lotFilter?.optNum('stepSize') ?? null,
      minSize: lotFilter?.optNum('minQty') ?? null,
      makerFee: null,
      takerFee: null,
      listing: r.optTime('onboardDate'),
      availableFrom: null,
      availableTo: null,
      active: r.has('status')
        ? r.str('status') === 'TRADING'
        : r.has('contractStatus') // COIN-M
          ? r.str('contractStatus') === 'TRADING'
          : null,
      dataTypes: [],
      vendor: 'binance',
      vendorExchange,
      vendorSymbol: symbol,
      vendorDatasetSymbol: null,
      vendorBase: vendorBase === base ? null : vendorBase,
      vendorQuote: vendorQuote === quote ? null : vendorQuote,
    };
    definitions.push({ definition, history: [] });
  });
  return finishSet(definitions, skipped);
}

function readFilters(r: FieldReader): Map<string, FieldReader> {
  const out = new Map<string, FieldReader>();
  if (!r.has('filters')) return out;
  r.array('filters').forEach((f, j) => {
    if (!isObject(f)) throw r.fail(`filters[${j}]`, 'expected an object');
    const fr = new FieldReader(r.source, `${r.path}.filters[${j}]`, f);
    out.set(fr.str('filterType'), fr);
  });
  return out;
}
