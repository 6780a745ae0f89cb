/**
 * `ticklake features build`: for each (key, day, timeframe) with candles, read the day's candles with
 * `warmupBars` of history from earlier days, run the feature set, keep the day's rows and publish
 * `features/{set}/v{N}/by_date/day=D/timeframe=TF/KEY.parquet` through the write protocol.
 *
 * Incremental like candles: the footer's `source_sha256` is a fingerprint of the definition hash and
 * the input candle files' checksums; a matching output is skipped. A version whose existing files were
 * written by a different definition is refused (bump the version instead).
 */
import { createHash } from 'node:crypto';
import { derivedFiles } from '../candles/read.js';
import { CANDLE_SCHEMA } from '../candles/schema.js';
import { type Timeframe, timeframeMicros } from '../candles/timeframes.js';
import { arrowToBatch } from '../columns/arrow.js';
import type { ColumnBatch, Float64Column, Schema } from '../columns/types.js';
import { UsageError } from '../errors.js';
import { parseInstrumentKey } from '../keys/key.js';
import { decodeFooter, type LineageInput } from '../lake/footer.js';
import type { Lake } from '../lake/lake.js';
import { FEATURES, featuresPath, PROCESSED_CANDLES } from '../lake/layout.js';
import { publishStaged, stageLakeFile } from '../lake/publish.js';
import { ParquetReader } from '../parquet/reader.js';
import { addDays, type Day, dayStartMicros, daysInclusive, MICROS_PER_DAY, parseDay } from '../util/time.js';
import { type FeatureInput, type FeatureSet, getFeatureSet } from './registry.js';
import './sets.js';

export const FEATURES_SCHEMA_VERSION = 1;
/** Most days of history read for warm-up (24h bars with a long warm-up). */
const MAX_WARMUP_DAYS = 400;

export interface BuildFeaturesRequest {
  set: string;
  /** Default: the highest registered version. */
  version?: number;
  from: Day;
  to: Day;
  keys?: readonly string[];
  exchange?: string;
  timeframes?: readonly Timeframe[];
  force?: boolean;
  onProgress?: (e: { key: string; day: Day; timeframe: Timeframe; status: 'built' | 'skipped' }) => void;
}

export interface BuildFeaturesSummary {
  set: string;
  version: number;
  built: number;
  skipped: number;
  paths: string[];
}

export function featureSchema(set: FeatureSet): Schema {
  return {
    fields: [
      { name: 'timestamp', kind: 'timestamp', nullable: false, description: 'bar start (µs, UTC)' },
      ...set.outputs.map((name) => ({ name, kind: 'float64' as const, nullable: true })),
    ],
  };
}

/** Candle columns of a read as doubles with NaN for nulls. */
function toFeatureInput(batch: ColumnBatch): FeatureInput {
  const columns: Record<string, Float64Array> = {};
  for (const [name, c] of Object.entries(batch.columns)) {
    const col = c as Float64Column;
    const v = Float64Array.from(col.values);
    if (col.validity) for (let i = 0; i < v.length; i++) if (col.validity[i] === 0) v[i] = Number.NaN;
    columns[name] = v;
  }
  return { length: batch.length, columns };
}

/** Features of one set for one (key, day, timeframe). */
export async function buildFeaturesForDay(
  lake: Lake,
  set: FeatureSet,
  args: { key: string; day: Day; timeframe: Timeframe; force?: boolean },
): Promise<{ status: 'built' | 'skipped' | 'empty'; path: string | null }> {
  const { key, day, timeframe } = args;
  const barsPerDay = MICROS_PER_DAY / timeframeMicros(timeframe);
  const warmDays = Math.min(
    MAX_WARMUP_DAYS,
    Math.ceil(set.warmupBars / barsPerDay) + (set.warmupBars > 0 ? 1 : 0),
  );
  const firstDay = addDays(day, -warmDays);
  const req = { dataset: 'candles' as const, key, timeframe, from: firstDay, to: addDays(day, 1) };
  const inputs = await derivedFiles(lake, req, null, firstDay, day);
  if (!inputs.some((f) => f.day === day && f.rows > 0)) return { status: 'empty', path: null };
  const lineage: LineageInput[] = inputs.map((f) => ({ url: f.path, sha256: f.checksum, bytes: f.bytes }));
  const params = `ticklake:features?set=${set.name}&version=${set.version}&definition=${set.definitionHash}&warmup_bars=${set.warmupBars}`;
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ params, inputs: lineage.map((l) => [l.url, l.sha256]) }))
    .digest('hex');
  lineage.push({ url: params, sha256: fingerprint, bytes: 0 });
  const path = featuresPath(set.name, set.version, day, timeframe, key);
  const existing = (
    await lake.catalog.listFiles({ dataset: FEATURES, instrumentKey: key, fromDay: day, toDay: day })
  ).find((f) => f.path === path);
  if (!args.force && existing && existing.sourceChecksum === fingerprint && (await lake.storage.stat(path))) {
    return { status: 'skipped', path: null };
  }

  const table = await lake.read(req);
  const batch = arrowToBatch(table, CANDLE_SCHEMA);
  const input = toFeatureInput(batch);
  const out = set.compute(input);
  const ts = input.columns.timestamp!;
  const start = dayStartMicros(day);
  let lo = 0;
  while (lo < ts.length && ts[lo]! < start) lo++;
  const hi = ts.length;
  const columns: ColumnBatch['columns'] = {
    timestamp: { kind: 'timestamp', values: ts.slice(lo, hi), validity: null },
  };
  for (const name of set.outputs) {
    const v = out[name];
    if (!(v instanceof Float64Array) || v.length !== input.length) {
      throw new UsageError(
        `feature set ${set.name} v${set.version}: output ${name} must be a Float64Array of ${input.length} values`,
      );
    }
    const values = v.slice(lo, hi);
    const validity = new Uint8Array(values.length);
    let nulls = 0;
    for (let i = 0; i < values.length; i++) {
      const ok = Number.isFinite(values[i]!);
      validity[i] = ok ? 1 : 0;
      if (!ok) {
        values[i] = 0;
        nulls++;
      }
    }
    (columns as Record<string, Float64Column>)[name] = {
      kind: 'float64',
      values,
      validity: nulls > 0 ? validity : null,
    };
  }
  const staged = await stageLakeFile([{ length: hi - lo, columns }], {
    storage: lake.storage,
    path,
    schema: featureSchema(set),
    codec: lake.config.ingest.compression,
    zstdLevel: lake.config.ingest.zstdLevel,
    footer: {
      dataset: FEATURES,
      dataType: timeframe,
      schemaVersion: FEATURES_SCHEMA_VERSION,
      instrumentKey: key,
      day,
      vendor: null,
      vendorExchange: inputs[0]?.vendorExchange ?? null,
      vendorSymbol: inputs[0]?.vendorSymbol ?? null,
      sourceUrl: null,
      sourceSha256: fingerprint,
      sourceBytes: null,
      generated: inputs.some((f) => f.generated),
      sortedBy: ['timestamp'],
      lineage,
    },
    sortingColumns: ['timestamp'],
  });
  await publishStaged(lake.catalog, staged);
  await lake.catalog.commitFiles([path]);
  return { status: 'built', path };
}

/** The definition hash recorded by existing files of a set version (null when none exist). */
async function recordedDefinition(lake: Lake, set: FeatureSet): Promise<string | null> {
  const prefix = `${FEATURES}/${set.name}/v${set.version}/`;
  const f = (await lake.catalog.listFiles({ dataset: FEATURES })).find((x) => x.path.startsWith(prefix));
  if (!f) return null;
  const src = await lake.storage.openRead(f.path);
  try {
    const meta = decodeFooter((await ParquetReader.open(src, f.path)).metadata.keyValueMetadata);
    const p = meta?.lineage.find((l) => l.url.startsWith('ticklake:features?'))?.url ?? '';
    return /definition=([0-9a-f]+)/.exec(p)?.[1] ?? null;
  } finally {
    await src.close();
  }
}

export async function buildFeatures(lake: Lake, req: BuildFeaturesRequest): Promise<BuildFeaturesSummary> {
  const set = getFeatureSet(req.set, req.version);
  for (const k of req.keys ?? []) parseInstrumentKey(k);
  const from = parseDay(req.from, '--from');
  const to = parseDay(req.to ?? req.from, '--to');
  daysInclusive(from, to);
  const timeframes = req.timeframes
    ? req.timeframes.filter((t) => set.timeframes.includes(t))
    : set.timeframes;
  if (req.timeframes && timeframes.length === 0) {
    throw new UsageError(`feature set ${set.name} is not built for ${req.timeframes.join(', ')}`, {
      hint: `its timeframes: ${set.timeframes.join(', ')}`,
    });
  }
  const recorded = await recordedDefinition(lake, set);
  if (recorded !== null && recorded !== set.definitionHash) {
    throw new UsageError(
      `feature set ${set.name} v${set.version} in the lake was built from a different definition`,
      {
        hint: `register the changed definition as version ${set.version + 1} (old versions stay readable)`,
      },
    );
  }
  const summary: BuildFeaturesSummary = {
    set: set.name,
    version: set.version,
    built: 0,
    skipped: 0,
    paths: [],
  };
  const candles = await lake.catalog.listFiles({ dataset: PROCESSED_CANDLES, fromDay: from, toDay: to });
  const todo = candles
    .filter(
      (f) =>
        f.instrumentKey !== null &&
        f.day !== null &&
        f.rows > 0 &&
        timeframes.includes(f.dataType as Timeframe) &&
        (!req.keys || req.keys.length === 0 || req.keys.includes(f.instrumentKey)) &&
        (!req.exchange || f.vendorExchange === req.exchange),
    )
    .map((f) => ({ key: f.instrumentKey!, day: f.day!, timeframe: f.dataType as Timeframe }))
    .sort(
      (a, b) =>
        a.key.localeCompare(b.key) || a.day.localeCompare(b.day) || a.timeframe.localeCompare(b.timeframe),
    );
  for (const t of todo) {
    const r = await buildFeaturesForDay(lake, set, { ...t, force: req.force });
    if (r.status === 'empty') continue;
    summary[r.status]++;
    if (r.path) summary.paths.push(r.path);
    req.onProgress?.({ ...t, status: r.status });
  }
  return summary;
}
