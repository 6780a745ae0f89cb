/**
 * `ticklake clean` / `cleanLake`: build the cleaned layer from the raw layer. For each raw day file
 * (selected by day range, keys and data types), apply the named rules (rules.ts) and write the kept
 * rows to `cleaned/v{major}/by_date/day=D/data_type=T/KEY.parquet` through the write protocol
 * (stage → verify → intent → publish → commit).
 *
 * Lineage (footer + catalog): `sourceUrl` = the raw file's lake path, `sourceChecksum` = its sha256,
 * `lineage` = [{ url: raw path, sha256, bytes }], and footer keys `ticklake.cleaning_rules_version`,
 * `ticklake.cleaning_rules` (version + parameters) and `ticklake.cleaning_removed` (JSON: rows each
 * rule removed). Incremental: a raw file whose cleaned file already has that lineage (same raw
 * checksum, same rules signature) is skipped without reading it, unless `force`.
 *
 * Each file is read whole (one day of one instrument), so memory is bounded by the largest day file.
 */
import type { FileRecord } from '../catalog/types.js';
import { takeBatch } from '../columns/ops.js';
import { UsageError } from '../errors.js';
import { decodeFooter } from '../lake/footer.js';
import type { Lake } from '../lake/lake.js';
import { CLEANED, cleanedPath, RAW_TICK_DATA } from '../lake/layout.js';
import { publishStaged, stageLakeFile } from '../lake/publish.js';
import { ParquetReader } from '../parquet/reader.js';
import { CANONICAL_SCHEMAS, type DataType, sortKeyOf } from '../schema/datasets.js';
import { parseDay } from '../util/time.js';
import {
  applyRules,
  CLEANABLE_DATA_TYPES,
  CLEANING_MAJOR,
  CLEANING_RULES_VERSION,
  isCleanable,
  RULE_ORDER,
  type RuleName,
  rulesSignature,
} from './rules.js';

export interface CleanRequest {
  from: string;
  /** Inclusive (default `from`). */
  to?: string;
  keys?: readonly string[];
  dataTypes?: readonly string[];
  /** Rewrite even when the lineage matches. */
  force?: boolean;
  onFile?: (r: CleanFileReport) => void;
}

export interface CleanFileReport {
  rawPath: string;
  cleanedPath: string;
  dataType: string;
  instrumentKey: string;
  day: string;
  /** `written`, or `unchanged` when the cleaned file's lineage already matched. */
  outcome: 'written' | 'unchanged';
  rows: number;
  kept: number;
  removed: Record<RuleName, number>;
}

export interface CleanSummary {
  rulesVersion: string;
  files: CleanFileReport[];
  written: number;
  unchanged: number;
  rows: number;
  kept: number;
  removed: Record<RuleName, number>;
}

function zeroRemoved(): Record<RuleName, number> {
  return { dedupe: 0, non_positive: 0, crossed_quotes: 0, outliers: 0 };
}

async function readWhole(
  lake: Lake,
  path: string,
): Promise<{ reader: ParquetReader; close: () => Promise<void> }> {
  const src = await lake.storage.openRead(path);
  try {
    const reader = await ParquetReader.open(src, path);
    return { reader, close: () => src.close() };
  } catch (err) {
    await src.close();
    throw err;
  }
}

/** The cleaning footer of an existing cleaned file whose lineage matches `raw` and `signature`, else null. */
async function matchingCleaned(
  lake: Lake,
  existing: FileRecord | null,
  raw: FileRecord,
  signature: string,
): Promise<Record<RuleName, number> | null> {
  if (!existing || existing.sourceUrl !== raw.path || existing.sourceChecksum !== raw.checksum) return null;
  const info = await lake.storage.stat(existing.path);
  if (!info || info.size !== existing.bytes) return null;
  const f = await readWhole(lake, existing.path);
  try {
    const footer = decodeFooter(f.reader.metadata.keyValueMetadata);
    if (footer?.extra?.cleaning_rules !== signature) return null;
    return {
      ...zeroRemoved(),
      ...(JSON.parse(footer.extra.cleaning_removed ?? '{}') as Record<RuleName, number>),
    };
  } finally {
    await f.close();
  }
}

export async function cleanLake(lake: Lake, req: CleanRequest): Promise<CleanSummary> {
  const from = parseDay(req.from, '--from');
  const to = parseDay(req.to ?? req.from, '--to');
  if (to < from) throw new UsageError(`--to ${to} is before --from ${from}`);
  const dataTypes =
    req.dataTypes && req.dataTypes.length > 0 ? [...req.dataTypes] : [...CLEANABLE_DATA_TYPES];
  for (const dt of dataTypes) {
    if (!isCleanable(dt)) {
      throw new UsageError(`data type "${dt}" has no cleaning rules`, {
        hint: `cleanable data types: ${CLEANABLE_DATA_TYPES.join(', ')}`,
      });
    }
  }
  const keys = req.keys && req.keys.length > 0 ? new Set(req.keys) : null;
  const params = {
    outlierMadThreshold: lake.config.quality.outlierMadThreshold,
    outlierWindow: lake.config.quality.outlierWindow,
  };
  const signature = rulesSignature(params);
  await lake.storage.ensureWritable();
  const raws = (await lake.catalog.listFiles({ dataset: RAW_TICK_DATA, fromDay: from, toDay: to })).filter(
    (f) =>
      f.dataType !== null &&
      f.instrumentKey !== null &&
      f.day !== null &&
      dataTypes.includes(f.dataType) &&
      (keys === null || keys.has(f.instrumentKey)),
  );
  const summary: CleanSummary = {
    rulesVersion: CLEANING_RULES_VERSION,
    files: [],
    written: 0,
    unchanged: 0,
    rows: 0,
    kept: 0,
    removed: zeroRemoved(),
  };
  for (const raw of raws) {
    const dataType = raw.dataType as DataType;
    const target = cleanedPath(CLEANING_MAJOR, raw.day!, dataType, raw.instrumentKey!);
    const base = {
      rawPath: raw.path,
      cleanedPath: target,
      dataType,
      instrumentKey: raw.instrumentKey!,
      day: raw.day!,
    };
    let report: CleanFileReport;
    const same = req.force
      ? null
      : await matchingCleaned(lake, await lake.catalog.getFile(target), raw, signature);
    if (same) {
      let removedRows = 0;
      for (const r of RULE_ORDER) removedRows += same[r];
      report = { ...base, outcome: 'unchanged', rows: raw.rows, kept: raw.rows - removedRows, removed: same };
    } else {
      report = await cleanOne(lake, raw, target, signature, params);
    }
    summary.files.push(report);
    if (report.outcome === 'written') summary.written++;
    else summary.unchanged++;
    summary.rows += report.rows;
    summary.kept += report.kept;
    for (const r of RULE_ORDER) summary.removed[r] += report.removed[r];
    req.onFile?.(report);
  }
  return summary;
}

async function cleanOne(
  lake: Lake,
  raw: FileRecord,
  target: string,
  signature: string,
  params: Parameters<typeof applyRules>[2],
): Promise<CleanFileReport> {
  const dataType = raw.dataType as DataType;
  const schema = CANONICAL_SCHEMAS[dataType];
  const f = await readWhole(lake, raw.path);
  let batch: Awaited<ReturnType<ParquetReader['readBatch']>>;
  try {
    batch = await f.reader.readBatch({ columns: schema.fields.map((x) => x.name) });
  } finally {
    await f.close();
  }
  const result = applyRules(batch, dataType, params);
  const idx = new Int32Array(result.kept);
  for (let i = 0, j = 0; i < batch.length; i++) if (result.keep[i]) idx[j++] = i;
  const kept = result.kept === batch.length ? batch : takeBatch(batch, idx);
  const sortedBy =
    raw.instrumentKey && dataType !== 'options_chain' ? ['timestamp'] : [...sortKeyOf(dataType)];
  const staged = await stageLakeFile([kept], {
    storage: lake.storage,
    path: target,
    schema,
    codec: lake.config.ingest.compression,
    zstdLevel: lake.config.ingest.zstdLevel,
    rowGroupRows: lake.config.ingest.rowGroupRows,
    sortingColumns: sortedBy,
    footer: {
      dataset: CLEANED,
      dataType,
      schemaVersion: raw.schemaVersion,
      instrumentKey: raw.instrumentKey,
      day: raw.day,
      vendor: raw.vendor,
      vendorExchange: raw.vendorExchange,
      vendorSymbol: raw.vendorSymbol,
      sourceUrl: raw.path,
      sourceSha256: raw.checksum,
      sourceBytes: raw.bytes,
      generated: raw.generated,
      sortedBy,
      lineage: [{ url: raw.path, sha256: raw.checksum, bytes: raw.bytes }],
      extra: {
        cleaning_rules_version: CLEANING_RULES_VERSION,
        cleaning_rules: signature,
        cleaning_removed: JSON.stringify(result.removed),
      },
    },
  });
  try {
    await publishStaged(lake.catalog, staged);
  } catch (err) {
    await staged.pending.abort().catch(() => {});
    throw err;
  }
  await lake.catalog.commitFiles([target]);
  return {
    rawPath: raw.path,
    cleanedPath: target,
    dataType,
    instrumentKey: raw.instrumentKey!,
    day: raw.day!,
    outcome: 'written',
    rows: batch.length,
    kept: result.kept,
    removed: result.removed,
  };
}
