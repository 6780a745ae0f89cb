/**
 * Storage statistics for `ticklake stats`: bytes, rows, files and compression ratio grouped by
 * dataset, venue and/or month. Counts come from the catalog; the ratio (uncompressed ÷ compressed
 * column-chunk bytes) from each file's Parquet footer (one small read per file, skippable).
 */
import type { FileRecord } from '../catalog/types.js';
import { UsageError } from '../errors.js';
import { ParquetReader } from '../parquet/reader.js';
import { dayOfMicros } from '../util/time.js';
import type { Lake } from './lake.js';

export const STATS_GROUPS = ['dataset', 'venue', 'month'] as const;
export type StatsGroup = (typeof STATS_GROUPS)[number];

export interface StatsRow {
  dataset?: string;
  venue?: string;
  month?: string;
  files: number;
  rows: number;
  bytes: number;
  /** Column-chunk bytes before compression (null when footers were not read). */
  uncompressedBytes: number | null;
  /** uncompressedBytes ÷ compressed column-chunk bytes (null when not read or nothing compressed). */
  compressionRatio: number | null;
}

export interface StatsOptions {
  by?: readonly StatsGroup[];
  /** Read footers for the compression ratio (default true). */
  ratio?: boolean;
  dataset?: string;
}

export function parseStatsGroups(v: string): StatsGroup[] {
  const parts = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const p of parts) {
    if (!(STATS_GROUPS as readonly string[]).includes(p)) {
      throw new UsageError(`--by ${p} is not a grouping`, {
        hint: `use ${STATS_GROUPS.join(', ')} (comma-separated)`,
      });
    }
  }
  return parts.length === 0 ? ['dataset'] : (parts as StatsGroup[]);
}

/** `raw_tick_data/trades`, `quarantine/trades`, `ohlcv`, ... */
export function datasetLabel(f: FileRecord): string {
  return f.dataType && f.dataset !== f.dataType ? `${f.dataset}/${f.dataType}` : f.dataset;
}

export function venueOf(f: FileRecord): string {
  if (f.instrumentKey) return f.instrumentKey.split(':')[0]!;
  if (f.vendorExchange) return f.vendorExchange;
  return '-';
}

export function monthOf(f: FileRecord): string {
  if (f.day) return f.day.slice(0, 7);
  if (f.minTs !== null) return dayOfMicros(f.minTs).slice(0, 7);
  return '-';
}

async function footerSizes(lake: Lake, f: FileRecord): Promise<{ raw: number; packed: number }> {
  const src = await lake.storage.openRead(f.path);
  try {
    const reader = await ParquetReader.open(src, f.path);
    let raw = 0;
    let packed = 0;
    for (const rg of reader.fileMetaData.row_groups) {
      for (const c of rg.columns) {
        raw += c.meta_data?.total_uncompressed_size ?? 0;
        packed += c.meta_data?.total_compressed_size ?? 0;
      }
    }
    return { raw, packed };
  } finally {
    await src.close();
  }
}

export async function storageStats(lake: Lake, o: StatsOptions = {}): Promise<StatsRow[]> {
  const by = o.by && o.by.length > 0 ? o.by : (['dataset'] as const);
  const ratio = o.ratio ?? true;
  const files = await lake.catalog.listFiles(o.dataset ? { dataset: o.dataset } : {});
  const groups = new Map<string, StatsRow & { packed: number }>();
  for (const f of files) {
    const key: Partial<Record<StatsGroup, string>> = {};
    for (const g of by) key[g] = g === 'dataset' ? datasetLabel(f) : g === 'venue' ? venueOf(f) : monthOf(f);
    const id = by.map((g) => key[g]).join('\u0000');
    let row = groups.get(id);
    if (!row) {
      row = {
        ...key,
        files: 0,
        rows: 0,
        bytes: 0,
        uncompressedBytes: ratio ? 0 : null,
        compressionRatio: null,
        packed: 0,
      };
      groups.set(id, row);
    }
    row.files++;
    row.rows += f.rows;
    row.bytes += f.bytes;
    if (ratio) {
      const s = await footerSizes(lake, f);
      row.uncompressedBytes! += s.raw;
      row.packed += s.packed;
    }
  }
  const out: StatsRow[] = [];
  for (const { packed, ...row } of groups.values()) {
    row.compressionRatio = ratio && packed > 0 ? row.uncompressedBytes! / packed : null;
    out.push(row);
  }
  out.sort((a, b) => {
    for (const g of by) {
      const x = a[g] ?? '';
      const y = b[g] ?? '';
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
  return out;
}
