import { describe, expect, it } from 'vitest';
import { SchemaMismatchError } from '../../src/errors.js';
import {
  definitionsFromBinanceExchangeInfo,
  type InstrumentDefinition,
} from '../../src/instruments/index.js';
import { DuplicateInstrumentKeyError, isValidInstrumentKey } from '../../src/keys/index.js';
import { HAVE_REAL, readReal, SKIP_REASON } from './real.js';

const REST = 'binance/rest';
type Info = { symbols: Record<string, unknown>[] };

function bySymbol(defs: { definition: InstrumentDefinition }[]): Map<string, InstrumentDefinition> {
  return new Map(defs.map((d) => [d.definition.vendorSymbol, d.definition]));
}

describe.skipIf(!HAVE_REAL)(`Binance exchangeInfo real samples ${HAVE_REAL ? '' : SKIP_REASON}`, () => {
  it('spot (nautilus capture): BTCUSDT tick/lot/min from PRICE_FILTER and LOT_SIZE', () => {
    const set = definitionsFromBinanceExchangeInfo(
      'spot',
      readReal(`${REST}/nautilus_spot_exchange_info.json`),
    );
    expect(set.skipped).toEqual([]);
    const defs = bySymbol(set.definitions);
    const btc = defs.get('BTCUSDT')!;
    expect(btc.instrumentKey).toBe('BINANCE:SPOT_PAIR:BTC-USDT');
    expect(btc.venue).toBe('BINANCE');
    expect(btc.instrumentType).toBe('SPOT_PAIR');
    expect(btc.baseAsset).toBe('BTC');
    expect(btc.quoteAsset).toBe('USDT');
    expect(btc.tickSize).toBe(0.01);
    expect(btc.lotSize).toBe(0.00001);
    expect(btc.minSize).toBe(0.00001);
    expect(btc.settleAsset).toBeNull();
    expect(btc.inverse).toBeNull();
    expect(btc.contractMultiplier).toBeNull();
    expect(btc.expiry).toBeNull();
    expect(btc.active).toBe(true);
    expect(btc.makerFee).toBeNull();
    expect(btc.vendor).toBe('binance');
    expect(btc.vendorExchange).toBe('binance');
    expect(btc.vendorSymbol).toBe('BTCUSDT');
    const eth = defs.get('ETHUSDT')!;
    expect(eth.instrumentKey).toBe('BINANCE:SPOT_PAIR:ETH-USDT');
    expect(eth.lotSize).toBe(0.0001);
    expect(eth.minSize).toBe(0.0001);
  });

  it('spot (cryptofeed capture, 1695 symbols): unique keys, BREAK pairs inactive', () => {
    const json = readReal(`${REST}/cryptofeed_binance_spot_exchangeInfo_2021-10-12.json`) as Info;
    const set = definitionsFromBinanceExchangeInfo('spot', json);
    expect(set.skipped).toEqual([]);
    expect(set.definitions).toHaveLength(json.symbols.length);
    const keys = set.definitions.map((d) => d.definition.instrumentKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.every((k) => isValidInstrumentKey(k))).toBe(true);
    expect(set.definitions.filter((d) => d.definition.active === false)).toHaveLength(
      json.symbols.filter((s) => s.status !== 'TRADING').length,
    );
    const defs = bySymbol(set.definitions);
    const ethbtc = defs.get('ETHBTC')!;
    expect(ethbtc.instrumentKey).toBe('BINANCE:SPOT_PAIR:ETH-BTC');
    expect(ethbtc.tickSize).toBe(0.000001);
    expect(ethbtc.lotSize).toBe(0.0001);
    expect(ethbtc.minSize).toBe(0.0001);
    const btc = defs.get('BTCUSDT')!;
    expect(btc.instrumentKey).toBe('BINANCE:SPOT_PAIR:BTC-USDT');
    expect(btc.tickSize).toBe(0.01);
  });

  it('USDⓈ-M futures: perpetuals and a dated quarterly', () => {
    const set = definitionsFromBinanceExchangeInfo(
      'usdm',
      readReal(`${REST}/nautilus_futures_exchange_info.json`),
    );
    const defs = bySymbol(set.definitions);
    const perp = defs.get('BTCUSDT')!;
    expect(perp.instrumentKey).toBe('BINANCE:PERP:BTC-USDT');
    expect(perp.instrumentType).toBe('PERP');
    expect(perp.expiry).toBeNull(); // deliveryDate 2100 placeholder dropped
    expect(perp.inverse).toBe(false);
    expect(perp.settleAsset).toBe('USDT');
    expect(perp.contractMultiplier).toBe(1);
    expect(perp.tickSize).toBe(0.1);
    expect(perp.lotSize).toBe(0.001);
    expect(perp.minSize).toBe(0.001);
    expect(perp.listing).toBe(1569398400000);
    expect(perp.vendorExchange).toBe('binance-futures');
    expect(defs.get('ETHUSDT')!.instrumentKey).toBe('BINANCE:PERP:ETH-USDT');
    const q = defs.get('BTCUSDT_220325')!;
    expect(q.instrumentKey).toBe('BINANCE:FUTURE:BTC-USDT-220325');
    expect(q.instrumentType).toBe('FUTURE');
    expect(q.expiry).toBe(1648195200000);
    expect(q.listing).toBe(1640332800000);
    expect(q.tickSize).toBe(0.1);
  });

  it('a key collision fails loudly', () => {
    const json = readReal(`${REST}/nautilus_spot_exchange_info.json`) as Info;
    const dup = { ...json, symbols: [...json.symbols, { ...json.symbols[0], symbol: 'BTCUSDT_OLD' }] };
    expect(() => definitionsFromBinanceExchangeInfo('spot', dup)).toThrow(DuplicateInstrumentKeyError);
    expect(() => definitionsFromBinanceExchangeInfo('spot', dup)).toThrow(
      /"BTCUSDT" and binance "BTCUSDT_OLD"/,
    );
  });
});

describe('Binance COIN-M exchangeInfo', () => {
  const filters = [
    { filterType: 'PRICE_FILTER', minPrice: '1000', maxPrice: '4529764', tickSize: '0.1' },
    { filterType: 'LOT_SIZE', stepSize: '1', maxQty: '1000000', minQty: '1' },
  ];
  const coinm = {
    timezone: 'UTC',
    symbols: [
      {
        symbol: 'BTCUSD_PERP',
        pair: 'BTCUSD',
        contractType: 'PERPETUAL',
        deliveryDate: 4133404800000,
        onboardDate: 1597042800000,
        contractStatus: 'TRADING',
        contractSize: 100,
        marginAsset: 'BTC',
        baseAsset: 'BTC',
        quoteAsset: 'USD',
        filters,
      },
      {
        symbol: 'BTCUSD_240329',
        pair: 'BTCUSD',
        contractType: 'CURRENT_QUARTER',
        deliveryDate: Date.parse('2024-03-29T08:00:00Z'),
        onboardDate: 1695369600000,
        contractStatus: 'TRADING',
        contractSize: '100',
        marginAsset: 'BTC',
        baseAsset: 'BTC',
        quoteAsset: 'USD',
        filters,
      },
      { symbol: 'BTCUSD_230929', contractType: '', baseAsset: 'BTC', quoteAsset: 'USD', contractSize: 100 },
    ],
  };

  it('contractSize → contractMultiplier, inverse, settled in the margin asset; settled contracts skipped', () => {
    const set = definitionsFromBinanceExchangeInfo('coinm', coinm);
    const [perp, fut] = set.definitions.map((d) => d.definition);
    expect(perp!.instrumentKey).toBe('BINANCE:PERP:BTC-USD');
    expect(perp!.inverse).toBe(true);
    expect(perp!.contractMultiplier).toBe(100);
    expect(perp!.settleAsset).toBe('BTC');
    expect(perp!.tickSize).toBe(0.1);
    expect(perp!.lotSize).toBe(1);
    expect(perp!.vendorExchange).toBe('binance-delivery');
    expect(fut!.instrumentKey).toBe('BINANCE:FUTURE:BTC-USD-240329');
    expect(fut!.expiry).toBe(Date.parse('2024-03-29T08:00:00Z'));
    expect(fut!.contractMultiplier).toBe(100);
    expect(perp!.active).toBe(true); // COIN-M reports contractStatus, not status
    expect(set.skipped.map((s) => s.symbol)).toEqual(['BTCUSD_230929']);
  });

  it('malformed shapes throw SchemaMismatchError naming the source and field', () => {
    const s0 = coinm.symbols[0]!;
    const cases: [unknown, RegExp][] = [
      [null, /binance coinm \/dapi\/v1\/exchangeInfo: \$: expected an object, got null/],
      [{ symbols: {} }, /\$\.symbols: expected an array/],
      [
        { symbols: [{ ...s0, baseAsset: undefined }] },
        /"BTCUSD_PERP"\)\.baseAsset: expected a non-empty string/,
      ],
      [{ symbols: [{ ...s0, contractSize: 'big' }] }, /\.contractSize: expected a number/],
      [{ symbols: [{ ...s0, filters: [{ tickSize: '1' }] }] }, /\.filters\[0\]\.filterType/],
      [{ symbols: [{ ...s0, filters: [{ filterType: 'PRICE_FILTER', tickSize: 'x' }] }] }, /\.tickSize/],
      [{ symbols: [{ ...s0, contractType: 'CURRENT_QUARTER', deliveryDate: null }] }, /\.deliveryDate/],
    ];
    for (const [json, re] of cases) {
      expect(() => definitionsFromBinanceExchangeInfo('coinm', json)).toThrow(SchemaMismatchError);
      expect(() => definitionsFromBinanceExchangeInfo('coinm', json)).toThrow(re);
    }
  });
});
