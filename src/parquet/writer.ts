/**
 * Parquet writer: `ColumnBatch`es in, a flat Parquet file out (data page v1, PLAIN values,
 * dictionary pages + RLE_DICTIONARY for `dict` columns, RLE definition levels, column statistics,
 * key-value metadata and sorting columns in the footer).
 *
 * Rows are buffered until a row group is full; memory stays around one row group plus its
 * compressed pages. Batch arrays are referenced, not copied, until their row group is written, so
 * callers must not mutate them until the `write()` that follows or `close()` has resolved.
 */

import { concatBatches, sliceBatch } from '../columns/ops.js';
import type { Column, ColumnBatch, Field, Schema } from '../columns/types.js';
import { SchemaMismatchError, UsageError } from '../errors.js';
import type { ByteSink } from '../lake/storage.js';
import { type CodecName, codecId, compress } from './compression.js';
import { ByteBuffer, bitWidth, encodeHybrid, packBooleans } from './encoding.js';
import {
  type ColumnChunk,
  type ColumnMetaData,
  ConvertedType,
  Encoding,
  encodeFileMetaData,
  encodePageHeader,
  FieldRepetitionType,
  type KeyValue,
  PageType,
  ParquetType,
  type RowGroup,
  type SchemaElement,
  type Statistics,
} from './metadata.js';

export const PARQUET_MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"
const DEFAULT_ROW_GROUP_ROWS = 1_048_576;
/** Default zstd level. Measured on 5 M trade rows: level 1 ≈ 1.0 s / 66 MB, level 3 ≈ 1.3 s / 57 MB. */
export const DEFAULT_ZSTD_LEVEL = 1;
/** Longest string kept as a min/max statistic (longer ones are left out of the stats). */
const MAX_STAT_STRING_BYTES = 64;
/** Cap on the PLAIN bytes of one string page (page sizes are i32 in the format). */
const MAX_PAGE_BYTES = 256 * 1024 * 1024;
const TWO_32 = 4294967296;

export interface ParquetWriterOptions {
  schema: Schema;
  /** Page compression (default zstd). */
  codec?: CodecName;
  zstdLevel?: number;
  /** Rows per row group (default 1,048,576). */
  rowGroupRows?: number;
  /** Rows per data page (default: one page per column chunk, split only for huge string pages). */
  pageRows?: number;
  keyValueMetadata?: Record<string, string>;
  /** Field names the rows are sorted by (ascending), recorded in every row group. */
  sortingColumns?: string[];
  createdBy?: string;
}

/** Whole-file statistics of one column, as returned by `close()`. */
export interface ColumnSummary {
  min: number | string | null;
  max: number | string | null;
  nullCount: number;
}

export interface ParquetWriteSummary {
  rows: number;
  rowGroups: number;
  /** File size in bytes. */
  bytes: number;
  columns: Record<string, ColumnSummary>;
}

/** Statistics of one column chunk, both as JS values (summary) and encoded (footer). */
interface ChunkStats {
  min: number | string | null;
  max: number | string | null;
  minBytes: Uint8Array | null;
  maxBytes: Uint8Array | null;
  nullCount: number;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** Streams `ColumnBatch`es into one Parquet file on a `ByteSink`. */
export class ParquetWriter {
  private readonly fields: readonly Field[];
  private readonly codec: number;
  private readonly zstdLevel: number;
  private readonly rowGroupRows: number;
  private readonly pageRows: number;
  private readonly kv = new Map<string, string>();
  private readonly sortingColumns: { column_idx: number; descending: boolean; nulls_first: boolean }[];
  private readonly createdBy: string;
  private readonly schemaElements: SchemaElement[];

  private pending: ColumnBatch[] = [];
  private pendingRows = 0;
  private offset: number;
  private started = false;
  private closed = false;
  private rows = 0;
  private readonly rowGroups: RowGroup[] = [];
  private readonly summary = new Map<string, ColumnSummary>();
  /** Serialises write()/close() so concurrent callers cannot interleave row groups. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly sink: ByteSink,
    options: ParquetWriterOptions,
  ) {
    this.fields = options.schema.fields;
    if (this.fields.length === 0) throw new UsageError('ParquetWriter: schema has no fields');
    const names = new Set<string>();
    for (const f of this.fields) {
      if (names.has(f.name)) throw new UsageError(`ParquetWriter: duplicate field "${f.name}"`);
      names.add(f.name);
    }
    this.codec = codecId(options.codec ?? 'zstd');
    this.zstdLevel = options.zstdLevel ?? DEFAULT_ZSTD_LEVEL;
    this.rowGroupRows = Math.max(1, Math.floor(options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS));
    this.pageRows = Math.max(1, Math.floor(options.pageRows ?? this.rowGroupRows));
    for (const [k, v] of Object.entries(options.keyValueMetadata ?? {})) this.kv.set(k, v);
    this.sortingColumns = (options.sortingColumns ?? []).map((name) => {
      const idx = this.fields.findIndex((f) => f.name === name);
      if (idx < 0) throw new UsageError(`ParquetWriter: sorting column "${name}" is not in the schema`);
      return { column_idx: idx, descending: false, nulls_first: false };
    });
    this.createdBy = options.createdBy ?? 'ticklake';
    this.schemaElements = [
      { name: 'schema', num_children: this.fields.length },
      ...this.fields.map(schemaElementOf),
    ];
    this.offset = sink.position;
    for (const f of this.fields) this.summary.set(f.name, { min: null, max: null, nullCount: 0 });
  }

  /** Add or replace a footer key-value pair (allowed until `close()`). */
  setMetadata(key: string, value: string): void {
    if (this.closed) throw new UsageError('ParquetWriter: setMetadata after close');
    this.kv.set(key, value);
  }

  /** Append rows. Full row groups are encoded and written before the promise resolves. */
  write(batch: ColumnBatch): Promise<void> {
    if (this.closed) return Promise.reject(new UsageError('ParquetWriter: write after close'));
    this.validate(batch);
    const run = this.queue.then(() => this.writeNow(batch));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Flush the last row group, write the footer and return what was written. */
  close(): Promise<ParquetWriteSummary> {
    if (this.closed) return Promise.reject(new UsageError('ParquetWriter: already closed'));
    this.closed = true;
    const run = this.queue.then(() => this.closeNow());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private validate(batch: ColumnBatch): void {
    for (const f of this.fields) {
      const col = batch.columns[f.name];
      if (col === undefined) throw new SchemaMismatchError(`Parquet write: batch has no column "${f.name}"`);
      if (col.kind !== f.kind) {
        throw new SchemaMismatchError(
          `Parquet write: column "${f.name}" is ${col.kind}, the schema says ${f.kind}`,
        );
      }
      const len =
        col.kind === 'utf8'
          ? col.offsets.length - 1
          : col.kind === 'dict'
            ? col.indices.length
            : col.values.length;
      if (len !== batch.length) {
        throw new SchemaMismatchError(
          `Parquet write: column "${f.name}" has ${len} rows, the batch has ${batch.length}`,
        );
      }
      if (!f.nullable && col.validity !== null && col.validity.indexOf(0) >= 0) {
        throw new SchemaMismatchError(`Parquet write: column "${f.name}" is not nullable but has nulls`);
      }
    }
  }

  private async writeNow(batch: ColumnBatch): Promise<void> {
    if (batch.length === 0) return;
    this.pending.push(batch);
    this.pendingRows += batch.length;
    while (this.pendingRows >= this.rowGroupRows) await this.flushRows(this.rowGroupRows);
  }

  private async closeNow(): Promise<ParquetWriteSummary> {
    if (this.pendingRows > 0) await this.flushRows(this.pendingRows);
    await this.ensureStarted();
    const kv: KeyValue[] = [...this.kv].map(([key, value]) => ({ key, value }));
    const footer = encodeFileMetaData({
      version: 1,
      schema: this.schemaElements,
      num_rows: this.rows,
      row_groups: this.rowGroups,
      key_value_metadata: kv,
      created_by: this.createdBy,
      column_orders: this.fields.map(() => 'TYPE_ORDER'),
    });
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, footer.length, true);
    tail.set(PARQUET_MAGIC, 4);
    await this.put(footer);
    await this.put(tail);
    return {
      rows: this.rows,
      rowGroups: this.rowGroups.length,
      bytes: this.offset,
      columns: Object.fromEntries(this.summary),
    };
  }

  private async ensureStarted(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.put(PARQUET_MAGIC.slice());
  }

  private async put(chunk: Uint8Array): Promise<void> {
    this.offset += chunk.length;
    await this.sink.write(chunk);
  }

  /** Take the first `n` pending rows as one batch and write them as a row group. */
  private async flushRows(n: number): Promise<void> {
    const parts: ColumnBatch[] = [];
    let need = n;
    while (need > 0) {
      const head = this.pending[0]!;
      if (head.length <= need) {
        parts.push(head);
        this.pending.shift();
        need -= head.length;
      } else {
        parts.push(sliceBatch(head, 0, need));
        this.pending[0] = sliceBatch(head, need, head.length);
        need = 0;
      }
    }
    this.pendingRows -= n;
    const batch = parts.length === 1 ? parts[0]! : concatBatches(parts);
    await this.writeRowGroup(batch);
  }

  private async writeRowGroup(batch: ColumnBatch): Promise<void> {
    await this.ensureStarted();
    const rowGroupStart = this.offset;
    const columns: ColumnChunk[] = [];
    let totalUncompressed = 0;
    for (const field of this.fields) {
      const col = batch.columns[field.name]!;
      const chunkStart = this.offset;
      const encoded = encodeColumnChunk(field, col, batch.length, this.pageRows, this.codec, this.zstdLevel);
      let compressedSize = 0;
      let dataPageOffset = -1;
      for (const page of encoded.pages) {
        if (!page.isDictionary && dataPageOffset < 0) dataPageOffset = this.offset;
        compressedSize += page.header.length + page.body.length;
        await this.put(page.header);
        await this.put(page.body);
      }
      totalUncompressed += encoded.uncompressedSize;
      const s = encoded.stats;
      const statistics: Statistics = { null_count: s.nullCount };
      if (s.minBytes && s.maxBytes) {
        statistics.min_value = s.minBytes;
        statistics.max_value = s.maxBytes;
      }
      const meta: ColumnMetaData = {
        type: physicalTypeOf(field),
        encodings: encoded.encodings,
        path_in_schema: [field.name],
        codec: this.codec,
        num_values: batch.length,
        total_uncompressed_size: encoded.uncompressedSize,
        total_compressed_size: compressedSize,
        data_page_offset: dataPageOffset,
        statistics,
      };
      if (encoded.hasDictionary) meta.dictionary_page_offset = chunkStart;
      columns.push({ file_offset: chunkStart, meta_data: meta });
      mergeSummary(this.summary.get(field.name)!, s);
    }
    const rg: RowGroup = {
      columns,
      total_byte_size: totalUncompressed,
      num_rows: batch.length,
      file_offset: rowGroupStart,
      total_compressed_size: this.offset - rowGroupStart,
      ordinal: this.rowGroups.length,
    };
    if (this.sortingColumns.length > 0) rg.sorting_columns = this.sortingColumns;
    this.rowGroups.push(rg);
    this.rows += batch.length;
  }
}

// ---------------------------------------------------------------------------------------------
// Schema mapping
// ---------------------------------------------------------------------------------------------

function physicalTypeOf(field: Field): number {
  switch (field.kind) {
    case 'timestamp':
    case 'int64':
      return ParquetType.INT64;
    case 'float64':
      return ParquetType.DOUBLE;
    case 'int32':
      return ParquetType.INT32;
    case 'bool':
      return ParquetType.BOOLEAN;
    case 'utf8':
    case 'dict':
      return ParquetType.BYTE_ARRAY;
  }
}

function schemaElementOf(field: Field): SchemaElement {
  const el: SchemaElement = {
    type: physicalTypeOf(field),
    repetition_type: field.nullable ? FieldRepetitionType.OPTIONAL : FieldRepetitionType.REQUIRED,
    name: field.name,
  };
  if (field.kind === 'timestamp') {
    el.converted_type = ConvertedType.TIMESTAMP_MICROS;
    el.logical_type = { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' };
  } else if (field.kind === 'utf8' || field.kind === 'dict') {
    el.converted_type = ConvertedType.UTF8;
    el.logical_type = { type: 'STRING' };
  }
  return el;
}

// ---------------------------------------------------------------------------------------------
// Column chunk encoding
// ---------------------------------------------------------------------------------------------

interface EncodedPage {
  header: Uint8Array;
  body: Uint8Array;
  isDictionary: boolean;
}

interface EncodedChunk {
  pages: EncodedPage[];
  encodings: number[];
  hasDictionary: boolean;
  /** Sum of page header + uncompressed page sizes. */
  uncompressedSize: number;
  stats: ChunkStats;
}

/** Encode one column of a row group into compressed pages plus statistics. */
function encodeColumnChunk(
  field: Field,
  col: Column,
  rows: number,
  pageRows: number,
  codec: number,
  level: number,
): EncodedChunk {
  const validity = field.nullable ? col.validity : null;
  const pages: EncodedPage[] = [];
  let uncompressedSize = 0;
  const addPage = (type: number, body: Uint8Array, numValues: number, encoding: number): void => {
    const compressed = compress(codec, body, level);
    const header = encodePageHeader(
      type === PageType.DICTIONARY_PAGE
        ? {
            type,
            uncompressed_page_size: body.length,
            compressed_page_size: compressed.length,
            dictionary_page_header: { num_values: numValues, encoding: Encoding.PLAIN },
          }
        : {
            type,
            uncompressed_page_size: body.length,
            compressed_page_size: compressed.length,
            data_page_header: {
              num_values: numValues,
              encoding,
              definition_level_encoding: Encoding.RLE,
              repetition_level_encoding: Encoding.RLE,
            },
          },
    );
    uncompressedSize += header.length + body.length;
    pages.push({ header, body: compressed, isDictionary: type === PageType.DICTIONARY_PAGE });
  };

  let stats: ChunkStats;
  let valueEncoding: number = Encoding.PLAIN;
  let dictIndices: Int32Array | null = null;
  let dictWidth = 0;
  if (col.kind === 'dict') {
    const d = compactDictionary(col.indices, col.dictionary, validity, rows);
    dictIndices = d.indices;
    dictWidth = Math.max(1, bitWidth(d.dictionary.length - 1));
    stats = d.stats;
    // Dictionary page: PLAIN byte arrays of the used entries.
    let total = 0;
    for (const b of d.encoded) total += 4 + b.length;
    const dictBody = new Uint8Array(total);
    const dv = new DataView(dictBody.buffer);
    let p = 0;
    for (const b of d.encoded) {
      dv.setUint32(p, b.length, true);
      dictBody.set(b, p + 4);
      p += 4 + b.length;
    }
    addPage(PageType.DICTIONARY_PAGE, dictBody, d.dictionary.length, Encoding.PLAIN);
    valueEncoding = Encoding.RLE_DICTIONARY;
  } else {
    stats = columnStats(col, validity, rows);
  }

  for (const [start, end] of pageRanges(col, rows, pageRows)) {
    let values: Uint8Array;
    switch (col.kind) {
      case 'float64':
        values = plainFloat64(col.values, validity, start, end);
        break;
      case 'timestamp':
      case 'int64':
        values = plainInt64(col.values, validity, start, end);
        break;
      case 'int32':
        values = plainInt32(col.values, validity, start, end);
        break;
      case 'bool':
        values = plainBool(col.values, validity, start, end);
        break;
      case 'utf8':
        values = plainByteArray(col.offsets, col.data, validity, start, end);
        break;
      case 'dict': {
        const out = new ByteBuffer(((end - start) * dictWidth) / 8 + 64);
        out.u8(dictWidth);
        encodeHybrid(
          nonNullIndices(dictIndices!, validity, start, end),
          0,
          countValid(validity, start, end),
          dictWidth,
          out,
        );
        values = out.view();
        break;
      }
    }
    let body = values;
    if (field.nullable) {
      const levels = new ByteBuffer(values.length + 64);
      levels.u32(0);
      if (validity === null) {
        // All present: a single RLE run of 1s.
        levels.varint((end - start) * 2);
        levels.u8(1);
      } else encodeHybrid(validity, start, end, 1, levels);
      const levelBytes = levels.length - 4;
      levels.buf[0] = levelBytes & 0xff;
      levels.buf[1] = (levelBytes >>> 8) & 0xff;
      levels.buf[2] = (levelBytes >>> 16) & 0xff;
      levels.buf[3] = levelBytes >>> 24;
      levels.bytes(values);
      body = levels.view();
    }
    addPage(PageType.DATA_PAGE, body, end - start, valueEncoding);
  }

  const encodings: number[] =
    col.kind === 'dict' ? [Encoding.PLAIN, Encoding.RLE_DICTIONARY] : [Encoding.PLAIN];
  if (field.nullable) encodings.push(Encoding.RLE);
  return { pages, encodings, hasDictionary: col.kind === 'dict', uncompressedSize, stats };
}

/** Row ranges of the data pages: `pageRows` each, string pages also capped by bytes. */
function pageRanges(col: Column, rows: number, pageRows: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  while (start < rows) {
    let end = Math.min(rows, start + pageRows);
    if (col.kind === 'utf8') {
      const o = col.offsets;
      if (o[end]! - o[start]! + 4 * (end - start) > MAX_PAGE_BYTES) {
        // Binary search the last end that keeps the page under the cap (at least one row).
        let lo = start + 1;
        let hi = end;
        while (lo < hi) {
          const mid = (lo + hi + 1) >>> 1;
          if (o[mid]! - o[start]! + 4 * (mid - start) <= MAX_PAGE_BYTES) lo = mid;
          else hi = mid - 1;
        }
        end = lo;
      }
    }
    out.push([start, end]);
    start = end;
  }
  if (out.length === 0) out.push([0, 0]);
  return out;
}

function countValid(validity: Uint8Array | null, start: number, end: number): number {
  if (validity === null) return end - start;
  let n = 0;
  for (let i = start; i < end; i++) n += validity[i]!;
  return n;
}

function nonNullIndices(
  indices: Int32Array,
  validity: Uint8Array | null,
  start: number,
  end: number,
): Int32Array {
  if (validity === null) return indices.subarray(start, end);
  const out = new Int32Array(countValid(validity, start, end));
  let k = 0;
  for (let i = start; i < end; i++) if (validity[i]) out[k++] = indices[i]!;
  return out;
}

/** PLAIN doubles: the typed array's bytes as they are (copied only to drop nulls). */
function plainFloat64(
  values: Float64Array,
  validity: Uint8Array | null,
  start: number,
  end: number,
): Uint8Array {
  if (validity === null) {
    return new Uint8Array(values.buffer, values.byteOffset + start * 8, (end - start) * 8);
  }
  const out = new Float64Array(countValid(validity, start, end));
  let k = 0;
  for (let i = start; i < end; i++) if (validity[i]) out[k++] = values[i]!;
  return new Uint8Array(out.buffer);
}

/** PLAIN INT64 from exact doubles: little-endian lo/hi 32-bit words, no BigInt per value. */
function plainInt64(
  values: Float64Array,
  validity: Uint8Array | null,
  start: number,
  end: number,
): Uint8Array {
  const words = new Int32Array(countValid(validity, start, end) * 2);
  let k = 0;
  for (let i = start; i < end; i++) {
    if (validity !== null && validity[i] === 0) continue;
    const v = values[i]!;
    // hi = floor(v / 2^32) is exact for |v| < 2^53 and negative v (two's complement high word);
    // `| 0` wraps lo (0 .. 2^32-1) into the int32 with the same bits.
    const hi = Math.floor(v / TWO_32);
    words[k++] = (v - hi * TWO_32) | 0;
    words[k++] = hi | 0;
  }
  return new Uint8Array(words.buffer);
}

function plainInt32(values: Int32Array, validity: Uint8Array | null, start: number, end: number): Uint8Array {
  if (validity === null) {
    return new Uint8Array(values.buffer, values.byteOffset + start * 4, (end - start) * 4);
  }
  const out = new Int32Array(countValid(validity, start, end));
  let k = 0;
  for (let i = start; i < end; i++) if (validity[i]) out[k++] = values[i]!;
  return new Uint8Array(out.buffer);
}

function plainBool(values: Uint8Array, validity: Uint8Array | null, start: number, end: number): Uint8Array {
  let src = values.subarray(start, end);
  if (validity !== null) {
    const out = new Uint8Array(countValid(validity, start, end));
    let k = 0;
    for (let i = start; i < end; i++) if (validity[i]) out[k++] = values[i]!;
    src = out;
  }
  const buf = new ByteBuffer((src.length >>> 3) + 8);
  packBooleans(src, buf);
  return buf.view();
}

/** PLAIN BYTE_ARRAY: 4-byte little-endian length then the bytes, per non-null value. */
function plainByteArray(
  offsets: Int32Array,
  data: Uint8Array,
  validity: Uint8Array | null,
  start: number,
  end: number,
): Uint8Array {
  let total = 0;
  for (let i = start; i < end; i++) {
    if (validity === null || validity[i]) total += 4 + offsets[i + 1]! - offsets[i]!;
  }
  const out = new Uint8Array(total);
  let p = 0;
  for (let i = start; i < end; i++) {
    if (validity !== null && validity[i] === 0) continue;
    const s = offsets[i]!;
    const e = offsets[i + 1]!;
    const len = e - s;
    out[p] = len & 0xff;
    out[p + 1] = (len >>> 8) & 0xff;
    out[p + 2] = (len >>> 16) & 0xff;
    out[p + 3] = len >>> 24;
    p += 4;
    // Short strings: a byte loop beats creating a subarray for `set`.
    if (len < 32) for (let j = s; j < e; j++) out[p++] = data[j]!;
    else {
      out.set(data.subarray(s, e), p);
      p += len;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

/** Compare byte ranges as unsigned bytes (Parquet's order for STRING). */
function compareBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const la = ae - as;
  const lb = be - bs;
  const n = Math.min(la, lb);
  for (let i = 0; i < n; i++) {
    const d = a[as + i]! - b[bs + i]!;
    if (d !== 0) return d;
  }
  return la - lb;
}

function int64Bytes(v: number): Uint8Array {
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  const hi = Math.floor(v / TWO_32);
  dv.setUint32(0, v - hi * TWO_32, true);
  dv.setInt32(4, hi, true);
  return out;
}

function stringStatBytes(bytes: Uint8Array): Uint8Array | null {
  return bytes.length <= MAX_STAT_STRING_BYTES ? bytes : null;
}

function columnStats(col: Column, validity: Uint8Array | null, rows: number): ChunkStats {
  let nullCount = 0;
  if (validity !== null) for (let i = 0; i < rows; i++) nullCount += validity[i] === 0 ? 1 : 0;
  const none: ChunkStats = { min: null, max: null, minBytes: null, maxBytes: null, nullCount };
  switch (col.kind) {
    case 'float64':
    case 'timestamp':
    case 'int64': {
      const v = col.values;
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      let seen = false;
      for (let i = 0; i < rows; i++) {
        if (validity !== null && validity[i] === 0) continue;
        const x = v[i]!;
        if (Number.isNaN(x)) continue; // NaN never enters the statistics
        seen = true;
        if (x < min) min = x;
        if (x > max) max = x;
      }
      if (!seen) return none;
      if (col.kind === 'float64') {
        // Spec: a zero min is written as -0 and a zero max as +0.
        const mn = new Uint8Array(8);
        new DataView(mn.buffer).setFloat64(0, min === 0 ? -0 : min, true);
        const mx = new Uint8Array(8);
        new DataView(mx.buffer).setFloat64(0, max === 0 ? 0 : max, true);
        return { min, max, minBytes: mn, maxBytes: mx, nullCount };
      }
      return { min, max, minBytes: int64Bytes(min), maxBytes: int64Bytes(max), nullCount };
    }
    case 'int32':
    case 'bool': {
      const v = col.values;
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < rows; i++) {
        if (validity !== null && validity[i] === 0) continue;
        const x = v[i]!;
        if (x < min) min = x;
        if (x > max) max = x;
      }
      if (min > max) return none;
      if (col.kind === 'bool') {
        return { min, max, minBytes: Uint8Array.of(min), maxBytes: Uint8Array.of(max), nullCount };
      }
      const mn = new Uint8Array(4);
      new DataView(mn.buffer).setInt32(0, min, true);
      const mx = new Uint8Array(4);
      new DataView(mx.buffer).setInt32(0, max, true);
      return { min, max, minBytes: mn, maxBytes: mx, nullCount };
    }
    case 'utf8': {
      const { offsets: o, data } = col;
      let minRow = -1;
      let maxRow = -1;
      for (let i = 0; i < rows; i++) {
        if (validity !== null && validity[i] === 0) continue;
        if (minRow < 0) {
          minRow = maxRow = i;
          continue;
        }
        const s = o[i]!;
        const e = o[i + 1]!;
        // Max first: sorted / increasing ids then need one comparison per row.
        if (compareBytes(data, s, e, data, o[maxRow]!, o[maxRow + 1]!) > 0) maxRow = i;
        else if (compareBytes(data, s, e, data, o[minRow]!, o[minRow + 1]!) < 0) minRow = i;
      }
      if (minRow < 0) return none;
      const mn = new Uint8Array(data.subarray(o[minRow]!, o[minRow + 1]!));
      const mx = new Uint8Array(data.subarray(o[maxRow]!, o[maxRow + 1]!));
      return {
        min: textDecoder.decode(mn),
        max: textDecoder.decode(mx),
        minBytes: stringStatBytes(mn),
        maxBytes: stringStatBytes(mx),
        nullCount,
      };
    }
    case 'dict':
      throw new Error('dict statistics come from compactDictionary');
  }
}

/**
 * Keep only the dictionary entries this row group uses (in their original order), re-key the
 * indices onto them and compute min/max over the used entries.
 */
function compactDictionary(
  indices: Int32Array,
  dictionary: readonly string[],
  validity: Uint8Array | null,
  rows: number,
): { indices: Int32Array; dictionary: string[]; encoded: Uint8Array[]; stats: ChunkStats } {
  const used = new Uint8Array(dictionary.length);
  let nullCount = 0;
  for (let i = 0; i < rows; i++) {
    if (validity !== null && validity[i] === 0) {
      nullCount++;
      continue;
    }
    const id = indices[i]!;
    if (id < 0 || id >= dictionary.length) {
      throw new SchemaMismatchError(
        `Parquet write: dictionary index ${id} out of range (${dictionary.length} entries)`,
      );
    }
    used[id] = 1;
  }
  const remap = new Int32Array(dictionary.length);
  const kept: string[] = [];
  const encoded: Uint8Array[] = [];
  let allUsed = true;
  for (let j = 0; j < dictionary.length; j++) {
    if (used[j]) {
      remap[j] = kept.length;
      kept.push(dictionary[j]!);
      encoded.push(textEncoder.encode(dictionary[j]!));
    } else allUsed = false;
  }
  let out = indices.subarray(0, rows);
  if (!allUsed || validity !== null) {
    out = new Int32Array(rows);
    for (let i = 0; i < rows; i++) out[i] = validity !== null && validity[i] === 0 ? 0 : remap[indices[i]!]!;
  }
  let minJ = -1;
  let maxJ = -1;
  for (let j = 0; j < encoded.length; j++) {
    const b = encoded[j]!;
    if (minJ < 0) {
      minJ = maxJ = j;
      continue;
    }
    const mn = encoded[minJ]!;
    const mx = encoded[maxJ]!;
    if (compareBytes(b, 0, b.length, mn, 0, mn.length) < 0) minJ = j;
    if (compareBytes(b, 0, b.length, mx, 0, mx.length) > 0) maxJ = j;
  }
  const stats: ChunkStats =
    minJ < 0
      ? { min: null, max: null, minBytes: null, maxBytes: null, nullCount }
      : {
          min: kept[minJ]!,
          max: kept[maxJ]!,
          minBytes: stringStatBytes(encoded[minJ]!),
          maxBytes: stringStatBytes(encoded[maxJ]!),
          nullCount,
        };
  return { indices: out, dictionary: kept, encoded, stats };
}

function lessThan(a: number | string, b: number | string): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a < b;
  return Buffer.compare(Buffer.from(String(a)), Buffer.from(String(b))) < 0;
}

function mergeSummary(into: ColumnSummary, s: ChunkStats): void {
  into.nullCount += s.nullCount;
  if (s.min !== null && (into.min === null || lessThan(s.min, into.min))) into.min = s.min;
  if (s.max !== null && (into.max === null || lessThan(into.max, s.max))) into.max = s.max;
}
