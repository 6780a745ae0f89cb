import { describe, expect, it } from 'vitest';
import { InvalidInstrumentKeyError } from '../../src/errors.js';
import {
  fileNameToKey,
  formatExpiry,
  formatInstrumentKey,
  formatStrike,
  type InstrumentKeyInput,
  type InstrumentKeyParts,
  isValidInstrumentKey,
  keyToFileName,
  optionsChainKey,
  parseExpiry,
  parseInstrumentKey,
  toExpiryDate,
  underlyingOf,
} from '../../src/keys/index.js';

/** The message of the error `fn` throws; fails unless it is an InvalidInstrumentKeyError. */
function invalidMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInstrumentKeyError);
    expect((err as InvalidInstrumentKeyError).code).toBe('INVALID_INSTRUMENT_KEY');
    return (err as Error).message;
  }
  throw new Error('expected an InvalidInstrumentKeyError, nothing was thrown');
}

describe('parse / format: examples from docs/INSTRUMENT_KEY.md', () => {
  const examples: [string, InstrumentKeyParts][] = [
    [
      'BINANCE:SPOT_PAIR:BTC-USDT',
      { venue: 'BINANCE', type: 'SPOT_PAIR', symbol: 'BTC-USDT', base: 'BTC', quote: 'USDT' },
    ],
    [
      'BINANCE:PERP:BTC-USDT',
      { venue: 'BINANCE', type: 'PERP', symbol: 'BTC-USDT', base: 'BTC', quote: 'USDT' },
    ],
    [
      'BINANCE:PERP:BTC-USD',
      { venue: 'BINANCE', type: 'PERP', symbol: 'BTC-USD', base: 'BTC', quote: 'USD' },
    ],
    [
      'DERIBIT:PERP:BTC-USD',
      { venue: 'DERIBIT', type: 'PERP', symbol: 'BTC-USD', base: 'BTC', quote: 'USD' },
    ],
    [
      'BINANCE:FUTURE:BTC-USDT-240329',
      {
        venue: 'BINANCE',
        type: 'FUTURE',
        symbol: 'BTC-USDT-240329',
        base: 'BTC',
        quote: 'USDT',
        expiry: '2024-03-29',
      },
    ],
    [
      'DERIBIT:FUTURE:BTC-USD-241227',
      {
        venue: 'DERIBIT',
        type: 'FUTURE',
        symbol: 'BTC-USD-241227',
        base: 'BTC',
        quote: 'USD',
        expiry: '2024-12-27',
      },
    ],
    [
      'CME:FUTURE:MES-USD-240315',
      {
        venue: 'CME',
        type: 'FUTURE',
        symbol: 'MES-USD-240315',
        base: 'MES',
        quote: 'USD',
        expiry: '2024-03-15',
      },
    ],
    [
      'DERIBIT:OPTION:BTC-USD-50000-241225-CALL',
      {
        venue: 'DERIBIT',
        type: 'OPTION',
        symbol: 'BTC-USD-50000-241225-CALL',
        chain: false,
        base: 'BTC',
        quote: 'USD',
        strike: '50000',
        expiry: '2024-12-25',
        optionType: 'CALL',
      },
    ],
    [
      'DERIBIT:OPTION:XRP-USDC-0.625-240830-PUT',
      {
        venue: 'DERIBIT',
        type: 'OPTION',
        symbol: 'XRP-USDC-0.625-240830-PUT',
        chain: false,
        base: 'XRP',
        quote: 'USDC',
        strike: '0.625',
        expiry: '2024-08-30',
        optionType: 'PUT',
      },
    ],
    [
      'DERIBIT:OPTION:BTC-USD',
      { venue: 'DERIBIT', type: 'OPTION', symbol: 'BTC-USD', chain: true, base: 'BTC', quote: 'USD' },
    ],
    ['US:EQUITY:AAPL', { venue: 'US', type: 'EQUITY', symbol: 'AAPL' }],
    ['US:EQUITY:BRK.B', { venue: 'US', type: 'EQUITY', symbol: 'BRK.B' }],
    ['XNAS:EQUITY:AAPL', { venue: 'XNAS', type: 'EQUITY', symbol: 'AAPL' }],
    ['DERIBIT:INDEX:BTC-USD', { venue: 'DERIBIT', type: 'INDEX', symbol: 'BTC-USD' }],
    [
      'BINANCE_US:SPOT_PAIR:1000SHIB-USD',
      { venue: 'BINANCE_US', type: 'SPOT_PAIR', symbol: '1000SHIB-USD', base: '1000SHIB', quote: 'USD' },
    ],
  ];

  it.each(examples)('%s', (key, parts) => {
    expect(parseInstrumentKey(key)).toStrictEqual(parts);
    expect(formatInstrumentKey(parts)).toBe(key);
    expect(formatInstrumentKey(parseInstrumentKey(key))).toBe(key);
    expect(parseInstrumentKey(formatInstrumentKey(parts))).toStrictEqual(parts);
    expect(isValidInstrumentKey(key)).toBe(true);
  });

  it('builds the symbol when it is omitted, and accepts numeric strikes', () => {
    expect(
      formatInstrumentKey({
        venue: 'DERIBIT',
        type: 'OPTION',
        base: 'BTC',
        quote: 'USD',
        strike: 200000,
        expiry: '2025-04-25',
        optionType: 'PUT',
      }),
    ).toBe('DERIBIT:OPTION:BTC-USD-200000-250425-PUT');
    expect(
      formatInstrumentKey({ venue: 'OKX', type: 'FUTURE', base: 'BTC', quote: 'USD', expiry: '2024-03-29' }),
    ).toBe('OKX:FUTURE:BTC-USD-240329');
    expect(formatInstrumentKey({ venue: 'DERIBIT', type: 'OPTION', base: 'ETH', quote: 'USD' })).toBe(
      'DERIBIT:OPTION:ETH-USD',
    );
  });
});

describe('parse / format: seeded random parts (reference model)', () => {
  /** mulberry32: small deterministic PRNG. */
  function rng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const rand = rng(20240329);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const word = (min: number, max: number) =>
    Array.from({ length: min + int(max - min + 1) }, () => ALNUM[int(ALNUM.length)]).join('');
  const currency = () => (rand() < 0.15 ? `${word(1, 4)}${pick(['_', '.'])}${word(1, 3)}` : word(1, 8));
  const venue = () => (rand() < 0.3 ? `${word(1, 6)}_${word(1, 6)}` : word(1, 10));
  const ticker = () => (rand() < 0.3 ? `${word(1, 5)}${pick(['.', '-', '_'])}${word(1, 4)}` : word(1, 6));
  const strike = () => {
    const whole = rand() < 0.3 ? '0' : String(1 + int(10 ** (1 + int(8))));
    const frac =
      rand() < 0.5 ? '' : `${word(0, 0)}${String(int(10 ** (1 + int(7)))).padStart(1 + int(7), '0')}`;
    const s = frac === '' ? whole : `${whole}.${frac}`.replace(/0+$/, '').replace(/\.$/, '');
    return s === '0' ? '1' : s;
  };
  const expiry = () => {
    const d = new Date(Date.UTC(2000, 0, 1) + int(100 * 365.2425) * 86_400_000);
    return d.toISOString().slice(0, 10);
  };
  const yymmdd = (iso: string) => iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10);

  /** One random input and the key a simple reference model expects for it. */
  function sample(): [InstrumentKeyInput, string] {
    const v = venue();
    const [b, q] = [currency(), currency()];
    switch (pick(['SPOT_PAIR', 'PERP', 'FUTURE', 'OPTION', 'CHAIN', 'EQUITY', 'INDEX'] as const)) {
      case 'SPOT_PAIR':
        return [{ venue: v, type: 'SPOT_PAIR', base: b, quote: q }, `${v}:SPOT_PAIR:${b}-${q}`];
      case 'PERP':
        return [{ venue: v, type: 'PERP', base: b, quote: q }, `${v}:PERP:${b}-${q}`];
      case 'FUTURE': {
        const e = expiry();
        return [
          { venue: v, type: 'FUTURE', base: b, quote: q, expiry: e },
          `${v}:FUTURE:${b}-${q}-${yymmdd(e)}`,
        ];
      }
      case 'OPTION': {
        const [s, e, r] = [strike(), expiry(), pick(['CALL', 'PUT'] as const)];
        return [
          { venue: v, type: 'OPTION', base: b, quote: q, strike: s, expiry: e, optionType: r },
          `${v}:OPTION:${b}-${q}-${s}-${yymmdd(e)}-${r}`,
        ];
      }
      case 'CHAIN':
        return [{ venue: v, type: 'OPTION', base: b, quote: q }, `${v}:OPTION:${b}-${q}`];
      case 'EQUITY': {
        const t = ticker();
        return [{ venue: v, type: 'EQUITY', symbol: t }, `${v}:EQUITY:${t}`];
      }
      case 'INDEX': {
        const t = ticker();
        return [{ venue: v, type: 'INDEX', symbol: t }, `${v}:INDEX:${t}`];
      }
    }
  }

  it('format(input) matches the reference; parse and format are exact inverses (5000 samples)', () => {
    for (let i = 0; i < 5000; i++) {
      const [input, expected] = sample();
      const key = formatInstrumentKey(input);
      expect(key).toBe(expected);
      const parts = parseInstrumentKey(key);
      expect(parts).toMatchObject(input);
      expect(formatInstrumentKey(parts)).toBe(key);
      expect(parseInstrumentKey(formatInstrumentKey(parts))).toStrictEqual(parts);
      if (parts.type === 'OPTION') {
        expect(parts.chain).toBe(input.strike === undefined);
        expect(parseInstrumentKey(underlyingOf(key))).toMatchObject({
          chain: true,
          base: parts.base,
          quote: parts.quote,
        });
      }
      expect(fileNameToKey(keyToFileName(key, 'win32'))).toBe(key);
      expect(fileNameToKey(keyToFileName(key, 'linux'))).toBe(key);
    }
  });
});

describe('invalid keys say exactly what is wrong', () => {
  const cases: [string, string][] = [
    ['', 'the key is empty'],
    ['BINANCE:BTC-USDT', 'expected 3 parts VENUE:TYPE:SYMBOL separated by ":", found 2'],
    ['A:SPOT_PAIR:BTC-USDT:X', 'expected 3 parts VENUE:TYPE:SYMBOL separated by ":", found 4'],
    [':SPOT_PAIR:BTC-USDT', 'VENUE is empty'],
    ['BINANCE::BTC-USDT', 'TYPE is empty'],
    ['BINANCE:SPOT_PAIR:', 'SYMBOL is empty'],
    ['binance:SPOT_PAIR:BTC-USDT', 'VENUE "binance" must be upper case'],
    ['BINANCE:spot_pair:BTC-USDT', 'TYPE "spot_pair" must be upper case'],
    ['BINANCE:SPOT_PAIR:btc-usdt', 'SYMBOL "btc-usdt" must be upper case'],
    ['BINANCE:SPOT_PAIR:BTC/USDT', 'SYMBOL "BTC/USDT" contains "/"; parts use only A-Z 0-9 _ . -'],
    ['BINANCE:SPOT_PAIR:BTC USDT', 'SYMBOL "BTC USDT" contains " "; parts use only A-Z 0-9 _ . -'],
    ['BINANCE:SPOT_PAIR:BTC–USDT', 'SYMBOL "BTC–USDT" contains "–"; parts use only A-Z 0-9 _ . -'],
    [
      'BINANCE:SPOT_PAIR:btc usdt',
      'SYMBOL "btc usdt" must be upper case and contains " "; parts use only A-Z 0-9 _ . -',
    ],
    ['-BINANCE:SPOT_PAIR:BTC-USDT', 'VENUE "-BINANCE" must start with A-Z or 0-9'],
    ['BINANCE:SWAP:BTC-USDT', 'TYPE "SWAP" is not one of SPOT_PAIR, PERP, FUTURE, OPTION, EQUITY, INDEX'],
    ['BINANCE:SPOT_PAIR:BTCUSDT', 'a SPOT_PAIR symbol is BASE-QUOTE, found 1 field(s) in "BTCUSDT"'],
    ['BINANCE:PERP:BTC-USDT-SWAP', 'a PERP symbol is BASE-QUOTE, found 3 field(s) in "BTC-USDT-SWAP"'],
    ['BINANCE:FUTURE:BTC-USDT', 'a FUTURE symbol is BASE-QUOTE-YYMMDD, found 2 field(s) in "BTC-USDT"'],
    [
      'DERIBIT:OPTION:BTC-USD-50000-241225',
      'a OPTION symbol is BASE-QUOTE-STRIKE-YYMMDD-CALL|PUT (or BASE-QUOTE for an options chain), found 4 field(s) in "BTC-USD-50000-241225"',
    ],
    ['BINANCE:SPOT_PAIR:-USDT', 'base currency "" is empty or malformed'],
    ['BINANCE:SPOT_PAIR:BTC-', 'quote currency "" is empty or malformed'],
    ['BINANCE:SPOT_PAIR:BTC._X-USDT', 'base currency "BTC._X" is empty or malformed'],
    ['BINANCE:FUTURE:BTC-USDT-20240329', 'expiry "20240329" must be six digits YYMMDD'],
    ['BINANCE:FUTURE:BTC-USDT-240230', 'expiry "240230" is not a calendar date (YYMMDD)'],
    ['BINANCE:FUTURE:BTC-USDT-241301', 'expiry "241301" is not a calendar date (YYMMDD)'],
    [
      'DERIBIT:OPTION:BTC-USD-050000-241225-CALL',
      'strike "050000" is not a canonical positive decimal (write 50000)',
    ],
    [
      'DERIBIT:OPTION:BTC-USD-50000.0-241225-CALL',
      'strike "50000.0" is not a canonical positive decimal (write 50000)',
    ],
    [
      'DERIBIT:OPTION:BTC-USD-0.50-241225-CALL',
      'strike "0.50" is not a canonical positive decimal (write 0.5)',
    ],
    [
      'DERIBIT:OPTION:BTC-USD-1E5-241225-CALL',
      'strike "1E5" is not a canonical positive decimal (write 100000)',
    ],
    ['DERIBIT:OPTION:BTC-USD-0-241225-CALL', 'strike "0" is not a canonical positive decimal'],
    ['DERIBIT:OPTION:BTC-USD-ABC-241225-CALL', 'strike "ABC" is not a canonical positive decimal'],
    ['DERIBIT:OPTION:BTC-USD-50000-241225-C', 'option type "C" must be CALL or PUT'],
    ['US:EQUITY:BRK.', 'EQUITY symbol "BRK." must not start or end with, or repeat, "-" "_" "."'],
    ['DERIBIT:INDEX:-BTC', 'INDEX symbol "-BTC" must not start or end with, or repeat, "-" "_" "."'],
  ];
  it.each(cases)('%j → %s', (key, problem) => {
    expect(invalidMessage(() => parseInstrumentKey(key))).toBe(`invalid instrument key "${key}": ${problem}`);
    expect(isValidInstrumentKey(key)).toBe(false);
  });

  it('format rejects inconsistent or misplaced fields', () => {
    const bad: [InstrumentKeyInput, string][] = [
      [
        { venue: 'BINANCE', type: 'SPOT_PAIR', base: 'BTC', quote: 'USDT', expiry: '2024-03-29' },
        'a SPOT_PAIR key has no expiry',
      ],
      [{ venue: 'BINANCE', type: 'PERP', base: 'BTC' }, 'a PERP key needs base and quote'],
      [
        { venue: 'BINANCE', type: 'FUTURE', base: 'BTC', quote: 'USDT' },
        'a FUTURE key needs an expiry (YYYY-MM-DD)',
      ],
      [
        { venue: 'BINANCE', type: 'FUTURE', base: 'BTC', quote: 'USDT', expiry: '2024-02-30' },
        'expiry "2024-02-30" must be a calendar date YYYY-MM-DD',
      ],
      [
        { venue: 'BINANCE', type: 'FUTURE', base: 'BTC', quote: 'USDT', expiry: '1999-12-31' },
        'expiry "1999-12-31" must be in 2000-2099',
      ],
      [
        { venue: 'BINANCE', type: 'SPOT_PAIR', symbol: 'ETH-USDT', base: 'BTC', quote: 'USDT' },
        'symbol "ETH-USDT" does not match its fields (expected "BTC-USDT")',
      ],
      [
        { venue: 'D', type: 'OPTION', base: 'BTC', quote: 'USD', strike: '5', expiry: '2024-12-25' },
        'an OPTION contract key needs strike, expiry and optionType (or chain: true)',
      ],
      [
        { venue: 'D', type: 'OPTION', base: 'BTC', quote: 'USD', strike: '5', chain: true },
        'an options-chain key (chain: true) has no strike, expiry or optionType',
      ],
      [
        {
          venue: 'D',
          type: 'OPTION',
          base: 'BTC',
          quote: 'USD',
          strike: '5.0',
          expiry: '2024-12-25',
          optionType: 'CALL',
        },
        'strike "5.0" is not canonical (write 5)',
      ],
      [{ venue: 'US', type: 'EQUITY', base: 'AAPL' }, 'a EQUITY key has no base'],
      [{ venue: 'US', type: 'EQUITY' }, 'a EQUITY key needs a symbol'],
    ];
    for (const [input, problem] of bad) {
      expect(invalidMessage(() => formatInstrumentKey(input))).toContain(`: ${problem}`);
    }
    expect(
      invalidMessage(() =>
        formatInstrumentKey({ venue: 'binance', type: 'PERP', base: 'BTC', quote: 'USDT' }),
      ),
    ).toBe('invalid instrument key "binance:PERP:BTC-USDT": VENUE "binance" must be upper case');
  });
});

describe('formatStrike', () => {
  it.each([
    [50000, '50000'],
    [0.55, '0.55'],
    [1250.5, '1250.5'],
    [1e-7, '0.0000001'],
    [1.5e-7, '0.00000015'],
    [123456789, '123456789'],
    [123456789.123, '123456789.123'],
    [1e21, '1000000000000000000000'],
    [2.5e25, '25000000000000000000000000'],
    [0.1, '0.1'],
    [0.625, '0.625'],
    ['50000', '50000'],
    ['50000.0', '50000'],
    ['50000.', '50000'],
    ['0.550', '0.55'],
    ['00.5', '0.5'],
    ['.5', '0.5'],
    ['+7', '7'],
    ['1e-7', '0.0000001'],
    ['1.5E3', '1500'],
    ['12.5e-1', '1.25'],
    ['0.00000000000000000001', '0.00000000000000000001'],
    ['123456789012345678901234567890.5', '123456789012345678901234567890.5'],
  ] as [number | string, string][])('%s → %s', (input, out) => {
    expect(formatStrike(input)).toBe(out);
  });

  it.each([0, -1, '-0.5', Number.NaN, Number.POSITIVE_INFINITY, '', 'abc', '1,5', '0.0', '1e'] as (
    | number
    | string
  )[])('rejects %s', (input) => {
    expect(invalidMessage(() => formatStrike(input))).toMatch(/strike .*: a strike must be/);
  });
});

describe('expiry', () => {
  it('formats Date, epoch ms and ISO strings as the UTC date YYMMDD', () => {
    expect(formatExpiry(new Date('2025-04-25T08:00:00.000Z'))).toBe('250425');
    expect(formatExpiry(Date.UTC(2024, 2, 29, 23, 59, 59, 999))).toBe('240329');
    expect(formatExpiry('2025-02-14T08:00:00.000Z')).toBe('250214');
    expect(formatExpiry('2024-12-31T23:30:00-02:00')).toBe('250101'); // UTC date, not the local one
    expect(formatExpiry('2024-12-27T08:00:00')).toBe('241227'); // no zone: read as UTC
    expect(formatExpiry('2024-02-29')).toBe('240229');
    expect(formatExpiry('2000-01-01')).toBe('000101');
    expect(formatExpiry('2099-12-31')).toBe('991231');
  });
  it('parses YYMMDD back to YYYY-MM-DD', () => {
    expect(parseExpiry('250425')).toBe('2025-04-25');
    expect(parseExpiry('000229')).toBe('2000-02-29');
    expect(toExpiryDate(1632470400000)).toBe('2021-09-24');
    for (const d of ['240101', '241231', '280229', '991231']) expect(formatExpiry(parseExpiry(d))).toBe(d);
  });
  it('rejects impossible and out-of-range dates', () => {
    expect(invalidMessage(() => parseExpiry('230229'))).toBe(
      'invalid instrument key "expiry 230229": not a calendar date',
    );
    expect(invalidMessage(() => parseExpiry('2402'))).toContain('expected six digits YYMMDD');
    expect(invalidMessage(() => formatExpiry('2024-02-30'))).toContain('not a calendar date');
    expect(invalidMessage(() => formatExpiry('1999-12-31'))).toContain('expiry years must be 2000-2099');
    expect(invalidMessage(() => formatExpiry(Number.NaN))).toContain('not a valid date');
    expect(invalidMessage(() => formatExpiry('29/03/2024'))).toContain(
      'expected a Date, epoch milliseconds or an ISO date',
    );
  });
});

describe('options chains', () => {
  it('names the chain of an underlying and finds it from a contract', () => {
    expect(optionsChainKey('DERIBIT', 'BTC', 'USD')).toBe('DERIBIT:OPTION:BTC-USD');
    expect(underlyingOf('DERIBIT:OPTION:BTC-USD-50000-241225-CALL')).toBe('DERIBIT:OPTION:BTC-USD');
    expect(underlyingOf('DERIBIT:OPTION:BTC-USD')).toBe('DERIBIT:OPTION:BTC-USD');
    expect(invalidMessage(() => underlyingOf('DERIBIT:PERP:BTC-USD'))).toBe(
      'invalid instrument key "DERIBIT:PERP:BTC-USD": underlyingOf needs an OPTION key, this is PERP',
    );
    expect(invalidMessage(() => optionsChainKey('DERIBIT', 'btc', 'USD'))).toContain('must be upper case');
  });
});

describe('keys as local file names', () => {
  const key = 'DERIBIT:OPTION:BTC-USD-50000-241225-CALL';
  it('maps ":" to "~" on win32 only, and reads both forms back everywhere', () => {
    expect(keyToFileName(key, 'win32')).toBe('DERIBIT~OPTION~BTC-USD-50000-241225-CALL');
    expect(keyToFileName(key, 'linux')).toBe(key);
    expect(keyToFileName(key, 'darwin')).toBe(key);
    expect(fileNameToKey('DERIBIT~OPTION~BTC-USD-50000-241225-CALL')).toBe(key);
    expect(fileNameToKey(key)).toBe(key);
    expect(keyToFileName(key)).toBe(process.platform === 'win32' ? key.replaceAll(':', '~') : key);
  });
  it('win32 names contain no character Windows forbids', () => {
    expect(keyToFileName('US:EQUITY:BRK.B', 'win32')).not.toMatch(/[<>:"/\\|?*]/);
  });
  it('validates both ways', () => {
    expect(invalidMessage(() => keyToFileName('BTCUSDT', 'win32'))).toContain('expected 3 parts');
    expect(invalidMessage(() => fileNameToKey('BINANCE~SPOT_PAIR~btc-usdt'))).toContain('must be upper case');
  });
});
