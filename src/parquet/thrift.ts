/**
 * Thrift compact protocol: the encoding of every Parquet footer and page header.
 * https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md
 *
 * The writer is imperative (`structBegin`, `i32(fieldId, v)`, ...). The reader decodes any struct
 * generically into `{ [fieldId]: value }`; `metadata.ts` maps those onto the Parquet structs.
 * i64 values are JS numbers (exact below 2^53, which covers every offset, size and count we meet).
 */

/** Compact-protocol type ids. */
export const CompactType = {
  STOP: 0,
  BOOLEAN_TRUE: 1,
  BOOLEAN_FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;
export type CompactType = (typeof CompactType)[keyof typeof CompactType];

const textEncoder = new TextEncoder();
const TWO_32 = 4294967296;

/** Growable byte buffer with Thrift compact-protocol writers. */
export class ThriftWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;
  /** Last field id per open struct (field ids are delta-encoded). */
  private readonly lastIds: number[] = [];
  private lastId = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** The bytes written so far (a view; copy it before writing more). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b & 0xff;
  }

  /** Unsigned LEB128 varint of a non-negative integer < 2^53. */
  varint(n: number): void {
    this.ensure(10);
    // Low 7 bits at a time; division keeps values above 2^31 exact (bit ops would truncate to 32 bits).
    while (n >= 0x80) {
      this.buf[this.length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.length++] = n;
  }

  /** Zigzag varint (i16/i32/i64 values). */
  zigzag(n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  private fieldHeader(fieldId: number, type: number): void {
    const delta = fieldId - this.lastId;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(fieldId);
    }
    this.lastId = fieldId;
  }

  /** Begin a nested struct (top-level, list element or after `structField`). */
  structBegin(): void {
    this.lastIds.push(this.lastId);
    this.lastId = 0;
  }

  structEnd(): void {
    this.byte(CompactType.STOP);
    this.lastId = this.lastIds.pop() ?? 0;
  }

  /** Header of a struct-valued field; follow with `structBegin()` ... `structEnd()`. */
  structField(fieldId: number): void {
    this.fieldHeader(fieldId, CompactType.STRUCT);
  }

  bool(fieldId: number, v: boolean): void {
    this.fieldHeader(fieldId, v ? CompactType.BOOLEAN_TRUE : CompactType.BOOLEAN_FALSE);
  }

  i8(fieldId: number, v: number): void {
    this.fieldHeader(fieldId, CompactType.BYTE);
    this.byte(v);
  }

  i16(fieldId: number, v: number): void {
    this.fieldHeader(fieldId, CompactType.I16);
    this.zigzag(v);
  }

  i32(fieldId: number, v: number): void {
    this.fieldHeader(fieldId, CompactType.I32);
    this.zigzag(v);
  }

  i64(fieldId: number, v: number): void {
    this.fieldHeader(fieldId, CompactType.I64);
    this.zigzag(v);
  }

  double(fieldId: number, v: number): void {
    this.fieldHeader(fieldId, CompactType.DOUBLE);
    this.ensure(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  binary(fieldId: number, v: Uint8Array): void {
    this.fieldHeader(fieldId, CompactType.BINARY);
    this.rawBinary(v);
  }

  string(fieldId: number, v: string): void {
    this.binary(fieldId, textEncoder.encode(v));
  }

  /** Length-prefixed bytes without a field header (list elements). */
  rawBinary(v: Uint8Array): void {
    this.varint(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.length);
    this.length += v.length;
  }

  /** Header of a list field; then write `size` elements with the raw writers / `structBegin`. */
  listField(fieldId: number, elemType: number, size: number): void {
    this.fieldHeader(fieldId, CompactType.LIST);
    if (size < 15) this.byte((size << 4) | elemType);
    else {
      this.byte(0xf0 | elemType);
      this.varint(size);
    }
  }
}

/** A decoded Thrift value. Structs are keyed by field id. */
export type ThriftValue = boolean | number | Uint8Array | ThriftValue[] | ThriftStruct;
export interface ThriftStruct {
  [fieldId: number]: ThriftValue | undefined;
}

/** Thrown on malformed input; callers wrap it in a `CorruptedFileError` naming the file. */
export class ThriftDecodeError extends Error {}

/** Cursor over compact-protocol bytes. */
export class ThriftReader {
  offset: number;
  private readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    offset = 0,
  ) {
    this.offset = offset;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  byte(): number {
    if (this.offset >= this.buf.length) throw new ThriftDecodeError('unexpected end of thrift data');
    return this.buf[this.offset++]!;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 0x80;
      if (mul > 2 ** 70) throw new ThriftDecodeError('varint too long');
    }
  }

  zigzag(): number {
    const n = this.varint();
    // n odd → negative. Arithmetic (not bit ops) keeps 53-bit values exact.
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  binary(): Uint8Array {
    const len = this.varint();
    if (this.offset + len > this.buf.length) throw new ThriftDecodeError('binary field past end of data');
    const out = this.buf.subarray(this.offset, this.offset + len);
    this.offset += len;
    return out;
  }

  /** Decode one struct (up to and including its STOP byte). */
  struct(depth = 0): ThriftStruct {
    if (depth > 64) throw new ThriftDecodeError('thrift nesting too deep');
    const out: ThriftStruct = {};
    let lastId = 0;
    for (;;) {
      const header = this.byte();
      const type = header & 0x0f;
      if (type === CompactType.STOP) return out;
      const delta = header >> 4;
      const fieldId = delta === 0 ? this.zigzag() : lastId + delta;
      lastId = fieldId;
      out[fieldId] = this.value(type, depth);
    }
  }

  private value(type: number, depth: number): ThriftValue {
    switch (type) {
      case CompactType.BOOLEAN_TRUE:
        return true;
      case CompactType.BOOLEAN_FALSE:
        return false;
      case CompactType.BYTE: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case CompactType.I16:
      case CompactType.I32:
      case CompactType.I64:
        return this.zigzag();
      case CompactType.DOUBLE: {
        if (this.offset + 8 > this.buf.length) throw new ThriftDecodeError('unexpected end of thrift data');
        const v = this.view.getFloat64(this.offset, true);
        this.offset += 8;
        return v;
      }
      case CompactType.BINARY:
        return this.binary();
      case CompactType.LIST:
      case CompactType.SET: {
        const header = this.byte();
        let size = header >> 4;
        const elemType = header & 0x0f;
        if (size === 15) size = this.varint();
        if (size > this.buf.length - this.offset + 1)
          throw new ThriftDecodeError('list size past end of data');
        const list: ThriftValue[] = new Array(size);
        for (let i = 0; i < size; i++) {
          // Booleans inside collections are one byte each (1 = true).
          if (elemType === CompactType.BOOLEAN_TRUE || elemType === CompactType.BOOLEAN_FALSE) {
            list[i] = this.byte() === 1;
          } else list[i] = this.value(elemType, depth + 1);
        }
        return list;
      }
      case CompactType.MAP: {
        // Not used by Parquet; decode and drop so the cursor stays correct.
        const size = this.varint();
        if (size > 0) {
          const kv = this.byte();
          for (let i = 0; i < size; i++) {
            this.value(kv >> 4, depth + 1);
            this.value(kv & 0x0f, depth + 1);
          }
        }
        return [];
      }
      case CompactType.STRUCT:
        return this.struct(depth + 1);
      default:
        throw new ThriftDecodeError(`unknown thrift type ${type}`);
    }
  }
}

/** Low 32 bits / high 32 bits helpers for the rare i64 outside the thrift path. */
export function splitInt64(v: number): [lo: number, hi: number] {
  const hi = Math.floor(v / TWO_32);
  return [v - hi * TWO_32, hi];
}
