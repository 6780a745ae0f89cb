import { describe, expect, it } from 'vitest';
import { SchemaMismatchError } from '../../src/errors.js';
import { definitionsFromDeribitInstruments, type InstrumentDefinition } from '../../src/instruments/index.js';
import { DuplicateInstrumentKeyError, isValidInstrumentKey } from '../../src/keys/index.js';
import { HAVE_REAL, readReal, SKIP_REASON } from './real.js';

const SAMPLE = 'deribit/cryptofeed_get_instruments_BTC_2021-07-22.json';
type Raw = Record<string, unknown>;

describe.skipIf(!HAVE_REAL)(
  `Deribit public/get_instruments real sample ${HAVE_REAL ? '' : SKIP_REASON}`,
  () => {
    const json = () => readReal(SAMPLE) as { result: Raw[] };
    const bySymbol = () => {
      const set = definitionsFromDeribitInstruments(json());
      return new Map<string, InstrumentDefinition>(
        set.definitions.map((d) => [d.definition.vendorSymbol, d.definition]),
      );
    };

    it('all 398 instruments get valid, unique keys; nothing skipped', () => {
      const set = definitionsFromDeribitInstruments(json());
      expect(set.skipped).toEqual([]);
      expect(set.definitions).toHaveLength(398);
      const keys = set.definitions.map((d) => d.definition.instrumentKey);
      expect(new Set(keys).size).toBe(398);
      expect(keys.every((k) => isValidInstrumentKey(k))).toBe(true);
      const types: Record<string, number> = {};
      for (const { definition: d, history } of set.definitions) {
        types[d.instrumentType] = (types[d.instrumentType] ?? 0) + 1;
        expect(history).toEqual([]);
      }
      expect(types).toEqual({ OPTION: 390, FUTURE: 7, PERP: 1 });
    });

    it('every option carries its strike, expiry, right and tick size as given', () => {
      const defs = bySymbol();
      for (const raw of json().result) {
        const d = defs.get(raw.instrument_name as string)!;
        expect(d, raw.instrument_name as string).toBeDefined();
        expect(d.tickSize).toBe(raw.tick_size);
        if (raw.kind !== 'option') continue;
        expect(d.strike).toBe(raw.strike);
        expect(d.expiry).toBe(raw.expiration_timestamp);
        expect(d.optionType).toBe(raw.option_type);
        expect(d.instrumentKey.startsWith('DERIBIT:OPTION:BTC-USD-')).toBe(true);
      }
    });

    it('inverse BTC put BTC-24SEP21-40000-P', () => {
      const d = bySymbol().get('BTC-24SEP21-40000-P')!;
      expect(d.instrumentKey).toBe('DERIBIT:OPTION:BTC-USD-40000-210924-PUT');
      expect(d.venue).toBe('DERIBIT');
      expect(d.instrumentType).toBe('OPTION');
      expect(d.baseAsset).toBe('BTC');
      expect(d.quoteAsset).toBe('USD');
      expect(d.settleAsset).toBe('BTC');
      expect(d.inverse).toBe(true);
      expect(d.strike).toBe(40000);
      expect(d.optionType).toBe('put');
      expect(d.expiry).toBe(Date.parse('2021-09-24T08:00:00Z'));
      expect(d.tickSize).toBe(0.0005);
      expect(d.lotSize).toBe(0.1);
      expect(d.minSize).toBe(0.1);
      expect(d.contractMultiplier).toBe(1);
      expect(d.makerFee).toBe(0.0003);
      expect(d.takerFee).toBe(0.0003);
      expect(d.listing).toBe(1606129458000);
      expect(d.active).toBe(true);
      expect(d.vendor).toBe('deribit');
      expect(d.vendorExchange).toBe('deribit');
      expect(d.vendorQuote).toBe('BTC');
      expect(d.vendorDatasetSymbol).toBeNull();
    });

    it('inverse BTC call BTC-24JUN22-30000-C and a weekly call', () => {
      const defs = bySymbol();
      const jun = defs.get('BTC-24JUN22-30000-C')!;
      expect(jun.instrumentKey).toBe('DERIBIT:OPTION:BTC-USD-30000-220624-CALL');
      expect(jun.optionType).toBe('call');
      expect(jun.expiry).toBe(Date.parse('2022-06-24T08:00:00Z'));
      const aug = defs.get('BTC-6AUG21-40000-C')!;
      expect(aug.instrumentKey).toBe('DERIBIT:OPTION:BTC-USD-40000-210806-CALL');
      expect(aug.strike).toBe(40000);
    });

    it('dated future BTC-25MAR22 and the perpetual', () => {
      const defs = bySymbol();
      const fut = defs.get('BTC-25MAR22')!;
      expect(fut.instrumentKey).toBe('DERIBIT:FUTURE:BTC-USD-220325');
      expect(fut.instrumentType).toBe('FUTURE');
      expect(fut.expiry).toBe(1648195200000);
      expect(fut.strike).toBeNull();
      expect(fut.optionType).toBeNull();
      expect(fut.tickSize).toBe(0.5);
      expect(fut.contractMultiplier).toBe(10);
      expect(fut.lotSize).toBe(10);
      expect(fut.inverse).toBe(true);
      expect(fut.settleAsset).toBe('BTC');
      expect(fut.vendorQuote).toBeNull();
      const weekly = defs.get('BTC-23JUL21')!;
      expect(weekly.instrumentKey).toBe('DERIBIT:FUTURE:BTC-USD-210723');
      expect(weekly.makerFee).toBe(-0.0001);
      const perp = defs.get('BTC-PERPETUAL')!;
      expect(perp.instrumentKey).toBe('DERIBIT:PERP:BTC-USD');
      expect(perp.instrumentType).toBe('PERP');
      expect(perp.expiry).toBeNull(); // 3000-01-01 placeholder dropped
      expect(perp.listing).toBe(1534242287000);
      expect(perp.inverse).toBe(true);
    });

    it('a key collision fails loudly', () => {
      const j = json();
      const opt = j.result.find((r) => r.instrument_name === 'BTC-24SEP21-40000-P')!;
      const dup = { ...j, result: [...j.result, { ...opt, instrument_name: 'BTC-24SEP21-40000-P-OLD' }] };
      expect(() => definitionsFromDeribitInstruments(dup)).toThrow(DuplicateInstrumentKeyError);
      expect(() => definitionsFromDeribitInstruments(dup)).toThrow(/BTC-24SEP21-40000-P-OLD/);
    });
  },
);

describe('Deribit public/get_instruments (current field set)', () => {
  const linearOption = {
    instrument_name: 'BTC_USDC-27JUN25-100000-C',
    kind: 'option',
    instrument_type: 'linear',
    base_currency: 'BTC',
    quote_currency: 'USDC',
    counter_currency: 'USDC',
    settlement_currency: 'USDC',
    settlement_period: 'month',
    strike: 100000,
    option_type: 'call',
    expiration_timestamp: Date.parse('2025-06-27T08:00:00Z'),
    creation_timestamp: 1735000000000,
    tick_size: 5,
    contract_size: 0.01,
    min_trade_amount: 0.01,
    maker_commission: 0.0003,
    taker_commission: 0.0003,
    is_active: true,
  };
  const spot = {
    instrument_name: 'BTC_USDC',
    kind: 'spot',
    base_currency: 'BTC',
    quote_currency: 'USDC',
    tick_size: 1,
    min_trade_amount: 0.0001,
    is_active: true,
  };
  const inverseOption = {
    instrument_name: 'BTC-27JUN25-100000-C',
    kind: 'option',
    instrument_type: 'reversed',
    base_currency: 'BTC',
    quote_currency: 'BTC',
    counter_currency: 'USD',
    settlement_currency: 'BTC',
    strike: 100000,
    option_type: 'call',
    expiration_timestamp: Date.parse('2025-06-27T08:00:00Z'),
    tick_size: 0.0001,
  };

  it('linear USDC option, inverse option (counter_currency) and spot BTC_USDC', () => {
    const set = definitionsFromDeribitInstruments({
      jsonrpc: '2.0',
      result: [linearOption, inverseOption, spot],
    });
    const [lin, inv, sp] = set.definitions.map((d) => d.definition);
    expect(lin!.instrumentKey).toBe('DERIBIT:OPTION:BTC-USDC-100000-250627-CALL');
    expect(lin!.inverse).toBe(false);
    expect(lin!.settleAsset).toBe('USDC');
    expect(lin!.contractMultiplier).toBe(0.01);
    expect(inv!.instrumentKey).toBe('DERIBIT:OPTION:BTC-USD-100000-250627-CALL');
    expect(inv!.inverse).toBe(true);
    expect(inv!.settleAsset).toBe('BTC');
    expect(inv!.quoteAsset).toBe('USD');
    expect(sp!.instrumentKey).toBe('DERIBIT:SPOT_PAIR:BTC-USDC');
    expect(sp!.instrumentType).toBe('SPOT_PAIR');
    expect(sp!.settleAsset).toBeNull();
    expect(sp!.inverse).toBeNull();
    expect(sp!.expiry).toBeNull();
    expect(sp!.tickSize).toBe(1);
  });

  it('combos are skipped; a bare result array is accepted', () => {
    const combo = { ...spot, instrument_name: 'BTC-FS-28MAR25_PERP', kind: 'future_combo' };
    const set = definitionsFromDeribitInstruments([combo, spot]);
    expect(set.definitions).toHaveLength(1);
    expect(set.skipped.map((s) => s.symbol)).toEqual(['BTC-FS-28MAR25_PERP']);
  });

  it('malformed shapes throw SchemaMismatchError naming the source and field', () => {
    const cases: [unknown, RegExp][] = [
      ['x', /deribit public\/get_instruments: \$: expected an object/],
      [{ jsonrpc: '2.0' }, /\$\.result: expected an array/],
      [
        { error: { message: 'bad_request', code: 11050 } },
        /\$\.error: the response is an error: bad_request/,
      ],
      [{ result: [{ ...spot, kind: 'swap' }] }, /"BTC_USDC"\)\.kind: unknown kind "swap"/],
      [{ result: [{ ...linearOption, strike: null }] }, /\.strike: expected a number, got null/],
      [{ result: [{ ...linearOption, option_type: 'C' }] }, /\.option_type: expected "call" or "put"/],
      [{ result: [{ ...linearOption, expiration_timestamp: 'later' }] }, /\.expiration_timestamp/],
      [{ result: [{ ...spot, tick_size: '' }] }, /\.tick_size: expected a number/],
      [{ result: [{ ...spot, instrument_name: 7 }] }, /\$\.result\[0\]\.instrument_name/],
    ];
    for (const [json, re] of cases) {
      expect(() => definitionsFromDeribitInstruments(json)).toThrow(SchemaMismatchError);
      expect(() => definitionsFromDeribitInstruments(json)).toThrow(re);
    }
  });
});
