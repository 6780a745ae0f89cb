/**
 * `lake.readPartitioned`: read a dataset written by `lake.write` as one Arrow table. Files are chosen
 * from the catalog and pruned by their hive folder values (`day=...`, `venue=...`) before any file is
 * opened; row groups are pruned by column statistics for `where` ranges; then rows are filtered.
 *
 * Filters: a value, a list of values (`[a, b]` or `{ values: [...] }`), or a range `{ from, to }`.
 * Partition ranges include both ends (days are whole units, like `ingest --to`); `where` ranges are
 * `[from, to)` (timestamps take the same bounds as `lake.read`).
 */
import type { Table } from 'apache-arrow';
import type { Catalog, FileRecord } from '../catalog/types.js';
import { batchToArrow } from '../columns/arrow.js';
import { concatBatches, takeBatch } from '../columns/ops.js';
import type { Column, ColumnBatch, Field } from '../columns/types.js';
import { CorruptedFileError, UsageError } from '../errors.js';
import { ParquetReader } from '../parquet/reader.js';
import type { SchemaRegistry } from '../schema/registry.js';
import { parseTimeBound } from '../util/time.js';
import type { Storage } from './storage.js';
import { decodePartitionValue, restoreSchemaFromLake } from './write.js';

type Scalar = string | number | boolean;
export type Filter =
  | Scalar
  | readonly Scalar[]
  | { values: readonly Scalar[] }
  | { from?: Scalar; to?: Scalar };

export interface ReadPartitionedRequest {
  dataset: string;
  /** Conditions on partition folders (`day`, `month`, or partition columns). */
  filters?: Record<string, Filter>;
  /** Columns to return (default: all the files have). */
  columns?: readonly string[];
  /** Conditions on row values (row groups skipped by statistics first). */
  where?: Record<string, Filter>;
}

export interface ReadPartitionedContext {
  storage: Storage;
  catalog: Catalog;
  schemas: SchemaRegistry;
}

interface Cond {
  kind: 'set' | 'range';
  set?: Set<string>;
  from?: Scalar;
  to?: Scalar;
}

function condOf(name: string, f: Filter): Cond {
  if (Array.isArray(f)) return { kind: 'set', set: new Set(f.map(String)) };
  if (typeof f === 'object' && f !== null) {
    if ('values' in f) return { kind: 'set', set: new Set((f as { values: Scalar[] }).values.map(String)) };
    const r = f as { from?: Scalar; to?: Scalar };
    if (r.from === undefined && r.to === undefined) {
      throw new UsageError(`filter on "${name}" has neither a value nor from/to`, {
        hint: 'use a value, a list of values, { values: [...] } or { from, to }',
      });
    }
    return { kind: 'range', from: r.from, to: r.to };
  }
  return { kind: 'set', set: new Set([String(f)]) };
}

function cmpText(a: string, b: Scalar): number {
  const bn = typeof b === 'number' ? b : Number(b);
  const an = Number(a);
  if (a.trim() !== '' && String(b).trim() !== '' && Number.isFinite(an) && Number.isFinite(bn))
    return an - bn;
  const bs = String(b);
  return a < bs ? -1 : a > bs ? 1 : 0;
}

/** Does a folder value satisfy a partition condition (range inclusive on both ends)? */
function folderMatches(v: string, c: Cond): boolean {
  if (c.kind === 'set') return c.set!.has(v);
  if (c.from !== undefined && cmpText(v, c.from) < 0) return false;
  if (c.to !== undefined && cmpText(v, c.to) > 0) return false;
  return true;
}

/** `{dataset}/a=1/b=x/part-0.parquet` → `{a: '1', b: 'x'}`. */
export function partitionValuesOf(path: string, dataset: string): Record<string, string> | null {
  const prefix = `${dataset}/`;
  if (!path.startsWith(prefix)) return null;
  const segs = path.slice(prefix.length).split('/');
  segs.pop();
  const out: Record<string, string> = {};
  for (const s of segs) {
    const eq = s.indexOf('=');
    if (eq <= 0) return null;
    out[s.slice(0, eq)] = decodePartitionValue(s.slice(eq + 1));
  }
  return out;
}

/** A numeric bound for a column of `kind` (times as µs, like `lake.read`). */
function bound(kind: Column['kind'], v: Scalar, name: string): number | string {
  if (kind === 'timestamp') return parseTimeBound(typeof v === 'boolean' ? String(v) : v, name);
  if (kind === 'utf8' || kind === 'dict') return String(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`where "${name}": "${v}" is not a number`);
  return n;
}

/** Keep the rows of `batch` that satisfy every `where` condition. */
function filterRows(batch: ColumnBatch, where: [string, Cond][], fields: Field[]): ColumnBatch {
  if (where.length === 0) return batch;
  const keep = new Uint8Array(batch.length).fill(1);
  const dec = new TextDecoder();
  for (const [name, c] of where) {
    const col = batch.columns[name]!;
    const kind = fields.find((f) => f.name === name)!.kind;
    const present = (i: number) => col.validity === null || col.validity[i] === 1;
    if (col.kind === 'dict' || col.kind === 'utf8') {
      const test = (s: string) =>
        c.kind === 'set'
          ? c.set!.has(s)
          : (c.from === undefined || s >= String(c.from)) && (c.to === undefined || s < String(c.to));
      if (col.kind === 'dict') {
        const ok = col.dictionary.map(test);
        for (let i = 0; i < batch.length; i++) if (!present(i) || !ok[col.indices[i]!]) keep[i] = 0;
      } else {
        for (let i = 0; i < batch.length; i++) {
          if (!keep[i]) continue;
          if (!present(i) || !test(dec.decode(col.data.subarray(col.offsets[i]!, col.offsets[i + 1]!))))
            keep[i] = 0;
        }
      }
      continue;
    }
    const values = col.values;
    if (c.kind === 'set') {
      const set = new Set(
        [...c.set!].map((s) => bound(kind, s === 'true' ? 1 : s === 'false' ? 0 : s, name) as number),
      );
      for (let i = 0; i < batch.length; i++) if (!present(i) || !set.has(values[i]!)) keep[i] = 0;
    } else {
      const lo = c.from === undefined ? Number.NEGATIVE_INFINITY : (bound(kind, c.from, name) as number);
      const hi = c.to === undefined ? Number.POSITIVE_INFINITY : (bound(kind, c.to, name) as number);
      for (let i = 0; i < batch.length; i++) {
        const v = values[i]!;
        if (!present(i) || v < lo || v >= hi) keep[i] = 0;
      }
    }
  }
  let n = 0;
  for (let i = 0; i < keep.length; i++) n += keep[i]!;
  if (n === batch.length) return batch;
  const idx = new Int32Array(n);
  let p = 0;
  for (let i = 0; i < keep.length; i++) if (keep[i]) idx[p++] = i;
  return takeBatch(batch, idx);
}

/** Row groups whose statistics may hold rows satisfying the numeric `where` ranges. */
function rowGroupsFor(reader: ParquetReader, where: [string, Cond][], fields: Field[]): number[] {
  const out: number[] = [];
  reader.metadata.rowGroups.forEach((rg, i) => {
    for (const [name, c] of where) {
      const kind = fields.find((f) => f.name === name)!.kind;
      if (c.kind !== 'range' || kind === 'utf8' || kind === 'dict' || kind === 'bool') continue;
      const st = rg.columns[name];
      if (!st || typeof st.min !== 'number' || typeof st.max !== 'number') continue;
      const lo = c.from === undefined ? Number.NEGATIVE_INFINITY : (bound(kind, c.from, name) as number);
      const hi = c.to === undefined ? Number.POSITIVE_INFINITY : (bound(kind, c.to, name) as number);
      if (st.max < lo || st.min >= hi) return;
    }
    out.push(i);
  });
  return out;
}

export async function readPartitioned(
  ctx: ReadPartitionedContext,
  req: ReadPartitionedRequest,
): Promise<Table> {
  const dataset = req.dataset.toLowerCase();
  const filters = Object.entries(req.filters ?? {}).map(([k, f]) => [k, condOf(k, f)] as [string, Cond]);
  const where = Object.entries(req.where ?? {}).map(([k, f]) => [k, condOf(k, f)] as [string, Cond]);
  const dayCond = filters.find(([k]) => k === 'day')?.[1];
  const listed = await ctx.catalog.listFiles({
    dataset,
    ...(dayCond?.kind === 'range' && typeof dayCond.from === 'string' ? { fromDay: dayCond.from } : {}),
    ...(dayCond?.kind === 'range' && typeof dayCond.to === 'string' ? { toDay: dayCond.to } : {}),
  });
  const files: FileRecord[] = [];
  let partitionNames: string[] | null = null;
  for (const f of listed) {
    const values = partitionValuesOf(f.path, dataset);
    if (values === null) continue;
    partitionNames ??= Object.keys(values);
    if (filters.every(([k, c]) => values[k] !== undefined && folderMatches(values[k]!, c))) files.push(f);
  }
  if (partitionNames !== null) {
    for (const [k] of filters) {
      if (!partitionNames.includes(k)) {
        throw new UsageError(`"${k}" is not a partition of dataset ${dataset}`, {
          hint:
            partitionNames.length > 0
              ? `partitions: ${partitionNames.join(', ')}; filter row values with where`
              : 'the dataset is not partitioned; filter row values with where',
        });
      }
    }
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: ColumnBatch[] = [];
  let outFields: Field[] | null = null;
  for (const f of files) {
    const src = await ctx.storage.openRead(f.path);
    try {
      if (src.size !== f.bytes) {
        throw new CorruptedFileError(f.path, `file has ${src.size} bytes, the catalog recorded ${f.bytes}`, {
          hint: 'the file was changed or truncated after it was written; write it again',
        });
      }
      const reader = await ParquetReader.open(src, f.path);
      const fileFields = reader.metadata.fields;
      const wanted = req.columns ? [...req.columns] : fileFields.map((x) => x.name);
      for (const c of [...wanted, ...where.map(([k]) => k)]) {
        if (!fileFields.some((x) => x.name === c)) {
          throw new UsageError(`${dataset}: no column "${c}" in ${f.path}`, {
            hint: `columns: ${fileFields.map((x) => x.name).join(', ')}`,
          });
        }
      }
      const readCols = [...new Set([...wanted, ...where.map(([k]) => k)])];
      outFields ??= wanted.map((n) => fileFields.find((x) => x.name === n)!);
      const rowGroups = rowGroupsFor(reader, where, fileFields);
      if (rowGroups.length === 0) continue;
      const batch = filterRows(await reader.readBatch({ columns: readCols, rowGroups }), where, fileFields);
      for (const of of outFields) {
        const k = batch.columns[of.name]?.kind;
        if (k !== of.kind) {
          throw new UsageError(
            `${dataset}: column "${of.name}" is ${k} in ${f.path} but ${of.kind} in other files`,
            {
              hint: 'the files were written with different schema versions; read them separately (filter by partition)',
            },
          );
        }
      }
      const columns: Record<string, Column> = {};
      for (const n of wanted) columns[n] = batch.columns[n]!;
      parts.push({ length: batch.length, columns });
    } finally {
      await src.close();
    }
  }
  if (outFields === null) {
    await restoreSchemaFromLake(ctx, dataset);
    const s = ctx.schemas.find(dataset);
    const all = s ? [...s.fields] : [];
    outFields = req.columns ? all.filter((x) => req.columns!.includes(x.name)) : all;
    return batchToArrow(emptyOf(outFields), { fields: outFields });
  }
  const merged =
    parts.length === 0 ? emptyOf(outFields) : parts.length === 1 ? parts[0]! : concatBatches(parts);
  return batchToArrow(merged, { fields: outFields });
}

function emptyOf(fields: readonly Field[]): ColumnBatch {
  const columns: Record<string, Column> = {};
  for (const f of fields) {
    columns[f.name] =
      f.kind === 'utf8'
        ? { kind: 'utf8', offsets: new Int32Array(1), data: new Uint8Array(0), validity: null }
        : f.kind === 'dict'
          ? { kind: 'dict', indices: new Int32Array(0), dictionary: [], validity: null }
          : f.kind === 'int32'
            ? { kind: 'int32', values: new Int32Array(0), validity: null }
            : f.kind === 'bool'
              ? { kind: 'bool', values: new Uint8Array(0), validity: null }
              : ({ kind: f.kind, values: new Float64Array(0), validity: null } as Column);
  }
  return { length: 0, columns };
}
