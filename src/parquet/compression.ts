/**
 * Page compression codecs: zstd (zstd-napi native binding, contexts reused), gzip (node:zlib),
 * snappy (our own, `snappy.ts`) and none.
 */
import { createRequire } from 'node:module';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CompressionCodec, enumName } from './metadata.js';
import { snappyCompress, snappyDecompress, snappyUncompressedLength } from './snappy.js';

/** Codec names accepted by the writer. */
export type CodecName = 'zstd' | 'snappy' | 'gzip' | 'none';

/** The part of zstd-napi's native binding we use (it ships as CommonJS). */
interface ZstdBinding {
  CCtx: new () => { compress(dst: Uint8Array, src: Uint8Array, level: number): number };
  DCtx: new () => { decompress(dst: Uint8Array, src: Uint8Array): number };
  compressBound(n: number): number;
}

const require = createRequire(import.meta.url);
let zstd: ZstdBinding | null = null;
let cctx: InstanceType<ZstdBinding['CCtx']> | null = null;
let dctx: InstanceType<ZstdBinding['DCtx']> | null = null;

function zstdBinding(): ZstdBinding {
  zstd ??= require('zstd-napi/binding.js') as ZstdBinding;
  return zstd;
}

/** Thrown for codecs we do not implement; the reader wraps it in a typed error. */
export class UnsupportedCodecError extends Error {}

/** Parquet `CompressionCodec` value for a codec name. */
export function codecId(name: CodecName): number {
  switch (name) {
    case 'zstd':
      return CompressionCodec.ZSTD;
    case 'snappy':
      return CompressionCodec.SNAPPY;
    case 'gzip':
      return CompressionCodec.GZIP;
    case 'none':
      return CompressionCodec.UNCOMPRESSED;
  }
}

/** Compress one page body. `level` applies to zstd only. */
export function compress(codec: number, input: Uint8Array, level: number): Uint8Array {
  switch (codec) {
    case CompressionCodec.UNCOMPRESSED:
      return input;
    case CompressionCodec.ZSTD: {
      const z = zstdBinding();
      cctx ??= new z.CCtx();
      const out = new Uint8Array(z.compressBound(input.length));
      const n = cctx.compress(out, input, level);
      // Copy out when the bound wastes a lot, so buffered pages do not pin oversized buffers.
      return n < out.length / 2 ? out.slice(0, n) : out.subarray(0, n);
    }
    case CompressionCodec.SNAPPY:
      return snappyCompress(input);
    case CompressionCodec.GZIP:
      return gzipSync(input, { level: 6 });
    default:
      throw new UnsupportedCodecError(`unsupported compression codec ${enumName(CompressionCodec, codec)}`);
  }
}

/**
 * Decompress one page body into a new buffer of exactly `size` bytes (its own ArrayBuffer at
 * offset 0, so 8-byte values in it can be viewed as BigInt64Array/Float64Array without a copy).
 * UNCOMPRESSED returns `input` itself.
 */
export function decompress(codec: number, input: Uint8Array, size: number): Uint8Array {
  if (codec === CompressionCodec.UNCOMPRESSED) {
    if (input.length !== size) throw new Error(`page is ${input.length} bytes, header says ${size}`);
    return input;
  }
  if (codec === CompressionCodec.GZIP) {
    const out = gunzipSync(input);
    if (out.length !== size) throw new Error(`gzip page is ${out.length} bytes, header says ${size}`);
    return out;
  }
  return decompressInto(codec, input, new Uint8Array(size));
}

/** Decompress one page body into `out`, which must be exactly the uncompressed size. */
export function decompressInto(codec: number, input: Uint8Array, out: Uint8Array): Uint8Array {
  switch (codec) {
    case CompressionCodec.UNCOMPRESSED:
      if (input.length !== out.length)
        throw new Error(`page is ${input.length} bytes, header says ${out.length}`);
      out.set(input);
      return out;
    case CompressionCodec.ZSTD: {
      const z = zstdBinding();
      dctx ??= new z.DCtx();
      const n = dctx.decompress(out, input);
      if (n !== out.length) throw new Error(`zstd page is ${n} bytes, header says ${out.length}`);
      return out;
    }
    case CompressionCodec.SNAPPY: {
      const n = snappyUncompressedLength(input);
      if (n !== out.length) throw new Error(`snappy page is ${n} bytes, header says ${out.length}`);
      return snappyDecompress(input, out);
    }
    case CompressionCodec.GZIP: {
      const res = gunzipSync(input);
      if (res.length !== out.length)
        throw new Error(`gzip page is ${res.length} bytes, header says ${out.length}`);
      out.set(res);
      return out;
    }
    default:
      throw new UnsupportedCodecError(`unsupported compression codec ${enumName(CompressionCodec, codec)}`);
  }
}
