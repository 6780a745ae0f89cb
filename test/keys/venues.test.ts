import { describe, expect, it } from 'vitest';
import { UnknownExchangeError } from '../../src/errors.js';
import {
  assertTardisExchange,
  isTardisExchange,
  isValidInstrumentKey,
  TARDIS_EXCHANGES,
  VENUE_BY_VENDOR_EXCHANGE,
  venueOf,
} from '../../src/keys/index.js';

describe('vendor exchange → VENUE', () => {
  it('every Tardis exchange has a venue that is a valid key part', () => {
    expect(new Set(TARDIS_EXCHANGES).size).toBe(TARDIS_EXCHANGES.length);
    expect(Object.keys(VENUE_BY_VENDOR_EXCHANGE).sort()).toEqual([...TARDIS_EXCHANGES].sort());
    for (const id of TARDIS_EXCHANGES) {
      const venue = venueOf(id);
      expect(venue, id).toMatch(/^[A-Z0-9]+(?:_[A-Z0-9]+)*$/);
      expect(isValidInstrumentKey(`${venue}:SPOT_PAIR:BTC-USD`), id).toBe(true);
    }
  });

  it.each([
    ['binance', 'BINANCE'],
    ['binance-futures', 'BINANCE'],
    ['binance-delivery', 'BINANCE'],
    ['binance-options', 'BINANCE'],
    ['binance-european-options', 'BINANCE'],
    ['binance-us', 'BINANCE_US'],
    ['binance-jersey', 'BINANCE_JERSEY'],
    ['binance-dex', 'BINANCE_DEX'],
    ['okex', 'OKX'],
    ['okex-swap', 'OKX'],
    ['okex-futures', 'OKX'],
    ['okex-options', 'OKX'],
    ['okex-spreads', 'OKX'],
    ['huobi', 'HUOBI'],
    ['huobi-dm', 'HUOBI'],
    ['huobi-dm-swap', 'HUOBI'],
    ['huobi-dm-linear-swap', 'HUOBI'],
    ['huobi-dm-options', 'HUOBI'],
    ['bybit', 'BYBIT'],
    ['bybit-spot', 'BYBIT'],
    ['bybit-options', 'BYBIT'],
    ['cryptofacilities', 'KRAKEN'],
    ['kraken', 'KRAKEN'],
    ['bitfinex', 'BITFINEX'],
    ['bitfinex-derivatives', 'BITFINEX'],
    ['kucoin-futures', 'KUCOIN'],
    ['bitget-futures', 'BITGET'],
    ['gate-io-futures', 'GATE_IO'],
    ['crypto-com-derivatives', 'CRYPTO_COM'],
    ['coinbase', 'COINBASE'],
    ['coinbase-international', 'COINBASE_INTERNATIONAL'],
    ['dydx', 'DYDX'],
    ['dydx-v4', 'DYDX_V4'],
    ['ftx', 'FTX'],
    ['ftx-us', 'FTX_US'],
    ['woo-x', 'WOO_X'],
    ['blockchain-com', 'BLOCKCHAIN_COM'],
    ['star-atlas', 'STAR_ATLAS'],
    ['deribit', 'DERIBIT'],
    ['bitmex', 'BITMEX'],
  ])('%s → %s', (id, venue) => {
    expect(venueOf(id)).toBe(venue);
  });

  it('ids not in the table map to upper case with "-" → "_"', () => {
    expect(venueOf('some-new-exchange')).toBe('SOME_NEW_EXCHANGE');
    expect(venueOf('cme')).toBe('CME');
    expect(venueOf('xnas')).toBe('XNAS');
  });

  it('recognizes and asserts Tardis ids', () => {
    expect(isTardisExchange('deribit')).toBe(true);
    expect(isTardisExchange('Deribit')).toBe(false);
    expect(() => assertTardisExchange('deribit')).not.toThrow();
    try {
      assertTardisExchange('binance-spot');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UnknownExchangeError);
      const e = err as UnknownExchangeError;
      expect(e.code).toBe('UNKNOWN_EXCHANGE');
      expect(e.message).toBe('unknown exchange "binance-spot"');
      expect(e.hint).toContain('known exchanges: bitmex, deribit, binance-futures');
      for (const id of TARDIS_EXCHANGES) expect(e.hint).toContain(id);
    }
  });
});
