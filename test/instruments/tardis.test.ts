import { describe, expect, it } from 'vitest';
import { SchemaMismatchError } from '../../src/errors.js';
import {
  definitionAt,
  definitionsFromTardisExchange,
  definitionsFromTardisInstruments,
} from '../../src/instruments/index.js';
import { DuplicateInstrumentKeyError } from '../../src/keys/index.js';
import { HAVE_REAL, SKIP_REASON, tardisSample } from './real.js';

const ms = (iso: string) => Date.parse(iso);

function one(exchange: string, obj: unknown) {
  const set = definitionsFromTardisInstruments(exchange, [obj]);
  expect(set.skipped).toEqual([]);
  expect(set.definitions).toHaveLength(1);
  return set.definitions[0]!;
}

describe.skipIf(!HAVE_REAL)(`Tardis /v1/instruments real samples ${HAVE_REAL ? '' : SKIP_REASON}`, () => {
  it('inverse BTC option: quoteCurrency BTC → key BTC-USD, settled in BTC', () => {
    const { definition: d, history } = one('deribit', tardisSample('option'));
    expect(d.instrumentKey).toBe('DERIBIT:OPTION:BTC-USD-200000-250425-PUT');
    expect(d.venue).toBe('DERIBIT');
    expect(d.instrumentType).toBe('OPTION');
    expect(d.baseAsset).toBe('BTC');
    expect(d.quoteAsset).toBe('USD');
    expect(d.settleAsset).toBe('BTC');
    expect(d.inverse).toBe(true);
    expect(d.strike).toBe(200000);
    expect(d.optionType).toBe('put');
    expect(d.expiry).toBe(ms('2025-04-25T08:00:00.000Z'));
    expect(d.tickSize).toBe(0.0001);
    expect(d.lotSize).toBe(0.1);
    expect(d.minSize).toBe(0.1);
    expect(d.makerFee).toBe(0.0003);
    expect(d.takerFee).toBe(0.0003);
    expect(d.contractMultiplier).toBe(1);
    expect(d.listing).toBe(ms('2025-01-31T20:38:40.000Z'));
    expect(d.availableFrom).toBe(ms('2025-01-31T00:00:00.000Z'));
    expect(d.availableTo).toBeNull();
    expect(d.active).toBe(true);
    expect(d.vendor).toBe('tardis');
    expect(d.vendorExchange).toBe('deribit');
    expect(d.vendorSymbol).toBe('BTC-25APR25-200000-P');
    expect(d.vendorDatasetSymbol).toBe('BTC-25APR25-200000-P');
    expect(d.vendorBase).toBeNull();
    expect(d.vendorQuote).toBe('BTC'); // the premium currency the vendor reports
    expect(history).toEqual([]);
  });

  it('dated inverse future', () => {
    const { definition: d } = one('deribit', tardisSample('future'));
    expect(d.instrumentKey).toBe('DERIBIT:FUTURE:BTC-USD-250214');
    expect(d.instrumentType).toBe('FUTURE');
    expect(d.expiry).toBe(ms('2025-02-14T08:00:00.000Z'));
    expect(d.settleAsset).toBe('BTC');
    expect(d.inverse).toBe(true);
    expect(d.tickSize).toBe(2.5);
    expect(d.lotSize).toBe(10);
    expect(d.makerFee).toBe(-0.0001);
    expect(d.takerFee).toBe(0.0005);
    expect(d.strike).toBeNull();
    expect(d.optionType).toBeNull();
  });

  it('BitMEX XBTUSD perpetual: key BTC, vendorBase XBT, changes[] → history', () => {
    const { definition: d, history } = one('bitmex', tardisSample('perpetual'));
    expect(d.instrumentKey).toBe('BITMEX:PERP:BTC-USD');
    expect(d.venue).toBe('BITMEX');
    expect(d.instrumentType).toBe('PERP');
    expect(d.baseAsset).toBe('BTC');
    expect(d.quoteAsset).toBe('USD');
    expect(d.vendorBase).toBe('XBT');
    expect(d.vendorQuote).toBeNull();
    expect(d.settleAsset).toBe('BTC');
    expect(d.inverse).toBe(true);
    expect(d.expiry).toBeNull();
    expect(d.listing).toBeNull();
    expect(d.tickSize).toBe(0.1);
    expect(d.lotSize).toBe(100);
    expect(d.makerFee).toBe(0.0005);
    expect(history).toEqual([
      { until: ms('2021-06-08T04:30:00.000Z'), changes: { lotSize: 1, minSize: 1 } },
      { until: ms('2024-07-31T04:00:00.000Z'), changes: { tickSize: 0.5 } },
      { until: ms('2024-10-22T00:00:00.000Z'), changes: { makerFee: 0.0002, takerFee: 0.00075 } },
    ]);
  });

  it('definitionAt applies the changes in force at a time', () => {
    const withHistory = one('bitmex', tardisSample('perpetual'));
    const early = definitionAt(withHistory, ms('2020-01-01T00:00:00Z'));
    expect([early.lotSize, early.minSize, early.tickSize, early.makerFee, early.takerFee]).toEqual([
      1, 1, 0.5, 0.0002, 0.00075,
    ]);
    const mid = definitionAt(withHistory, ms('2021-06-08T04:30:00.000Z')); // `until` is exclusive
    expect([mid.lotSize, mid.tickSize, mid.makerFee]).toEqual([100, 0.5, 0.0002]);
    const late = definitionAt(withHistory, ms('2025-01-01T00:00:00Z'));
    expect(late).toEqual(withHistory.definition);
  });

  it('Deribit spot BTC_USDC with a tick-size change', () => {
    const { definition: d, history } = one('deribit', tardisSample('spot'));
    expect(d.instrumentKey).toBe('DERIBIT:SPOT_PAIR:BTC-USDC');
    expect(d.instrumentType).toBe('SPOT_PAIR');
    expect(d.baseAsset).toBe('BTC');
    expect(d.quoteAsset).toBe('USDC');
    expect(d.settleAsset).toBeNull();
    expect(d.inverse).toBeNull();
    expect(d.contractMultiplier).toBeNull();
    expect(d.tickSize).toBe(1);
    expect(d.lotSize).toBe(0.0001);
    expect(d.vendorSymbol).toBe('BTC_USDC');
    expect(d.vendorDatasetSymbol).toBe('BTC_USDC');
    expect(history).toEqual([{ until: ms('2024-04-02T12:10:00.000Z'), changes: { tickSize: 0.01 } }]);
  });

  it('a combo is skipped with a reason, not thrown', () => {
    const set = definitionsFromTardisInstruments('deribit', [tardisSample('combo'), tardisSample('future')]);
    expect(set.definitions.map((d) => d.definition.instrumentKey)).toEqual(['DERIBIT:FUTURE:BTC-USD-250214']);
    expect(set.skipped).toHaveLength(1);
    expect(set.skipped[0]!.symbol).toBe('BTC-FS-28MAR25_PERP');
    expect(set.skipped[0]!.reason).toMatch(/combo/);
  });

  it('numbers as strings are accepted', () => {
    const o = {
      ...tardisSample('option'),
      strikePrice: '200000',
      priceIncrement: '0.0001',
      makerFee: '0.0003',
    };
    const { definition: d } = one('deribit', o);
    expect(d.instrumentKey).toBe('DERIBIT:OPTION:BTC-USD-200000-250425-PUT');
    expect(d.strike).toBe(200000);
    expect(d.tickSize).toBe(0.0001);
    expect(d.makerFee).toBe(0.0003);
  });

  it('a key collision fails loudly, naming both instruments', () => {
    const a = tardisSample('option');
    const b = { ...a, id: 'BTC-25APR25-200000-P-DUP', datasetId: 'X' };
    let err: unknown;
    try {
      definitionsFromTardisInstruments('deribit', [a, b]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DuplicateInstrumentKeyError);
    expect((err as Error).message).toContain('BTC-25APR25-200000-P');
    expect((err as Error).message).toContain('BTC-25APR25-200000-P-DUP');
    // The same instrument listed twice is not a collision.
    expect(definitionsFromTardisInstruments('deribit', [a, a]).definitions).toHaveLength(2);
  });

  it('malformed shapes throw SchemaMismatchError naming the source and field', () => {
    const base = tardisSample('future');
    const cases: [unknown, RegExp][] = [
      [{ not: 'an array' }, /tardis \/v1\/instruments\/deribit: \$: expected an array/],
      [[42], /\[0\]: expected an object/],
      [[{ ...base, id: undefined }], /\[0\]\.id: expected a non-empty string/],
      [
        [{ ...base, priceIncrement: 'abc' }],
        /"BTC-14FEB25"\)\.priceIncrement: expected a number, got string "abc"/,
      ],
      [[{ ...base, expiry: 'soon' }], /\.expiry: expected an ISO-8601 time/],
      [[{ ...base, changes: [{ until: 'x', priceIncrement: 1 }] }], /\.changes\[0\]\.until/],
      [[{ ...base, changes: {} }], /\.changes: expected an array/],
      [[{ ...base, exchange: 'bitmex' }], /\.exchange: is "bitmex", expected "deribit"/],
      [[{ ...base, inverse: 'yes' }], /\.inverse: expected true or false/],
      [[{ ...base, optionType: 'straddle' }], /\.optionType: expected "call" or "put"/],
    ];
    for (const [json, re] of cases) {
      expect(() => definitionsFromTardisInstruments('deribit', json)).toThrow(SchemaMismatchError);
      expect(() => definitionsFromTardisInstruments('deribit', json)).toThrow(re);
    }
  });
});

describe('Tardis /v1/exchanges/{exchange} datasets.symbols', () => {
  const deribit = {
    id: 'deribit',
    name: 'Deribit',
    enabled: true,
    datasets: {
      formats: ['csv'],
      symbols: [
        {
          id: 'BTC-PERPETUAL',
          type: 'perpetual',
          availableSince: '2019-03-30T00:00:00.000Z',
          dataTypes: ['trades', 'incremental_book_L2'],
        },
        {
          id: 'BTC-25APR25-200000-P',
          type: 'option',
          availableSince: '2025-01-31T00:00:00.000Z',
          availableTo: '2025-04-25T08:00:00.000Z',
          dataTypes: ['trades', 'quotes'],
        },
        {
          id: 'OPTIONS',
          type: 'option',
          availableSince: '2019-03-30T00:00:00.000Z',
          dataTypes: ['options_chain'],
        },
        {
          id: 'BTC-FS-28MAR25_PERP',
          type: 'combo',
          availableSince: '2024-03-29T00:00:00.000Z',
          dataTypes: [],
        },
      ],
    },
  };

  it('keys what it can infer, nulls the rest, skips combos and grouped ids', () => {
    const set = definitionsFromTardisExchange('deribit', deribit);
    expect(set.definitions.map((d) => d.definition.instrumentKey)).toEqual([
      'DERIBIT:PERP:BTC-USD',
      'DERIBIT:OPTION:BTC-USD-200000-250425-PUT',
    ]);
    const perp = set.definitions[0]!.definition;
    expect(perp.availableFrom).toBe(ms('2019-03-30T00:00:00.000Z'));
    expect(perp.availableTo).toBeNull();
    expect(perp.dataTypes).toEqual(['trades', 'incremental_book_L2']);
    expect(perp.vendorSymbol).toBe('BTC-PERPETUAL');
    expect(perp.vendorDatasetSymbol).toBe('BTC-PERPETUAL');
    for (const f of [
      'tickSize',
      'lotSize',
      'minSize',
      'makerFee',
      'takerFee',
      'settleAsset',
      'inverse',
    ] as const) {
      expect(perp[f], f).toBeNull();
    }
    const opt = set.definitions[1]!.definition;
    expect(opt.strike).toBe(200000);
    expect(opt.optionType).toBe('put');
    expect(opt.expiry).toBeNull(); // the symbol has the date (in the key), not the time
    expect(opt.availableTo).toBe(ms('2025-04-25T08:00:00.000Z'));
    expect(set.skipped.map((s) => s.symbol)).toEqual(['OPTIONS', 'BTC-FS-28MAR25_PERP']);
    expect(set.skipped[0]!.reason).toMatch(/grouped/);
  });

  it('BitMEX XBTUSD from the symbol: BTC with vendorBase XBT', () => {
    const set = definitionsFromTardisExchange('bitmex', {
      datasets: {
        symbols: [{ id: 'XBTUSD', type: 'perpetual', availableSince: '2019-03-30T00:00:00.000Z' }],
      },
    });
    const d = set.definitions[0]!.definition;
    expect(d.instrumentKey).toBe('BITMEX:PERP:BTC-USD');
    expect(d.vendorBase).toBe('XBT');
    expect(d.dataTypes).toEqual([]);
  });

  it('an exchange without symbol heuristics skips everything, never throws', () => {
    const set = definitionsFromTardisExchange('no-such-exchange', {
      datasets: { symbols: [{ id: 'BTCUSD', type: 'spot' }] },
    });
    expect(set.definitions).toEqual([]);
    expect(set.skipped[0]!.reason).toMatch(/no symbol heuristic/);
  });

  it('malformed shapes throw SchemaMismatchError', () => {
    const cases: [unknown, RegExp][] = [
      [[], /tardis \/v1\/exchanges\/deribit: \$: expected an object/],
      [{}, /\$\.datasets: expected an object/],
      [{ datasets: { symbols: 'x' } }, /\$\.datasets\.symbols: expected an array/],
      [{ datasets: { symbols: [{ type: 'spot' }] } }, /symbols\[0\]\.id/],
      [
        { datasets: { symbols: [{ id: 'BTC-PERPETUAL', type: 'perpetual', dataTypes: [1] }] } },
        /dataTypes\[0\]/,
      ],
      [
        { datasets: { symbols: [{ id: 'BTC-PERPETUAL', type: 'perpetual', availableSince: 'x' }] } },
        /availableSince/,
      ],
    ];
    for (const [json, re] of cases) {
      expect(() => definitionsFromTardisExchange('deribit', json)).toThrow(SchemaMismatchError);
      expect(() => definitionsFromTardisExchange('deribit', json)).toThrow(re);
    }
  });

  it('a key collision fails loudly', () => {
    const json = {
      datasets: {
        symbols: [
          { id: 'BTC-PERPETUAL', type: 'perpetual' },
          { id: 'btc-perpetual', type: 'perpetual' },
        ],
      },
    };
    expect(() => definitionsFromTardisExchange('deribit', json)).toThrow(DuplicateInstrumentKeyError);
  });
});
