/**
 * Parquet reader: footer → metadata, then only the byte ranges of the requested column chunks,
 * decoded page by page straight into typed arrays (`ColumnBatch`) or Arrow `Data` (`arrow.Table`).
 *
 * Supported: flat schemas (no nesting / repetition); BOOLEAN, INT32, INT64, FLOAT, DOUBLE,
 * BYTE_ARRAY; PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY and RLE (booleans) values; data pages v1
 * and v2; codecs none, snappy, gzip, zstd. Anything else raises `ParquetUnsupportedError`.
 */
import * as arrow from 'apache-arrow';
import { concatBatches } from '../columns/ops.js';
import type { Column, ColumnBatch, ColumnKind, Field } from '../columns/types.js';
import { CorruptedFileError, TicklakeError, UsageError } from '../errors.js';
import type { RandomAccessSource } from '../lake/storage.js';
import { decompress, decompressInto, UnsupportedCodecError } from './compression.js';
import { decodeHybrid, EncodingError, unpackBooleans } from './encoding.js';
import {
  type ColumnMetaData,
  CompressionCodec,
  ConvertedType,
  decodeFileMetaData,
  decodePageHeader,
  Encoding,
  enumName,
  FieldRepetitionType,
  type FileMetaData,
  MetadataShapeError,
  PageType,
  ParquetType,
  type SchemaElement,
  type Statistics,
} from './metadata.js';
import { SnappyError } from './snappy.js';
import { ThriftDecodeError, ThriftReader } from './thrift.js';

/** The file uses a Parquet feature this reader does not implement (nesting, an encoding, a codec). */
export class ParquetUnsupportedError extends TicklakeError {
  constructor(path: string, problem: string) {
    super('UNSUPPORTED_FILE', `${path}: unsupported Parquet feature: ${problem}`, {
      hint: 'ticklake reads flat files with PLAIN/dictionary encodings; rewrite the file with ticklake or DuckDB defaults',
      details: { path },
    });
  }
}

/** Per-column-chunk statistics and location, from the footer. */
export interface ParquetColumnChunkInfo {
  min: number | string | null;
  max: number | string | null;
  nullCount: number;
  /** Byte offset of the chunk's first page. */
  offset: number;
  /** Compressed byte length of the chunk (page headers included). */
  length: number;
}

export interface ParquetRowGroupInfo {
  numRows: number;
  columns: Record<string, ParquetColumnChunkInfo>;
}

export interface ParquetMetadata {
  numRows: number;
  fields: Field[];
  rowGroups: ParquetRowGroupInfo[];
  keyValueMetadata: Record<string, string>;
  createdBy?: string;
  /** Codec of the first column chunk ('zstd' | 'snappy' | 'gzip' | 'none' | other lower-case name); absent without row groups. */
  codec?: string;
}

export interface ParquetReadOptions {
  /** Field names to read (default all), returned in this order. */
  columns?: string[];
  /** Row-group indices to read (default all), returned in this order. */
  rowGroups?: number[];
}

/** How one leaf column is decoded. */
interface ColumnPlan {
  field: Field;
  /** Index of the column chunk in each row group. */
  index: number;
  physicalType: number;
  /** 1 for OPTIONAL columns (a definition level per value), 0 for REQUIRED. */
  maxDefinitionLevel: number;
  /** Bytes per value for fixed-width types (4 or 8), else 0. */
  width: number;
  /** INT64 timestamps: multiply by this to get µs (MILLIS 1000, NANOS 1/1000). */
  timeScale: number;
}

/** A decoded column chunk (or several concatenated), in the shape both outputs build from. */
type ChunkValues =
  /** INT64 (timestamp/int64) as little-endian words, INT32, DOUBLE (float64), BOOLEAN bytes. */
  | { kind: 'timestamp' | 'int64'; words: Int32Array }
  | { kind: 'float64'; values: Float64Array }
  | { kind: 'int32'; values: Int32Array }
  | { kind: 'bool'; values: Uint8Array }
  | { kind: 'utf8'; offsets: Int32Array; data: Uint8Array }
  | { kind: 'dict'; indices: Int32Array; dictionary: DictionaryValues };

interface DecodedChunk {
  rows: number;
  validity: Uint8Array | null;
  nullCount: number;
  values: ChunkValues;
}

/** A decoded dictionary page. Fixed-width dictionaries keep words; byte arrays keep both forms. */
interface DictionaryValues {
  size: number;
  words?: Int32Array;
  bools?: Uint8Array;
  offsets?: Int32Array;
  data?: Uint8Array;
  strings?: string[];
}

const TWO_32 = 4294967296;
const FOOTER_PREFETCH = 64 * 1024;
const MAGIC = 0x31524150; // "PAR1" little-endian
const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

/** Read only the footer of a Parquet file. */
export async function readParquetMetadata(
  source: RandomAccessSource,
  name?: string,
): Promise<ParquetMetadata> {
  return (await ParquetReader.open(source, name)).metadata;
}

/** Random-access Parquet reader over a `RandomAccessSource`. */
export class ParquetReader {
  /** Bytes fetched from the source so far (footer included). */
  bytesRead = 0;
  readonly metadata: ParquetMetadata;
  private readonly plans: ColumnPlan[];

  private constructor(
    private readonly source: RandomAccessSource,
    readonly name: string,
    /** The raw footer, names as in parquet.thrift. */
    readonly fileMetaData: FileMetaData,
    private readonly footerStart: number,
  ) {
    this.plans = planColumns(fileMetaData, name);
    this.metadata = summarize(fileMetaData, this.plans);
    for (const rg of fileMetaData.row_groups) {
      if (rg.columns.length !== this.plans.length) {
        throw new CorruptedFileError(
          name,
          `row group has ${rg.columns.length} columns, schema has ${this.plans.length}`,
        );
      }
    }
  }

  /** Read and validate the footer. Throws `CorruptedFileError` for anything that is not Parquet. */
  static async open(source: RandomAccessSource, name = 'parquet file'): Promise<ParquetReader> {
    const size = source.size;
    if (size < 12) throw new CorruptedFileError(name, `not a Parquet file (only ${size} bytes)`);
    const tailLen = Math.min(size, FOOTER_PREFETCH);
    let bytesRead = 0;
    const tail = await source.read(size - tailLen, tailLen);
    bytesRead += tailLen;
    if (tail.length !== tailLen) throw new CorruptedFileError(name, 'short read of the footer');
    const dv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    if (dv.getUint32(tailLen - 4, true) !== MAGIC) {
      throw new CorruptedFileError(name, 'not a Parquet file (bad magic)');
    }
    if (tailLen === size && dv.getUint32(0, true) !== MAGIC) {
      throw new CorruptedFileError(name, 'not a Parquet file (bad magic at start)');
    }
    const footerLen = dv.getUint32(tailLen - 8, true);
    if (footerLen + 12 > size) {
      throw new CorruptedFileError(name, `footer length exceeds file size (${footerLen} > ${size - 12})`);
    }
    const footerStart = size - 8 - footerLen;
    let footer: Uint8Array;
    if (footerLen + 8 <= tailLen) footer = tail.subarray(tailLen - 8 - footerLen, tailLen - 8);
    else {
      footer = await source.read(footerStart, footerLen);
      bytesRead += footerLen;
    }
    let md: FileMetaData;
    try {
      md = decodeFileMetaData(new ThriftReader(footer));
    } catch (err) {
      throw wrapError(name, 'footer', err);
    }
    const reader = new ParquetReader(source, name, md, footerStart);
    reader.bytesRead = bytesRead;
    return reader;
  }

  /** Decode the requested columns / row groups into one `ColumnBatch`. */
  async readBatch(opts: ParquetReadOptions = {}): Promise<ColumnBatch> {
    const plans = this.selectColumns(opts.columns);
    const batches: ColumnBatch[] = [];
    await this.forEachRowGroup(opts.rowGroups, plans, (rows, chunks) => {
      const columns: Record<string, Column> = {};
      for (let c = 0; c < plans.length; c++) columns[plans[c]!.field.name] = toColumn(chunks[c]!);
      batches.push({ length: rows, columns });
    });
    if (batches.length === 0) {
      const columns: Record<string, Column> = {};
      for (const p of plans) columns[p.field.name] = toColumn(emptyChunk(p.field.kind));
      return { length: 0, columns };
    }
    return concatBatches(batches);
  }

  /** Decode the requested columns / row groups into an Arrow table (one record batch per row group). */
  async readArrow(opts: ParquetReadOptions = {}): Promise<arrow.Table> {
    const plans = this.selectColumns(opts.columns);
    const fields = plans.map((p) => new arrow.Field(p.field.name, arrowType(p.field.kind), p.field.nullable));
    const schema = new arrow.Schema(fields);
    const batches: arrow.RecordBatch[] = [];
    await this.forEachRowGroup(opts.rowGroups, plans, (rows, chunks) => {
      const children = chunks.map((c, i) => toArrowData(c, fields[i]!.type));
      const data = arrow.makeData({ type: new arrow.Struct(fields), length: rows, nullCount: 0, children });
      batches.push(new arrow.RecordBatch(schema, data));
    });
    return new arrow.Table(schema, batches);
  }

  /** Release the source. */
  close(): Promise<void> {
    return this.source.close();
  }

  private selectColumns(names: string[] | undefined): ColumnPlan[] {
    if (names === undefined) return this.plans;
    return names.map((n) => {
      const p = this.plans.find((x) => x.field.name === n);
      if (p === undefined) throw new UsageError(`${this.name}: no column "${n}" in the file`);
      return p;
    });
  }

  /** Fetch (one row group ahead) and decode each requested row group. */
  private async forEachRowGroup(
    rowGroups: number[] | undefined,
    plans: ColumnPlan[],
    visit: (rows: number, chunks: DecodedChunk[]) => void,
  ): Promise<void> {
    const groups = this.fileMetaData.row_groups;
    const indices = rowGroups ?? groups.map((_, i) => i);
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= groups.length) {
        throw new UsageError(`${this.name}: no row group ${i} (the file has ${groups.length})`);
      }
    }
    if (indices.length === 0) return;
    let next = this.fetchRowGroup(indices[0]!, plans);
    for (let k = 0; k < indices.length; k++) {
      const bytes = await next;
      if (k + 1 < indices.length) {
        next = this.fetchRowGroup(indices[k + 1]!, plans);
        next.catch(() => undefined); // surfaced when awaited
      }
      const rg = groups[indices[k]!]!;
      const chunks = plans.map((p, c) =>
        decodeColumnChunk(this.name, p, rg.columns[p.index]!.meta_data!, bytes[c]!, rg.num_rows),
      );
      visit(rg.num_rows, chunks);
    }
  }

  /** Read the byte ranges of the requested chunks of one row group (adjacent ranges coalesced). */
  private async fetchRowGroup(rgIndex: number, plans: ColumnPlan[]): Promise<Uint8Array[]> {
    const rg = this.fileMetaData.row_groups[rgIndex]!;
    const ranges = plans.map((p, c) => {
      const meta = rg.columns[p.index]!.meta_data;
      if (meta === undefined)
        throw new CorruptedFileError(this.name, `column "${p.field.name}" has no metadata`);
      const start = chunkStart(meta);
      const length = meta.total_compressed_size;
      if (start < 4 || length < 0 || start + length > this.footerStart) {
        throw new CorruptedFileError(
          this.name,
          `column "${p.field.name}" in row group ${rgIndex} points outside the file (${start}+${length})`,
        );
      }
      return { c, start, end: start + length };
    });
    const sorted = [...ranges].sort((a, b) => a.start - b.start);
    const out: Uint8Array[] = new Array(plans.length);
    const reads: Promise<void>[] = [];
    for (let i = 0; i < sorted.length; ) {
      let j = i + 1;
      let end = sorted[i]!.end;
      while (j < sorted.length && sorted[j]!.start <= end) {
        end = Math.max(end, sorted[j]!.end);
        j++;
      }
      const group = sorted.slice(i, j);
      const start = group[0]!.start;
      this.bytesRead += end - start;
      reads.push(
        this.source.read(start, end - start).then((buf) => {
          if (buf.length !== end - start)
            throw new CorruptedFileError(this.name, 'short read of a column chunk');
          for (const r of group) out[r.c] = buf.subarray(r.start - start, r.end - start);
        }),
      );
      i = j;
    }
    await Promise.all(reads);
    return out;
  }
}

function chunkStart(meta: ColumnMetaData): number {
  const d = meta.dictionary_page_offset;
  // Some writers set dictionary_page_offset = 0 when there is none.
  return d !== undefined && d > 0 && d < meta.data_page_offset ? d : meta.data_page_offset;
}

// ---------------------------------------------------------------------------------------------
// Schema → column plans and user-facing metadata
// ---------------------------------------------------------------------------------------------

function planColumns(md: FileMetaData, name: string): ColumnPlan[] {
  const [root, ...leaves] = md.schema;
  if (root === undefined) throw new CorruptedFileError(name, 'footer has an empty schema');
  if (
    (root.num_children ?? leaves.length) !== leaves.length ||
    leaves.some((e) => (e.num_children ?? 0) > 0)
  ) {
    throw new ParquetUnsupportedError(name, 'nested schema (only flat columns are supported)');
  }
  return leaves.map((el, index) => {
    if (el.repetition_type === FieldRepetitionType.REPEATED) {
      throw new ParquetUnsupportedError(name, `repeated column "${el.name}"`);
    }
    const physicalType = el.type ?? -1;
    const { kind, width, timeScale } = kindOf(el, md, index, name);
    return {
      field: { name: el.name, kind, nullable: el.repetition_type === FieldRepetitionType.OPTIONAL },
      index,
      physicalType,
      maxDefinitionLevel: el.repetition_type === FieldRepetitionType.OPTIONAL ? 1 : 0,
      width,
      timeScale,
    };
  });
}

function kindOf(
  el: SchemaElement,
  md: FileMetaData,
  index: number,
  name: string,
): { kind: ColumnKind; width: number; timeScale: number } {
  const lt = el.logical_type;
  switch (el.type) {
    case ParquetType.BOOLEAN:
      return { kind: 'bool', width: 0, timeScale: 1 };
    case ParquetType.INT32:
      return { kind: 'int32', width: 4, timeScale: 1 };
    case ParquetType.INT64: {
      if (lt?.type === 'TIMESTAMP') {
        return {
          kind: 'timestamp',
          width: 8,
          timeScale: lt.unit === 'MILLIS' ? 1000 : lt.unit === 'NANOS' ? 0.001 : 1,
        };
      }
      if (el.converted_type === ConvertedType.TIMESTAMP_MICROS)
        return { kind: 'timestamp', width: 8, timeScale: 1 };
      if (el.converted_type === ConvertedType.TIMESTAMP_MILLIS)
        return { kind: 'timestamp', width: 8, timeScale: 1000 };
      return { kind: 'int64', width: 8, timeScale: 1 };
    }
    case ParquetType.FLOAT:
      return { kind: 'float64', width: 4, timeScale: 1 };
    case ParquetType.DOUBLE:
      return { kind: 'float64', width: 8, timeScale: 1 };
    case ParquetType.BYTE_ARRAY: {
      const groups = md.row_groups;
      const dict =
        groups.length > 0 &&
        groups.every((rg) => {
          const m = rg.columns[index]?.meta_data;
          return (
            m !== undefined &&
            ((m.dictionary_page_offset !== undefined && m.dictionary_page_offset > 0) ||
              m.encodings.includes(Encoding.RLE_DICTIONARY) ||
              m.encodings.includes(Encoding.PLAIN_DICTIONARY))
          );
        });
      return { kind: dict ? 'dict' : 'utf8', width: 0, timeScale: 1 };
    }
    default:
      throw new ParquetUnsupportedError(
        name,
        `column "${el.name}" has physical type ${enumName(ParquetType, el.type ?? -1)}`,
      );
  }
}

function statValue(plan: ColumnPlan, bytes: Uint8Array | undefined): number | string | null {
  if (bytes === undefined) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (plan.physicalType) {
    case ParquetType.INT64:
      if (bytes.length !== 8) return null;
      return (dv.getUint32(0, true) + dv.getInt32(4, true) * TWO_32) * plan.timeScale;
    case ParquetType.INT32:
      return bytes.length === 4 ? dv.getInt32(0, true) : null;
    case ParquetType.DOUBLE:
      return bytes.length === 8 ? dv.getFloat64(0, true) : null;
    case ParquetType.FLOAT:
      return bytes.length === 4 ? dv.getFloat32(0, true) : null;
    case ParquetType.BOOLEAN:
      return bytes.length === 1 ? bytes[0]! & 1 : null;
    case ParquetType.BYTE_ARRAY:
      return textDecoder.decode(bytes);
    default:
      return null;
  }
}

function chunkMinMax(
  plan: ColumnPlan,
  s: Statistics | undefined,
): [number | string | null, number | string | null] {
  if (s === undefined) return [null, null];
  if (s.min_value !== undefined || s.max_value !== undefined) {
    return [statValue(plan, s.min_value), statValue(plan, s.max_value)];
  }
  // Legacy min/max used signed byte order for strings: only trust them for numbers.
  if (plan.physicalType === ParquetType.BYTE_ARRAY) return [null, null];
  return [statValue(plan, s.min), statValue(plan, s.max)];
}

function summarize(md: FileMetaData, plans: ColumnPlan[]): ParquetMetadata {
  const keyValueMetadata: Record<string, string> = {};
  for (const kv of md.key_value_metadata ?? []) keyValueMetadata[kv.key] = kv.value ?? '';
  const out: ParquetMetadata = {
    numRows: md.num_rows,
    fields: plans.map((p) => p.field),
    rowGroups: md.row_groups.map((rg) => {
      const columns: Record<string, ParquetColumnChunkInfo> = {};
      for (const p of plans) {
        const meta = rg.columns[p.index]?.meta_data;
        if (meta === undefined) continue;
        const [min, max] = chunkMinMax(p, meta.statistics);
        columns[p.field.name] = {
          min,
          max,
          nullCount: meta.statistics?.null_count ?? 0,
          offset: chunkStart(meta),
          length: meta.total_compressed_size,
        };
      }
      return { numRows: rg.num_rows, columns };
    }),
    keyValueMetadata,
  };
  if (md.created_by !== undefined) out.createdBy = md.created_by;
  const codec = md.row_groups[0]?.columns[0]?.meta_data?.codec;
  if (codec !== undefined) {
    out.codec =
      codec === CompressionCodec.UNCOMPRESSED ? 'none' : enumName(CompressionCodec, codec).toLowerCase();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Column chunk decoding
// ---------------------------------------------------------------------------------------------

function wrapError(name: string, where: string, err: unknown): Error {
  if (err instanceof TicklakeError) return err;
  if (err instanceof UnsupportedCodecError)
    return new ParquetUnsupportedError(name, `${where}: ${err.message}`);
  const msg = err instanceof Error ? err.message : String(err);
  const known =
    err instanceof ThriftDecodeError ||
    err instanceof EncodingError ||
    err instanceof SnappyError ||
    err instanceof MetadataShapeError ||
    err instanceof RangeError;
  return new CorruptedFileError(name, `corrupted ${where}: ${msg}`, known ? { cause: err } : { cause: err });
}

/** Output buffers for one chunk, filled page by page. */
interface ChunkBuilder {
  /** timestamp/int64/float64(DOUBLE)/int32: values as 32-bit words (`width / 4` per row). */
  words: Int32Array | null;
  /** float64 from FLOAT. */
  floats: Float32Array | null;
  bools: Uint8Array | null;
  /** utf8 output. */
  offsets: Int32Array | null;
  data: Uint8Array | null;
  dataLength: number;
  /** dict output. */
  indices: Int32Array | null;
  lookup: Map<string, number> | null;
}

function decodeColumnChunk(
  name: string,
  plan: ColumnPlan,
  meta: ColumnMetaData,
  bytes: Uint8Array,
  rows: number,
): DecodedChunk {
  try {
    return decodeChunk(name, plan, meta, bytes, rows);
  } catch (err) {
    throw wrapError(name, `column "${plan.field.name}"`, err);
  }
}

function decodeChunk(
  name: string,
  plan: ColumnPlan,
  meta: ColumnMetaData,
  bytes: Uint8Array,
  rows: number,
): DecodedChunk {
  const kind = plan.field.kind;
  const codec = meta.codec;
  const validity = plan.maxDefinitionLevel > 0 ? new Uint8Array(rows) : null;
  const b: ChunkBuilder = {
    words: null,
    floats: null,
    bools: null,
    offsets: null,
    data: null,
    dataLength: 0,
    indices: null,
    lookup: null,
  };
  // `wordBytes` is the byte view of `words`: fixed-width pages decompress straight into it.
  let wordBytes: Uint8Array | null = null;
  if (kind === 'bool') b.bools = new Uint8Array(rows);
  else if (kind === 'utf8') {
    b.offsets = new Int32Array(rows + 1);
    b.data = new Uint8Array(Math.max(16, meta.total_uncompressed_size));
  } else if (kind === 'dict') b.indices = new Int32Array(rows);
  else if (plan.physicalType === ParquetType.FLOAT) b.floats = new Float32Array(rows);
  else {
    b.words = new Int32Array((rows * plan.width) / 4);
    wordBytes = new Uint8Array(b.words.buffer);
  }

  let dictionary: DictionaryValues | null = null;
  const reader = new ThriftReader(bytes);
  let row = 0;
  let nullCount = 0;
  while (row < rows) {
    if (reader.offset >= bytes.length) {
      throw new EncodingError(`column chunk ends after ${row} of ${rows} rows`);
    }
    const header = decodePageHeader(reader);
    const start = reader.offset;
    const end = start + header.compressed_page_size;
    if (header.compressed_page_size < 0 || end > bytes.length)
      throw new EncodingError('page extends past its column chunk');
    reader.offset = end;
    const raw = bytes.subarray(start, end);

    if (header.type === PageType.DICTIONARY_PAGE) {
      const h = header.dictionary_page_header;
      if (h === undefined) throw new EncodingError('dictionary page without its header');
      if (h.encoding !== Encoding.PLAIN && h.encoding !== Encoding.PLAIN_DICTIONARY) {
        throw new ParquetUnsupportedError(name, `dictionary encoding ${enumName(Encoding, h.encoding)}`);
      }
      const page = decompress(codec, raw, header.uncompressed_page_size);
      dictionary = decodeDictionary(plan, page, h.num_values);
      continue;
    }
    if (header.type !== PageType.DATA_PAGE && header.type !== PageType.DATA_PAGE_V2) continue;

    let n: number;
    let encoding: number;
    let page: Uint8Array;
    let p = 0;
    let nonNull: number;
    if (header.type === PageType.DATA_PAGE) {
      const h = header.data_page_header;
      if (h === undefined) throw new EncodingError('data page without its header');
      n = h.num_values;
      encoding = h.encoding;
      if (n > rows - row) throw new EncodingError(`pages hold more than the row group's ${rows} rows`);
      if (plan.maxDefinitionLevel === 0 && encoding === Encoding.PLAIN && wordBytes !== null) {
        // Fast path: required fixed-width PLAIN values are the whole page; decompress in place.
        if (header.uncompressed_page_size !== n * plan.width)
          throw new EncodingError('PLAIN page has the wrong size');
        decompressInto(codec, raw, wordBytes.subarray(row * plan.width, (row + n) * plan.width));
        row += n;
        continue;
      }
      page = decompress(codec, raw, header.uncompressed_page_size);
      nonNull = n;
      if (plan.maxDefinitionLevel > 0) {
        if (h.definition_level_encoding !== Encoding.RLE) {
          throw new ParquetUnsupportedError(
            name,
            `definition levels encoded as ${enumName(Encoding, h.definition_level_encoding)}`,
          );
        }
        if (page.length < 4) throw new EncodingError('page too short for its definition levels');
        const len = page[0]! | (page[1]! << 8) | (page[2]! << 16) | (page[3]! << 24);
        if (len < 0 || 4 + len > page.length) throw new EncodingError('definition levels past end of page');
        nonNull = readLevels(page, 4, 4 + len, n, validity!, row);
        p = 4 + len;
      }
    } else {
      const h = header.data_page_header_v2;
      if (h === undefined) throw new EncodingError('data page v2 without its header');
      n = h.num_values;
      encoding = h.encoding;
      if (n > rows - row) throw new EncodingError(`pages hold more than the row group's ${rows} rows`);
      const rl = h.repetition_levels_byte_length;
      const dl = h.definition_levels_byte_length;
      if (rl !== 0) throw new ParquetUnsupportedError(name, 'repetition levels');
      if (rl + dl > raw.length) throw new EncodingError('levels past end of page');
      nonNull = n;
      if (plan.maxDefinitionLevel > 0) nonNull = readLevels(raw, rl, rl + dl, n, validity!, row);
      const body = raw.subarray(rl + dl);
      page = h.is_compressed ? decompress(codec, body, header.uncompressed_page_size - rl - dl) : body;
    }
    nullCount += n - nonNull;
    const pageValidity = nonNull === n ? null : validity!.subarray(row, row + n);
    decodeValues(name, plan, b, dictionary, page, p, encoding, row, n, nonNull, pageValidity);
    row += n;
  }

  let values: ChunkValues;
  switch (kind) {
    case 'timestamp':
    case 'int64': {
      const words = b.words!;
      if (plan.timeScale !== 1) rescaleInt64(words, plan.timeScale);
      values = { kind, words };
      break;
    }
    case 'float64':
      values = { kind, values: b.floats ? Float64Array.from(b.floats) : new Float64Array(b.words!.buffer) };
      break;
    case 'int32':
      values = { kind, values: b.words! };
      break;
    case 'bool':
      values = { kind, values: b.bools! };
      break;
    case 'utf8':
      values = { kind, offsets: b.offsets!, data: b.data!.subarray(0, b.dataLength) };
      break;
    case 'dict': {
      let dict = dictionary ?? { size: 0, strings: [], offsets: new Int32Array(1), data: new Uint8Array(0) };
      if (b.lookup !== null) dict = dictionaryFromStrings([...b.lookup.keys()]);
      values = { kind, indices: b.indices!, dictionary: dict };
      break;
    }
  }
  return { rows, validity: nullCount > 0 ? validity : null, nullCount, values };
}

/** Decode definition levels (bit width 1) into `validity[row..row+n)`; returns the non-null count. */
function readLevels(
  buf: Uint8Array,
  start: number,
  end: number,
  n: number,
  validity: Uint8Array,
  row: number,
): number {
  const levels = validity.subarray(row, row + n);
  decodeHybrid(buf, start, end, 1, n, levels);
  let nonNull = 0;
  for (let i = 0; i < n; i++) nonNull += levels[i]!;
  return nonNull;
}

function rescaleInt64(words: Int32Array, scale: number): void {
  for (let i = 0; i < words.length; i += 2) {
    const v = Math.round(((words[i]! >>> 0) + words[i + 1]! * TWO_32) * scale);
    const hi = Math.floor(v / TWO_32);
    words[i] = (v - hi * TWO_32) | 0;
    words[i + 1] = hi | 0;
  }
}

function decodeDictionary(plan: ColumnPlan, page: Uint8Array, count: number): DictionaryValues {
  switch (plan.physicalType) {
    case ParquetType.BYTE_ARRAY: {
      const offsets = new Int32Array(count + 1);
      const data = new Uint8Array(page.length);
      const strings: string[] = new Array(count);
      let p = 0;
      let q = 0;
      for (let i = 0; i < count; i++) {
        if (p + 4 > page.length) throw new EncodingError('dictionary page too short');
        const len = page[p]! | (page[p + 1]! << 8) | (page[p + 2]! << 16) | (page[p + 3]! << 24);
        p += 4;
        if (len < 0 || p + len > page.length) throw new EncodingError('dictionary value past end of page');
        const v = page.subarray(p, p + len);
        data.set(v, q);
        strings[i] = textDecoder.decode(v);
        p += len;
        q += len;
        offsets[i + 1] = q;
      }
      return { size: count, offsets, data: data.subarray(0, q), strings };
    }
    case ParquetType.BOOLEAN: {
      const bools = new Uint8Array(count);
      unpackBooleans(page, 0, count, bools);
      return { size: count, bools };
    }
    default: {
      const bytes = count * plan.width;
      if (bytes > page.length) throw new EncodingError('dictionary page too short');
      return { size: count, words: new Int32Array(copyBytes(page, 0, bytes).buffer) };
    }
  }
}

/** A copy of `buf[start..end)` in its own ArrayBuffer (`Buffer#slice` would return a view). */
function copyBytes(buf: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(buf.subarray(start, end));
  return out;
}

function dictionaryFromStrings(strings: string[]): DictionaryValues {
  const encoded = strings.map((s) => textEncoder.encode(s));
  const offsets = new Int32Array(strings.length + 1);
  let total = 0;
  for (let i = 0; i < encoded.length; i++) offsets[i + 1] = total += encoded[i]!.length;
  const data = new Uint8Array(total);
  for (let i = 0; i < encoded.length; i++) data.set(encoded[i]!, offsets[i]!);
  return { size: strings.length, offsets, data, strings };
}

/** Decode dictionary indices (bit-width byte + hybrid) for `count` values, bounds-checked. */
function readIndices(page: Uint8Array, p: number, count: number, dictSize: number): Int32Array {
  if (p >= page.length && count > 0) throw new EncodingError('dictionary indices missing');
  const width = page[p] ?? 0;
  if (width > 32) throw new EncodingError(`bad dictionary index bit width ${width}`);
  const idx = new Int32Array(count);
  decodeHybrid(page, p + 1, page.length, width, count, idx);
  for (let i = 0; i < count; i++) {
    const v = idx[i]!;
    if (v < 0 || v >= dictSize)
      throw new EncodingError(`dictionary index ${v} out of range (${dictSize} entries)`);
  }
  return idx;
}

/**
 * Decode the `nonNull` values of one page (starting at `page[p]`) into rows `row .. row+n` of the
 * chunk builder, spreading them over the non-null slots of `pageValidity` when there are nulls.
 */
function decodeValues(
  name: string,
  plan: ColumnPlan,
  b: ChunkBuilder,
  dictionary: DictionaryValues | null,
  page: Uint8Array,
  p: number,
  encoding: number,
  row: number,
  n: number,
  nonNull: number,
  pageValidity: Uint8Array | null,
): void {
  const isDict = encoding === Encoding.RLE_DICTIONARY || encoding === Encoding.PLAIN_DICTIONARY;
  if (isDict && dictionary === null)
    throw new EncodingError('dictionary-encoded page without a dictionary page');
  if (
    !isDict &&
    encoding !== Encoding.PLAIN &&
    !(encoding === Encoding.RLE && plan.physicalType === ParquetType.BOOLEAN)
  ) {
    throw new ParquetUnsupportedError(
      name,
      `column "${plan.field.name}" uses encoding ${enumName(Encoding, encoding)}`,
    );
  }
  const kind = plan.field.kind;

  if (kind === 'bool') {
    const dense = pageValidity === null ? b.bools!.subarray(row, row + n) : new Uint8Array(nonNull);
    if (isDict) {
      const idx = readIndices(page, p, nonNull, dictionary!.size);
      for (let i = 0; i < nonNull; i++) dense[i] = dictionary!.bools![idx[i]!]!;
    } else if (encoding === Encoding.RLE) {
      // RLE booleans (v2 pages): 4-byte length then a bit-width-1 hybrid.
      decodeHybrid(page, p + 4, page.length, 1, nonNull, dense);
    } else unpackBooleans(page, p, nonNull, dense);
    if (pageValidity !== null) scatter8(dense, pageValidity, b.bools!, row);
    return;
  }

  if (kind === 'utf8') {
    decodeUtf8(b, dictionary, page, p, isDict, row, n, nonNull, pageValidity);
    return;
  }

  if (kind === 'dict') {
    const out = b.indices!;
    let dense: Int32Array;
    if (isDict && b.lookup === null) dense = readIndices(page, p, nonNull, dictionary!.size);
    else {
      // A PLAIN page inside a dictionary column (writer fell back) or after one: look strings up.
      if (b.lookup === null) {
        b.lookup = new Map();
        for (const s of dictionary?.strings ?? []) if (!b.lookup.has(s)) b.lookup.set(s, b.lookup.size);
      }
      const lookup = b.lookup;
      dense = new Int32Array(nonNull);
      if (isDict) {
        const idx = readIndices(page, p, nonNull, dictionary!.size);
        const ids = (dictionary!.strings ?? []).map((s) => lookup.get(s)!);
        for (let i = 0; i < nonNull; i++) dense[i] = ids[idx[i]!]!;
      } else {
        let q = p;
        for (let i = 0; i < nonNull; i++) {
          if (q + 4 > page.length) throw new EncodingError('string values past end of page');
          const len = page[q]! | (page[q + 1]! << 8) | (page[q + 2]! << 16) | (page[q + 3]! << 24);
          q += 4;
          if (len < 0 || q + len > page.length) throw new EncodingError('string value past end of page');
          const s = textDecoder.decode(page.subarray(q, q + len));
          q += len;
          let id = lookup.get(s);
          if (id === undefined) lookup.set(s, (id = lookup.size));
          dense[i] = id;
        }
      }
    }
    if (pageValidity === null) out.set(dense, row);
    else {
      let k = 0;
      for (let i = 0; i < n; i++) out[row + i] = pageValidity[i] ? dense[k++]! : 0;
    }
    return;
  }

  // Fixed width: FLOAT → floats, everything else → 32-bit words.
  const wpv = plan.width / 4; // words per value
  let src: Int32Array;
  if (isDict) {
    const idx = readIndices(page, p, nonNull, dictionary!.size);
    const dw = dictionary!.words!;
    src = new Int32Array(nonNull * wpv);
    if (wpv === 2) {
      for (let i = 0; i < nonNull; i++) {
        const j = idx[i]! * 2;
        src[2 * i] = dw[j]!;
        src[2 * i + 1] = dw[j + 1]!;
      }
    } else for (let i = 0; i < nonNull; i++) src[i] = dw[idx[i]!]!;
  } else {
    const bytes = nonNull * plan.width;
    if (p + bytes > page.length) throw new EncodingError('values past end of page');
    const at = page.byteOffset + p;
    // Aligned → view in place; otherwise copy once to an aligned buffer.
    src =
      at % 4 === 0
        ? new Int32Array(page.buffer, at, nonNull * wpv)
        : new Int32Array(copyBytes(page, p, p + bytes).buffer);
  }
  const out: Int32Array = b.floats ? new Int32Array(b.floats.buffer) : b.words!;
  if (pageValidity === null) {
    out.set(src, row * wpv);
  } else if (wpv === 2) {
    // Copy lo/hi words separately: moving int64 bit patterns through doubles could alter NaN bits.
    let k = 0;
    for (let i = 0; i < n; i++) {
      if (pageValidity[i]) {
        out[2 * (row + i)] = src[k++]!;
        out[2 * (row + i) + 1] = src[k++]!;
      }
    }
  } else {
    let k = 0;
    for (let i = 0; i < n; i++) if (pageValidity[i]) out[row + i] = src[k++]!;
  }
}

function scatter8(dense: Uint8Array, validity: Uint8Array, out: Uint8Array, row: number): void {
  let k = 0;
  for (let i = 0; i < validity.length; i++) out[row + i] = validity[i] ? dense[k++]! : 0;
}

function growData(b: ChunkBuilder, need: number): Uint8Array {
  let data = b.data!;
  if (b.dataLength + need > data.length) {
    let cap = data.length * 2;
    while (cap < b.dataLength + need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(data.subarray(0, b.dataLength));
    b.data = data = next;
  }
  return data;
}

function decodeUtf8(
  b: ChunkBuilder,
  dictionary: DictionaryValues | null,
  page: Uint8Array,
  p: number,
  isDict: boolean,
  row: number,
  n: number,
  nonNull: number,
  pageValidity: Uint8Array | null,
): void {
  const offsets = b.offsets!;
  let q = b.dataLength;
  if (isDict) {
    const idx = readIndices(page, p, nonNull, dictionary!.size);
    const dOff = dictionary!.offsets!;
    const dData = dictionary!.data!;
    let need = 0;
    for (let i = 0; i < nonNull; i++) need += dOff[idx[i]! + 1]! - dOff[idx[i]!]!;
    const data = growData(b, need);
    let k = 0;
    for (let i = 0; i < n; i++) {
      if (pageValidity === null || pageValidity[i]) {
        const j = idx[k++]!;
        const s = dOff[j]!;
        const e = dOff[j + 1]!;
        for (let x = s; x < e; x++) data[q++] = dData[x]!;
      }
      offsets[row + i + 1] = q;
    }
  } else {
    // PLAIN: at most the page's bytes minus one 4-byte length per value.
    const data = growData(b, Math.max(0, page.length - p - 4 * nonNull));
    let r = p;
    const end = page.length;
    for (let i = 0; i < n; i++) {
      if (pageValidity === null || pageValidity[i]) {
        if (r + 4 > end) throw new EncodingError('string values past end of page');
        const len = page[r]! | (page[r + 1]! << 8) | (page[r + 2]! << 16) | (page[r + 3]! << 24);
        r += 4;
        if (len < 0 || r + len > end) throw new EncodingError('string value past end of page');
        // Short strings: a byte loop beats creating a subarray for `set`.
        if (len < 32) for (let x = 0; x < len; x++) data[q++] = page[r + x]!;
        else {
          data.set(page.subarray(r, r + len), q);
          q += len;
        }
        r += len;
      }
      offsets[row + i + 1] = q;
    }
  }
  b.dataLength = q;
}

// ---------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------

function emptyChunk(kind: ColumnKind): DecodedChunk {
  let values: ChunkValues;
  switch (kind) {
    case 'timestamp':
    case 'int64':
      values = { kind, words: new Int32Array(0) };
      break;
    case 'float64':
      values = { kind, values: new Float64Array(0) };
      break;
    case 'int32':
      values = { kind, values: new Int32Array(0) };
      break;
    case 'bool':
      values = { kind, values: new Uint8Array(0) };
      break;
    case 'utf8':
      values = { kind, offsets: new Int32Array(1), data: new Uint8Array(0) };
      break;
    case 'dict':
      values = { kind, indices: new Int32Array(0), dictionary: dictionaryFromStrings([]) };
      break;
  }
  return { rows: 0, validity: null, nullCount: 0, values };
}

/** Decoded chunk → our `Column` (INT64 words become exact doubles). */
function toColumn(c: DecodedChunk): Column {
  const v = c.values;
  const validity = c.validity;
  switch (v.kind) {
    case 'timestamp':
    case 'int64': {
      const w = v.words;
      const out = new Float64Array(c.rows);
      for (let i = 0; i < c.rows; i++) out[i] = (w[2 * i]! >>> 0) + w[2 * i + 1]! * TWO_32;
      return { kind: v.kind, values: out, validity };
    }
    case 'float64':
    case 'int32':
    case 'bool':
      return { kind: v.kind, values: v.values, validity } as Column;
    case 'utf8':
      return { kind: 'utf8', offsets: v.offsets, data: v.data, validity };
    case 'dict':
      return { kind: 'dict', indices: v.indices, dictionary: v.dictionary.strings ?? [], validity };
  }
}

const utf8Type = new arrow.Utf8();

function arrowType(kind: ColumnKind): arrow.DataType {
  switch (kind) {
    case 'timestamp':
      return new arrow.TimestampMicrosecond('UTC');
    case 'int64':
      return new arrow.Int64();
    case 'float64':
      return new arrow.Float64();
    case 'int32':
      return new arrow.Int32();
    case 'bool':
      return new arrow.Bool();
    case 'utf8':
      return new arrow.Utf8();
    case 'dict':
      return new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
  }
}

/** Pack 0/1 bytes into an LSB-first bitmap (Arrow validity / booleans). */
function packBitmap(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  const out = new Uint8Array(((n + 63) >>> 6) << 3); // padded to 8 bytes
  for (let i = 0; i < n; i++) out[i >>> 3]! |= bytes[i]! << (i & 7);
  return out;
}

/** Decoded chunk → Arrow Data over the same buffers (no copy for INT64/DOUBLE/INT32/strings). */
function toArrowData(c: DecodedChunk, type: arrow.DataType): arrow.Data {
  const length = c.rows;
  const nullCount = c.nullCount;
  const nullBitmap = c.validity === null ? undefined : packBitmap(c.validity);
  const v = c.values;
  switch (v.kind) {
    case 'timestamp':
      return arrow.makeData({
        type: type as arrow.TimestampMicrosecond,
        length,
        nullCount,
        nullBitmap,
        data: new BigInt64Array(v.words.buffer, v.words.byteOffset, length),
      });
    case 'int64':
      return arrow.makeData({
        type: type as arrow.Int64,
        length,
        nullCount,
        nullBitmap,
        data: new BigInt64Array(v.words.buffer, v.words.byteOffset, length),
      });
    case 'float64':
      return arrow.makeData({ type: type as arrow.Float64, length, nullCount, nullBitmap, data: v.values });
    case 'int32':
      return arrow.makeData({ type: type as arrow.Int32, length, nullCount, nullBitmap, data: v.values });
    case 'bool':
      return arrow.makeData({
        type: type as arrow.Bool,
        length,
        nullCount,
        nullBitmap,
        data: packBitmap(v.values),
      });
    case 'utf8':
      return arrow.makeData({
        type: type as arrow.Utf8,
        length,
        nullCount,
        nullBitmap,
        valueOffsets: v.offsets,
        data: v.data,
      });
    case 'dict': {
      const d = v.dictionary;
      const dictData = arrow.makeData({
        type: utf8Type,
        length: d.size,
        nullCount: 0,
        valueOffsets: d.offsets ?? new Int32Array(d.size + 1),
        data: d.data ?? new Uint8Array(0),
      });
      return arrow.makeData({
        type: type as arrow.Dictionary<arrow.Utf8, arrow.Int32>,
        length,
        nullCount,
        nullBitmap,
        data: v.indices,
        dictionary: arrow.makeVector(dictData),
      });
    }
  }
}
