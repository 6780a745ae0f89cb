/**
 * Tardis.dev instrument lists → canonical definitions (pure functions over parsed JSON; the HTTP client
 * comes later).
 *
 * - `definitionsFromTardisInstruments(exchange, json)`: `GET /v1/instruments/{exchange}` (an array of
 *   full instrument objects, `changes[]` → `DefinitionChange[]`).
 * - `definitionsFromTardisExchange(exchange, json)`: `GET /v1/exchanges/{exchange}` (`datasets.symbols`:
 *   id, type, availability and data types only; the key is inferred from the symbol, every other
 *   attribute is null).
 *
 * Instruments without a key (combos, grouped dataset symbols such as `OPTIONS`, symbols no heuristic
 * recognizes) are listed in `skipped`; malformed shapes throw `SchemaMismatchError`; two instruments
 * with one key throw `DuplicateInstrumentKeyError`.
 */
import {
  CURRENCY_ALIASES,
  EXCHANGE_CURRENCY_ALIASES,
  inferTardisInstrument,
  normalizeCurrency,
  type TardisInstrumentDefinition,
  tardisDatasetSymbol,
  tardisDefinitionToKey,
  tardisKeyForSymbol,
  venueOf,
} from '../keys/index.js';
import {
  FieldReader,
  finishSet,
  isUnkeyable,
  keyCurrencies,
  realExpiry,
  shapeError,
  topArray,
} from './json.js';
import type {
  DefinitionChange,
  DefinitionSet,
  DefinitionWithHistory,
  InstrumentDefinition,
  SkippedInstrument,
} from './types.js';

/** Tardis field → definition field, for the attributes `changes[]` can carry. */
const CHANGE_FIELDS = {
  priceIncrement: 'tickSize',
  amountIncrement: 'lotSize',
  minTradeAmount: 'minSize',
  makerFee: 'makerFee',
  takerFee: 'takerFee',
  contractMultiplier: 'contractMultiplier',
} as const satisfies Record<string, keyof DefinitionChange['changes']>;

/**
 * The vendor's spelling of a normalized currency: `raw` when it differs from `canonical`, else an alias
 * of `canonical` (`XBT` for BTC) that the vendor symbol uses, else null. Tardis reports `baseCurrency`
 * already normalized (`BTC` for BitMEX `XBTUSD`), so the symbol is where the vendor spelling survives.
 */
const aliasCache = new Map<string, [string, string][]>();

function aliasEntries(exchange: string): [string, string][] {
  let e = aliasCache.get(exchange);
  if (!e) {
    e = Object.entries({ ...CURRENCY_ALIASES, ...EXCHANGE_CURRENCY_ALIASES[exchange] });
    aliasCache.set(exchange, e);
  }
  return e;
}

export function vendorSpelling(
  canonical: string,
  raw: string | null,
  symbol: string,
  exchange: string,
): string | null {
  const r = raw?.trim().toUpperCase();
  if (r !== undefined && r !== '' && r !== canonical) return r;
  const sym = symbol.toUpperCase();
  for (const [alias, canon] of aliasEntries(exchange)) {
    if (canon === canonical && sym.includes(alias) && !sym.includes(canonical)) return alias;
  }
  return null;
}

function readChanges(r: FieldReader): DefinitionChange[] {
  if (!r.has('changes')) return [];
  const out = r.array('changes').map((c, i) => {
    const cr = FieldReader.of(r.source, `${r.path}.changes[${i}]`, c);
    const changes: DefinitionChange['changes'] = {};
    for (const [vendorField, field] of Object.entries(CHANGE_FIELDS)) {
      const v = cr.optNum(vendorField);
      if (v !== null) changes[field] = v;
    }
    return { until: cr.time('until'), changes };
  });
  return out.sort((a, b) => a.until - b.until);
}

/**
 * Definitions from a Tardis `/v1/instruments/{exchange}` response (an array of instrument objects).
 * Keys come from `tardisDefinitionToKey` (Deribit inverse options: `quoteCurrency` BTC → key BTC-USD);
 * `quoteAsset` is the key's (underlying) quote, `settleAsset` is `settlementCurrency`, else the base
 * for inverse contracts, else the vendor quote (linear); null for spot. Times (ISO) → ms. `changes[]`
 * (the values in force before each `until`) becomes `history`, oldest first.
 */
export function definitionsFromTardisInstruments(exchange: string, json: unknown): DefinitionSet {
  const source = `tardis /v1/instruments/${exchange}`;
  const definitions: DefinitionWithHistory[] = [];
  const skipped: SkippedInstrument[] = [];
  topArray(source, json).forEach((item, i) => {
    const r = FieldReader.of(source, `[${i}]`, item);
    const id = r.str('id');
    const path = `[${i}] ("${id}")`;
    const rr = new FieldReader(source, path, r.obj);
    const itemExchange = rr.str('exchange');
    if (itemExchange !== exchange) {
      throw shapeError(source, `${path}.exchange`, `is "${itemExchange}", expected "${exchange}"`);
    }
    const type = rr.str('type');
    const vendorBaseRaw = rr.str('baseCurrency');
    const vendorQuoteRaw = rr.str('quoteCurrency');
    const expiryMs = rr.optTime('expiry');
    const strike = rr.optNum('strikePrice');
    const optionTypeRaw = rr.optStr('optionType')?.toLowerCase() ?? null;
    if (optionTypeRaw !== null && optionTypeRaw !== 'call' && optionTypeRaw !== 'put') {
      throw rr.fail('optionType', `expected "call" or "put", got "${optionTypeRaw}"`);
    }
    const tardisDef: TardisInstrumentDefinition = {
      id,
      exchange,
      baseCurrency: vendorBaseRaw,
      quoteCurrency: vendorQuoteRaw,
      type,
      expiry: expiryMs === null ? null : new Date(expiryMs).toISOString(),
      strikePrice: strike,
      optionType: optionTypeRaw,
    };
    let key: string;
    try {
      key = tardisDefinitionToKey(tardisDef);
    } catch (err) {
      if (!isUnkeyable(err)) throw err;
      skipped.push({ symbol: id, reason: err.message });
      return;
    }
    const { type: instrumentType, base, quote } = keyCurrencies(key);
    const inverse = rr.optBool('inverse');
    const spot = type === 'spot';
    const settlement = rr.optStr('settlementCurrency');
    const settleAsset = spot
      ? null
      : settlement !== null
        ? normalizeCurrency(settlement, exchange)
        : inverse === true
          ? base
          : inverse === false
            ? normalizeCurrency(vendorQuoteRaw, exchange)
            : null;
    const definition: InstrumentDefinition = {
      instrumentKey: key,
      venue: venueOf(exchange),
      instrumentType,
      baseAsset: base,
      quoteAsset: quote,
      settleAsset,
      expiry: realExpiry(expiryMs),
      strike,
      optionType: optionTypeRaw,
      inverse: spot ? null : inverse,
      contractMultiplier: rr.optNum('contractMultiplier'),
      tickSize: rr.optNum('priceIncrement'),
      lotSize: rr.optNum('amountIncrement'),
      minSize: rr.optNum('minTradeAmount'),
      makerFee: rr.optNum('makerFee'),
      takerFee: rr.optNum('takerFee'),
      listing: rr.optTime('listing'),
      availableFrom: rr.optTime('availableSince'),
      availableTo: rr.optTime('availableTo'),
      active: rr.optBool('active'),
      dataTypes: [],
      vendor: 'tardis',
      vendorExchange: exchange,
      vendorSymbol: id,
      vendorDatasetSymbol: rr.optStr('datasetId') ?? tardisDatasetSymbol(id),
      vendorBase: vendorSpelling(base, vendorBaseRaw, id, exchange),
      vendorQuote: vendorSpelling(quote, vendorQuoteRaw, id, exchange),
    };
    definitions.push({ definition, history: readChanges(rr) });
  });
  return finishSet(definitions, skipped);
}

/**
 * Definitions from a Tardis `/v1/exchanges/{exchange}` response: one per `datasets.symbols[]` entry
 * whose key `tardisKeyForSymbol` can infer. Only the key, base/quote, availability (`availableSince`,
 * `availableTo`) and `dataTypes` are known; every other attribute is null. `vendorDatasetSymbol` is the
 * dataset symbol itself; strike and option type come from the symbol, the expiry time is
 * unknown (null; the key has the date). The symbol's own `type` must agree with the inferred one, else it is skipped.
 */
export function definitionsFromTardisExchange(exchange: string, json: unknown): DefinitionSet {
  const source = `tardis /v1/exchanges/${exchange}`;
  const top = FieldReader.of(source, '$', json);
  const datasets = FieldReader.of(source, '$.datasets', top.obj.datasets);
  const definitions: DefinitionWithHistory[] = [];
  const skipped: SkippedInstrument[] = [];
  datasets.array('symbols').forEach((item, i) => {
    const r0 = FieldReader.of(source, `$.datasets.symbols[${i}]`, item);
    const id = r0.str('id');
    const r = new FieldReader(source, `$.datasets.symbols[${i}] ("${id}")`, r0.obj);
    const type = r.str('type');
    const availableFrom = r.optTime('availableSince');
    const availableTo = r.optTime('availableTo');
    const dataTypes = r.optStrings('dataTypes');
    let key: string;
    let strike: number | null = null;
    let optionType: 'call' | 'put' | null = null;
    try {
      const inferred = inferTardisInstrument(exchange, id);
      if (inferred.type !== type) {
        skipped.push({
          symbol: id,
          reason: `${source} "${id}" is listed as ${type} but its symbol reads as ${inferred.type}`,
        });
        return;
      }
      key = tardisKeyForSymbol(exchange, id);
      if (inferred.strike !== undefined) strike = Number(inferred.strike);
      optionType = inferred.optionType ?? null;
    } catch (err) {
      if (!isUnkeyable(err)) throw err;
      skipped.push({ symbol: id, reason: err.message });
      return;
    }
    const { type: instrumentType, base, quote } = keyCurrencies(key);
    const definition: InstrumentDefinition = {
      instrumentKey: key,
      venue: venueOf(exchange),
      instrumentType,
      baseAsset: base,
      quoteAsset: quote,
      settleAsset: null,
      // The symbol gives the expiry date only (it is in the key), not the time: unknown.
      expiry: null,
      strike,
      optionType,
      inverse: null,
      contractMultiplier: null,
      tickSize: null,
      lotSize: null,
      minSize: null,
      makerFee: null,
      takerFee: null,
      listing: null,
      availableFrom,
      availableTo,
      active: null,
      dataTypes,
      vendor: 'tardis',
      vendorExchange: exchange,
      vendorSymbol: id,
      vendorDatasetSymbol: id,
      vendorBase: vendorSpelling(base, null, id, exchange),
      vendorQuote: vendorSpelling(quote, null, id, exchange),
    };
    definitions.push({ definition, history: [] });
  });
  return finishSet(definitions, skipped);
}
