/**
 * Decimal parsing from bytes is identical to Number(text): ~1 M random decimal strings of realistic
 * and nasty shapes, through `parseDecimal` (fast path + fallback) and through the CSV hot loop.
 */
import { describe, expect, it } from 'vitest';
import { fastTimestamp, parseDecimal, parseTimestamp, scanEnd } from '../../src/sources/tardis/csv-number.js';
import { parse } from './helpers.js';

/** Small deterministic PRNG (mulberry32). */
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

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function generator(seed: number): () => string {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const digits = (n: number) => {
    let s = '';
    for (let i = 0; i < n; i++) s += String(int(10));
    return s;
  };
  const sign = () => (r() < 0.15 ? '-' : r() < 0.05 ? '+' : '');
  const doubles = new Float64Array(1);
  const bits = new Uint32Array(doubles.buffer);
  const shapes: (() => string)[] = [
    // Realistic prices and amounts.
    () => `${int(100_000)}${r() < 0.8 ? `.${digits(1 + int(8))}` : ''}`,
    () => `0.${digits(1 + int(10))}`,
    () => `${sign()}${int(10_000)}.${digits(int(4))}`,
    // Random digit soup: long mantissas, leading/trailing zeros, up to 25 fractional digits.
    () => {
      const i = r() < 0.2 ? '' : digits(int(26));
      const f = r() < 0.3 ? '' : digits(int(26));
      const s = i === '' && f === '' ? digits(1 + int(5)) : r() < 0.5 ? `${i}.${f}` : `${i || '0'}${f}`;
      return sign() + (i === '' && f !== '' ? `.${f}` : s);
    },
    () => `${'0'.repeat(int(30))}${digits(1 + int(17))}.${digits(int(23))}${'0'.repeat(int(10))}`,
    // Exponents, small and huge (subnormals, overflow, underflow).
    () =>
      `${sign()}${digits(1 + int(18))}${r() < 0.5 ? `.${digits(int(18))}` : ''}${r() < 0.5 ? 'e' : 'E'}${r() < 0.5 ? '-' : r() < 0.5 ? '+' : ''}${int(r() < 0.7 ? 30 : 400)}`,
    // Around 2^53 and the 22-digit fractional limit.
    () => `${9007199254740980 + int(40)}${r() < 0.5 ? `.${digits(int(3))}` : ''}`,
    () => `${digits(1 + int(3))}.${digits(21 + int(3))}`,
    // Shortest and 17-digit renderings of random doubles (the hard, near-halfway cases).
    () => {
      bits[0] = int(2 ** 32);
      bits[1] = int(2 ** 32);
      const d = doubles[0]!;
      if (!Number.isFinite(d)) return '1';
      return r() < 0.5 ? String(d) : d.toPrecision(17 + int(5));
    },
    () => (r() * 10 ** (int(20) - 10)).toString(),
    () => `${r() < 0.5 ? '-' : ''}${int(2) === 0 ? '.' : ''}${digits(1 + int(3))}${r() < 0.3 ? '.' : ''}`,
  ];
  return () => shapes[int(shapes.length)]!();
}

/** Pack strings into one buffer separated by `,` (so the byte after each field exists). */
function pack(texts: readonly string[]): { buf: Uint8Array; starts: Int32Array; ends: Int32Array } {
  const buf = Buffer.from(`${texts.join(',')},`, 'latin1');
  const starts = new Int32Array(texts.length);
  const ends = new Int32Array(texts.length);
  let p = 0;
  for (let i = 0; i < texts.length; i++) {
    starts[i] = p;
    p += texts[i]!.length;
    ends[i] = p;
    p++;
  }
  return { buf, starts, ends };
}

describe('parseDecimal', () => {
  it('is identical to Number() on ~1 M random decimal strings', () => {
    const next = generator(20_240_801);
    let checked = 0;
    for (let round = 0; round < 10; round++) {
      const texts = Array.from({ length: 100_000 }, next);
      const { buf, starts, ends } = pack(texts);
      for (let i = 0; i < texts.length; i++) {
        const t = texts[i]!;
        const got = parseDecimal(buf, starts[i]!, ends[i]!);
        const want = DECIMAL.test(t) ? Number(t) : undefined;
        if (!Object.is(got, want)) expect(got, JSON.stringify(t)).toBe(want);
      }
      checked += texts.length;
    }
    expect(checked).toBe(1_000_000);
  });

  it('handles the edge shapes exactly like Number()', () => {
    const texts = [
      '0',
      '-0',
      '+0',
      '-0.0',
      '.5',
      '5.',
      '-.5',
      '+5.',
      '00012.3400',
      '0.1',
      '0.3',
      '1e-7',
      '1E+22',
      '1e23',
      '9007199254740991',
      '9007199254740992',
      '9007199254740993',
      '9007199254740993.0',
      '1.7976931348623157e308',
      '1.7976931348623159e308',
      '1e400',
      '-1e400',
      '4.9e-324',
      '2.4703282292062327e-324',
      '2.4703282292062328e-324',
      '2.2250738585072011e-308',
      '0.0000000000000000000001',
      '0.00000000000000000000001',
      '123456789012345678901234567890',
      '1e0000000000000000000000001',
      '0e99999',
      '-0e-99999',
    ];
    const { buf, starts, ends } = pack(texts);
    texts.forEach((t, i) => {
      expect(Object.is(parseDecimal(buf, starts[i]!, ends[i]!), Number(t)), t).toBe(true);
    });
    // The field at the very end of a buffer (no byte after it) takes the fallback, same result.
    for (const t of texts)
      expect(Object.is(parseDecimal(Buffer.from(t), 0, t.length), Number(t)), t).toBe(true);
  });

  it('rejects texts outside the decimal grammar, reads nan/inf spellings', () => {
    const rejected = [
      '',
      '.',
      '-',
      '+',
      'e5',
      '1e',
      '1e+',
      '1..2',
      '1.2.3',
      '--1',
      'abc',
      '0x10',
      '0b1',
      ' 1',
      '1 ',
      '1,5',
      '1_000',
      '1-',
      '١٢',
    ];
    for (const t of rejected) {
      const b = Buffer.from(`${t},`);
      expect(parseDecimal(b, 0, b.length - 1), JSON.stringify(t)).toBeUndefined();
    }
    const special: [string, number][] = [
      ['NaN', Number.NaN],
      ['nan', Number.NaN],
      ['-nan', Number.NaN],
      ['inf', Infinity],
      ['-inf', -Infinity],
      ['Infinity', Infinity],
      ['+Infinity', Infinity],
      ['-INFINITY', -Infinity],
    ];
    for (const [t, v] of special) expect(parseDecimal(Buffer.from(`${t},`), 0, t.length), t).toBe(v);
  });

  it('is identical to Number() on random strings of number characters (grammar fuzz)', () => {
    const r = rng(7);
    const alphabet = '0123456789.eE+-';
    const texts = Array.from({ length: 200_000 }, () => {
      let s = '';
      const n = 1 + Math.floor(r() * 12);
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * (r() < 0.6 ? 10 : alphabet.length))];
      return s;
    });
    const { buf, starts, ends } = pack(texts);
    let valid = 0;
    texts.forEach((t, i) => {
      const got = parseDecimal(buf, starts[i]!, ends[i]!);
      if (DECIMAL.test(t)) {
        valid++;
        if (!Object.is(got, Number(t))) expect(got, t).toBe(Number(t));
      } else if (got !== undefined) {
        expect(got, `${t} should be rejected`).toBeUndefined();
      }
    });
    expect(valid).toBeGreaterThan(50_000);
  });
});

describe('parseTimestamp', () => {
  it('reads 1..16 digits below 2^53 exactly, rejects the rest', () => {
    const b = (t: string) => Buffer.from(t);
    expect(parseTimestamp(b('1582329602111000'), 0, 16)).toBe(1582329602111000);
    expect(parseTimestamp(b('9007199254740991'), 0, 16)).toBe(9007199254740991);
    expect(parseTimestamp(b('9007199254740992'), 0, 16)).toBeUndefined();
    expect(parseTimestamp(b('0'), 0, 1)).toBe(0);
    for (const t of ['', '-1', '1.5', '1e15', '12345678901234567', ' 1', 'abc']) {
      expect(parseTimestamp(b(t), 0, t.length), t).toBeUndefined();
    }
  });
});

describe('fastTimestamp (hot loop)', () => {
  it('agrees with BigInt on 200,000 random digit strings of 1..17 digits', () => {
    const r = rng(3);
    for (let i = 0; i < 200_000; i++) {
      const len = 1 + Math.floor(r() * 17);
      let t = '';
      for (let j = 0; j < len; j++) t += String(Math.floor(r() * 10));
      if (r() < 0.1) t = String(9007199254740980 + Math.floor(r() * 30));
      const buf = Buffer.from(`${t},`);
      const got = fastTimestamp(buf, 0);
      const want = t.length <= 16 && BigInt(t) < 2n ** 53n ? Number(BigInt(t)) : -1;
      if (got !== want) expect(got, t).toBe(want);
      if (got >= 0 && scanEnd !== t.length) expect(scanEnd, t).toBe(t.length);
    }
  });
});

describe('decimals through the CSV hot loop', () => {
  it('equal Number() for 200,000 random prices and amounts (generated file)', async () => {
    const next = generator(99);
    const lines = ['exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount'];
    const want: string[][] = [];
    for (let i = 0; i < 50_000; i++) {
      const v = [next(), next(), next(), next()].map((t) => (DECIMAL.test(t) ? t : '1'));
      want.push(v);
      lines.push(`x,S,${1_600_000_000_000_000 + i},${1_600_000_000_000_000 + i},${v.join(',')}`);
    }
    const got = await parse(`${lines.join('\n')}\n`, 'quotes', 65_536, { maxBadRowShare: 0 });
    expect(got.summary.badRows).toBe(0);
    const cols = ['ask_amount', 'ask_price', 'bid_price', 'bid_amount'].map((n) => got.batch.columns[n]!);
    for (let i = 0; i < want.length; i++) {
      for (let c = 0; c < 4; c++) {
        const col = cols[c]!;
        const v = col.kind === 'float64' ? col.values[i] : undefined;
        const t = want[i]![c]!;
        if (!Object.is(v, Number(t))) expect(v, t).toBe(Number(t));
      }
    }
  });
});
