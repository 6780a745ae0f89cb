/** Bad and awkward inputs: headers, bad rows, line endings, empty files, quotes, backpressure. */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { valueAt } from '../../src/columns/ops.js';
import type { ColumnBatch } from '../../src/columns/types.js';
import { CorruptedSourceError, SchemaMismatchError, TooManyBadRowsError } from '../../src/errors.js';
import { createTardisCsvParser } from '../../src/sources/tardis/csv.js';
import { parse, rowsOf } from './helpers.js';

const TRADES_HEADER = 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount';
const QUOTES_HEADER = 'exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount';

function tradeLine(i: number, price = `${9682 + (i % 7) / 2}`): string {
  return `binance-futures,BTCUSDT,${1582329602111000 + i * 1000},${1582329602418379 + i * 1000},${42377944 + i},${i % 3 ? 'buy' : 'sell'},${price},0.132`;
}

function trades(n: number, edit: (i: number, line: string) => string = (_, l) => l): string {
  const lines = [TRADES_HEADER];
  for (let i = 0; i < n; i++) lines.push(edit(i, tradeLine(i)));
  return `${lines.join('\n')}\n`;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('header', () => {
  it('a wrong header is a one-line SchemaMismatchError naming the file and the missing columns', async () => {
    const err = await rejection(parse(`${QUOTES_HEADER}\nx,S,1,2,1,2,3,4\n`, 'trades'));
    expect(err).toBeInstanceOf(SchemaMismatchError);
    const e = err as SchemaMismatchError;
    expect(e.message).toContain('test.csv');
    expect(e.message).toContain('trades');
    expect(e.message).toContain('id, side, price, amount');
    expect(e.message).toContain('found: exchange,symbol');
    expect(e.hint).toContain('--data-types');
    expect(e.hint).toContain('looks like quotes');
    expect(e.oneLine()).not.toContain('\n');
  });

  it('a book_snapshot_5 file read as book_snapshot_25 is a mismatch', async () => {
    const cols = ['exchange', 'symbol', 'timestamp', 'local_timestamp'];
    for (let i = 0; i < 5; i++)
      cols.push(`asks[${i}].price`, `asks[${i}].amount`, `bids[${i}].price`, `bids[${i}].amount`);
    const err = await rejection(parse(`${cols.join(',')}\n`, 'book_snapshot_25'));
    expect(err).toBeInstanceOf(SchemaMismatchError);
    expect((err as SchemaMismatchError).message).toContain('asks[5].price');
    expect((err as SchemaMismatchError).message).toContain('80 in all');
    expect((err as SchemaMismatchError).hint).toContain('book_snapshot_5');
  });

  it('an empty file (or blank lines only) is a CorruptedSourceError', async () => {
    for (const input of ['', '\n\n', '\r\n']) {
      const err = await rejection(parse(input, 'trades'));
      expect(err).toBeInstanceOf(CorruptedSourceError);
      expect((err as Error).message).toBe('test.csv: empty file (no header line)');
    }
  });

  it('gzip bytes are a CorruptedSourceError, not a header mismatch', async () => {
    const err = await rejection(parse(gzipSync(trades(10)), 'trades', 1));
    expect(err).toBeInstanceOf(CorruptedSourceError);
    expect((err as Error).message).toContain('gzip');
  });

  it('a header only gives zero rows and no batch; with or without newline, BOM tolerated', async () => {
    for (const input of [`${TRADES_HEADER}\n`, TRADES_HEADER, `\uFEFF${TRADES_HEADER}\r\n`]) {
      const got = await parse(input, 'trades');
      expect(got.summary).toEqual({
        rows: 0,
        badRows: 0,
        examples: [],
        extraColumns: [],
        minTimestamp: null,
        maxTimestamp: null,
        symbols: [],
        sorted: true,
      });
      expect(got.batches).toEqual([]);
    }
  });
});

describe('bad rows', () => {
  it('a non-numeric price in one row of 10,000 is quarantined with reason and line number', async () => {
    const got = await parse(
      trades(10_000, (i, l) => (i === 4321 ? l.replace(/,[\d.]+,0\.132$/, ',abc,0.132') : l)),
      'trades',
    );
    expect(got.summary.rows).toBe(9_999);
    expect(got.summary.badRows).toBe(1);
    expect(got.bad).toEqual([
      {
        line: 4323,
        reason: 'price "abc" is not a number',
        raw: tradeLine(4321).replace(/,[\d.]+,0\.132$/, ',abc,0.132'),
      },
    ]);
    expect(got.summary.examples).toEqual([`line 4323: price "abc" is not a number: ${got.bad[0]!.raw}`]);
    const ids = got.batch.columns.id!;
    expect(valueAt(ids, 4320)).toBe(String(42377944 + 4320));
    expect(valueAt(ids, 4321)).toBe(String(42377944 + 4322));
  });

  it('gives precise reasons for each kind of bad row', async () => {
    const bad = [
      'binance-futures,BTCUSDT,1582329602111000,1582329602418379,1,buy,9682.5', // too few
      'binance-futures,BTCUSDT,1582329602111000,1582329602418379,1,buy,9682.5,0.1,extra', // too many
      'binance-futures,BTCUSDT,1582329602111000,1582329602418379,1,BUY,9682.5,0.1',
      'binance-futures,BTCUSDT,1582329602111000,1582329602418379,1,buy,,0.1',
      'binance-futures,BTCUSDT,15823296021110x0,1582329602418379,1,buy,9682.5,0.1',
      'binance-futures,BTCUSDT,1582329602111000,,1,buy,9682.5,0.1',
      'binance-futures,BTCUSDT,1582329602111000,1582329602418379,1,buy,NaN,0.1',
      'binance-futures,BTCUSDT,1582329602111000,1582329602418379,1,buy,9682.5,1e',
      'binance-futures,BTCUSDT,1582329602111000,1582329602418379,1,buy,"9682.5,0.1',
      ' ',
    ];
    const got = await parse(`${TRADES_HEADER}\n${bad.join('\n')}\n`, 'trades', 5, { maxBadRowShare: 1 });
    expect(got.summary.rows).toBe(0);
    expect(got.bad.map((b) => `${b.line}: ${b.reason}`)).toEqual([
      '2: expected 8 fields, found 7',
      '3: expected 8 fields, found 9',
      '4: side "BUY" is not one of buy|sell|unknown',
      '5: price is empty',
      '6: timestamp "15823296021110x0" is not an integer µs timestamp',
      '7: local_timestamp is empty',
      '8: price "NaN" is not a finite number',
      '9: amount "1e" is not a number',
      '10: unterminated quoted field',
      '11: expected 8 fields, found 1',
    ]);
    expect(got.summary.examples).toHaveLength(5);
  });

  it('too many bad rows fail at end() with TooManyBadRowsError', async () => {
    const err = await rejection(
      parse(
        trades(100, (i, l) => (i % 10 === 0 ? `${l},x` : l)),
        'trades',
      ),
    );
    expect(err).toBeInstanceOf(TooManyBadRowsError);
    const e = err as TooManyBadRowsError;
    expect(e.message).toContain('test.csv: 10 of 100 rows could not be parsed');
    expect(e.message).toContain('line 2: expected 8 fields, found 9');
    expect(e.details?.examples).toHaveLength(5);
    // Within the allowed share nothing is thrown.
    const ok = await parse(
      trades(100, (i, l) => (i === 0 ? `${l},x` : l)),
      'trades',
      65_536,
      { maxBadRowShare: 0.01 },
    );
    expect(ok.summary.badRows).toBe(1);
  });

  it('fails early, without reading the whole file, once > 1000 rows are bad', async () => {
    const text = new TextEncoder().encode(
      trades(50_000, (_, l) => l.replace('buy', 'BUY').replace('sell', 'SELL')),
    );
    const parser = createTardisCsvParser({
      dataType: 'trades',
      source: 'early.csv',
      resolveKey: (s) => s,
      onBatch: () => {},
    });
    let pushed = 0;
    let err: unknown = null;
    try {
      for (let o = 0; o < text.length; o += 4096) {
        await parser.push(text.subarray(o, o + 4096));
        pushed += 4096;
      }
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TooManyBadRowsError);
    expect((err as TooManyBadRowsError).message).toContain('early.csv: 1001 of 1001 rows');
    expect(pushed).toBeLessThan(text.length / 10);
    // The parser stays failed.
    expect(() => parser.push(text.subarray(0, 10))).toThrow(TooManyBadRowsError);
    await expect(parser.end()).rejects.toBeInstanceOf(TooManyBadRowsError);
  });

  it('a symbol whose resolveKey throws makes its rows bad, resolved once', async () => {
    const text = trades(20, (i, l) => (i % 2 ? l.replace('BTCUSDT', 'WEIRD') : l));
    let calls = 0;
    const got = await parse(text, 'trades', 65_536, {
      maxBadRowShare: 1,
      resolveKey: (s) => {
        calls++;
        if (s === 'WEIRD') throw new Error('unsupported instrument WEIRD');
        return `K:${s}`;
      },
    });
    expect(calls).toBe(2);
    expect(got.summary.rows).toBe(10);
    expect(got.bad[0]!.reason).toBe('symbol "WEIRD" has no instrument key: unsupported instrument WEIRD');
    expect(got.summary.symbols).toEqual(['BTCUSDT', 'WEIRD']);
  });
});

describe('line endings, chunking, quotes', () => {
  const reference = trades(300);

  it('CRLF, a missing final newline, blank lines and any chunking give identical rows', async () => {
    const want = rowsOf((await parse(reference, 'trades')).batch);
    expect(want).toHaveLength(300);
    const variants = [
      reference.replaceAll('\n', '\r\n'),
      reference.slice(0, -1),
      reference.replaceAll('\n', '\r\n').slice(0, -2),
      reference.replace(/\n/g, (m, off: number) => (off % 5 === 0 ? '\n\n' : m)),
      `\n${reference}\n\r\n`,
    ];
    for (const v of variants) {
      for (const chunks of [[1], [2], [7], [3, 1, 90, 2], [65_536]]) {
        const got = await parse(v, 'trades', chunks, { batchRows: 64 });
        expect(got.bad).toEqual([]);
        expect(rowsOf(got.batch)).toEqual(want);
      }
    }
  });

  it('line numbers count blank lines and the header', async () => {
    const text = `${TRADES_HEADER}\r\n\r\n${tradeLine(0)}\r\n\n${tradeLine(1, 'x')}\r\n`;
    const got = await parse(text, 'trades', 3, { maxBadRowShare: 1 });
    expect(got.bad.map((b) => [b.line, b.raw])).toEqual([[5, tradeLine(1, 'x')]]);
  });

  it('quoted fields take the RFC 4180 path', async () => {
    const text = `${TRADES_HEADER}\n"binance-futures","BTCUSDT",1582329602111000,"1582329602418379","a,""b""",buy,"9682.5",0.1\n${tradeLine(1)}\n`;
    const got = await parse(text, 'trades', 4);
    expect(got.bad).toEqual([]);
    expect(rowsOf(got.batch)[0]).toEqual([
      1582329602111000,
      1582329602418379,
      'a,"b"',
      'buy',
      9682.5,
      0.1,
      'TEST:PERP:BTCUSDT',
    ]);
  });

  it('empty timestamp takes local_timestamp; empty id is null; sorted/min/max are reported', async () => {
    const text = `${TRADES_HEADER}\nx,S,,200,,sell,1,2\nx,S,100,300,7,unknown,1,2\nx,S,50,400,8,buy,1,2\n`;
    const got = await parse(text, 'trades');
    expect(rowsOf(got.batch)).toEqual([
      [200, 200, null, 'sell', 1, 2, 'TEST:PERP:S'],
      [100, 300, '7', 'unknown', 1, 2, 'TEST:PERP:S'],
      [50, 400, '8', 'buy', 1, 2, 'TEST:PERP:S'],
    ]);
    expect(got.summary).toMatchObject({ minTimestamp: 50, maxTimestamp: 200, sorted: false });
  });

  it('numbers the fast path does not take (exponents, long mantissas, signs) still parse exactly', async () => {
    const prices = [
      '1e-7',
      '+5',
      '.5',
      '5.',
      '-0',
      '123456789012345678901',
      '0.1000000000000000000000001',
      '1E3',
      'inf',
    ];
    const body = prices.map((p, i) => `x,S,${i},${i},${i},buy,${p},1`).join('\n');
    const got = await parse(`${TRADES_HEADER}\n${body}\n`, 'trades', 65_536, { maxBadRowShare: 1 });
    const col = got.batch.columns.price!;
    const values = Array.from({ length: got.batch.length }, (_, i) => valueAt(col, i));
    expect(values).toEqual(prices.slice(0, -1).map(Number));
    expect(got.bad.map((b) => b.reason)).toEqual(['price "inf" is not a finite number']);
  });

  it('nullable fields accept nan/inf and empty', async () => {
    const got = await parse(`${QUOTES_HEADER}\nx,S,1,1,nan,,-inf,1e400\n`, 'quotes');
    // Canonical order: bid_price, bid_amount, ask_price, ask_amount.
    expect(rowsOf(got.batch)).toEqual([
      [1, 1, -Infinity, Number.POSITIVE_INFINITY, null, Number.NaN, 'TEST:PERP:S'],
    ]);
  });
});

describe('batches and backpressure', () => {
  it('awaits a promise from onBatch before parsing on, in order, never concurrently', async () => {
    const text = new TextEncoder().encode(trades(1000));
    const seen: number[] = [];
    let active = 0;
    let maxActive = 0;
    const parser = createTardisCsvParser({
      dataType: 'trades',
      source: 'bp.csv',
      resolveKey: (s) => s,
      batchRows: 100,
      onBatch: async (b: ColumnBatch) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 2));
        seen.push(valueAt(b.columns.id!, 0) as unknown as number);
        active--;
      },
    });
    const half = text.length >> 1;
    const first = parser.push(text.subarray(0, half));
    expect(first).toBeInstanceOf(Promise);
    // A push made while the previous one is pending is queued behind it.
    const second = parser.push(text.subarray(half));
    await Promise.all([first, second]);
    const summary = await parser.end();
    expect(summary.rows).toBe(1000);
    expect(maxActive).toBe(1);
    expect(seen.map(Number)).toEqual(Array.from({ length: 10 }, (_, i) => 42377944 + i * 100));
  });

  it('push is synchronous when onBatch is', () => {
    const parser = createTardisCsvParser({
      dataType: 'trades',
      source: 's.csv',
      resolveKey: (s) => s,
      batchRows: 10,
      onBatch: () => {},
    });
    expect(parser.push(new TextEncoder().encode(trades(100)))).toBeUndefined();
  });

  it('an error thrown by onBatch fails the parse', async () => {
    const err = await rejection(
      parse(trades(100), 'trades', 65_536, {
        batchRows: 10,
        onBatch: () => {
          throw new Error('disk full');
        },
      }),
    );
    expect((err as Error).message).toBe('disk full');
  });

  it('alternating symbols resolve once each; ids are copied as UTF-8 bytes', async () => {
    const text = trades(50, (i, l) =>
      i % 2 ? l.replace('BTCUSDT', 'ETHUSDT').replace(/,\d+,(buy|sell)/, ',ид-ü,$1') : l,
    );
    const got = await parse(text, 'trades', 7);
    expect(got.resolved).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(valueAt(got.batch.columns.id!, 1)).toBe('ид-ü');
    expect(valueAt(got.batch.columns.instrument_key!, 1)).toBe('TEST:PERP:ETHUSDT');
  });
});
