/**
 * Parquet footer and page-header structs (names and field ids from parquet.thrift) with their
 * compact-protocol encoders and decoders.
 * https://github.com/apache/parquet-format/blob/master/src/main/thrift/parquet.thrift
 */
import {
  CompactType,
  type ThriftReader,
  type ThriftStruct,
  type ThriftValue,
  ThriftWriter,
} from './thrift.js';

export const ParquetType = {
  BOOLEAN: 0,
  INT32: 1,
  INT64: 2,
  INT96: 3,
  FLOAT: 4,
  DOUBLE: 5,
  BYTE_ARRAY: 6,
  FIXED_LEN_BYTE_ARRAY: 7,
} as const;
export type ParquetType = (typeof ParquetType)[keyof typeof ParquetType];

export const FieldRepetitionType = { REQUIRED: 0, OPTIONAL: 1, REPEATED: 2 } as const;

export const ConvertedType = { UTF8: 0, TIMESTAMP_MILLIS: 9, TIMESTAMP_MICROS: 10 } as const;

export const CompressionCodec = {
  UNCOMPRESSED: 0,
  SNAPPY: 1,
  GZIP: 2,
  LZO: 3,
  BROTLI: 4,
  LZ4: 5,
  ZSTD: 6,
  LZ4_RAW: 7,
} as const;

export const Encoding = {
  PLAIN: 0,
  PLAIN_DICTIONARY: 2,
  RLE: 3,
  BIT_PACKED: 4,
  DELTA_BINARY_PACKED: 5,
  DELTA_LENGTH_BYTE_ARRAY: 6,
  DELTA_BYTE_ARRAY: 7,
  RLE_DICTIONARY: 8,
  BYTE_STREAM_SPLIT: 9,
} as const;

export const PageType = { DATA_PAGE: 0, INDEX_PAGE: 1, DICTIONARY_PAGE: 2, DATA_PAGE_V2: 3 } as const;

/** Name of an enum value, for error messages. */
export function enumName(e: Record<string, number>, v: number): string {
  for (const [k, x] of Object.entries(e)) if (x === v) return k;
  return String(v);
}

export type TimeUnit = 'MILLIS' | 'MICROS' | 'NANOS';

/** The subset of the LogicalType union we write and recognise; anything else is `{ type: 'OTHER' }`. */
export type LogicalType =
  | { type: 'STRING' }
  | { type: 'TIMESTAMP'; isAdjustedToUTC: boolean; unit: TimeUnit }
  | { type: 'INTEGER'; bitWidth: number; isSigned: boolean }
  | { type: 'OTHER'; id: number };

export interface SchemaElement {
  type?: number;
  type_length?: number;
  repetition_type?: number;
  name: string;
  num_children?: number;
  converted_type?: number;
  logical_type?: LogicalType;
}

export interface Statistics {
  max?: Uint8Array;
  min?: Uint8Array;
  null_count?: number;
  distinct_count?: number;
  max_value?: Uint8Array;
  min_value?: Uint8Array;
}

export interface ColumnMetaData {
  type: number;
  encodings: number[];
  path_in_schema: string[];
  codec: number;
  num_values: number;
  total_uncompressed_size: number;
  total_compressed_size: number;
  data_page_offset: number;
  index_page_offset?: number;
  dictionary_page_offset?: number;
  statistics?: Statistics;
}

export interface ColumnChunk {
  file_path?: string;
  file_offset: number;
  meta_data?: ColumnMetaData;
}

export interface SortingColumn {
  column_idx: number;
  descending: boolean;
  nulls_first: boolean;
}

export interface RowGroup {
  columns: ColumnChunk[];
  total_byte_size: number;
  num_rows: number;
  sorting_columns?: SortingColumn[];
  file_offset?: number;
  total_compressed_size?: number;
  ordinal?: number;
}

export interface KeyValue {
  key: string;
  value?: string;
}

export interface FileMetaData {
  version: number;
  schema: SchemaElement[];
  num_rows: number;
  row_groups: RowGroup[];
  key_value_metadata?: KeyValue[];
  created_by?: string;
  /** True when every column has TYPE_ORDER (min_value/max_value are trustworthy). */
  column_orders?: 'TYPE_ORDER'[];
}

export interface DataPageHeader {
  num_values: number;
  encoding: number;
  definition_level_encoding: number;
  repetition_level_encoding: number;
}

export interface DictionaryPageHeader {
  num_values: number;
  encoding: number;
  is_sorted?: boolean;
}

export interface DataPageHeaderV2 {
  num_values: number;
  num_nulls: number;
  num_rows: number;
  encoding: number;
  definition_levels_byte_length: number;
  repetition_levels_byte_length: number;
  is_compressed: boolean;
}

export interface PageHeader {
  type: number;
  uncompressed_page_size: number;
  compressed_page_size: number;
  crc?: number;
  data_page_header?: DataPageHeader;
  dictionary_page_header?: DictionaryPageHeader;
  data_page_header_v2?: DataPageHeaderV2;
}

// ---------------------------------------------------------------------------------------------
// Encoders
// ---------------------------------------------------------------------------------------------

function writeStatistics(w: ThriftWriter, fieldId: number, s: Statistics): void {
  w.structField(fieldId);
  w.structBegin();
  if (s.max) w.binary(1, s.max);
  if (s.min) w.binary(2, s.min);
  if (s.null_count !== undefined) w.i64(3, s.null_count);
  if (s.distinct_count !== undefined) w.i64(4, s.distinct_count);
  if (s.max_value) w.binary(5, s.max_value);
  if (s.min_value) w.binary(6, s.min_value);
  w.structEnd();
}

function writeLogicalType(w: ThriftWriter, fieldId: number, t: LogicalType): void {
  w.structField(fieldId);
  w.structBegin();
  switch (t.type) {
    case 'STRING':
      w.structField(1);
      w.structBegin();
      w.structEnd();
      break;
    case 'TIMESTAMP':
      w.structField(8);
      w.structBegin();
      w.bool(1, t.isAdjustedToUTC);
      w.structField(2);
      w.structBegin();
      w.structField(t.unit === 'MILLIS' ? 1 : t.unit === 'MICROS' ? 2 : 3);
      w.structBegin();
      w.structEnd();
      w.structEnd();
      w.structEnd();
      break;
    case 'INTEGER':
      w.structField(10);
      w.structBegin();
      w.i8(1, t.bitWidth);
      w.bool(2, t.isSigned);
      w.structEnd();
      break;
    case 'OTHER':
      break;
  }
  w.structEnd();
}

function writeSchemaElement(w: ThriftWriter, e: SchemaElement): void {
  w.structBegin();
  if (e.type !== undefined) w.i32(1, e.type);
  if (e.type_length !== undefined) w.i32(2, e.type_length);
  if (e.repetition_type !== undefined) w.i32(3, e.repetition_type);
  w.string(4, e.name);
  if (e.num_children !== undefined) w.i32(5, e.num_children);
  if (e.converted_type !== undefined) w.i32(6, e.converted_type);
  if (e.logical_type !== undefined && e.logical_type.type !== 'OTHER')
    writeLogicalType(w, 10, e.logical_type);
  w.structEnd();
}

function writeColumnChunk(w: ThriftWriter, c: ColumnChunk): void {
  w.structBegin();
  if (c.file_path !== undefined) w.string(1, c.file_path);
  w.i64(2, c.file_offset);
  const m = c.meta_data;
  if (m) {
    w.structField(3);
    w.structBegin();
    w.i32(1, m.type);
    w.listField(2, CompactType.I32, m.encodings.length);
    for (const e of m.encodings) w.zigzag(e);
    w.listField(3, CompactType.BINARY, m.path_in_schema.length);
    for (const p of m.path_in_schema) w.rawBinary(new TextEncoder().encode(p));
    w.i32(4, m.codec);
    w.i64(5, m.num_values);
    w.i64(6, m.total_uncompressed_size);
    w.i64(7, m.total_compressed_size);
    w.i64(9, m.data_page_offset);
    if (m.index_page_offset !== undefined) w.i64(10, m.index_page_offset);
    if (m.dictionary_page_offset !== undefined) w.i64(11, m.dictionary_page_offset);
    if (m.statistics) writeStatistics(w, 12, m.statistics);
    w.structEnd();
  }
  w.structEnd();
}

function writeRowGroup(w: ThriftWriter, rg: RowGroup): void {
  w.structBegin();
  w.listField(1, CompactType.STRUCT, rg.columns.length);
  for (const c of rg.columns) writeColumnChunk(w, c);
  w.i64(2, rg.total_byte_size);
  w.i64(3, rg.num_rows);
  if (rg.sorting_columns && rg.sorting_columns.length > 0) {
    w.listField(4, CompactType.STRUCT, rg.sorting_columns.length);
    for (const s of rg.sorting_columns) {
      w.structBegin();
      w.i32(1, s.column_idx);
      w.bool(2, s.descending);
      w.bool(3, s.nulls_first);
      w.structEnd();
    }
  }
  if (rg.file_offset !== undefined) w.i64(5, rg.file_offset);
  if (rg.total_compressed_size !== undefined) w.i64(6, rg.total_compressed_size);
  if (rg.ordinal !== undefined) w.i16(7, rg.ordinal);
  w.structEnd();
}

/** Serialize a FileMetaData (the footer, without its length and magic). */
export function encodeFileMetaData(md: FileMetaData): Uint8Array {
  const w = new ThriftWriter();
  w.structBegin();
  w.i32(1, md.version);
  w.listField(2, CompactType.STRUCT, md.schema.length);
  for (const e of md.schema) writeSchemaElement(w, e);
  w.i64(3, md.num_rows);
  w.listField(4, CompactType.STRUCT, md.row_groups.length);
  for (const rg of md.row_groups) writeRowGroup(w, rg);
  const kv = md.key_value_metadata;
  if (kv && kv.length > 0) {
    w.listField(5, CompactType.STRUCT, kv.length);
    for (const { key, value } of kv) {
      w.structBegin();
      w.string(1, key);
      if (value !== undefined) w.string(2, value);
      w.structEnd();
    }
  }
  if (md.created_by !== undefined) w.string(6, md.created_by);
  if (md.column_orders && md.column_orders.length > 0) {
    w.listField(7, CompactType.STRUCT, md.column_orders.length);
    for (let i = 0; i < md.column_orders.length; i++) {
      // ColumnOrder union, field 1 = TYPE_ORDER (empty TypeDefinedOrder struct).
      w.structBegin();
      w.structField(1);
      w.structBegin();
      w.structEnd();
      w.structEnd();
    }
  }
  w.structEnd();
  return w.bytes().slice();
}

/** Serialize a PageHeader. */
export function encodePageHeader(h: PageHeader): Uint8Array {
  const w = new ThriftWriter();
  w.structBegin();
  w.i32(1, h.type);
  w.i32(2, h.uncompressed_page_size);
  w.i32(3, h.compressed_page_size);
  if (h.crc !== undefined) w.i32(4, h.crc);
  const d = h.data_page_header;
  if (d) {
    w.structField(5);
    w.structBegin();
    w.i32(1, d.num_values);
    w.i32(2, d.encoding);
    w.i32(3, d.definition_level_encoding);
    w.i32(4, d.repetition_level_encoding);
    w.structEnd();
  }
  const dict = h.dictionary_page_header;
  if (dict) {
    w.structField(7);
    w.structBegin();
    w.i32(1, dict.num_values);
    w.i32(2, dict.encoding);
    if (dict.is_sorted !== undefined) w.bool(3, dict.is_sorted);
    w.structEnd();
  }
  const v2 = h.data_page_header_v2;
  if (v2) {
    w.structField(8);
    w.structBegin();
    w.i32(1, v2.num_values);
    w.i32(2, v2.num_nulls);
    w.i32(3, v2.num_rows);
    w.i32(4, v2.encoding);
    w.i32(5, v2.definition_levels_byte_length);
    w.i32(6, v2.repetition_levels_byte_length);
    w.bool(7, v2.is_compressed);
    w.structEnd();
  }
  w.structEnd();
  return w.bytes().slice();
}

// ---------------------------------------------------------------------------------------------
// Decoders (generic struct → typed). Missing required fields raise ThriftDecodeError via `req`.
// ---------------------------------------------------------------------------------------------

const textDecoder = new TextDecoder();

class MetadataShapeError extends Error {}

export { MetadataShapeError };

function num(s: ThriftStruct, id: number): number | undefined {
  const v = s[id];
  return typeof v === 'number' ? v : undefined;
}
function reqNum(s: ThriftStruct, id: number, what: string): number {
  const v = s[id];
  if (typeof v !== 'number') throw new MetadataShapeError(`missing ${what}`);
  return v;
}
function bin(s: ThriftStruct, id: number): Uint8Array | undefined {
  const v = s[id];
  return v instanceof Uint8Array ? v : undefined;
}
function str(s: ThriftStruct, id: number): string | undefined {
  const v = bin(s, id);
  return v === undefined ? undefined : textDecoder.decode(v);
}
function bool(s: ThriftStruct, id: number): boolean | undefined {
  const v = s[id];
  return typeof v === 'boolean' ? v : undefined;
}
function isStruct(v: ThriftValue | undefined): v is ThriftStruct {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
function struct(s: ThriftStruct, id: number): ThriftStruct | undefined {
  const v = s[id];
  return isStruct(v) ? v : undefined;
}
function list(s: ThriftStruct, id: number): ThriftValue[] {
  const v = s[id];
  return Array.isArray(v) ? v : [];
}
function structs(s: ThriftStruct, id: number): ThriftStruct[] {
  return list(s, id).filter(isStruct);
}

function decodeLogicalType(s: ThriftStruct): LogicalType {
  if (struct(s, 1)) return { type: 'STRING' };
  const ts = struct(s, 8);
  if (ts) {
    const unit = struct(ts, 2) ?? {};
    return {
      type: 'TIMESTAMP',
      isAdjustedToUTC: bool(ts, 1) ?? false,
      unit: struct(unit, 1) ? 'MILLIS' : struct(unit, 2) ? 'MICROS' : 'NANOS',
    };
  }
  const int = struct(s, 10);
  if (int) return { type: 'INTEGER', bitWidth: num(int, 1) ?? 0, isSigned: bool(int, 2) ?? true };
  const id = Number(Object.keys(s)[0] ?? -1);
  return { type: 'OTHER', id };
}

function decodeStatistics(s: ThriftStruct): Statistics {
  const out: Statistics = {};
  const max = bin(s, 1);
  if (max) out.max = max;
  const min = bin(s, 2);
  if (min) out.min = min;
  const nc = num(s, 3);
  if (nc !== undefined) out.null_count = nc;
  const dc = num(s, 4);
  if (dc !== undefined) out.distinct_count = dc;
  const maxValue = bin(s, 5);
  if (maxValue) out.max_value = maxValue;
  const minValue = bin(s, 6);
  if (minValue) out.min_value = minValue;
  return out;
}

function decodeColumnMetaData(s: ThriftStruct): ColumnMetaData {
  const out: ColumnMetaData = {
    type: reqNum(s, 1, 'ColumnMetaData.type'),
    encodings: list(s, 2).filter((x): x is number => typeof x === 'number'),
    path_in_schema: list(s, 3)
      .filter((x): x is Uint8Array => x instanceof Uint8Array)
      .map((x) => textDecoder.decode(x)),
    codec: reqNum(s, 4, 'ColumnMetaData.codec'),
    num_values: reqNum(s, 5, 'ColumnMetaData.num_values'),
    total_uncompressed_size: reqNum(s, 6, 'ColumnMetaData.total_uncompressed_size'),
    total_compressed_size: reqNum(s, 7, 'ColumnMetaData.total_compressed_size'),
    data_page_offset: reqNum(s, 9, 'ColumnMetaData.data_page_offset'),
  };
  const ipo = num(s, 10);
  if (ipo !== undefined) out.index_page_offset = ipo;
  const dpo = num(s, 11);
  if (dpo !== undefined) out.dictionary_page_offset = dpo;
  const st = struct(s, 12);
  if (st) out.statistics = decodeStatistics(st);
  return out;
}

/** Decode a FileMetaData struct from compact-protocol bytes. */
export function decodeFileMetaData(reader: ThriftReader): FileMetaData {
  const s = reader.struct();
  const schema: SchemaElement[] = structs(s, 2).map((e) => {
    const el: SchemaElement = { name: str(e, 4) ?? '' };
    const type = num(e, 1);
    if (type !== undefined) el.type = type;
    const tl = num(e, 2);
    if (tl !== undefined) el.type_length = tl;
    const rep = num(e, 3);
    if (rep !== undefined) el.repetition_type = rep;
    const nc = num(e, 5);
    if (nc !== undefined) el.num_children = nc;
    const ct = num(e, 6);
    if (ct !== undefined) el.converted_type = ct;
    const lt = struct(e, 10);
    if (lt) el.logical_type = decodeLogicalType(lt);
    return el;
  });
  const row_groups: RowGroup[] = structs(s, 4).map((rg) => {
    const out: RowGroup = {
      columns: structs(rg, 1).map((c) => {
        const cc: ColumnChunk = { file_offset: num(c, 2) ?? 0 };
        const fp = str(c, 1);
        if (fp !== undefined) cc.file_path = fp;
        const md = struct(c, 3);
        if (md) cc.meta_data = decodeColumnMetaData(md);
        return cc;
      }),
      total_byte_size: num(rg, 2) ?? 0,
      num_rows: reqNum(rg, 3, 'RowGroup.num_rows'),
    };
    const sc = structs(rg, 4);
    if (sc.length > 0) {
      out.sorting_columns = sc.map((x) => ({
        column_idx: num(x, 1) ?? 0,
        descending: bool(x, 2) ?? false,
        nulls_first: bool(x, 3) ?? false,
      }));
    }
    const fo = num(rg, 5);
    if (fo !== undefined) out.file_offset = fo;
    const tcs = num(rg, 6);
    if (tcs !== undefined) out.total_compressed_size = tcs;
    const ord = num(rg, 7);
    if (ord !== undefined) out.ordinal = ord;
    return out;
  });
  const md: FileMetaData = {
    version: num(s, 1) ?? 1,
    schema,
    num_rows: reqNum(s, 3, 'FileMetaData.num_rows'),
    row_groups,
  };
  const kv = structs(s, 5);
  if (kv.length > 0) {
    md.key_value_metadata = kv.map((x) => {
      const value = str(x, 2);
      return value === undefined ? { key: str(x, 1) ?? '' } : { key: str(x, 1) ?? '', value };
    });
  }
  const cb = str(s, 6);
  if (cb !== undefined) md.created_by = cb;
  const co = structs(s, 7);
  if (co.length > 0 && co.every((x) => struct(x, 1) !== undefined))
    md.column_orders = co.map(() => 'TYPE_ORDER');
  return md;
}

/** Decode a PageHeader at the reader's cursor (advancing it past the header). */
export function decodePageHeader(reader: ThriftReader): PageHeader {
  const s = reader.struct();
  const h: PageHeader = {
    type: reqNum(s, 1, 'PageHeader.type'),
    uncompressed_page_size: reqNum(s, 2, 'PageHeader.uncompressed_page_size'),
    compressed_page_size: reqNum(s, 3, 'PageHeader.compressed_page_size'),
  };
  const crc = num(s, 4);
  if (crc !== undefined) h.crc = crc;
  const d = struct(s, 5);
  if (d) {
    h.data_page_header = {
      num_values: reqNum(d, 1, 'DataPageHeader.num_values'),
      encoding: reqNum(d, 2, 'DataPageHeader.encoding'),
      definition_level_encoding: num(d, 3) ?? Encoding.RLE,
      repetition_level_encoding: num(d, 4) ?? Encoding.RLE,
    };
  }
  const dict = struct(s, 7);
  if (dict) {
    h.dictionary_page_header = {
      num_values: reqNum(dict, 1, 'DictionaryPageHeader.num_values'),
      encoding: num(dict, 2) ?? Encoding.PLAIN,
    };
  }
  const v2 = struct(s, 8);
  if (v2) {
    h.data_page_header_v2 = {
      num_values: reqNum(v2, 1, 'DataPageHeaderV2.num_values'),
      num_nulls: num(v2, 2) ?? 0,
      num_rows: num(v2, 3) ?? 0,
      encoding: reqNum(v2, 4, 'DataPageHeaderV2.encoding'),
      definition_levels_byte_length: num(v2, 5) ?? 0,
      repetition_levels_byte_length: num(v2, 6) ?? 0,
      is_compressed: bool(v2, 7) ?? true,
    };
  }
  return h;
}
