/**
 * Arbitrary Apache Arrow columns (a user's table) → typed arrays, grouped by value family, before
 * validation converts them to a schema's column kinds. One pass per chunk, no object per row:
 * integers and floats become Float64Arrays (with a mask of int64 values beyond 2^53), timestamps and
 * dates become µs doubles (with a mask of nanosecond values that are not whole µs), strings keep
 * Arrow's offsets+bytes or dictionary layout.
 */
import { type Data, DataType, makeData, type Table, Type, type Vector } from 'apache-arrow';
import { int64ToFloat64 } from '../columns/arrow.js';
import { concatBatches } from '../columns/ops.js';
import type { Column, ColumnBatch, DictColumn, Utf8Column, Validity } from '../columns/types.js';
import { SchemaMismatchError } from '../errors.js';

export type SourceColumn =
  | {
      family: 'int';
      values: Float64Array;
      validity: Validity;
      /** Rows of a 64-bit column whose value is beyond ±2^53 (not exact as a double). */
      inexact: Uint8Array | null;
      /** The 64-bit values as given (64-bit columns only), to show inexact values exactly. */
      raw: BigInt64Array | BigUint64Array | null;
      typeName: string;
    }
  | { family: 'float'; values: Float64Array; validity: Validity; typeName: string }
  | { family: 'bool'; values: Uint8Array; validity: Validity; typeName: string }
  | { family: 'string'; column: Utf8Column | DictColumn; typeName: string }
  | {
      family: 'timestamp';
      /** µs since the epoch (whole µs; nanosecond inputs are floored). */
      values: Float64Array;
      validity: Validity;
      /** Rows whose nanosecond value is not a whole µs (null when none / not ns). */
      subMicros: Uint8Array | null;
      typeName: string;
    };

export const SUPPORTED_ARROW_TYPES =
  'Int8/16/32/64, Uint8/16/32/64, Float32/64, Bool, Utf8, Dictionary<*, Utf8>, Timestamp (any unit), Date32/64';

const TWO_32 = 4294967296;

function validityOf(d: Data): Validity {
  const n = d.length;
  if (!d.nullCount || !d.nullBitmap || d.nullBitmap.length === 0) return null;
  const out = new Uint8Array(n);
  const bm = d.nullBitmap;
  for (let i = 0; i < n; i++) {
    const bit = d.offset + i;
    out[i] = (bm[bit >> 3]! >> (bit & 7)) & 1;
  }
  return out;
}

/** Signed int64 words → µs from `unit` (0 s, 1 ms, 2 µs, 3 ns); marks ns values with a remainder. */
function int64Micros(
  words: Int32Array,
  n: number,
  unit: number,
): { values: Float64Array; sub: Uint8Array | null } {
  const values = new Float64Array(n);
  let sub: Uint8Array | null = null;
  for (let i = 0; i < n; i++) {
    const hi = words[2 * i + 1]!;
    const lo = words[2 * i]! >>> 0;
    if (unit === 3) {
      // ns = hi·2^32 + lo; split hi = b·1000 + a so the division by 1000 stays exact in doubles.
      const a = ((hi % 1000) + 1000) % 1000;
      const b = (hi - a) / 1000;
      const rest = a * TWO_32 + lo;
      const r = rest % 1000;
      values[i] = b * TWO_32 + (rest - r) / 1000;
      if (r !== 0) {
        sub ??= new Uint8Array(n);
        sub[i] = 1;
      }
    } else {
      const v = hi * TWO_32 + lo;
      values[i] = unit === 0 ? v * 1e6 : unit === 1 ? v * 1e3 : v;
    }
  }
  return { values, sub };
}

function chunkToSource(name: string, type: DataType, d: Data): SourceColumn {
  const n = d.length;
  const validity = validityOf(d);
  const typeName = String(type);
  switch (type.typeId) {
    case Type.Int: {
      const t = type as DataType & { bitWidth: number; isSigned: boolean };
      if (t.bitWidth === 64) {
        const big = (d.values as BigInt64Array).subarray(0, n);
        const words = new Int32Array(big.buffer, big.byteOffset, n * 2);
        let inexact: Uint8Array | null = null;
        const values = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const hi = words[2 * i + 1]!;
          const lo = words[2 * i]! >>> 0;
          if (!t.isSigned) {
            const uhi = hi >>> 0;
            values[i] = uhi * TWO_32 + lo;
            if (uhi >= 0x200000) {
              inexact ??= new Uint8Array(n);
              inexact[i] = 1;
            }
          } else {
            values[i] = hi * TWO_32 + lo;
            if (hi >= 0x200000 || hi < -0x200000) {
              inexact ??= new Uint8Array(n);
              inexact[i] = 1;
            }
          }
        }
        const raw = t.isSigned ? big : new BigUint64Array(big.buffer, big.byteOffset, n);
        return { family: 'int', values, validity, inexact, raw, typeName };
      }
      const src = d.values as Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;
      return {
        family: 'int',
        values: Float64Array.from(src.subarray(0, n)),
        validity,
        inexact: null,
        raw: null,
        typeName,
      };
    }
    case Type.Float: {
      const t = type as DataType & { precision: number };
      if (t.precision === 0) break; // half floats: not supported
      const src = d.values as Float32Array | Float64Array;
      const values = src instanceof Float64Array ? src.subarray(0, n) : Float64Array.from(src.subarray(0, n));
      return { family: 'float', values, validity, typeName };
    }
    case Type.Bool: {
      const values = new Uint8Array(n);
      const bits = d.values as Uint8Array;
      for (let i = 0; i < n; i++) {
        const bit = d.offset + i;
        values[i] = (bits[bit >> 3]! >> (bit & 7)) & 1;
      }
      return { family: 'bool', values, validity, typeName };
    }
    case Type.Utf8: {
      const off = d.valueOffsets as Int32Array;
      const base = off[0]!;
      const offsets = new Int32Array(n + 1);
      for (let i = 0; i <= n; i++) offsets[i] = off[i]! - base;
      const data = (d.values as Uint8Array).slice(base, off[n]!);
      return { family: 'string', column: { kind: 'utf8', offsets, data, validity }, typeName };
    }
    case Type.Dictionary: {
      const t = type as DataType & { dictionary: DataType };
      if (t.dictionary.typeId !== Type.Utf8) break;
      const dict = d.dictionary;
      const dictionary: string[] = [];
      if (dict) for (let i = 0; i < dict.length; i++) dictionary.push(String(dict.get(i) ?? ''));
      const src = d.values as Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;
      const indices = Int32Array.from(src.subarray(0, n));
      return { family: 'string', column: { kind: 'dict', indices, dictionary, validity }, typeName };
    }
    case Type.Timestamp: {
      const t = type as DataType & { unit: number };
      const big = (d.values as BigInt64Array).subarray(0, n);
      const { values, sub } = int64Micros(new Int32Array(big.buffer, big.byteOffset, n * 2), n, t.unit);
      return { family: 'timestamp', values, validity, subMicros: sub, typeName };
    }
    case Type.Date: {
      const t = type as DataType & { unit: number };
      if (t.unit === 0) {
        const days = (d.values as Int32Array).subarray(0, n);
        const values = new Float64Array(n);
        for (let i = 0; i < n; i++) values[i] = days[i]! * 86_400_000_000;
        return { family: 'timestamp', values, validity, subMicros: null, typeName };
      }
      const big = (d.values as BigInt64Array).subarray(0, n);
      const ms = int64ToFloat64(big);
      for (let i = 0; i < n; i++) ms[i] = ms[i]! * 1000;
      return { family: 'timestamp', values: ms, validity, subMicros: null, typeName };
    }
  }
  throw new SchemaMismatchError(`column "${name}" has Arrow type ${typeName}, which ticklake cannot write`, {
    hint: `supported Arrow types: ${SUPPORTED_ARROW_TYPES}; cast the column first`,
    details: { column: name, found: typeName },
  });
}

function concatSources(parts: SourceColumn[]): SourceColumn {
  if (parts.length === 1) return parts[0]!;
  const first = parts[0]!;
  const total = parts.reduce((s, p) => s + sourceLength(p), 0);
  const mask = (get: (p: SourceColumn) => Uint8Array | null, fill: number): Uint8Array | null => {
    if (parts.every((p) => get(p) === null)) return null;
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      const m = get(p);
      const n = sourceLength(p);
      if (m) out.set(m, at);
      else out.fill(fill, at, at + n);
      at += n;
    }
    return out;
  };
  const validity = mask((p) => ('validity' in p ? p.validity : null), 1);
  switch (first.family) {
    case 'string': {
      const cols = parts.map((p) => (p as typeof first).column);
      const kinds = new Set(cols.map((c) => c.kind));
      const batches: ColumnBatch[] = cols.map((c) => ({
        length: sourceLength({ ...first, column: c }),
        columns: { c },
      }));
      if (kinds.size === 1) {
        return { ...first, column: concatBatches(batches).columns.c as Utf8Column | DictColumn };
      }
      throw new SchemaMismatchError('string column chunks mix dictionary and plain strings');
    }
    case 'bool': {
      const values = new Uint8Array(total);
      let at = 0;
      for (const p of parts) {
        values.set((p as typeof first).values, at);
        at += sourceLength(p);
      }
      return { ...first, values, validity };
    }
    default: {
      const values = new Float64Array(total);
      let at = 0;
      for (const p of parts) {
        values.set((p as { values: Float64Array }).values, at);
        at += sourceLength(p);
      }
      if (first.family === 'int') {
        let raw: BigInt64Array | BigUint64Array | null = null;
        if (first.raw) {
          const r = new (first.raw.constructor as BigInt64ArrayConstructor)(total);
          let p = 0;
          for (const part of parts) {
            r.set((part as typeof first).raw as BigInt64Array, p);
            p += sourceLength(part);
          }
          raw = r;
        }
        return { ...first, values, validity, raw, inexact: mask((p) => (p as typeof first).inexact, 0) };
      }
      if (first.family === 'timestamp') {
        return { ...first, values, validity, subMicros: mask((p) => (p as typeof first).subMicros, 0) };
      }
      return { ...first, values, validity } as SourceColumn;
    }
  }
}

export function sourceLength(s: SourceColumn): number {
  if (s.family === 'string')
    return s.column.kind === 'utf8' ? s.column.offsets.length - 1 : s.column.indices.length;
  return s.values.length;
}

export function sourceValidity(s: SourceColumn): Validity {
  return s.family === 'string' ? s.column.validity : s.validity;
}

/** One Arrow column (all its chunks) as a `SourceColumn`. */
export function readSourceColumn(name: string, vector: Vector): SourceColumn {
  const type = vector.type as DataType;
  const chunks =
    vector.data.length > 0 ? (vector.data as Data[]) : [makeData({ type, length: 0 } as never) as Data];
  return concatSources(chunks.map((d) => chunkToSource(name, type, d)));
}

/** The columns of an Arrow table, by name, in table order. Duplicate names are rejected. */
export function readSourceTable(table: Table, dataset: string): Map<string, SourceColumn> {
  const out = new Map<string, SourceColumn>();
  table.schema.fields.forEach((f, i) => {
    if (out.has(f.name)) {
      throw new SchemaMismatchError(`${dataset}: the table has two columns named "${f.name}"`, {
        hint: 'rename one of them',
        details: { dataset, column: f.name },
      });
    }
    out.set(f.name, readSourceColumn(f.name, table.getChildAt(i)!));
  });
  return out;
}

/** The column kind a source maps to without a schema (IGNORE mode, user datasets without one). */
export function naturalKind(s: SourceColumn): Column['kind'] {
  switch (s.family) {
    case 'int':
      return /^U?[Ii]nt(8|16)$|^Int32$/.test(s.typeName) ? 'int32' : 'int64';
    case 'float':
      return 'float64';
    case 'bool':
      return 'bool';
    case 'string':
      return s.column.kind;
    case 'timestamp':
      return 'timestamp';
  }
}

export { DataType };
