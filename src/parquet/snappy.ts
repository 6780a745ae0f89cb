/**
 * Snappy raw block format (what Parquet's SNAPPY codec stores), compressor and decompressor.
 * https://github.com/google/snappy/blob/main/format_description.txt
 *
 * The compressor is the classic greedy hash-table matcher over 64 KiB blocks (so every copy offset
 * fits the 2-byte form); the output is valid Snappy, though not byte-identical to Google's.
 */

/** Thrown on malformed snappy input; callers wrap it in a typed error naming the file. */
export class SnappyError extends Error {}

const BLOCK_SIZE = 65536;
const HASH_BITS = 14;

/** Worst-case compressed size of `n` bytes (snappy's MaxCompressedLength). */
export function snappyMaxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

function writeVarint(out: Uint8Array, op: number, n: number): number {
  while (n >= 0x80) {
    out[op++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[op++] = n;
  return op;
}

function emitLiteral(src: Uint8Array, start: number, end: number, out: Uint8Array, op: number): number {
  const n = end - start - 1;
  if (n < 0) return op;
  if (n < 60) out[op++] = n << 2;
  else if (n < 0x100) {
    out[op++] = 60 << 2;
    out[op++] = n;
  } else if (n < 0x10000) {
    out[op++] = 61 << 2;
    out[op++] = n & 0xff;
    out[op++] = n >>> 8;
  } else if (n < 0x1000000) {
    out[op++] = 62 << 2;
    out[op++] = n & 0xff;
    out[op++] = (n >>> 8) & 0xff;
    out[op++] = n >>> 16;
  } else {
    out[op++] = 63 << 2;
    out[op++] = n & 0xff;
    out[op++] = (n >>> 8) & 0xff;
    out[op++] = (n >>> 16) & 0xff;
    out[op++] = n >>> 24;
  }
  out.set(src.subarray(start, end), op);
  return op + n + 1;
}

function emitCopy(offset: number, len: number, out: Uint8Array, op: number): number {
  // Long matches become 64-byte copies; keep >= 4 bytes for the tail so copy-1 stays legal.
  while (len >= 68) {
    out[op++] = 2 | (63 << 2);
    out[op++] = offset & 0xff;
    out[op++] = offset >>> 8;
    len -= 64;
  }
  if (len > 64) {
    out[op++] = 2 | (59 << 2);
    out[op++] = offset & 0xff;
    out[op++] = offset >>> 8;
    len -= 60;
  }
  if (len < 12 && offset < 2048) {
    // copy-1: 3 bits of length-4, 11 bits of offset.
    out[op++] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5);
    out[op++] = offset & 0xff;
  } else {
    out[op++] = 2 | ((len - 1) << 2);
    out[op++] = offset & 0xff;
    out[op++] = offset >>> 8;
  }
  return op;
}

function load32(a: Uint8Array, i: number): number {
  return a[i]! | (a[i + 1]! << 8) | (a[i + 2]! << 16) | (a[i + 3]! << 24);
}

/** Compress `input` into a new snappy block. */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const n = input.length;
  const out = new Uint8Array(snappyMaxCompressedLength(n));
  let op = writeVarint(out, 0, n);
  // table[h] = position + 1 of the last 4-byte sequence with hash h in this block (0 = empty).
  const table = new Int32Array(1 << HASH_BITS);
  for (let start = 0; start < n; start += BLOCK_SIZE) {
    const end = Math.min(start + BLOCK_SIZE, n);
    if (start > 0) table.fill(0);
    let nextEmit = start;
    if (end - start >= 16) {
      const ipLimit = end - 4;
      let ip = start;
      while (ip <= ipLimit) {
        const v = load32(input, ip);
        const h = Math.imul(v, 0x1e35a7bd) >>> (32 - HASH_BITS);
        const cand = table[h]! - 1;
        table[h] = ip + 1;
        if (cand >= start && load32(input, cand) === v) {
          op = emitLiteral(input, nextEmit, ip, out, op);
          let len = 4;
          while (ip + len < end && input[cand + len] === input[ip + len]) len++;
          op = emitCopy(ip - cand, len, out, op);
          ip += len;
          nextEmit = ip;
          if (ip - 1 <= ipLimit) {
            table[Math.imul(load32(input, ip - 1), 0x1e35a7bd) >>> (32 - HASH_BITS)] = ip;
          }
        } else {
          // Skip faster through incompressible stretches (1 extra byte per 32 misses).
          ip += 1 + ((ip - nextEmit) >>> 5);
        }
      }
    }
    op = emitLiteral(input, nextEmit, end, out, op);
  }
  return out.subarray(0, op);
}

/** Uncompressed length stored at the start of a snappy block. */
export function snappyUncompressedLength(input: Uint8Array): number {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < 5 && i < input.length; i++) {
    const b = input[i]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
    shift += 7;
  }
  throw new SnappyError('bad snappy length header');
}

/** Decompress a snappy block into `out` (or a new array of the stored length). Returns the output. */
export function snappyDecompress(input: Uint8Array, out?: Uint8Array): Uint8Array {
  const n = input.length;
  let ip = 0;
  let len = 0;
  let shift = 0;
  for (;;) {
    if (ip >= n || shift > 28) throw new SnappyError('bad snappy length header');
    const b = input[ip++]!;
    len += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  const dst = out ?? new Uint8Array(len);
  if (dst.length < len) throw new SnappyError('snappy output larger than expected');
  let op = 0;
  while (ip < n) {
    const tag = input[ip++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let litLen = tag >>> 2;
      if (litLen >= 60) {
        const bytes = litLen - 59;
        if (ip + bytes > n) throw new SnappyError('truncated snappy literal');
        litLen = 0;
        for (let i = 0; i < bytes; i++) litLen += input[ip + i]! * 2 ** (8 * i);
        ip += bytes;
      }
      litLen += 1;
      if (ip + litLen > n || op + litLen > len) throw new SnappyError('snappy literal out of bounds');
      dst.set(input.subarray(ip, ip + litLen), op);
      ip += litLen;
      op += litLen;
      continue;
    }
    let copyLen: number;
    let offset: number;
    if (kind === 1) {
      if (ip >= n) throw new SnappyError('truncated snappy copy');
      copyLen = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[ip++]!;
    } else if (kind === 2) {
      if (ip + 2 > n) throw new SnappyError('truncated snappy copy');
      copyLen = (tag >>> 2) + 1;
      offset = input[ip]! | (input[ip + 1]! << 8);
      ip += 2;
    } else {
      if (ip + 4 > n) throw new SnappyError('truncated snappy copy');
      copyLen = (tag >>> 2) + 1;
      offset = (input[ip]! | (input[ip + 1]! << 8) | (input[ip + 2]! << 16) | (input[ip + 3]! << 24)) >>> 0;
      ip += 4;
    }
    if (offset === 0 || offset > op || op + copyLen > len) throw new SnappyError('snappy copy out of bounds');
    if (offset >= copyLen) dst.copyWithin(op, op - offset, op - offset + copyLen);
    else {
      // Overlapping copy (a run): must go byte by byte.
      for (let i = 0; i < copyLen; i++) dst[op + i] = dst[op - offset + i]!;
    }
    op += copyLen;
  }
  if (op !== len) throw new SnappyError(`snappy output is ${op} bytes, header says ${len}`);
  return dst;
}
