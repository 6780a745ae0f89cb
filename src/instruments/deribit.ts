/**
 * Deribit `public/get_instruments` → canonical definitions (pure function over parsed JSON).
 *
 * Keys use the same rule as Tardis (`tardisInstrumentKey` with exchange `deribit`): BASE-QUOTE is the
 * underlying pair, so inverse BTC options (premium in BTC) key as `DERIBIT:OPTION:BTC-USD-…`.
 */
import { normalizeCurrency, type TardisInstrumentType, tardisInstrumentKey, venueOf } from '../keys/index.js';
import { FieldReader, finishSet, isUnkeyable, keyCurrencies, realExpiry, shapeError } from './json.js';
import type {
  DefinitionSet,
  DefinitionWithHistory,
  InstrumentDefinition,
  SkippedInstrument,
} from './types.js';

const KINDS: Readonly<Record<string, TardisInstrumentType>> = {
  spot: 'spot',
  future: 'future',
  option: 'option',
  future_combo: 'combo',
  option_combo: 'combo',
};

/**
 * Definitions from a `public/get_instruments` response (`{jsonrpc, result: [...]}`; a bare `result`
 * array is accepted too). `kind` future with `settlement_period` perpetual → PERP. The key's quote is
 * `counter_currency` when given (the underlying's quote), else `quote_currency`; a quote equal to the
 * base (inverse options) becomes USD. `inverse` from `instrument_type` (reversed/linear); when absent
 * (older responses) a derivative quoted in its base or in USD is inverse (Deribit has no USD
 * settlement). `settleAsset` is `settlement_currency`, else the base (inverse) or quote (linear).
 * `lotSize` and `minSize` are both `min_trade_amount` (Deribit amounts are multiples of it).
 * Combos are skipped.
 */
export function definitionsFromDeribitInstruments(json: unknown): DefinitionSet {
  const source = 'deribit public/get_instruments';
  let items: unknown[];
  if (Array.isArray(json)) items = json;
  else {
    const top = FieldReader.of(source, '$', json);
    if (top.has('error')) {
      const e = top.obj.error;
      const msg =
        typeof e === 'object' && e !== null ? String((e as { message?: unknown }).message) : String(e);
      throw shapeError(source, '$.error', `the response is an error: ${msg}`);
    }
    items = top.array('result');
  }
  const definitions: DefinitionWithHistory[] = [];
  const skipped: SkippedInstrument[] = [];
  items.forEach((item, i) => {
    const r0 = FieldReader.of(source, `$.result[${i}]`, item);
    const name = r0.str('instrument_name');
    const r = new FieldReader(source, `$.result[${i}] ("${name}")`, r0.obj);
    const kind = r.str('kind');
    const tardisType = KINDS[kind];
    if (tardisType === undefined) throw r.fail('kind', `unknown kind "${kind}"`);
    const perpetual = r.optStr('settlement_period') === 'perpetual';
    const type: TardisInstrumentType = tardisType === 'future' && perpetual ? 'perpetual' : tardisType;
    const vendorBase = r.str('base_currency');
    const vendorQuote = r.str('quote_currency');
    const counter = r.optStr('counter_currency');
    const expiryMs = type === 'future' || type === 'option' ? r.time('expiration_timestamp') : null;
    const strike = type === 'option' ? r.num('strike') : null;
    let optionType: 'call' | 'put' | null = null;
    if (type === 'option') {
      const ot = r.str('option_type');
      if (ot !== 'call' && ot !== 'put') throw r.fail('option_type', `expected "call" or "put", got "${ot}"`);
      optionType = ot;
    }
    let key: string;
    try {
      key = tardisInstrumentKey({
        exchange: 'deribit',
        symbol: name,
        type,
        base: vendorBase,
        quote: type === 'spot' ? vendorQuote : (counter ?? vendorQuote),
        ...(expiryMs !== null ? { expiry: expiryMs } : {}),
        ...(strike !== null ? { strike } : {}),
        ...(optionType !== null ? { optionType } : {}),
      });
    } catch (err) {
      if (!isUnkeyable(err)) throw err;
      skipped.push({ symbol: name, reason: err.message });
      return;
    }
    const { type: instrumentType, base, quote } = keyCurrencies(key);
    const spot = type === 'spot';
    const vendorKind = r.optStr('instrument_type');
    const normQuote = normalizeCurrency(vendorQuote, 'deribit');
    const inverse = spot
      ? null
      : vendorKind === 'reversed'
        ? true
        : vendorKind === 'linear'
          ? false
          : normQuote === base || normQuote === 'USD';
    const settlement = r.optStr('settlement_currency');
    const settleAsset = spot
      ? null
      : settlement !== null
        ? normalizeCurrency(settlement, 'deribit')
        : inverse
          ? base
          : normQuote;
    const minTrade = r.optNum('min_trade_amount');
    const definition: InstrumentDefinition = {
      instrumentKey: key,
      venue: venueOf('deribit'),
      instrumentType,
      baseAsset: base,
      quoteAsset: quote,
      settleAsset,
      expiry: realExpiry(expiryMs),
      strike,
      optionType,
      inverse,
      contractMultiplier: r.optNum('contract_size'),
      tickSize: r.optNum('tick_size'),
      lotSize: minTrade,
      minSize: minTrade,
      makerFee: r.optNum('maker_commission'),
      takerFee: r.optNum('taker_commission'),
      listing: r.optTime('creation_timestamp'),
      availableFrom: null,
      availableTo: null,
      active: r.optBool('is_active'),
      dataTypes: [],
      vendor: 'deribit',
      vendorExchange: 'deribit',
      vendorSymbol: name,
      vendorDatasetSymbol: null,
      vendorBase: vendorBase.toUpperCase() === base ? null : vendorBase,
      vendorQuote: vendorQuote.toUpperCase() === quote ? null : vendorQuote,
    };
    definitions.push({ definition, history: [] });
  });
  return finishSet(definitions, skipped);
}
