/** Test helpers: file-backed ByteSink / RandomAccessSource, seeded random batches, value access. */

import { mkdtempSync, rmSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Utf8Builder } from '../../src/columns/builders.js';
import type { Column, ColumnBatch, ColumnKind, Field, Schema } from '../../src/columns/types.js';
import type { ByteSink, RandomAccessSource } from '../../src/lake/storage.js';

/** Append-only file sink. */
export class FileSink implements ByteSink {
  position = 0;
  private constructor(private readonly fh: FileHandle) {}
  static async create(path: string): Promise<FileSink> {
    return new FileSink(await open(path, 'w'));
  }
  async write(chunk: Uint8Array): Promise<void> {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await this.fh.write(chunk, done, chunk.length - done, this.position + done);
      done += bytesWritten;
    }
    this.position += chunk.length;
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

/** Random-access file source. */
export class FileSource implements RandomAccessSource {
  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}
  static async open(path: string): Promise<FileSource> {
    const fh = await open(path, 'r');
    return new FileSource(fh, (await fh.stat()).size);
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === length ? buf : buf.subarray(0, done);
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

/** In-memory source over bytes. */
export function memorySource(bytes: Uint8Array): RandomAccessSource {
  bytes = new Uint8Array(bytes); // a private copy: Buffer#slice would return views
  return {
    size: bytes.length,
    read: async (offset, length) => bytes.slice(offset, offset + length),
    close: async () => undefined,
  };
}

/** A fresh temp directory under os.tmpdir(), removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ticklake-parquet-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Mulberry32: small seeded PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['BTC-USDT', 'ETH-USDT', 'über', '日本語', '', 'a', 'zz', 'emoji 🚀', 'x'.repeat(100)];

/** A random column of `kind` with `n` rows; nulls with probability `nullShare` when nullable. */
export function randomColumn(
  kind: ColumnKind,
  n: number,
  nullable: boolean,
  next: () => number,
  nullShare = 0.2,
): Column {
  const validity = nullable ? new Uint8Array(n) : null;
  if (validity) for (let i = 0; i < n; i++) validity[i] = next() < nullShare ? 0 : 1;
  const isNull = (i: number) => validity !== null && validity[i] === 0;
  switch (kind) {
    case 'timestamp': {
      const v = new Float64Array(n);
      let t = 1_700_000_000_000_000;
      for (let i = 0; i < n; i++) {
        t += Math.floor(next() * 1000);
        v[i] = isNull(i) ? 0 : t;
      }
      return { kind, values: v, validity };
    }
    case 'int64': {
      const v = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const r = next();
        // Mix small, negative and near-2^53 values.
        v[i] = isNull(i)
          ? 0
          : r < 0.3
            ? Math.floor((next() - 0.5) * 1000)
            : r < 0.6
              ? Math.floor((next() - 0.5) * 2 ** 53)
              : Math.floor(next() * 2 ** 40);
      }
      return { kind, values: v, validity };
    }
    case 'float64': {
      const v = new Float64Array(n);
      for (let i = 0; i < n; i++) v[i] = isNull(i) ? 0 : next() < 0.01 ? -0 : (next() - 0.5) * 1e6;
      return { kind, values: v, validity };
    }
    case 'int32': {
      const v = new Int32Array(n);
      for (let i = 0; i < n; i++) v[i] = isNull(i) ? 0 : Math.floor((next() - 0.5) * 2 ** 32);
      return { kind, values: v, validity };
    }
    case 'bool': {
      const v = new Uint8Array(n);
      for (let i = 0; i < n; i++) v[i] = isNull(i) ? 0 : next() < 0.5 ? 1 : 0;
      return { kind, values: v, validity };
    }
    case 'utf8': {
      const b = new Utf8Builder(n);
      for (let i = 0; i < n; i++) {
        if (isNull(i)) b.appendNull();
        else if (next() < 0.5) b.append(WORDS[Math.floor(next() * WORDS.length)]!);
        else b.append(String(Math.floor(next() * 1e9)));
      }
      const c = b.finish();
      return { ...c, validity };
    }
    case 'dict': {
      const dictionary = ['buy', 'sell', 'unknown', 'never-used', 'ünïcode'];
      const indices = new Int32Array(n);
      for (let i = 0; i < n; i++) indices[i] = isNull(i) ? 0 : [0, 1, 2, 4][Math.floor(next() * 4)]!;
      return { kind, indices, dictionary, validity };
    }
  }
}

export const ALL_KINDS: ColumnKind[] = ['timestamp', 'float64', 'int64', 'int32', 'bool', 'utf8', 'dict'];

/** A schema with every kind, required and nullable. */
export function allKindsSchema(): Schema {
  const fields: Field[] = [];
  for (const kind of ALL_KINDS) {
    fields.push({ name: `${kind}_req`, kind, nullable: false });
    fields.push({ name: `${kind}_opt`, kind, nullable: true });
  }
  return { fields };
}

/** A random batch for `schema`. */
export function randomBatch(schema: Schema, n: number, next: () => number): ColumnBatch {
  const columns: Record<string, Column> = {};
  for (const f of schema.fields) columns[f.name] = randomColumn(f.kind, n, f.nullable, next);
  return { length: n, columns };
}
