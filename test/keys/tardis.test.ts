import { describe, expect, it } from 'vitest';
import { TicklakeError, UnsupportedInstrumentError } from '../../src/errors.js';
import {
  assertUniqueKeys,
  DuplicateInstrumentKeyError,
  INFERABLE_TARDIS_EXCHANGES,
  inferTardisInstrument,
  lastFridayOfMonth,
  normalizeCurrency,
  parseInstrumentKey,
  TARDIS_EXCHANGES,
  tardisDatasetSymbol,
  tardisDefinitionToKey,
  tardisInstrumentKey,
  tardisKeyForSymbol,
} from '../../src/keys/index.js';

function unsupportedMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UnsupportedInstrumentError);
    const e = err as UnsupportedInstrumentError;
    expect(e.code).toBe('UNSUPPORTED_INSTRUMENT');
    return e.oneLine();
  }
  throw new Error('expected an UnsupportedInstrumentError, nothing was thrown');
}

describe('currency normalization', () => {
  it('applies the global and per-exchange aliases', () => {
    expect(normalizeCurrency('XBT')).toBe('BTC');
    expect(normalizeCurrency('xbt')).toBe('BTC');
    expect(normalizeCurrency('XDG')).toBe('DOGE');
    expect(normalizeCurrency('UST')).toBe('UST'); // TerraUSD outside Bitfinex
    expect(normalizeCurrency('UST', 'bitfinex')).toBe('USDT');
    expect(normalizeCurrency('USDT')).toBe('USDT');
  });
});

describe('tardisInstrumentKey (attributes)', () => {
  it('maps each instrument type', () => {
    expect(
      tardisInstrumentKey({
        exchange: 'binance',
        symbol: 'BTCUSDT',
        type: 'spot',
        base: 'BTC',
        quote: 'USDT',
      }),
    ).toBe('BINANCE:SPOT_PAIR:BTC-USDT');
    expect(
      tardisInstrumentKey({
        exchange: 'bitmex',
        symbol: 'XBTUSD',
        type: 'perpetual',
        base: 'XBT',
        quote: 'USD',
      }),
    ).toBe('BITMEX:PERP:BTC-USD');
    expect(
      tardisInstrumentKey({
        exchange: 'binance-futures',
        symbol: 'BTCUSDT_240329',
        type: 'future',
        base: 'BTC',
        quote: 'USDT',
        expiry: '2024-03-29T08:00:00.000Z',
      }),
    ).toBe('BINANCE:FUTURE:BTC-USDT-240329');
    expect(
      tardisInstrumentKey({
        exchange: 'deribit',
        symbol: 'BTC-25APR25-200000-P',
        type: 'option',
        base: 'BTC',
        quote: 'BTC',
        expiry: Date.UTC(2025, 3, 25, 8),
        strike: '200000.0',
        optionType: 'put',
      }),
    ).toBe('DERIBIT:OPTION:BTC-USD-200000-250425-PUT');
  });

  it('inverse contracts quoted in their own base are on BASE-USD; linear ones keep USDC/USDT', () => {
    const opt = { exchange: 'deribit', type: 'option', expiry: '2024-08-30', optionType: 'call' } as const;
    expect(
      tardisInstrumentKey({ ...opt, symbol: 'ETH-30AUG24-3000-C', base: 'ETH', quote: 'ETH', strike: 3000 }),
    ).toBe('DERIBIT:OPTION:ETH-USD-3000-240830-CALL');
    expect(
      tardisInstrumentKey({
        ...opt,
        symbol: 'XRP_USDC-30AUG24-0d625-C',
        base: 'XRP',
        quote: 'USDC',
        strike: 0.625,
      }),
    ).toBe('DERIBIT:OPTION:XRP-USDC-0.625-240830-CALL');
    expect(
      tardisInstrumentKey({
        exchange: 'deribit',
        symbol: 'BTC_USDC-PERPETUAL',
        type: 'perpetual',
        base: 'BTC',
        quote: 'USDC',
      }),
    ).toBe('DERIBIT:PERP:BTC-USDC');
    // a spot pair is never rewritten
    expect(tardisInstrumentKey({ exchange: 'x', symbol: 'A', type: 'spot', base: 'BTC', quote: 'BTC' })).toBe(
      'X:SPOT_PAIR:BTC-BTC',
    );
  });

  it('refuses combos and prediction markets, saying there is no key type', () => {
    expect(
      unsupportedMessage(() =>
        tardisInstrumentKey({
          exchange: 'deribit',
          symbol: 'BTC-FS-28MAR25_PERP',
          type: 'combo',
          base: 'BTC',
          quote: 'USD',
        }),
      ),
    ).toBe(
      'tardis deribit "BTC-FS-28MAR25_PERP" is a combo (multi-leg spread); instrument keys have no type for it (SPOT_PAIR, PERP, FUTURE, OPTION only). ingest its single-instrument legs instead',
    );
    expect(
      unsupportedMessage(() =>
        tardisInstrumentKey({
          exchange: 'polymarket',
          symbol: 'WILL-IT-RAIN',
          type: 'prediction',
          base: 'YES',
          quote: 'USDC',
        }),
      ),
    ).toContain('is a prediction market; instrument keys have no type for it');
  });

  it('needs expiry/strike/option type for dated contracts', () => {
    const base = { exchange: 'deribit', symbol: 'S', base: 'BTC', quote: 'USD' } as const;
    expect(unsupportedMessage(() => tardisInstrumentKey({ ...base, type: 'future' }))).toBe(
      'tardis deribit "S" is a future without an expiry. pass the instrument attributes (or sync instrument definitions)',
    );
    expect(
      unsupportedMessage(() => tardisInstrumentKey({ ...base, type: 'option', expiry: '2024-01-26' })),
    ).toContain('is a option without a strike');
    expect(
      unsupportedMessage(() =>
        tardisInstrumentKey({ ...base, type: 'option', expiry: '2024-01-26', strike: 1 }),
      ),
    ).toContain('without an option type (call/put)');
  });

  it('tardisDefinitionToKey reads string numbers and ignores nulls', () => {
    expect(
      tardisDefinitionToKey({
        id: 'BTC-27DEC24-60000-C',
        exchange: 'deribit',
        baseCurrency: 'BTC',
        quoteCurrency: 'BTC',
        type: 'option',
        expiry: '2024-12-27T08:00:00.000Z',
        strikePrice: '60000',
        optionType: 'call',
      }),
    ).toBe('DERIBIT:OPTION:BTC-USD-60000-241227-CALL');
    expect(
      tardisDefinitionToKey({
        id: 'BTCUSDT',
        exchange: 'binance',
        baseCurrency: 'BTC',
        quoteCurrency: 'USDT',
        type: 'spot',
        expiry: null,
        strikePrice: null,
        optionType: null,
      }),
    ).toBe('BINANCE:SPOT_PAIR:BTC-USDT');
    expect(
      unsupportedMessage(() =>
        tardisDefinitionToKey({
          id: 'X',
          exchange: 'deribit',
          baseCurrency: 'BTC',
          quoteCurrency: 'USD',
          type: 'swap',
        }),
      ),
    ).toBe('tardis deribit "X" has unknown instrument type "swap"');
  });
});

describe('inferTardisInstrument / tardisKeyForSymbol (symbol heuristics)', () => {
  const cases: [string, string, string][] = [
    // binance spot
    ['binance', 'BTCUSDT', 'BINANCE:SPOT_PAIR:BTC-USDT'],
    ['binance', 'btcusdt', 'BINANCE:SPOT_PAIR:BTC-USDT'],
    ['binance', 'ETHBTC', 'BINANCE:SPOT_PAIR:ETH-BTC'],
    ['binance', 'BNBBUSD', 'BINANCE:SPOT_PAIR:BNB-BUSD'],
    ['binance', 'BTCFDUSD', 'BINANCE:SPOT_PAIR:BTC-FDUSD'],
    ['binance', 'BTCTUSD', 'BINANCE:SPOT_PAIR:BTC-TUSD'],
    ['binance', 'USDTTRY', 'BINANCE:SPOT_PAIR:USDT-TRY'],
    ['binance', 'ADAEUR', 'BINANCE:SPOT_PAIR:ADA-EUR'],
    ['binance', 'SOLBNB', 'BINANCE:SPOT_PAIR:SOL-BNB'],
    ['binance-us', 'BTCUSD', 'BINANCE_US:SPOT_PAIR:BTC-USD'],
    // binance futures
    ['binance-futures', 'BTCUSDT', 'BINANCE:PERP:BTC-USDT'],
    ['binance-futures', '1000SHIBUSDT', 'BINANCE:PERP:1000SHIB-USDT'],
    ['binance-futures', 'ETHBTC', 'BINANCE:PERP:ETH-BTC'],
    ['binance-futures', 'BTCUSDT_240329', 'BINANCE:FUTURE:BTC-USDT-240329'],
    ['binance-delivery', 'BTCUSD_PERP', 'BINANCE:PERP:BTC-USD'],
    ['binance-delivery', 'BTCUSD_240329', 'BINANCE:FUTURE:BTC-USD-240329'],
    ['binance-options', 'BTC-240329-60000-C', 'BINANCE:OPTION:BTC-USDT-60000-240329-CALL'],
    ['binance-european-options', 'ETH-240329-3500-P', 'BINANCE:OPTION:ETH-USDT-3500-240329-PUT'],
    ['binance-european-options', 'DOGE-240329-0.15-C', 'BINANCE:OPTION:DOGE-USDT-0.15-240329-CALL'],
    // deribit
    ['deribit', 'BTC-PERPETUAL', 'DERIBIT:PERP:BTC-USD'],
    ['deribit', 'ETH_USDC-PERPETUAL', 'DERIBIT:PERP:ETH-USDC'],
    ['deribit', 'BTC-27DEC24', 'DERIBIT:FUTURE:BTC-USD-241227'],
    ['deribit', 'BTC-6AUG21', 'DERIBIT:FUTURE:BTC-USD-210806'],
    ['deribit', 'BTC-27DEC24-60000-C', 'DERIBIT:OPTION:BTC-USD-60000-241227-CALL'],
    ['deribit', 'ETH-6AUG21-2500-P', 'DERIBIT:OPTION:ETH-USD-2500-210806-PUT'],
    ['deribit', 'XRP_USDC-30AUG24-0d625-C', 'DERIBIT:OPTION:XRP-USDC-0.625-240830-CALL'],
    ['deribit', 'BTC_USDC', 'DERIBIT:SPOT_PAIR:BTC-USDC'],
    // bitmex
    ['bitmex', 'XBTUSD', 'BITMEX:PERP:BTC-USD'],
    ['bitmex', 'ETHUSD', 'BITMEX:PERP:ETH-USD'],
    ['bitmex', 'XBTUSDT', 'BITMEX:PERP:BTC-USDT'],
    ['bitmex', 'XBTEUR', 'BITMEX:PERP:BTC-EUR'],
    ['bitmex', 'XBTZ24', 'BITMEX:FUTURE:BTC-USD-241227'],
    ['bitmex', 'XBTH25', 'BITMEX:FUTURE:BTC-USD-250328'],
    ['bitmex', 'XBTM20', 'BITMEX:FUTURE:BTC-USD-200626'],
    ['bitmex', 'ETHUSDZ24', 'BITMEX:FUTURE:ETH-USD-241227'],
    ['bitmex', 'XBTUSDTZ24', 'BITMEX:FUTURE:BTC-USDT-241227'],
    ['bitmex', 'ETHZ20', 'BITMEX:FUTURE:ETH-BTC-201225'],
    // okx
    ['okex', 'BTC-USDT', 'OKX:SPOT_PAIR:BTC-USDT'],
    ['okex-swap', 'BTC-USDT-SWAP', 'OKX:PERP:BTC-USDT'],
    ['okex-swap', 'BTC-USD-SWAP', 'OKX:PERP:BTC-USD'],
    ['okex-futures', 'BTC-USD-240329', 'OKX:FUTURE:BTC-USD-240329'],
    ['okex-options', 'BTC-USD-240329-60000-C', 'OKX:OPTION:BTC-USD-60000-240329-CALL'],
    // huobi
    ['huobi', 'btcusdt', 'HUOBI:SPOT_PAIR:BTC-USDT'],
    ['huobi-dm', 'BTC240329', 'HUOBI:FUTURE:BTC-USD-240329'],
    ['huobi-dm-swap', 'BTC-USD', 'HUOBI:PERP:BTC-USD'],
    ['huobi-dm-linear-swap', 'BTC-USDT', 'HUOBI:PERP:BTC-USDT'],
    ['huobi-dm-linear-swap', 'BTC-USDT-240329', 'HUOBI:FUTURE:BTC-USDT-240329'],
    ['huobi-dm-options', 'BTC-USDT-210326-C-32000', 'HUOBI:OPTION:BTC-USDT-32000-210326-CALL'],
    // bybit
    ['bybit', 'BTCUSDT', 'BYBIT:PERP:BTC-USDT'],
    ['bybit', 'BTCUSD', 'BYBIT:PERP:BTC-USD'],
    ['bybit', 'BTCUSDC', 'BYBIT:PERP:BTC-USDC'],
    ['bybit', 'BTCPERP', 'BYBIT:PERP:BTC-USDC'],
    ['bybit', 'BTCUSDZ24', 'BYBIT:FUTURE:BTC-USD-241227'],
    ['bybit', 'BTCUSDH25', 'BYBIT:FUTURE:BTC-USD-250328'],
    ['bybit', 'BTC-27DEC24', 'BYBIT:FUTURE:BTC-USDC-241227'],
    ['bybit', 'BTCUSDT-27DEC24', 'BYBIT:FUTURE:BTC-USDT-241227'],
    ['bybit-spot', 'BTCUSDT', 'BYBIT:SPOT_PAIR:BTC-USDT'],
    ['bybit-options', 'BTC-27DEC24-60000-C', 'BYBIT:OPTION:BTC-USDC-60000-241227-CALL'],
    ['bybit-options', 'BTC-27DEC24-60000-P-USDT', 'BYBIT:OPTION:BTC-USDT-60000-241227-PUT'],
    // spot venues
    ['coinbase', 'BTC-USD', 'COINBASE:SPOT_PAIR:BTC-USD'],
    ['coinbase', 'XBT-USD', 'COINBASE:SPOT_PAIR:BTC-USD'],
    ['kraken', 'XBT/USD', 'KRAKEN:SPOT_PAIR:BTC-USD'],
    ['kraken', 'XDG/EUR', 'KRAKEN:SPOT_PAIR:DOGE-EUR'],
    ['bitstamp', 'btcusd', 'BITSTAMP:SPOT_PAIR:BTC-USD'],
    ['bitstamp', 'xrpbtc', 'BITSTAMP:SPOT_PAIR:XRP-BTC'],
    ['bitstamp', 'usdcusd', 'BITSTAMP:SPOT_PAIR:USDC-USD'],
    ['gemini', 'btcusd', 'GEMINI:SPOT_PAIR:BTC-USD'],
    ['gemini', 'ethbtc', 'GEMINI:SPOT_PAIR:ETH-BTC'],
    ['okcoin', 'BTC-USD', 'OKCOIN:SPOT_PAIR:BTC-USD'],
    ['kucoin', 'BTC-USDT', 'KUCOIN:SPOT_PAIR:BTC-USDT'],
    ['gate-io', 'BTC_USDT', 'GATE_IO:SPOT_PAIR:BTC-USDT'],
    ['bitflyer', 'BTC_JPY', 'BITFLYER:SPOT_PAIR:BTC-JPY'],
    ['upbit', 'KRW-BTC', 'UPBIT:SPOT_PAIR:BTC-KRW'],
    ['bitfinex', 'BTCUSD', 'BITFINEX:SPOT_PAIR:BTC-USD'],
    ['bitfinex', 'BTCUST', 'BITFINEX:SPOT_PAIR:BTC-USDT'],
    ['bitfinex', 'DOGE:USD', 'BITFINEX:SPOT_PAIR:DOGE-USD'],
    ['bitfinex-derivatives', 'BTCF0:USTF0', 'BITFINEX:PERP:BTC-USDT'],
    // ftx
    ['ftx', 'BTC-PERP', 'FTX:PERP:BTC-USD'],
    ['ftx', 'BTC/USD', 'FTX:SPOT_PAIR:BTC-USD'],
    ['ftx', 'BTC-0326', 'FTX:FUTURE:BTC-USD-210326'],
    ['ftx', 'BTC-0925', 'FTX:FUTURE:BTC-USD-200925'],
    ['ftx', 'BTC-0930', 'FTX:FUTURE:BTC-USD-220930'],
    ['ftx', 'BTC-20190927', 'FTX:FUTURE:BTC-USD-190927'],
    ['ftx-us', 'BTC/USD', 'FTX_US:SPOT_PAIR:BTC-USD'],
    // kraken futures
    ['cryptofacilities', 'PI_XBTUSD', 'KRAKEN:PERP:BTC-USD'],
    ['cryptofacilities', 'pi_ethusd', 'KRAKEN:PERP:ETH-USD'],
    ['cryptofacilities', 'FI_XBTUSD_240329', 'KRAKEN:FUTURE:BTC-USD-240329'],
  ];
  it.each(cases)('%s %s → %s', (exchange, symbol, key) => {
    expect(tardisKeyForSymbol(exchange, symbol)).toBe(key);
    const parts = parseInstrumentKey(key);
    const inferred = inferTardisInstrument(exchange, symbol);
    if (parts.type !== 'EQUITY' && parts.type !== 'INDEX') {
      expect(inferred.base).toBe(parts.base);
    }
  });

  it('returns attributes in Tardis vocabulary', () => {
    expect(inferTardisInstrument('deribit', 'XRP_USDC-30AUG24-0d625-C')).toStrictEqual({
      type: 'option',
      base: 'XRP',
      quote: 'USDC',
      expiry: '2024-08-30',
      strike: '0.625',
      optionType: 'call',
    });
    expect(inferTardisInstrument('bitmex', 'XBTUSD')).toStrictEqual({
      type: 'perpetual',
      base: 'BTC',
      quote: 'USD',
    });
  });

  const refused: [string, string, string][] = [
    [
      'huobi-dm',
      'BTC_CW',
      'tardis huobi-dm "BTC_CW" is a rolling contract alias (this/next week/quarter) with no expiry in its name. sync instrument definitions',
    ],
    ['huobi-dm', 'ETH_NQ', 'is a rolling contract alias'],
    ['huobi-dm-linear-swap', 'BTC-USDT-CQ', 'is a rolling contract alias'],
    [
      'deribit',
      'BTC-FS-28MAR25_PERP',
      'looks like a combo (spread); instrument keys have no type for combos',
    ],
    ['deribit', 'ETH-CS-27DEC24-3000_3500', 'looks like a combo'],
    ['deribit', 'OPTIONS', 'it is a grouped symbol holding many instruments'],
    ['deribit', 'BTC-27XYZ24', 'not a DDMMMYY date'],
    ['deribit', 'BTC-31FEB24', 'its expiry is not a calendar date'],
    ['binance-us', 'BNBUSD', 'ambiguous pair "BNBUSD" (BN-BUSD or BNB-USD)'],
    ['gemini', 'btcgusd', 'ambiguous pair "BTCGUSD" (BTC-GUSD or BTCG-USD)'],
    ['binance', 'BTCXYZ', 'no known quote currency at the end of "BTCXYZ"'],
    ['bitmex', '.BXBT', 'indices (.BXBT) and special contracts have no heuristic'],
    [
      'cryptofacilities',
      'PF_XBTUSD',
      'PF_ contracts share their underlying pair with the inverse PI_/FI_ contracts',
    ],
    ['ftx', 'BTC-MOVE-0326', 'expected BTC/USD, BTC-PERP or BTC-0326'],
    ['ftx', 'BTC-0328', 'no FTX-era (2019-2022) Friday matches its MMDD expiry'],
    ['bitflyer', 'FX_BTC_JPY', 'expected a spot pair BASE-QUOTE'],
    ['poloniex', 'USDT_BTC', 'cannot infer tardis poloniex "USDT_BTC": no symbol heuristic for poloniex'],
    ['some-new-exchange', 'BTC-USD', 'no symbol heuristic for some-new-exchange'],
  ];
  it.each(refused)('refuses %s %s', (exchange, symbol, message) => {
    const line = unsupportedMessage(() => tardisKeyForSymbol(exchange, symbol));
    expect(line).toContain(message);
    expect(line).toContain(exchange);
    // combos cannot be keyed at all; everything else can be, given the attributes
    const hint = line.includes('combo')
      ? 'ingest its single-instrument legs instead'
      : 'sync instrument definitions';
    expect(line).toContain(hint);
  });

  it('has heuristics only for Tardis exchanges', () => {
    for (const id of INFERABLE_TARDIS_EXCHANGES) expect(TARDIS_EXCHANGES).toContain(id);
  });
});

describe('helpers', () => {
  it('lastFridayOfMonth', () => {
    expect(lastFridayOfMonth(2024, 12)).toBe('2024-12-27');
    expect(lastFridayOfMonth(2025, 3)).toBe('2025-03-28');
    expect(lastFridayOfMonth(2024, 5)).toBe('2024-05-31'); // month ending on a Friday
    expect(lastFridayOfMonth(2021, 4)).toBe('2021-04-30');
    for (let m = 1; m <= 12; m++) {
      const d = new Date(`${lastFridayOfMonth(2023, m)}T00:00:00Z`);
      expect(d.getUTCDay()).toBe(5);
      expect(new Date(d.getTime() + 7 * 86_400_000).getUTCMonth()).not.toBe(m - 1);
    }
  });

  it('tardisDatasetSymbol: upper case, "/" and ":" → "-"', () => {
    expect(tardisDatasetSymbol('btc/usd')).toBe('BTC-USD');
    expect(tardisDatasetSymbol('BTCF0:USTF0')).toBe('BTCF0-USTF0');
    expect(tardisDatasetSymbol('xbtusd')).toBe('XBTUSD');
    expect(tardisDatasetSymbol('BTC-PERPETUAL')).toBe('BTC-PERPETUAL');
  });
});

describe('assertUniqueKeys', () => {
  it('accepts distinct keys and the same instrument listed twice', () => {
    expect(() =>
      assertUniqueKeys([
        { key: 'BINANCE:SPOT_PAIR:BTC-USDT', vendorExchange: 'binance', vendorSymbol: 'BTCUSDT' },
        { key: 'BINANCE:PERP:BTC-USDT', vendorExchange: 'binance-futures', vendorSymbol: 'BTCUSDT' },
        { key: 'BINANCE:SPOT_PAIR:BTC-USDT', vendorExchange: 'binance', vendorSymbol: 'BTCUSDT' },
      ]),
    ).not.toThrow();
  });

  it('fails loudly naming both vendor instruments', () => {
    const pairs = [
      { key: 'KRAKEN:PERP:BTC-USD', vendorExchange: 'cryptofacilities', vendorSymbol: 'PI_XBTUSD' },
      { key: 'BINANCE:SPOT_PAIR:BTC-USDT', vendorExchange: 'binance', vendorSymbol: 'BTCUSDT' },
      { key: 'KRAKEN:PERP:BTC-USD', vendorExchange: 'cryptofacilities', vendorSymbol: 'PF_XBTUSD' },
      {
        key: 'BINANCE:OPTION:BTC-USDT-60000-240329-CALL',
        vendorExchange: 'binance-options',
        vendorSymbol: 'BTC-240329-60000-C',
      },
      {
        key: 'BINANCE:OPTION:BTC-USDT-60000-240329-CALL',
        vendorExchange: 'binance-european-options',
        vendorSymbol: 'BTC-240329-60000-C',
      },
    ];
    try {
      assertUniqueKeys(pairs);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(DuplicateInstrumentKeyError);
      expect(err).toBeInstanceOf(TicklakeError);
      const e = err as DuplicateInstrumentKeyError;
      expect(e.message).toBe(
        'two vendor instruments map to instrument key "KRAKEN:PERP:BTC-USD": cryptofacilities "PI_XBTUSD" and cryptofacilities "PF_XBTUSD" (and 1 more clashing key(s))',
      );
      expect(e.first.vendorSymbol).toBe('PI_XBTUSD');
      expect(e.second.vendorSymbol).toBe('PF_XBTUSD');
      expect(e.hint).toContain('write neither');
    }
  });
});
