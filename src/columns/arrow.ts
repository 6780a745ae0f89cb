/**
 * Conversions between our column batches and Apache Arrow (the public result type of reads).
 * Timestamps become `Timestamp(MICROSECOND, UTC)` backed by a BigInt64Array written through an
 * Int32 view (no BigInt per value); strings keep the Arrow offsets+bytes layout; dictionaries stay
 * dictionary-encoded.
 */
import {
  Bool,
  type Data,
  type DataType,
  Dictionary,
  Field,
  Float64,
  Int32,
  Int64,
  makeData,
  makeVector,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Timestamp,
  TimeUnit,
  Utf8,
  type Vector,
} from 'apache-arrow';
import { concatBatches } from './ops.js';
import type { Column, ColumnBatch, Field as TlField, Schema as TlSchema, Validity } from './types.js';

const TWO_32 = 4294967296;

/** Exact integer doubles → int64 little-endian words (valid for |v| < 2^53). */
export function float64ToInt64(values: Float64Array): BigInt64Array {
  const out = new BigInt64Array(values.length);
  const words = new Int32Array(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // hi = floor(v / 2^32) (signed), lo = v - hi * 2^32 (0..2^32-1); `| 0` keeps the bit pattern.
    const hi = Math.floor(v / TWO_32);
    words[2 * i] = (v - hi * TWO_32) | 0;
    words[2 * i + 1] = hi | 0;
  }
  return out;
}

/** int64 words → exact doubles (values beyond 2^53 lose precision, never seen for µs timestamps). */
export function int64ToFloat64(values: BigInt64Array, out = new Float64Array(values.length)): Float64Array {
  const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  for (let i = 0; i < values.length; i++) {
    out[i] = words[2 * i + 1]! * TWO_32 + (words[2 * i]! >>> 0);
  }
  return out;
}

function nullBitmap(
  validity: Validity,
  length: number,
): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  if (validity === null) return { nullBitmap: undefined, nullCount: 0 };
  const bitmap = new Uint8Array(((length + 63) >> 6) << 3);
  let nulls = 0;
  for (let i = 0; i < length; i++) {
    if (validity[i]) bitmap[i >> 3]! |= 1 << (i & 7);
    else nulls++;
  }
  return nulls === 0 ? { nullBitmap: undefined, nullCount: 0 } : { nullBitmap: bitmap, nullCount: nulls };
}

export function arrowTypeOf(field: TlField): DataType {
  switch (field.kind) {
    case 'timestamp':
      return new Timestamp(TimeUnit.MICROSECOND, 'UTC');
    case 'float64':
      return new Float64();
    case 'int64':
      return new Int64();
    case 'int32':
      return new Int32();
    case 'bool':
      return new Bool();
    case 'utf8':
      return new Utf8();
    case 'dict':
      return new Dictionary(new Utf8(), new Int32());
  }
}

function utf8Vector(strings: readonly string[]): Vector<Utf8> {
  const enc = new TextEncoder();
  const parts = strings.map((s) => enc.encode(s));
  const offsets = new Int32Array(parts.length + 1);
  let n = 0;
  parts.forEach((p, i) => {
    n += p.length;
    offsets[i + 1] = n;
  });
  const data = new Uint8Array(n);
  for (const [i, p] of parts.entries()) data.set(p, offsets[i]!);
  return makeVector(makeData({ type: new Utf8(), length: parts.length, valueOffsets: offsets, data }));
}

export function columnToArrowData(field: TlField, col: Column, length: number): Data {
  const { nullBitmap: bm, nullCount } = nullBitmap(col.validity, length);
  const type = arrowTypeOf(field);
  switch (col.kind) {
    case 'timestamp':
    case 'int64':
      return makeData({
        type: type as Timestamp,
        length,
        nullCount,
        nullBitmap: bm,
        data: float64ToInt64(col.values),
      });
    case 'float64':
      return makeData({ type: type as Float64, length, nullCount, nullBitmap: bm, data: col.values });
    case 'int32':
      return makeData({ type: type as Int32, length, nullCount, nullBitmap: bm, data: col.values });
    case 'bool': {
      const packed = new Uint8Array(((length + 63) >> 6) << 3);
      for (let i = 0; i < length; i++) if (col.values[i]) packed[i >> 3]! |= 1 << (i & 7);
      return makeData({ type: type as Bool, length, nullCount, nullBitmap: bm, data: packed });
    }
    case 'utf8':
      return makeData({
        type: type as Utf8,
        length,
        nullCount,
        nullBitmap: bm,
        valueOffsets: col.offsets,
        data: col.data,
      });
    case 'dict':
      return makeData({
        type: type as Dictionary<Utf8, Int32>,
        length,
        nullCount,
        nullBitmap: bm,
        data: col.indices,
        dictionary: utf8Vector(col.dictionary),
      });
  }
}

/** A column batch as an Arrow Table with the fields (and order) of `schema`. */
export function batchToArrow(batch: ColumnBatch, schema: TlSchema): Table {
  const fields = schema.fields.filter((f) => batch.columns[f.name] !== undefined);
  const arrowFields = fields.map((f) => new Field(f.name, arrowTypeOf(f), f.nullable));
  const children = fields.map((f) => columnToArrowData(f, batch.columns[f.name]!, batch.length));
  const struct = makeData({ type: new Struct(arrowFields), length: batch.length, nullCount: 0, children });
  return new Table([new RecordBatch(new Schema(arrowFields), struct)]);
}

function validityFromBitmap(
  bitmap: Uint8Array | undefined,
  nullCount: number,
  offset: number,
  length: number,
): Validity {
  if (!nullCount || !bitmap || bitmap.length === 0) return null;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const bit = offset + i;
    out[i] = (bitmap[bit >> 3]! >> (bit & 7)) & 1;
  }
  return out;
}

function dataToColumn(field: TlField, d: Data): Column {
  const length = d.length;
  const validity = validityFromBitmap(d.nullBitmap, d.nullCount, d.offset, length);
  switch (field.kind) {
    case 'timestamp':
    case 'int64':
      return { kind: field.kind, values: int64ToFloat64(d.values as BigInt64Array), validity };
    case 'float64':
      return { kind: 'float64', values: d.values as Float64Array, validity };
    case 'int32':
      return { kind: 'int32', values: d.values as Int32Array, validity };
    case 'bool': {
      const values = new Uint8Array(length);
      const bits = d.values as Uint8Array;
      for (let i = 0; i < length; i++) {
        const bit = d.offset + i;
        values[i] = (bits[bit >> 3]! >> (bit & 7)) & 1;
      }
      return { kind: 'bool', values, validity };
    }
    case 'utf8': {
      const off = d.valueOffsets as Int32Array;
      const base = off[0]!;
      const offsets = new Int32Array(length + 1);
      for (let i = 0; i <= length; i++) offsets[i] = off[i]! - base;
      return { kind: 'utf8', offsets, data: (d.values as Uint8Array).subarray(base, off[length]!), validity };
    }
    case 'dict': {
      const dict = d.dictionary;
      const dictionary: string[] = [];
      if (dict) for (let i = 0; i < dict.length; i++) dictionary.push(String(dict.get(i)));
      return { kind: 'dict', indices: Int32Array.from(d.values as Int32Array), dictionary, validity };
    }
  }
}

/** An Arrow table (as produced by our reads) back to a column batch with the fields of `schema`. */
export function arrowToBatch(table: Table, schema: TlSchema): ColumnBatch {
  const fields = schema.fields.filter((f) => table.getChild(f.name) !== null);
  const parts: ColumnBatch[] = table.batches.map((rb) => {
    const columns: Record<string, Column> = {};
    for (const f of fields) {
      const child = rb.getChild(f.name)!;
      columns[f.name] = dataToColumn(f, child.data[0]!);
    }
    return { length: rb.numRows, columns };
  });
  return concatBatches(parts);
}
