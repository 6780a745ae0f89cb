/**
 * `lake.write`: any Arrow table → validated against its dataset schema (registry or given, in a
 * validation mode) → split into hive partitions (`{dataset}/day=D/venue=V/part-0.parquet`) → each
 * partition sorted by the schema's sort key and written through the write protocol (stage → verify →
 * catalog intent → publish → commit), with footer metadata and an optional JSON sidecar.
 *
 * A write replaces the files it names (same partition and file name); the same input gives the same
 * bytes.
 */
import type { Table } from 'apache-arrow';
import type { Catalog, FileRecord } from '../catalog/types.js';
import { takeBatch } from '../columns/ops.js';
import type { Column, ColumnBatch, Field, Schema } from '../columns/types.js';
import type { Codec, TicklakeConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { ParquetReader } from '../parquet/reader.js';
import {
  type DatasetSchema,
  LAYERS,
  type Layer,
  type SchemaDefinition,
  type SchemaRegistry,
} from '../schema/registry.js';
import { inferSchema, type ValidationMode, validateTable } from '../schema/validate.js';
import { dayOfMicros, formatMicros } from '../util/time.js';
import { VERSION } from '../version.js';
import { FOOTER_PREFIX, type LineageInput } from './footer.js';
import { type FooterInput, publishStaged, type StagedFile, stageLakeFile } from './publish.js';
import {
  type ChangelogEntry,
  type Dependency,
  encodeSidecar,
  type QualityValue,
  SIDECAR_FORMAT,
  type SidecarMetadata,
  sidecarFields,
  sidecarPath,
} from './sidecar.js';
import type { PendingObject, Storage } from './storage.js';

export const CODECS: readonly Codec[] = ['zstd', 'snappy', 'gzip', 'none'];
/** Partition value of rows whose partition column is null (Hive's convention). */
export const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

export interface WriteMetadata {
  quality?: Record<string, QualityValue>;
  /** Inputs with checksums (vendor URLs or lake paths). */
  inputs?: LineageInput[];
  /** Parameters of the computation that produced the table. */
  parameters?: Record<string, unknown>;
  dependencies?: Dependency[];
  changelog?: ChangelogEntry[];
  /** True when the rows are generated (tests, demos), not real data. */
  generated?: boolean;
}

export interface WriteRequest {
  /** Dataset name: a built-in one (`trades`, `ohlcv`, ...) or your own (lower-case, `_`). */
  dataset: string;
  table: Table;
  /** Your schema: registered under `dataset` (a changed schema becomes the next version). */
  schema?: Schema | Omit<SchemaDefinition, 'name'>;
  /** STRICT (default), COERCE or IGNORE. */
  mode?: ValidationMode;
  /** Default: `ingest.compression` from the config (zstd). */
  compression?: Codec;
  /**
   * Hive partitions, outermost first: `day` / `month` (from the schema's timestamp column) or column
   * names (strings, integers, booleans). Default `['day']` when the schema has a timestamp column.
   */
  partition?: readonly string[];
  /** File name inside each partition, without `.parquet` (default `part-0`). */
  name?: string;
  /** Write `<name>.metadata.json` next to each file (default false). */
  sidecar?: boolean;
  metadata?: WriteMetadata;
  /** Instrument key recorded for every file (default: the file's single `instrument_key` value). */
  key?: string;
  rowGroupRows?: number;
}

export interface WrittenFile {
  record: FileRecord;
  partition: Record<string, string>;
  sidecar: string | null;
}

export interface WriteResult {
  dataset: string;
  version: number;
  layer: Layer;
  mode: ValidationMode;
  rows: number;
  bytes: number;
  files: WrittenFile[];
  warnings: string[];
}

export interface WriteContext {
  storage: Storage;
  catalog: Catalog;
  config: TicklakeConfig;
  schemas: SchemaRegistry;
}

const SAFE_VALUE = /^[A-Za-z0-9_.:~-]+$/;

/** Hive folder value: safe characters as they are, others percent-encoded. */
export function encodePartitionValue(v: string): string {
  if (v.length > 0 && SAFE_VALUE.test(v)) return v;
  return Array.from(new TextEncoder().encode(v), (b) => {
    const c = String.fromCharCode(b);
    return b < 128 && /[A-Za-z0-9_.:~-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

export function decodePartitionValue(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/**
 * A user dataset this process has not registered: take its schema from the footer of its newest-version
 * file in the catalog (written by `lake.write`), so versions and validation carry across processes.
 */
export async function restoreSchemaFromLake(
  ctx: Pick<WriteContext, 'storage' | 'catalog' | 'schemas'>,
  dataset: string,
): Promise<void> {
  const name = dataset.toLowerCase();
  if (ctx.schemas.has(name)) return;
  const files = await ctx.catalog.listFiles({ dataset: name });
  if (files.length === 0) return;
  const newest = files.reduce((a, b) => (b.schemaVersion > a.schemaVersion ? b : a));
  const src = await ctx.storage.openRead(newest.path);
  try {
    const kv = (await ParquetReader.open(src, newest.path)).metadata.keyValueMetadata;
    const fields = JSON.parse(kv[`${FOOTER_PREFIX}schema`] ?? 'null') as
      | { name: string; type: Field['kind']; nullable: boolean; description?: string }[]
      | null;
    if (!Array.isArray(fields) || fields.length === 0) return;
    const layer = kv[`${FOOTER_PREFIX}layer`] as Layer | undefined;
    const sorted = (kv[`${FOOTER_PREFIX}sorted_by`] ?? '').split(',').filter((x) => x.length > 0);
    ctx.schemas.restore(
      {
        name,
        fields: fields.map((f) => ({
          name: f.name,
          kind: f.type,
          nullable: f.nullable,
          ...(f.description ? { description: f.description } : {}),
        })),
        ...(layer && LAYERS.includes(layer) ? { layer } : {}),
        sortKey: sorted,
      },
      newest.schemaVersion,
    );
  } catch {
    // A file that cannot be read is reported by reads; here the table's own schema is used instead.
  } finally {
    await src.close();
  }
}

function resolveSchema(ctx: WriteContext, req: WriteRequest): DatasetSchema {
  const name = req.dataset.toLowerCase();
  if (req.schema) {
    const def = req.schema as Omit<SchemaDefinition, 'name'>;
    return ctx.schemas.register({ ...def, name });
  }
  const known = ctx.schemas.find(name);
  if (known) return known;
  return ctx.schemas.register({ name, fields: inferSchema(req.table, name).fields });
}

/** Per-row partition codes for one partition spec; `values[code]` is the folder value. */
function partitionCodes(
  spec: string,
  batch: ColumnBatch,
  schema: DatasetSchema,
): { codes: Int32Array; values: string[] } {
  const n = batch.length;
  const codes = new Int32Array(n);
  const values: string[] = [];
  const lookup = new Map<string | number, number>();
  const code = (k: string | number, label: () => string): number => {
    let c = lookup.get(k);
    if (c === undefined) {
      c = values.length;
      values.push(label());
      lookup.set(k, c);
    }
    return c;
  };
  if (spec === 'day' || spec === 'month') {
    const tsName = schema.timestampColumn;
    const col = tsName ? batch.columns[tsName] : undefined;
    if (col?.kind !== 'timestamp') {
      throw new UsageError(
        tsName
          ? `${schema.name}: cannot partition by ${spec}: the table has no timestamp column "${tsName}"`
          : `${schema.name}: cannot partition by ${spec}: the schema has no timestamp column`,
        {
          hint: 'partition by a column instead (partition: [...], or [] for none), or add a timestamp column',
        },
      );
    }
    for (let i = 0; i < n; i++) {
      if (col.validity !== null && col.validity[i] === 0) {
        codes[i] = code('null', () => NULL_PARTITION);
        continue;
      }
      const dayNo = Math.floor(col.values[i]! / 86_400_000_000);
      codes[i] = code(dayNo, () => {
        const d = dayOfMicros(dayNo * 86_400_000_000);
        return spec === 'day' ? d : d.slice(0, 7);
      });
    }
    if (spec === 'month') {
      // Several days map to one month: merge codes by label.
      const byLabel = new Map<string, number>();
      const merged: string[] = [];
      const remap = values.map((v) => {
        let c = byLabel.get(v);
        if (c === undefined) {
          c = merged.length;
          merged.push(v);
          byLabel.set(v, c);
        }
        return c;
      });
      for (let i = 0; i < n; i++) codes[i] = remap[codes[i]!]!;
      return { codes, values: merged };
    }
    return { codes, values };
  }
  const col: Column | undefined = batch.columns[spec];
  if (!col) {
    throw new UsageError(`${schema.name}: cannot partition by "${spec}": no such column`, {
      hint: `partition by day, month or one of: ${Object.keys(batch.columns).join(', ')}`,
    });
  }
  const isNull = (i: number) => col.validity !== null && col.validity[i] === 0;
  switch (col.kind) {
    case 'dict':
      for (let i = 0; i < n; i++) {
        codes[i] = isNull(i)
          ? code('\u0000null', () => NULL_PARTITION)
          : code(col.dictionary[col.indices[i]!]!, () => col.dictionary[col.indices[i]!]!);
      }
      break;
    case 'utf8': {
      const dec = new TextDecoder();
      for (let i = 0; i < n; i++) {
        if (isNull(i)) codes[i] = code('\u0000null', () => NULL_PARTITION);
        else {
          const s = dec.decode(col.data.subarray(col.offsets[i]!, col.offsets[i + 1]!));
          codes[i] = code(s, () => s);
        }
      }
      break;
    }
    case 'int32':
    case 'int64':
    case 'bool':
      for (let i = 0; i < n; i++) {
        const v = col.values[i]!;
        codes[i] = isNull(i)
          ? code('\u0000null', () => NULL_PARTITION)
          : code(v, () => (col.kind === 'bool' ? (v ? 'true' : 'false') : String(v)));
      }
      break;
    default:
      throw new UsageError(
        `${schema.name}: cannot partition by "${spec}": ${col.kind} columns make too many folders`,
        {
          hint: 'partition by day/month, or by a string, integer or boolean column',
        },
      );
  }
  return { codes, values };
}

/** Row indices of each partition, in first-seen order. */
function splitPartitions(
  batch: ColumnBatch,
  specs: readonly string[],
  schema: DatasetSchema,
): { values: Record<string, string>; rows: Int32Array | null }[] {
  if (specs.length === 0) return [{ values: {}, rows: null }];
  const parts = specs.map((s) => partitionCodes(s, batch, schema));
  const n = batch.length;
  const group = new Int32Array(n);
  const ids = new Map<number, number>();
  const firstRow: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (const p of parts) k = k * p.values.length + p.codes[i]!;
    let g = ids.get(k);
    if (g === undefined) {
      g = firstRow.length;
      ids.set(k, g);
      firstRow.push(i);
      counts.push(0);
    }
    group[i] = g;
    counts[g]!++;
  }
  const rows = counts.map((c) => new Int32Array(c));
  const fill = new Int32Array(counts.length);
  for (let i = 0; i < n; i++) {
    const g = group[i]!;
    rows[g]![fill[g]!++] = i;
  }
  return firstRow.map((r, g) => ({
    values: Object.fromEntries(specs.map((s, j) => [s, parts[j]!.values[parts[j]!.codes[r]!]!])),
    rows: counts.length === 1 ? null : rows[g]!,
  }));
}

/** Stable order of `batch` by `keys` (ascending, nulls last); null when already in order. */
function sortOrder(batch: ColumnBatch, keys: readonly string[]): Int32Array | null {
  const cols = keys.map((k) => batch.columns[k]).filter((c): c is Column => c !== undefined);
  if (cols.length === 0 || batch.length < 2) return null;
  const only = cols[0]!;
  if (cols.length === 1 && only.kind !== 'dict' && only.kind !== 'utf8') {
    // One numeric key (the common `timestamp` case): a typed-array pass, nulls last.
    const v = only.values;
    const valid = only.validity;
    const key = (i: number) => (valid !== null && valid[i] === 0 ? Number.POSITIVE_INFINITY : v[i]!);
    let inOrder = true;
    for (let i = 1; i < batch.length; i++) {
      if (key(i) < key(i - 1)) {
        inOrder = false;
        break;
      }
    }
    if (inOrder) return null;
    const idx = Array.from({ length: batch.length }, (_, i) => i);
    idx.sort((a, b) => key(a) - key(b) || a - b);
    return Int32Array.from(idx);
  }
  const rank = cols.map((c): ((i: number) => number | string) | null => {
    const nul = (i: number) => c.validity !== null && c.validity[i] === 0;
    switch (c.kind) {
      case 'dict':
        return (i) => (nul(i) ? '\uffff' : c.dictionary[c.indices[i]!]!);
      case 'utf8': {
        const dec = new TextDecoder();
        return (i) => (nul(i) ? '\uffff' : dec.decode(c.data.subarray(c.offsets[i]!, c.offsets[i + 1]!)));
      }
      default:
        return (i) => (nul(i) ? Number.POSITIVE_INFINITY : c.values[i]!);
    }
  });
  const cmp = (a: number, b: number): number => {
    for (const r of rank) {
      const x = r!(a);
      const y = r!(b);
      if (x < y) return -1;
      if (x > y) return 1;
    }
    return a - b;
  };
  let sorted = true;
  for (let i = 1; i < batch.length && sorted; i++) if (cmp(i - 1, i) > 0) sorted = false;
  if (sorted) return null;
  const idx = Array.from({ length: batch.length }, (_, i) => i);
  idx.sort(cmp);
  return Int32Array.from(idx);
}

/** The file's single instrument key, if its `instrument_key` column holds exactly one value. */
function singleKey(batch: ColumnBatch): string | null {
  const c = batch.columns.instrument_key;
  if (c?.kind !== 'dict' || batch.length === 0) return null;
  let first = -1;
  for (let i = 0; i < c.indices.length; i++) {
    if (c.validity !== null && c.validity[i] === 0) return null;
    const v = c.indices[i]!;
    if (first < 0) first = v;
    else if (v !== first && c.dictionary[v] !== c.dictionary[first]) return null;
  }
  return c.dictionary[first] ?? null;
}

function timeBounds(batch: ColumnBatch, tsName: string | null): { min: number; max: number } | null {
  const c = tsName ? batch.columns[tsName] : undefined;
  if (c?.kind !== 'timestamp') return null;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < c.values.length; i++) {
    if (c.validity !== null && c.validity[i] === 0) continue;
    const v = c.values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return Number.isFinite(min) ? { min, max } : null;
}

export async function writeDataset(ctx: WriteContext, req: WriteRequest): Promise<WriteResult> {
  if (!req.table || typeof (req.table as Table).numRows !== 'number' || !(req.table as Table).schema) {
    throw new UsageError(`${req.dataset}: table must be an Apache Arrow Table`);
  }
  const mode: ValidationMode = req.mode ?? 'STRICT';
  if (!['STRICT', 'COERCE', 'IGNORE'].includes(mode)) {
    throw new UsageError(`unknown validation mode "${mode}"`, { hint: 'modes: STRICT, COERCE, IGNORE' });
  }
  const codec: Codec = req.compression ?? ctx.config.ingest.compression;
  if (!CODECS.includes(codec)) {
    throw new UsageError(`unknown compression "${codec}"`, { hint: `codecs: ${CODECS.join(', ')}` });
  }
  const fileName = req.name ?? 'part-0';
  if (!/^[A-Za-z0-9_.-]+$/.test(fileName) || fileName.startsWith('.')) {
    throw new UsageError(`file name "${fileName}" is not valid`, { hint: 'use letters, digits, _ . -' });
  }
  await restoreSchemaFromLake(ctx, req.dataset);
  const schema = resolveSchema(ctx, req);
  const {
    batch,
    schema: written,
    warnings,
  } = validateTable(req.table, schema, { dataset: schema.name, mode });
  const writtenFields: Field[] = written.fields.map((f) => {
    const d = schema.fields.find((s) => s.name === f.name)?.description;
    return d ? { ...f, description: d } : f;
  });
  const specs = req.partition ?? (schema.timestampColumn ? ['day'] : []);
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s)) throw new UsageError(`partition "${s}" is listed twice`);
    seen.add(s);
  }
  const result: WriteResult = {
    dataset: schema.name,
    version: schema.version,
    layer: schema.layer,
    mode,
    rows: 0,
    bytes: 0,
    files: [],
    warnings,
  };
  if (batch.length === 0) {
    warnings.push(`${schema.name}: the table has no rows; nothing written`);
    return result;
  }
  const sortKey = schema.sortKey.filter((k) => batch.columns[k] !== undefined);
  const tsName =
    schema.timestampColumn && batch.columns[schema.timestampColumn]?.kind === 'timestamp'
      ? schema.timestampColumn
      : null;
  const meta = req.metadata ?? {};
  const staged: { file: StagedFile; partition: Record<string, string>; sidecar: PendingObject | null }[] = [];
  try {
    for (const part of splitPartitions(batch, specs, schema)) {
      let rows = part.rows === null ? batch : takeBatch(batch, part.rows);
      const order = sortOrder(rows, sortKey);
      if (order) rows = takeBatch(rows, order);
      const folders = specs.map((s) => `${s}=${encodePartitionValue(part.values[s]!)}`);
      const path = [schema.name, ...folders, `${fileName}.parquet`].join('/');
      const key = req.key ?? singleKey(rows);
      const bounds = timeBounds(rows, tsName);
      const day =
        part.values.day && part.values.day !== NULL_PARTITION
          ? part.values.day
          : bounds && dayOfMicros(bounds.min) === dayOfMicros(bounds.max)
            ? dayOfMicros(bounds.min)
            : null;
      const extra: Record<string, string> = {
        layer: schema.layer,
        schema_name: schema.name,
        schema: JSON.stringify(sidecarFields(writtenFields)),
        partition: JSON.stringify(part.values),
        validation_mode: mode,
      };
      if (meta.quality) extra.quality = JSON.stringify(meta.quality);
      if (meta.parameters) extra.parameters = JSON.stringify(meta.parameters);
      if (meta.dependencies) extra.dependencies = JSON.stringify(meta.dependencies);
      if (meta.changelog) extra.changelog = JSON.stringify(meta.changelog);
      const footer: FooterInput = {
        dataset: schema.name,
        dataType: null,
        schemaVersion: schema.version,
        instrumentKey: key,
        day,
        vendor: null,
        vendorExchange: null,
        vendorSymbol: null,
        sourceUrl: null,
        sourceSha256: null,
        sourceBytes: null,
        generated: meta.generated ?? false,
        sortedBy: sortKey,
        lineage: meta.inputs ?? [],
        extra,
      };
      const file = await stageLakeFile([rows], {
        storage: ctx.storage,
        path,
        schema: { fields: writtenFields },
        codec,
        zstdLevel: ctx.config.ingest.zstdLevel,
        rowGroupRows: req.rowGroupRows ?? ctx.config.ingest.rowGroupRows,
        footer,
        timestampColumn: tsName ?? '\u0000none',
        sortingColumns: sortKey,
      });
      const entry: (typeof staged)[number] = { file, partition: part.values, sidecar: null };
      staged.push(entry);
      if (req.sidecar) {
        const side: SidecarMetadata = {
          format: SIDECAR_FORMAT,
          layer: schema.layer,
          dataset: schema.name,
          version: schema.version,
          path,
          key,
          partition: part.values,
          recordCount: file.record.rows,
          fileSize: file.record.bytes,
          checksum: file.record.checksum,
          codec,
          timeRange: bounds ? { min: formatMicros(bounds.min), max: formatMicros(bounds.max) } : null,
          schema: { name: schema.name, version: schema.version, fields: sidecarFields(writtenFields) },
          sortedBy: [...sortKey],
          quality: meta.quality ?? {},
          lineage: { inputs: meta.inputs ?? [], codeVersion: VERSION, parameters: meta.parameters ?? {} },
          dependencies: meta.dependencies ?? [],
          changelog: meta.changelog ?? [],
          generated: meta.generated ?? false,
          warnings,
        };
        const pending = await ctx.storage.begin(sidecarPath(path));
        entry.sidecar = pending;
        await pending.sink.write(encodeSidecar(side));
        await pending.seal();
      }
    }
    for (const s of staged) {
      await publishStaged(ctx.catalog, s.file);
      if (s.sidecar) await s.sidecar.publish();
      else {
        // A sidecar left by an earlier write of this file would describe other bytes.
        const old = sidecarPath(s.file.path);
        if (await ctx.storage.stat(old)) await ctx.storage.delete(old);
      }
    }
    await ctx.catalog.commitFiles(staged.map((s) => s.file.path));
  } catch (err) {
    for (const s of staged) {
      await s.file.pending.abort().catch(() => undefined);
      await s.sidecar?.abort().catch(() => undefined);
    }
    throw err;
  }
  for (const s of staged) {
    result.rows += s.file.record.rows;
    result.bytes += s.file.record.bytes;
    result.files.push({
      record: s.file.record,
      partition: s.partition,
      sidecar: s.sidecar ? sidecarPath(s.file.path) : null,
    });
  }
  return result;
}
