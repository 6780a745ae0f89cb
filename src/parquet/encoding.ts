/**
 * Value and level encodings: the RLE / bit-packed hybrid (definition levels, dictionary indices,
 * booleans), bit packing, and a growable byte buffer for page assembly.
 * https://parquet.apache.org/docs/file-format/data-pages/encodings/
 */

/** Thrown on malformed encoded data; callers wrap it in a `CorruptedFileError` naming the column. */
export class EncodingError extends Error {}

/** Growable byte buffer. */
export class ByteBuffer {
  buf: Uint8Array;
  length = 0;

  constructor(capacity = 1024) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }

  ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }

  u32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.length;
    b[p] = v & 0xff;
    b[p + 1] = (v >>> 8) & 0xff;
    b[p + 2] = (v >>> 16) & 0xff;
    b[p + 3] = (v >>> 24) & 0xff;
    this.length = p + 4;
  }

  varint(n: number): void {
    this.ensure(5);
    while (n >= 0x80) {
      this.buf[this.length++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.length++] = n;
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.length);
    this.length += src.length;
  }

  /** The written bytes (a view). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Bits needed to store values `0..maxValue`. */
export function bitWidth(maxValue: number): number {
  return maxValue <= 0 ? 0 : 32 - Math.clz32(maxValue);
}

/**
 * Append `values[start..end)` as an RLE / bit-packed hybrid (no length prefix).
 * Runs of >= 8 equal values become RLE runs; everything else is bit-packed in groups of 8.
 */
export function encodeHybrid(
  values: ArrayLike<number>,
  start: number,
  end: number,
  width: number,
  out: ByteBuffer,
): void {
  const valueBytes = (width + 7) >>> 3;
  let i = start;
  while (i < end) {
    // Length of the run of equal values starting at i.
    const v = values[i]!;
    let r = i + 1;
    while (r < end && values[r] === v) r++;
    if (r - i >= 8 || r === end) {
      out.varint((r - i) * 2);
      out.ensure(valueBytes);
      for (let b = 0; b < valueBytes; b++) out.buf[out.length++] = (v >>> (8 * b)) & 0xff;
      i = r;
      continue;
    }
    // Bit-packed: take groups of 8 until a group starts with a run of >= 8 (or input ends).
    const litStart = i;
    for (;;) {
      i += 8;
      if (i >= end) break;
      const g = values[i]!;
      let k = i + 1;
      while (k < end && k < i + 8 && values[k] === g) k++;
      if (k - i >= 8) break;
    }
    const litEnd = Math.min(i, end);
    const groups = (i - litStart) >>> 3;
    out.varint(groups * 2 + 1);
    packBits(values, litStart, litEnd, groups * 8, width, out);
    i = litEnd;
  }
}

/** Bit-pack `values[start..end)` LSB-first, padded with zeros to `count` values. */
function packBits(
  values: ArrayLike<number>,
  start: number,
  end: number,
  count: number,
  width: number,
  out: ByteBuffer,
): void {
  out.ensure(((count * width + 7) >>> 3) + 8);
  const buf = out.buf;
  let p = out.length;
  if (width <= 24) {
    // acc holds < 8 pending bits plus one value of <= 24 bits: fits in 32 bits.
    let acc = 0;
    let bits = 0;
    for (let i = 0; i < count; i++) {
      const v = start + i < end ? values[start + i]! : 0;
      acc |= v << bits;
      bits += width;
      while (bits >= 8) {
        buf[p++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
    }
    if (bits > 0) buf[p++] = acc & 0xff;
  } else {
    // Rare (dictionaries above 16M entries): one bit at a time.
    buf.fill(0, p, p + ((count * width + 7) >>> 3));
    let bitPos = 0;
    for (let i = 0; i < count; i++) {
      const v = start + i < end ? values[start + i]! : 0;
      for (let b = 0; b < width; b++, bitPos++) {
        if ((v >>> b) & 1) buf[p + (bitPos >>> 3)]! |= 1 << (bitPos & 7);
      }
    }
    p += (count * width + 7) >>> 3;
  }
  out.length = p;
}

/**
 * Decode `count` values of an RLE / bit-packed hybrid from `buf[offset..end)` into `out[0..count)`.
 * Returns the offset after the last run read.
 */
export function decodeHybrid(
  buf: Uint8Array,
  offset: number,
  end: number,
  width: number,
  count: number,
  out: Int32Array | Uint8Array,
): number {
  let p = offset;
  let i = 0;
  const valueBytes = (width + 7) >>> 3;
  const mask = width >= 32 ? -1 : (1 << width) - 1;
  while (i < count) {
    if (p >= end) throw new EncodingError(`RLE data ends after ${i} of ${count} values`);
    // Run header varint.
    let header = 0;
    let shift = 0;
    for (;;) {
      if (p >= end) throw new EncodingError('truncated RLE run header');
      const b = buf[p++]!;
      header += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 35) throw new EncodingError('bad RLE run header');
    }
    if ((header & 1) === 0) {
      const n = Math.min(Math.floor(header / 2), count - i);
      if (p + valueBytes > end) throw new EncodingError('truncated RLE run value');
      let v = 0;
      for (let b = 0; b < valueBytes; b++) v |= buf[p + b]! << (8 * b);
      p += valueBytes;
      out.fill(v, i, i + n);
      i += n;
    } else {
      const groups = Math.floor(header / 2);
      const runBytes = groups * width;
      const n = Math.min(groups * 8, count - i);
      if (width === 0) {
        out.fill(0, i, i + n);
      } else if (width <= 24) {
        // Bytes past `end` read as 0 (undefined | 0): only the padding of a final group can need them.
        const stop = Math.min(p + runBytes, end);
        let q = p;
        let acc = 0;
        let bits = 0;
        for (let k = 0; k < n; k++) {
          while (bits < width) {
            acc |= (q < stop ? buf[q]! : 0) << bits;
            q++;
            bits += 8;
          }
          out[i + k] = acc & mask;
          acc >>>= width;
          bits -= width;
        }
      } else {
        for (let k = 0; k < n; k++) {
          let v = 0;
          const bit0 = k * width;
          for (let b = 0; b < width; b++) {
            const bit = bit0 + b;
            const byte = p + (bit >>> 3);
            if (byte < end && (buf[byte]! >>> (bit & 7)) & 1) v |= 1 << b;
          }
          out[i + k] = v;
        }
      }
      p += runBytes;
      i += n;
    }
  }
  return Math.min(p, end);
}

/** PLAIN booleans: bit-pack 0/1 bytes LSB-first. */
export function packBooleans(values: Uint8Array, out: ByteBuffer): void {
  const n = values.length;
  const nBytes = (n + 7) >>> 3;
  out.ensure(nBytes);
  const buf = out.buf;
  const p = out.length;
  buf.fill(0, p, p + nBytes);
  for (let i = 0; i < n; i++) if (values[i]) buf[p + (i >>> 3)]! |= 1 << (i & 7);
  out.length = p + nBytes;
}

/** PLAIN booleans: unpack `count` bits from `buf[offset..]` into 0/1 bytes. */
export function unpackBooleans(buf: Uint8Array, offset: number, count: number, out: Uint8Array): void {
  if (offset + ((count + 7) >>> 3) > buf.length) throw new EncodingError('boolean values past end of page');
  for (let i = 0; i < count; i++) out[i] = (buf[offset + (i >>> 3)]! >>> (i & 7)) & 1;
}
