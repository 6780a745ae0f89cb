/** Corrupted input gives typed errors; projection reads only the requested byte ranges; codec units. */
import { describe, expect, it } from 'vitest';
import type { ColumnBatch, Schema } from '../../src/columns/types.js';
import { CorruptedFileError } from '../../src/errors.js';
import { ByteBuffer, decodeHybrid, encodeHybrid } from '../../src/parquet/encoding.js';
import { ParquetReader, ParquetWriter, snappyCompress, snappyDecompress } from '../../src/parquet/index.js';
import { ThriftReader, ThriftWriter } from '../../src/parquet/thrift.js';
import { allKindsSchema, memorySource, randomBatch, rng } from './helpers.js';

async function writeBytes(schema: Schema, batch: ColumnBatch, rowGroupRows = 1000): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const sink = {
    position: 0,
    async write(c: Uint8Array) {
      chunks.push(c.slice());
      this.position += c.length;
    },
  };
  const w = new ParquetWriter(sink, { schema, rowGroupRows });
  await w.write(batch);
  await w.close();
  return Buffer.concat(chunks);
}

const schema = allKindsSchema();
const good = new Uint8Array(await writeBytes(schema, randomBatch(schema, 3000, rng(5))));

async function openError(bytes: Uint8Array): Promise<CorruptedFileError> {
  try {
    const r = await ParquetReader.open(memorySource(bytes), 'bad.parquet');
    await r.readBatch();
  } catch (err) {
    expect(err).toBeInstanceOf(CorruptedFileError);
    return err as CorruptedFileError;
  }
  throw new Error('expected a CorruptedFileError');
}

describe('corrupted files', () => {
  it('garbage, empty and tiny files', async () => {
    expect((await openError(new Uint8Array(0))).message).toMatch(/^bad\.parquet: not a Parquet file/);
    expect((await openError(new TextEncoder().encode('hello, this is a CSV file\n1,2,3\n'))).message).toMatch(
      /not a Parquet file \(bad magic\)/,
    );
    const noise = new Uint8Array(5000).map((_, i) => (i * 7919) & 0xff);
    expect((await openError(noise)).message).toMatch(/bad magic/);
  });

  it('truncated files', async () => {
    // Cut at the end: the tail magic is gone.
    expect((await openError(good.subarray(0, good.length - 1))).message).toMatch(/bad magic/);
    // Keep the tail but drop the start: the footer length no longer fits.
    const tail = good.subarray(good.length - 100);
    expect((await openError(tail)).message).toMatch(/footer length exceeds file size|bad magic/);
    // Footer length field corrupted.
    const badLen = good.slice();
    new DataView(badLen.buffer).setUint32(badLen.length - 8, 0x7fffffff, true);
    expect((await openError(badLen)).message).toMatch(/footer length exceeds file size/);
  });

  it('damaged footer and damaged pages', async () => {
    const view = new DataView(good.buffer, good.byteOffset, good.byteLength);
    const footerLen = view.getUint32(good.length - 8, true);
    const footerStart = good.length - 8 - footerLen;
    // Garbage inside the footer.
    const badFooter = good.slice();
    badFooter.fill(0xff, footerStart, footerStart + Math.min(200, footerLen));
    expect((await openError(badFooter)).message).toMatch(/bad\.parquet: /);
    // Garbage over the column data (pages): decoding fails with a typed error naming the column.
    const badPages = good.slice();
    badPages.fill(0x5a, 4, footerStart);
    expect((await openError(badPages)).message).toMatch(/bad\.parquet: corrupted column "/);
    // Random bit flips in data pages never crash with a non-typed error.
    const next = rng(3);
    for (let k = 0; k < 30; k++) {
      const flipped = good.slice();
      for (let j = 0; j < 5; j++)
        flipped[4 + Math.floor(next() * (footerStart - 4))]! ^= 1 << Math.floor(next() * 8);
      try {
        await (await ParquetReader.open(memorySource(flipped), 'bad.parquet')).readBatch();
      } catch (err) {
        expect(err, String(err)).toBeInstanceOf(CorruptedFileError);
      }
    }
  });
});

describe('I/O', () => {
  it('column projection and row-group selection read fewer bytes', async () => {
    const all = await ParquetReader.open(memorySource(good));
    const footerBytes = all.bytesRead;
    await all.readBatch();
    const one = await ParquetReader.open(memorySource(good));
    await one.readBatch({ columns: ['int32_req'] });
    const rg = await ParquetReader.open(memorySource(good));
    await rg.readBatch({ columns: ['int32_req'], rowGroups: [1] });
    const chunk = one.metadata.rowGroups[1]!.columns.int32_req!;
    expect(rg.bytesRead - footerBytes).toBe(chunk.length);
    expect(one.bytesRead - footerBytes).toBe(
      one.metadata.rowGroups.reduce((s, g) => s + g.columns.int32_req!.length, 0),
    );
    expect(one.bytesRead - footerBytes).toBeLessThan((all.bytesRead - footerBytes) / 5);
    expect(footerBytes).toBeLessThanOrEqual(64 * 1024);
  });
});

describe('codec and encoding units', () => {
  it('snappy round trips text, runs, random and empty input', () => {
    const next = rng(11);
    const inputs = [
      new Uint8Array(0),
      new TextEncoder().encode('a'),
      new TextEncoder().encode('hello hello hello hello hello world '.repeat(5000)),
      new Uint8Array(200_000), // long zero run (overlapping copies)
      new Uint8Array(150_000).map(() => Math.floor(next() * 256)),
      new Uint8Array(100_000).map((_, i) => (i % 1000 < 500 ? i & 7 : Math.floor(next() * 4))),
    ];
    for (const input of inputs) {
      const c = snappyCompress(input);
      expect(Buffer.compare(snappyDecompress(c), input)).toBe(0);
    }
    expect(snappyCompress(new Uint8Array(200_000)).length).toBeLessThan(10_000);
    expect(() => snappyDecompress(Uint8Array.of(10, 0x0d, 1))).toThrow();
  });

  it('RLE / bit-packed hybrid round trips at every bit width', () => {
    const next = rng(12);
    for (let width = 1; width <= 32; width++) {
      const max = width === 32 ? 2 ** 31 - 1 : 2 ** width - 1;
      for (const n of [0, 1, 7, 8, 9, 100, 1001]) {
        const values = new Int32Array(n);
        for (let i = 0; i < n; i++)
          values[i] = next() < 0.5 ? Math.floor(next() * (max + 1)) : (values[i - 1] ?? 0);
        const out = new ByteBuffer();
        encodeHybrid(values, 0, n, width, out);
        const back = new Int32Array(n);
        decodeHybrid(out.view(), 0, out.length, width, n, back);
        expect(back, `width ${width} n ${n}`).toEqual(values);
      }
    }
  });

  it('thrift compact varints and zigzag keep 52-bit values', () => {
    const w = new ThriftWriter();
    const vals = [0, 1, -1, 2 ** 31, -(2 ** 31), 2 ** 52 - 1, -(2 ** 52), 1234567890123];
    w.structBegin();
    for (const [i, v] of vals.entries()) w.i64(i + 1, v);
    w.i32(100, -5); // long field-id delta
    w.structEnd();
    const s = new ThriftReader(w.bytes()).struct();
    for (const [i, v] of vals.entries()) expect(s[i + 1]).toBe(v);
    expect(s[100]).toBe(-5);
  });
});
