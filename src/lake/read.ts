/**
 * Reads of lake files into Apache Arrow Tables: raw ticks of one or many instruments, a time range
 * `[from, to)` across day files, merged in timestamp order. Row groups outside the range are skipped
 * using the footer statistics and only the requested columns' bytes are fetched (`ReadStats` counts
 * them). Decoded column chunks go through the byte-bounded read cache (cache.ts) when the lake has one,
 * keyed by path + catalog checksum.
 *
 * `readLakeFiles` is the dataset-neutral core (catalog records + schema → Table) that other datasets
 * (candles, book snapshots, features, instrument lists) reuse.
 */
import {
  type Data,
  makeData,
  RecordBatch,
  Field as ArrowField,
  Schema as ArrowSchema,
  Struct,
  Table,
} from 'apache-arrow';
import type { Catalog, FileRecord } from '../catalog/types.js';
import { arrowToBatch, batchToArrow, int64ToFloat64 } from '../columns/arrow.js';
import { concatBatches, lowerBound, takeBatch } from '../columns/ops.js';
import type { ColumnBatch, Schema } from '../columns/types.js';
import { UnknownDataTypeError, UsageError } from '../errors.js';
import { parseInstrumentKey } from '../keys/key.js';
import { ParquetReader } from '../parquet/reader.js';
import { CANONICAL_SCHEMAS, DATA_TYPES, type DataType, isDataType } from '../schema/datasets.js';
import { addDays, dayOfMicros, parseTimeBound } from '../util/time.js';
import { arrowDataBytes, type ReadCache } from './cache.js';
import { RAW_TICK_DATA } from './layout.js';
import { resolveVersions } from './snapshots.js';
import { cleanedFiles } from '../cleaning/files.js';
import type { RandomAccessSource, Storage } from './storage.js';

export type TimeLike = string | number | Date;

/** What a read cost: filled in when passed as `ReadRequest.stats`. */
export interface ReadStats {
  /** Bytes fetched from storage (footers + column chunks); 0 when everything came from the cache. */
  bytesRead: number;
  /** Row groups decoded from storage. */
  rowGroupsRead: number;
  /** Row groups skipped by their timestamp statistics. */
  rowGroupsSkipped: number;
  /** Row groups (all requested columns) served from the cache. */
  rowGroupsCached: number;
  /** Files opened on storage. */
  filesOpened: number;
  /** Catalog records considered (after the catalog's day / time filter). */
  files: number;
}

export function newReadStats(): ReadStats {
  return {
    bytesRead: 0,
    rowGroupsRead: 0,
    rowGroupsSkipped: 0,
    rowGroupsCached: 0,
    filesOpened: 0,
    files: 0,
  };
}

export interface ReadRequest {
  /** A raw tick data type: `trades`, `quotes`, `book_snapshot_5`, ... */
  dataset: string;
  /** One instrument key. */
  key?: string;
  /** Several instrument keys: rows of all of them merged in timestamp order (ties: keys in this order). */
  keys?: readonly string[];
  /** Inclusive start: `YYYY-MM-DD` (UTC midnight), ISO time, Date or epoch milliseconds. */
  from: TimeLike;
  /** Exclusive end. */
  to: TimeLike;
  /** Columns to return (default: all). Multi-key reads always include `instrument_key`. */
  columns?: readonly string[];
  /** Filled with what the read cost (bytes, row groups). */
  stats?: ReadStats;
  /** `raw` (default) or `cleaned` (src/cleaning/: rows removed by the cleaning rules). */
  layer?: 'raw' | 'cleaned';
  /** Cleaned layer version: major (`1`, `'v1'`) or the rules' semver (`'1.0.0'`); default the latest held. */
  version?: string | number;
  /** Raw layer: read what the lake held at this time (per day file, the snapshot current then). */
  asOf?: TimeLike;
  /** Raw layer: read this snapshot id of each file (`ticklake snapshots` lists them). */
  snapshot?: string;
}

export interface ReadContext {
  storage: Storage;
  catalog: Catalog;
  /** Decoded-chunk cache; none = always read storage. */
  cache?: ReadCache | null;
}

/** The keys of a request (`key` and/or `keys`), validated; at least one. */
export function requestKeys(req: { key?: string; keys?: readonly string[] }): string[] {
  const keys = [...(req.key !== undefined ? [req.key] : []), ...(req.keys ?? [])];
  if (keys.length === 0) {
    throw new UsageError('a read needs an instrument key', {
      hint: 'pass key: "VENUE:TYPE:SYMBOL" or keys: [...]',
    });
  }
  for (const k of keys) parseInstrumentKey(k);
  return [...new Set(keys)];
}

/** Requested columns checked against `schema` (default: all), in request order. */
export function resolveColumns(
  schema: Schema,
  columns: readonly string[] | undefined,
  what: string,
): string[] {
  const known = new Set(schema.fields.map((f) => f.name));
  const wanted = columns ? [...columns] : schema.fields.map((f) => f.name);
  for (const c of wanted) {
    if (!known.has(c)) {
      throw new UsageError(`unknown column "${c}" for ${what}`, {
        hint: `columns: ${[...known].join(', ')}`,
      });
    }
  }
  return wanted;
}

export async function readTicks(ctx: ReadContext, req: ReadRequest): Promise<Table> {
  if (!isDataType(req.dataset)) throw new UnknownDataTypeError(req.dataset, DATA_TYPES);
  const dataType: DataType = req.dataset;
  const keys = requestKeys(req);
  const schema = CANONICAL_SCHEMAS[dataType];
  let wanted = resolveColumns(schema, req.columns, dataType);
  const multi = keys.length > 1;
  if (multi && !wanted.includes('instrument_key')) wanted = [...wanted, 'instrument_key'];
  const fromUs = parseTimeBound(req.from, 'from');
  const toUs = parseTimeBound(req.to, 'to');
  const stats = req.stats ?? newReadStats();
  if (toUs <= fromUs) return emptyTable(schema, wanted);
  const fileLists = await Promise.all(keys.map((key) => selectTickFiles(ctx, dataType, key, fromUs, toUs, req)));
  if (!multi) return readLakeFiles(ctx, fileLists[0]!, schema, wanted, fromUs, toUs, stats);
  const tables: Table[] = [];
  for (const files of fileLists)
    tables.push(await readLakeFiles(ctx, files, schema, wanted, fromUs, toUs, stats));
  return mergeTables(tables, schema, wanted);
}

/**
 * The files a read uses: raw (latest, or the versions of `asOf` / `snapshot`: src/lake/snapshots.ts)
 * or cleaned (src/cleaning/clean.ts), filtered to those that may hold rows of `[fromUs, toUs)`.
 */
async function selectTickFiles(
  ctx: ReadContext,
  dataType: DataType,
  key: string,
  fromUs: number,
  toUs: number,
  req: ReadRequest,
): Promise<FileRecord[]> {
  const inRange = (f: FileRecord) =>
    f.rows > 0 && f.minTs !== null && f.maxTs !== null && f.maxTs >= fromUs && f.minTs < toUs;
  if (req.layer !== undefined && req.layer !== 'raw') {
    return (await cleanedFiles(ctx, dataType, key, fromUs, toUs, req)).filter(inRange);
  }
  if (req.version !== undefined) {
    throw new UsageError('version applies to the cleaned layer', { hint: "pass layer: 'cleaned'" });
  }
  if (req.asOf === undefined && req.snapshot === undefined) return rawTickFiles(ctx.catalog, dataType, key, fromUs, toUs);
  // Versions may cover other times than the live file: select first, then filter by time.
  const live = await ctx.catalog.listFiles({
    dataset: RAW_TICK_DATA,
    dataType,
    instrumentKey: key,
    fromDay: addDays(dayOfMicros(fromUs), -1),
    toDay: addDays(dayOfMicros(toUs - 1), 1),
  });
  const asOf = req.asOf === undefined ? undefined : Math.floor(parseTimeBound(req.asOf, 'asOf') / 1000);
  return (await resolveVersions(ctx, live, { asOf, snapshot: req.snapshot })).filter(inRange);
}

/** Catalog records of one instrument's raw tick files that may hold rows of `[fromUs, toUs)`. */
export async function rawTickFiles(
  catalog: Catalog,
  dataType: string,
  key: string,
  fromUs: number,
  toUs: number,
): Promise<FileRecord[]> {
  const files = await catalog.listFiles({
    dataset: RAW_TICK_DATA,
    dataType,
    instrumentKey: key,
    // Day files can hold a few rows just across midnight; look one day either side.
    fromDay: addDays(dayOfMicros(fromUs), -1),
    toDay: addDays(dayOfMicros(toUs - 1), 1),
  });
  return files.filter(
    (f) => f.rows > 0 && f.minTs !== null && f.maxTs !== null && f.maxTs >= fromUs && f.minTs < toUs,
  );
}

/**
 * Rows of `[fromUs, toUs)` of `files` (all with `schema`), columns `wanted`, in timestamp order
 * (stable: file order, then row order). Files in time order that do not overlap are concatenated
 * without copying; otherwise the sorted runs are merged.
 */
export async function readLakeFiles(
  ctx: ReadContext,
  files: readonly FileRecord[],
  schema: Schema,
  wanted: readonly string[],
  fromUs: number,
  toUs: number,
  stats: ReadStats = newReadStats(),
): Promise<Table> {
  const readCols = wanted.includes('timestamp') ? [...wanted] : ['timestamp', ...wanted];
  stats.files += files.length;
  const pieces: Piece[] = [];
  for (const f of files) {
    const piece = await readFileRange(ctx, f, schema, readCols, fromUs, toUs, stats);
    if (piece) pieces.push(piece);
  }
  let fast = pieces.every((p) => p.sorted);
  for (let i = 1; fast && i < pieces.length; i++) if (pieces[i]!.first < pieces[i - 1]!.last) fast = false;
  let table: Table;
  if (pieces.length === 0) return emptyTable(schema, wanted);
  if (fast) table = pieces.length === 1 ? pieces[0]!.table : concatTables(pieces.map((p) => p.table));
  else
    table = mergeTables(
      pieces.map((p) => p.table),
      schema,
      readCols,
    );
  return wanted.length === readCols.length ? table : table.select([...wanted]);
}

/**
 * Concatenate tables with the same columns (zero copy). Each file's dictionary columns carry their own
 * Arrow dictionary id, so batches are re-labelled with the first table's field types.
 */
export function concatTables(tables: readonly Table[]): Table {
  const schema = tables[0]!.schema;
  const batches: RecordBatch[] = [];
  for (const t of tables) {
    for (const b of t.batches) {
      const children = schema.fields.map((f) => {
        const child = b.getChild(f.name)!.data[0]! as Data;
        return child.type === f.type ? child : child.clone(f.type);
      });
      const struct = makeData({ type: new Struct(schema.fields), length: b.numRows, nullCount: 0, children });
      batches.push(new RecordBatch(schema, struct));
    }
  }
  return new Table(schema, batches);
}

/** An empty table with the columns `wanted` of `schema`. */
export function emptyTable(schema: Schema, wanted: readonly string[]): Table {
  const outSchema: Schema = { fields: wanted.map((n) => schema.fields.find((f) => f.name === n)!) };
  return batchToArrow(emptyBatch(outSchema), outSchema);
}

function emptyBatch(schema: Schema): ColumnBatch {
  const columns: ColumnBatch['columns'] = {};
  for (const f of schema.fields) {
    const c =
      f.kind === 'utf8'
        ? { kind: 'utf8' as const, offsets: new Int32Array(1), data: new Uint8Array(0), validity: null }
        : f.kind === 'dict'
          ? { kind: 'dict' as const, indices: new Int32Array(0), dictionary: [], validity: null }
          : f.kind === 'int32'
            ? { kind: 'int32' as const, values: new Int32Array(0), validity: null }
            : f.kind === 'bool'
              ? { kind: 'bool' as const, values: new Uint8Array(0), validity: null }
              : { kind: f.kind, values: new Float64Array(0), validity: null };
    (columns as Record<string, unknown>)[f.name] = c;
  }
  return { length: 0, columns };
}

// ---------------------------------------------------------------------------------------------
// One file: footer summary, row-group selection, cached column chunks
// ---------------------------------------------------------------------------------------------

interface Piece {
  table: Table;
  first: number;
  last: number;
  /** Timestamps non-decreasing (false for files sorted by another key, e.g. options_chain). */
  sorted: boolean;
}

/** What a read needs from a footer: per row group its row count and timestamp range. */
interface FileSummary {
  rows: Int32Array;
  min: Float64Array;
  max: Float64Array;
}

/** Timestamps of one row group as doubles, and whether they are sorted. */
interface RowGroupTimes {
  ts: Float64Array;
  sorted: boolean;
}

class FileSession {
  private source: RandomAccessSource | null = null;
  private reader: ParquetReader | null = null;
  private counted = 0;
  constructor(
    private readonly storage: Storage,
    private readonly path: string,
    private readonly stats: ReadStats,
  ) {}
  async open(): Promise<ParquetReader> {
    if (this.reader) return this.reader;
    this.source = await this.storage.openRead(this.path);
    this.stats.filesOpened++;
    try {
      this.reader = await ParquetReader.open(this.source, this.path);
    } catch (err) {
      await this.close();
      throw err;
    }
    this.sync();
    return this.reader;
  }
  sync(): void {
    if (!this.reader) return;
    this.stats.bytesRead += this.reader.bytesRead - this.counted;
    this.counted = this.reader.bytesRead;
  }
  async close(): Promise<void> {
    this.sync();
    const s = this.source;
    this.source = null;
    if (s) await s.close();
  }
}

function summarize(reader: ParquetReader): FileSummary {
  const n = reader.metadata.rowGroups.length;
  const out: FileSummary = { rows: new Int32Array(n), min: new Float64Array(n), max: new Float64Array(n) };
  reader.metadata.rowGroups.forEach((rg, i) => {
    const st = rg.columns.timestamp;
    out.rows[i] = rg.numRows;
    out.min[i] = typeof st?.min === 'number' ? st.min : Number.NEGATIVE_INFINITY;
    out.max[i] = typeof st?.max === 'number' ? st.max : Number.POSITIVE_INFINITY;
  });
  return out;
}

async function readFileRange(
  ctx: ReadContext,
  f: FileRecord,
  schema: Schema,
  cols: readonly string[],
  fromUs: number,
  toUs: number,
  stats: ReadStats,
): Promise<Piece | null> {
  const cache = ctx.cache ?? null;
  const ck = f.checksum;
  cache?.validate(f.path, ck);
  const session = new FileSession(ctx.storage, f.path, stats);
  try {
    let summary = cache?.get<FileSummary>(f.path, ck, 'summary');
    if (!summary) {
      summary = summarize(await session.open());
      cache?.set(f.path, ck, 'summary', summary, 64 + summary.rows.length * 20);
    }
    const rgs: number[] = [];
    for (let i = 0; i < summary.rows.length; i++) {
      if (summary.max[i]! >= fromUs && summary.min[i]! < toUs && summary.rows[i]! > 0) rgs.push(i);
    }
    stats.rowGroupsSkipped += summary.rows.length - rgs.length;
    if (rgs.length === 0) return null;

    // Column chunks per row group: from the cache, else one read of every missing chunk.
    const chunks: (Data | undefined)[][] = rgs.map((rg) =>
      cols.map((c) => cache?.get<Data>(f.path, ck, `${rg}:${c}`)),
    );
    const missingRgs: number[] = [];
    const missingCols = new Set<string>();
    chunks.forEach((row, k) => {
      let miss = false;
      row.forEach((d, c) => {
        if (!d) {
          miss = true;
          missingCols.add(cols[c]!);
        }
      });
      if (miss) missingRgs.push(k);
      else stats.rowGroupsCached++;
    });
    if (missingRgs.length > 0) {
      const reader = await session.open();
      const names = cols.filter((c) => missingCols.has(c));
      const t = await reader.readArrow({ columns: names, rowGroups: missingRgs.map((k) => rgs[k]!) });
      session.sync();
      stats.rowGroupsRead += missingRgs.length;
      missingRgs.forEach((k, b) => {
        const batch = t.batches[b]!;
        for (const name of names) {
          const d = batch.getChild(name)!.data[0]! as Data;
          const c = cols.indexOf(name);
          chunks[k]![c] = d;
          cache?.set(f.path, ck, `${rgs[k]}:${name}`, d, arrowDataBytes(d));
        }
      });
    }
    const tsIdx = cols.indexOf('timestamp');
    const times: RowGroupTimes[] = rgs.map((rg, k) => {
      const hit = cache?.get<RowGroupTimes>(f.path, ck, `${rg}:#ts`);
      if (hit) return hit;
      const d = chunks[k]![tsIdx]!;
      const ts = int64ToFloat64(d.values as BigInt64Array);
      let sorted = true;
      for (let i = 1; i < ts.length; i++) {
        if (ts[i]! < ts[i - 1]!) {
          sorted = false;
          break;
        }
      }
      const v = { ts, sorted };
      cache?.set(f.path, ck, `${rg}:#ts`, v, ts.byteLength + 16);
      return v;
    });
    return buildPiece(schema, cols, chunks, times, fromUs, toUs);
  } finally {
    await session.close();
  }
}

/** Row groups (already decoded) → the rows of `[fromUs, toUs)` as one Table. */
function buildPiece(
  schema: Schema,
  cols: readonly string[],
  chunks: Data[][] | (Data | undefined)[][],
  times: RowGroupTimes[],
  fromUs: number,
  toUs: number,
): Piece | null {
  const fields = cols.map((c, i) => {
    const f = schema.fields.find((x) => x.name === c)!;
    return new ArrowField(c, (chunks[0]![i] as Data).type, f.nullable);
  });
  const arrowSchema = new ArrowSchema(fields);
  const sorted = times.every((t) => t.sorted);
  const batches: RecordBatch[] = [];
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < times.length; k++) {
    const { ts } = times[k]!;
    const children = (chunks[k] as Data[]).map((d, i) =>
      d.type === fields[i]!.type ? d : d.clone(fields[i]!.type),
    );
    let rb = new RecordBatch(
      arrowSchema,
      makeData({ type: new Struct(fields), length: ts.length, nullCount: 0, children }),
    );
    if (sorted) {
      const start = lowerBound(ts, fromUs);
      const end = lowerBound(ts, toUs);
      if (start >= end) continue;
      if (start > 0 || end < ts.length) rb = rb.slice(start, end);
      first = Math.min(first, ts[start]!);
      last = Math.max(last, ts[end - 1]!);
      batches.push(rb);
    } else {
      // Not in time order (options_chain files are sorted by instrument, then time): filter by mask.
      const idx: number[] = [];
      for (let i = 0; i < ts.length; i++) {
        const t = ts[i]!;
        if (t >= fromUs && t < toUs) {
          idx.push(i);
          if (t < first) first = t;
          if (t > last) last = t;
        }
      }
      if (idx.length === 0) continue;
      const tSchema: Schema = { fields: cols.map((c) => schema.fields.find((x) => x.name === c)!) };
      const b = takeBatch(arrowToBatch(new Table(arrowSchema, [rb]), tSchema), idx);
      batches.push(...batchToArrow(b, tSchema).batches);
    }
  }
  if (batches.length === 0) return null;
  const table = sorted ? new Table(arrowSchema, batches) : concatTables(batches.map((b) => new Table([b])));
  return { table, first, last, sorted };
}

// ---------------------------------------------------------------------------------------------
// Merging several tables in timestamp order
// ---------------------------------------------------------------------------------------------

/**
 * Rows of `tables` in timestamp order. Stable: equal timestamps keep table order, then row order. Each
 * table is split into its non-decreasing runs and the runs are merged pairwise (O(n log runs)).
 */
export function mergeTables(tables: readonly Table[], schema: Schema, cols: readonly string[]): Table {
  const tSchema: Schema = { fields: cols.map((c) => schema.fields.find((x) => x.name === c)!) };
  const nonEmpty = tables.filter((t) => t.numRows > 0);
  if (nonEmpty.length === 0) return emptyTable(schema, cols);
  const withTs = cols.includes('timestamp')
    ? tSchema
    : { fields: [schema.fields.find((f) => f.name === 'timestamp')!, ...tSchema.fields] };
  const parts = nonEmpty.map((t) => arrowToBatch(t, withTs));
  const all = concatBatches(parts);
  const tsCol = all.columns.timestamp;
  if (tsCol?.kind !== 'timestamp') throw new Error('mergeTables: timestamp column missing');
  const order = mergeOrder(tsCol.values);
  const sorted = order === null ? all : takeBatch(all, order);
  return batchToArrow(sorted, tSchema);
}

/** A stable permutation putting `ts` in order, or null when it already is. */
export function mergeOrder(ts: Float64Array): Int32Array | null {
  const n = ts.length;
  const bounds: number[] = [0];
  for (let i = 1; i < n; i++) if (ts[i]! < ts[i - 1]!) bounds.push(i);
  if (bounds.length === 1) return null;
  bounds.push(n);
  let a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  let b = new Int32Array(n);
  let runs = bounds;
  while (runs.length > 2) {
    const next: number[] = [0];
    for (let r = 0; r + 1 < runs.length; r += 2) {
      const lo = runs[r]!;
      const mid = runs[r + 1]!;
      const hi = r + 2 < runs.length ? runs[r + 2]! : mid;
      let i = lo;
      let j = mid;
      let o = lo;
      while (i < mid && j < hi) {
        // `<=` keeps the left run first on ties (stability).
        if (ts[a[i]!]! <= ts[a[j]!]!) b[o++] = a[i++]!;
        else b[o++] = a[j++]!;
      }
      while (i < mid) b[o++] = a[i++]!;
      while (j < hi) b[o++] = a[j++]!;
      next.push(hi);
    }
    const t = a;
    a = b;
    b = t;
    runs = next;
  }
  return a;
}
