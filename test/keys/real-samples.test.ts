/**
 * Real vendor samples from ../shared/data/real (read in place, never copied). Skipped with a reason
 * when ../shared is absent.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UnsupportedInstrumentError } from '../../src/errors.js';
import {
  assertUniqueKeys,
  BINANCE_SPOT_QUOTES,
  inferTardisInstrument,
  parseInstrumentKey,
  type TardisInstrumentDefinition,
  tardisDefinitionToKey,
  tardisInstrumentKey,
  tardisKeyForSymbol,
  type VendorKeyPair,
} from '../../src/keys/index.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REAL = join(REPO_ROOT, '../shared/data/real');
const HAVE_REAL = existsSync(REAL);
const SUITE = HAVE_REAL ? 'real samples' : 'real samples (skipped: ../shared/data/real is absent)';

function readJson(rel: string): unknown {
  return JSON.parse(readFileSync(join(REAL, rel), 'utf8'));
}

function tardisDefinition(name: string): TardisInstrumentDefinition {
  return readJson(`tardis/api/nautilus_instrument_${name}.json`) as TardisInstrumentDefinition;
}

describe.skipIf(!HAVE_REAL)(SUITE, () => {
  describe('Tardis /v1/instruments responses, one by one', () => {
    it('option (quoteCurrency BTC) → BTC-USD underlying', () => {
      const def = tardisDefinition('option');
      expect(def.quoteCurrency).toBe('BTC');
      const key = tardisDefinitionToKey(def);
      expect(key).toBe('DERIBIT:OPTION:BTC-USD-200000-250425-PUT');
      expect(tardisKeyForSymbol(def.exchange, def.id)).toBe(key);
    });
    it('future', () => {
      const def = tardisDefinition('future');
      expect(tardisDefinitionToKey(def)).toBe('DERIBIT:FUTURE:BTC-USD-250214');
      expect(tardisKeyForSymbol(def.exchange, def.id)).toBe('DERIBIT:FUTURE:BTC-USD-250214');
    });
    it('perpetual XBTUSD on bitmex', () => {
      const def = tardisDefinition('perpetual');
      expect(tardisDefinitionToKey(def)).toBe('BITMEX:PERP:BTC-USD');
      expect(tardisKeyForSymbol(def.exchange, def.id)).toBe('BITMEX:PERP:BTC-USD');
    });
    it('spot BTC_USDC on deribit', () => {
      const def = tardisDefinition('spot');
      expect(tardisDefinitionToKey(def)).toBe('DERIBIT:SPOT_PAIR:BTC-USDC');
      expect(tardisKeyForSymbol(def.exchange, def.id)).toBe('DERIBIT:SPOT_PAIR:BTC-USDC');
    });
    it('combo → UnsupportedInstrumentError', () => {
      const def = tardisDefinition('combo');
      expect(() => tardisDefinitionToKey(def)).toThrow(UnsupportedInstrumentError);
      expect(() => tardisDefinitionToKey(def)).toThrow(/BTC-FS-28MAR25_PERP" is a combo/);
      expect(() => tardisKeyForSymbol(def.exchange, def.id)).toThrow(UnsupportedInstrumentError);
    });
  });

  describe('symbols in the Tardis CSV samples', () => {
    const expected: Record<string, string> = {
      'binance-futures BTCUSDT': 'BINANCE:PERP:BTC-USDT',
      'bitmex XBTUSD': 'BITMEX:PERP:BTC-USD',
      'deribit BTC-PERPETUAL': 'DERIBIT:PERP:BTC-USD',
      'huobi-dm-swap BTC-USD': 'HUOBI:PERP:BTC-USD',
    };
    it('map to the expected keys', () => {
      const seen = new Set<string>();
      for (const file of readdirSync(join(REAL, 'tardis')).filter((f) => f.endsWith('.csv'))) {
        const lines = readFileSync(join(REAL, 'tardis', file), 'utf8')
          .split('\n')
          .slice(1, 50);
        for (const line of lines.filter((l) => l !== '')) {
          const [exchange, symbol] = line.split(',') as [string, string];
          const id = `${exchange} ${symbol}`;
          expect(expected[id], `${file}: ${id}`).toBeDefined();
          expect(tardisKeyForSymbol(exchange, symbol)).toBe(expected[id]);
          seen.add(id);
        }
      }
      expect([...seen].sort()).toEqual(Object.keys(expected).sort());
    });
  });

  describe('Deribit public/get_instruments (BTC, 2021-07-22)', () => {
    interface DeribitInstrument {
      instrument_name: string;
      kind: string;
      base_currency: string;
      quote_currency: string;
      settlement_period: string;
      expiration_timestamp: number;
      strike?: number;
      option_type?: string;
    }
    const response = HAVE_REAL
      ? (readJson('deribit/cryptofeed_get_instruments_BTC_2021-07-22.json') as {
          result: DeribitInstrument[];
        })
      : { result: [] };

    it('every instrument maps to a valid, unique key whose parse gives back its type, strike and expiry', () => {
      const instruments = response.result;
      expect(instruments.length).toBe(398);
      const pairs: VendorKeyPair[] = [];
      for (const ins of instruments) {
        const perpetual = ins.settlement_period === 'perpetual';
        const type = ins.kind === 'option' ? 'option' : perpetual ? 'perpetual' : 'future';
        const fromAttributes = tardisInstrumentKey({
          exchange: 'deribit',
          symbol: ins.instrument_name,
          type,
          base: ins.base_currency,
          quote: ins.quote_currency,
          ...(perpetual ? {} : { expiry: ins.expiration_timestamp }),
          ...(ins.strike !== undefined ? { strike: ins.strike } : {}),
          ...(ins.option_type === 'call' || ins.option_type === 'put' ? { optionType: ins.option_type } : {}),
        });
        const fromSymbol = tardisKeyForSymbol('deribit', ins.instrument_name);
        expect(fromSymbol, ins.instrument_name).toBe(fromAttributes);

        const parts = parseInstrumentKey(fromAttributes);
        const expiry = new Date(ins.expiration_timestamp).toISOString().slice(0, 10);
        if (ins.kind === 'option') {
          expect(parts.type === 'OPTION' && !parts.chain).toBe(true);
          if (parts.type === 'OPTION' && !parts.chain) {
            expect(Number(parts.strike)).toBe(ins.strike);
            expect(parts.expiry).toBe(expiry);
            expect(parts.optionType).toBe(ins.option_type === 'call' ? 'CALL' : 'PUT');
            expect(`${parts.base}-${parts.quote}`).toBe('BTC-USD');
          }
        } else if (perpetual) {
          expect(parts).toMatchObject({ type: 'PERP', base: 'BTC', quote: 'USD' });
        } else {
          expect(parts).toMatchObject({ type: 'FUTURE', base: 'BTC', quote: 'USD', expiry });
        }
        pairs.push({ key: fromAttributes, vendorExchange: 'deribit', vendorSymbol: ins.instrument_name });
      }
      assertUniqueKeys(pairs);
      expect(new Set(pairs.map((p) => p.key)).size).toBe(instruments.length);
    });
  });

  describe('Binance exchangeInfo', () => {
    interface BinanceSymbol {
      symbol: string;
      baseAsset: string;
      quoteAsset: string;
      contractType?: string;
      deliveryDate?: number;
    }
    const load = (file: string) =>
      HAVE_REAL ? (readJson(`binance/rest/${file}`) as { symbols: BinanceSymbol[] }).symbols : [];

    it('spot symbols map to unique BINANCE:SPOT_PAIR:BASE-QUOTE keys from their own base/quote assets', () => {
      const symbols = load('cryptofeed_binance_spot_exchangeInfo_2021-10-12.json');
      expect(symbols.length).toBe(1695);
      const pairs = symbols.map((s) => {
        const key = tardisInstrumentKey({
          exchange: 'binance',
          symbol: s.symbol,
          type: 'spot',
          base: s.baseAsset,
          quote: s.quoteAsset,
        });
        expect(key).toBe(`BINANCE:SPOT_PAIR:${s.baseAsset}-${s.quoteAsset}`);
        return { key, vendorExchange: 'binance', vendorSymbol: s.symbol };
      });
      assertUniqueKeys(pairs);
      expect(new Set(pairs.map((p) => p.key)).size).toBe(symbols.length);
    });

    it('the quote-suffix heuristic agrees with baseAsset/quoteAsset for every recognized quote', () => {
      const symbols = load('cryptofeed_binance_spot_exchangeInfo_2021-10-12.json');
      const common = ['USDT', 'BUSD', 'USDC', 'TUSD', 'BTC', 'ETH', 'BNB', 'EUR', 'TRY'];
      let checked = 0;
      for (const s of symbols.filter((x) => BINANCE_SPOT_QUOTES.includes(x.quoteAsset))) {
        expect(inferTardisInstrument('binance', s.symbol), s.symbol).toStrictEqual({
          type: 'spot',
          base: s.baseAsset,
          quote: s.quoteAsset,
        });
        checked++;
      }
      const commonCount = symbols.filter((x) => common.includes(x.quoteAsset)).length;
      expect(checked).toBeGreaterThanOrEqual(commonCount);
      expect(checked).toBe(symbols.length); // every quote of this snapshot is in the table
    });

    it('USDⓈ-M futures symbols map to PERP/FUTURE keys, heuristic and attributes agreeing', () => {
      const symbols = load('nautilus_futures_exchange_info.json');
      expect(symbols.length).toBeGreaterThan(0);
      for (const s of symbols) {
        const perpetual = s.contractType === 'PERPETUAL';
        const key = tardisInstrumentKey({
          exchange: 'binance-futures',
          symbol: s.symbol,
          type: perpetual ? 'perpetual' : 'future',
          base: s.baseAsset,
          quote: s.quoteAsset,
          ...(perpetual ? {} : { expiry: s.deliveryDate! }),
        });
        expect(tardisKeyForSymbol('binance-futures', s.symbol), s.symbol).toBe(key);
      }
    });
  });
});
