/**
 * The in-memory columnar representation used on every bulk path (parse → sort → Parquet write).
 * No object per row: each column is one or two typed arrays.
 *
 * Rules every producer and consumer follows:
 * - All arrays of a batch are exactly `length` long (`offsets` is `length + 1`); they may be views
 *   (`subarray`) into larger buffers.
 * - `validity` is `null` when every value is present; otherwise `validity[i] === 1` means present and
 *   `0` means null. The value slot of a null is unspecified (0 / NaN / empty string).
 * - Timestamps are microseconds since the Unix epoch (UTC) held as exact integers in a Float64Array
 *   (exact up to 2^53 µs, i.e. the year 2255). Conversion to Arrow/Parquet INT64 happens at the edge.
 */

export type Validity = Uint8Array | null;

export interface TimestampColumn {
  readonly kind: 'timestamp';
  readonly values: Float64Array;
  readonly validity: Validity;
}

export interface Float64Column {
  readonly kind: 'float64';
  readonly values: Float64Array;
  readonly validity: Validity;
}

/** 64-bit integers held as exact doubles (|v| < 2^53); written as Parquet INT64. */
export interface Int64Column {
  readonly kind: 'int64';
  readonly values: Float64Array;
  readonly validity: Validity;
}

export interface Int32Column {
  readonly kind: 'int32';
  readonly values: Int32Array;
  readonly validity: Validity;
}

export interface BoolColumn {
  readonly kind: 'bool';
  /** 0 or 1 per row. */
  readonly values: Uint8Array;
  readonly validity: Validity;
}

/** UTF-8 strings, Arrow layout: value i is `data[offsets[i] .. offsets[i+1])`. */
export interface Utf8Column {
  readonly kind: 'utf8';
  readonly offsets: Int32Array;
  readonly data: Uint8Array;
  readonly validity: Validity;
}

/** Dictionary-encoded strings: value i is `dictionary[indices[i]]`. */
export interface DictColumn {
  readonly kind: 'dict';
  readonly indices: Int32Array;
  readonly dictionary: readonly string[];
  readonly validity: Validity;
}

export type Column =
  | TimestampColumn
  | Float64Column
  | Int64Column
  | Int32Column
  | BoolColumn
  | Utf8Column
  | DictColumn;

export type ColumnKind = Column['kind'];

export interface ColumnBatch {
  readonly length: number;
  /** Columns by field name, in schema order. */
  readonly columns: Readonly<Record<string, Column>>;
}

/** A field of a canonical or user schema. */
export interface Field {
  readonly name: string;
  readonly kind: ColumnKind;
  readonly nullable: boolean;
  /** One line for docs/SCHEMAS.md and `ticklake inspect`. */
  readonly description?: string;
}

export interface Schema {
  readonly fields: readonly Field[];
}
