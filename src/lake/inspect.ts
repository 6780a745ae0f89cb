/**
 * What `ticklake inspect` shows about a lake file: footer key-value metadata, schema (with the
 * registry's column descriptions), row groups, column statistics, the catalog record and the JSON
 * sidecar. A target is a file path (absolute, relative to the working directory or to the lake), an
 * instrument key, or a dataset name; keys and datasets are looked up in the catalog.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { FileRecord } from '../catalog/types.js';
import { NotFoundError } from '../errors.js';
import { ParquetReader } from '../parquet/reader.js';
import { formatMicros } from '../util/time.js';
import { FOOTER_PREFIX } from './footer.js';
import type { Lake } from './lake.js';
import { LocalStorage } from './local-storage.js';
import { readSidecar, type SidecarMetadata } from './sidecar.js';
import type { Storage } from './storage.js';

export interface InspectColumn {
  name: string;
  type: string;
  nullable: boolean;
  description: string | null;
  min: number | string | null;
  max: number | string | null;
  nulls: number;
}

export interface InspectRowGroup {
  rows: number;
  compressedBytes: number;
  uncompressedBytes: number;
}

export interface InspectReport {
  /** Lake path when the file is in the lake, else the file's absolute path. */
  path: string;
  bytes: number;
  rows: number;
  codec: string | null;
  createdBy: string | null;
  /** `ticklake.*` footer keys without the prefix; JSON values are parsed. */
  metadata: Record<string, unknown>;
  /** Other footer keys, as they are. */
  otherMetadata: Record<string, string>;
  columns: InspectColumn[];
  rowGroups: InspectRowGroup[];
  catalog: FileRecord | null;
  sidecar: SidecarMetadata | null;
}

export interface InspectOptions {
  day?: string;
  dataType?: string;
  cwd?: string;
}

function parseValue(v: string): unknown {
  if (/^[[{]/.test(v)) {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }
  return v;
}

async function inspectOne(
  lake: Lake,
  storage: Storage,
  rel: string,
  shownPath: string,
  record: FileRecord | null,
): Promise<InspectReport> {
  const src = await storage.openRead(rel);
  let reader: ParquetReader;
  try {
    reader = await ParquetReader.open(src, shownPath);
  } catch (err) {
    await src.close();
    throw err;
  }
  try {
    const md = reader.metadata;
    const metadata: Record<string, unknown> = {};
    const otherMetadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(md.keyValueMetadata)) {
      if (k.startsWith(FOOTER_PREFIX)) metadata[k.slice(FOOTER_PREFIX.length)] = parseValue(v);
      else otherMetadata[k] = v;
    }
    const schemaName = String(metadata.schema_name ?? metadata.data_type ?? metadata.dataset ?? '');
    const described = lake.schemas.find(schemaName)?.fields ?? [];
    const columns: InspectColumn[] = md.fields.map((f) => {
      let min: number | string | null = null;
      let max: number | string | null = null;
      let nulls = 0;
      for (const rg of md.rowGroups) {
        const c = rg.columns[f.name];
        if (!c) continue;
        nulls += c.nullCount;
        if (c.min !== null && (min === null || c.min < min)) min = c.min;
        if (c.max !== null && (max === null || c.max > max)) max = c.max;
      }
      if (f.kind === 'timestamp') {
        min = typeof min === 'number' ? formatMicros(min) : min;
        max = typeof max === 'number' ? formatMicros(max) : max;
      }
      return {
        name: f.name,
        type: f.kind,
        nullable: f.nullable,
        description: described.find((d) => d.name === f.name)?.description ?? null,
        min,
        max,
        nulls,
      };
    });
    const rowGroups = reader.fileMetaData.row_groups.map((rg) => {
      let compressed = 0;
      let uncompressed = 0;
      for (const c of rg.columns) {
        compressed += c.meta_data?.total_compressed_size ?? 0;
        uncompressed += c.meta_data?.total_uncompressed_size ?? 0;
      }
      return { rows: rg.num_rows, compressedBytes: compressed, uncompressedBytes: uncompressed };
    });
    return {
      path: shownPath,
      bytes: src.size,
      rows: md.numRows,
      codec: md.codec ?? null,
      createdBy: md.createdBy ?? null,
      metadata,
      otherMetadata,
      columns,
      rowGroups,
      catalog: record,
      sidecar: await readSidecar(storage, rel).catch(() => null),
    };
  } finally {
    await reader.close();
  }
}

/** Inspect every file `target` names (a path, an instrument key or a dataset). */
export async function inspectTarget(
  lake: Lake,
  target: string,
  o: InspectOptions = {},
): Promise<InspectReport[]> {
  const abs = resolve(o.cwd ?? process.cwd(), target);
  const lakeRoot = resolve(lake.config.lake);
  if (existsSync(abs) && statSync(abs).isFile()) {
    const inLake = abs.startsWith(`${lakeRoot}/`) ? abs.slice(lakeRoot.length + 1) : null;
    if (inLake !== null) {
      return [await inspectOne(lake, lake.storage, inLake, inLake, await lake.catalog.getFile(inLake))];
    }
    return [await inspectOne(lake, new LocalStorage(dirname(abs)), basename(abs), abs, null)];
  }
  if (target.endsWith('.parquet') && (await lake.storage.stat(target))) {
    return [await inspectOne(lake, lake.storage, target, target, await lake.catalog.getFile(target))];
  }
  const range = o.day ? { fromDay: o.day, toDay: o.day } : {};
  let records = await lake.catalog.listFiles({
    instrumentKey: target,
    ...(o.dataType ? { dataType: o.dataType } : {}),
    ...range,
  });
  if (records.length === 0 && /^[A-Za-z][A-Za-z0-9_]*$/.test(target)) {
    records = await lake.catalog.listFiles({ dataset: target.toLowerCase(), ...range });
  }
  if (records.length === 0) {
    throw new NotFoundError(`no file, instrument key or dataset matches "${target}"`, {
      hint: 'give a Parquet file path, an instrument key (with --day / --data-type) or a dataset name; `ticklake ls --files` lists files',
    });
  }
  const out: InspectReport[] = [];
  for (const r of records) out.push(await inspectOne(lake, lake.storage, r.path, r.path, r));
  return out;
}
