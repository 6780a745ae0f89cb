/**
 * `ticklake check quality`: the quality metrics of every raw file in a range (metrics.ts), stored in the
 * catalog per file and checksum. Ingest computes them from the batches it writes (no re-read); this command computes
 * those still missing (or stale: the file changed) and reports every file with its issues, worst first.
 */
import type { FileRecord, QualityRecord } from '../catalog/types.js';
import type { Lake } from '../lake/lake.js';
import { RAW_TICK_DATA } from '../lake/layout.js';
import { ParquetReader } from '../parquet/reader.js';
import { parseDay } from '../util/time.js';
import { issuesOf, MetricsAccumulator, metricColumns, type QualityMetrics } from './metrics.js';

/** What the checks need of a lake (ingest passes its own context). */
export type QualityContext = Pick<Lake, 'storage' | 'catalog' | 'config'>;

export interface QualityRequest {
  from: string;
  to?: string;
  keys?: readonly string[];
  dataTypes?: readonly string[];
}

export interface FileQuality {
  path: string;
  instrumentKey: string;
  dataType: string;
  day: string;
  metrics: QualityMetrics;
  issues: string[];
}

/** Read the columns a file's checks need and compute its metrics. */
export async function computeFileQuality(lake: QualityContext, f: FileRecord): Promise<QualityRecord> {
  const src = await lake.storage.openRead(f.path);
  let metrics: QualityMetrics;
  try {
    const reader = await ParquetReader.open(src, f.path);
    const have = new Set(reader.metadata.fields.map((x) => x.name));
    const columns = metricColumns(f.dataType ?? '').filter((c) => have.has(c));
    // One row group at a time: bounded memory whatever the file's size.
    const acc = new MetricsAccumulator(f.dataType ?? '', f.day, lake.config.quality);
    for (let g = 0; g < reader.metadata.rowGroups.length; g++) {
      acc.push(await reader.readBatch({ columns, rowGroups: [g] }));
    }
    metrics = acc.finish();
  } finally {
    await src.close();
  }
  return {
    path: f.path,
    checksum: f.checksum,
    dataType: f.dataType,
    instrumentKey: f.instrumentKey,
    day: f.day,
    metrics,
    computedAt: Date.now(),
  };
}

/** Metrics of every raw file in the range (computed where missing or stale), worst first. */
export async function checkQuality(lake: Lake, req: QualityRequest): Promise<FileQuality[]> {
  const from = parseDay(req.from, '--from');
  const to = parseDay(req.to ?? req.from, '--to');
  const keys = req.keys?.length ? new Set(req.keys) : null;
  const types = req.dataTypes?.length ? new Set(req.dataTypes) : null;
  const files = (await lake.catalog.listFiles({ dataset: RAW_TICK_DATA, fromDay: from, toDay: to })).filter(
    (f) =>
      f.instrumentKey !== null &&
      f.dataType !== null &&
      (!keys || keys.has(f.instrumentKey)) &&
      (!types || types.has(f.dataType)),
  );
  const known = new Map(
    (await lake.catalog.listQualityMetrics({ fromDay: from, toDay: to })).map((r) => [r.path, r]),
  );
  const fresh: QualityRecord[] = [];
  const out: FileQuality[] = [];
  for (const f of files) {
    let rec = known.get(f.path);
    if (!rec || rec.checksum !== f.checksum) {
      rec = await computeFileQuality(lake, f);
      fresh.push(rec);
    }
    out.push({
      path: f.path,
      instrumentKey: f.instrumentKey!,
      dataType: f.dataType!,
      day: f.day!,
      metrics: { ...rec.metrics },
      issues: issuesOf(rec.metrics, lake.config.quality),
    });
  }
  await lake.catalog.putQualityMetrics(fresh);
  return out.sort(
    (a, b) =>
      b.issues.length - a.issues.length ||
      a.instrumentKey.localeCompare(b.instrumentKey) ||
      a.dataType.localeCompare(b.dataType) ||
      a.day.localeCompare(b.day),
  );
}
