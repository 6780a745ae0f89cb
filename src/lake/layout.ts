/**
 * Where things live in the lake (DESIGN.md "Lake layout"): hive-style `key=value` folders, one file
 * per instrument per day per data type, named by the canonical key.
 */
import { fileNameToKey, keyToFileName } from '../keys/key.js';
import type { DataType } from '../schema/datasets.js';
import type { Day } from '../util/time.js';

export const RAW_TICK_DATA = 'raw_tick_data';
export const QUARANTINE = 'quarantine';
export const INSTRUMENT_AVAILABILITY = 'instrument_availability';
export const PROCESSED_CANDLES = 'processed_candles';
export const PROCESSED_BOOK_SNAPSHOTS = 'processed_book_snapshots';
export const FEATURES = 'features';
export const MISSING_DATA_REPORTS = 'missing_data_reports';

/** `instrument_availability/by_date/day=D/instruments.parquet` */
export function instrumentAvailabilityPath(day: Day): string {
  return `${INSTRUMENT_AVAILABILITY}/by_date/day=${day}/instruments.parquet`;
}

/** `processed_candles/by_date/day=D/timeframe=TF/KEY.parquet` */
export function candlesPath(day: Day, timeframe: string, key: string): string {
  return `${PROCESSED_CANDLES}/by_date/day=${day}/timeframe=${timeframe}/${keyToFileName(key)}.parquet`;
}

/** `processed_book_snapshots/by_date/day=D/timeframe=TF/KEY.parquet` */
export function bookSnapshotsPath(day: Day, timeframe: string, key: string): string {
  return `${PROCESSED_BOOK_SNAPSHOTS}/by_date/day=${day}/timeframe=${timeframe}/${keyToFileName(key)}.parquet`;
}

/** `features/{set}/v{N}/by_date/day=D/timeframe=TF/KEY.parquet` */
export function featuresPath(set: string, version: number, day: Day, timeframe: string, key: string): string {
  return `${FEATURES}/${set}/v${version}/by_date/day=${day}/timeframe=${timeframe}/${keyToFileName(key)}.parquet`;
}

/** `missing_data_reports/by_date/day=D/report.parquet` */
export function missingReportPath(day: Day): string {
  return `${MISSING_DATA_REPORTS}/by_date/day=${day}/report.parquet`;
}

/** `raw_tick_data/by_date/day=D/data_type=T/KEY.parquet` */
export function rawTickPath(day: Day, dataType: DataType, key: string): string {
  return `${RAW_TICK_DATA}/by_date/day=${day}/data_type=${dataType}/${keyToFileName(key)}.parquet`;
}

/** Earlier contents of replaced lake files (src/lake/snapshots.ts). */
export const SNAPSHOTS = 'snapshots';
/** The cleaned layer (src/cleaning/): `cleaned/v{major}/by_date/day=D/data_type=T/KEY.parquet`. */
export const CLEANED = 'cleaned';

/**
 * `snapshots/<live path without .parquet>/snapshot=ID.parquet`, e.g.
 * `snapshots/raw_tick_data/by_date/day=D/data_type=T/KEY/snapshot=20240801T120000.123Z.parquet`.
 * A folder of its own (not `raw_tick_data_snapshots`) so no object-store prefix listing of
 * `raw_tick_data` ever sees snapshots.
 */
export function snapshotPath(livePath: string, snapshotId: string): string {
  return `${SNAPSHOTS}/${livePath.replace(/\.parquet$/, '')}/snapshot=${snapshotId}.parquet`;
}

/** `cleaned/v{major}/by_date/day=D/data_type=T/KEY.parquet` */
export function cleanedPath(major: number, day: Day, dataType: DataType, key: string): string {
  return `${CLEANED}/v${major}/by_date/day=${day}/data_type=${dataType}/${keyToFileName(key)}.parquet`;
}

/**
 * Rows of a vendor file that could not be parsed, kept with their line number and reason:
 * `quarantine/by_date/day=D/data_type=T/source=VENDOR.EXCHANGE.SYMBOL.parquet` (named by the vendor
 * file, since a bad row may not have a usable instrument).
 */
export function quarantinePath(
  day: Day,
  dataType: DataType,
  vendor: string,
  exchange: string,
  symbol: string,
): string {
  const safe = `${vendor}.${exchange}.${symbol}`.replace(/[^A-Za-z0-9_.-]/g, '-');
  return `${QUARANTINE}/by_date/day=${day}/data_type=${dataType}/source=${safe}.parquet`;
}

export interface ParsedLakePath {
  dataset: string;
  day: Day | null;
  dataType: string | null;
  instrumentKey: string | null;
}

const DATA_PATH_RE =
  /^([a-z_]+)\/by_date\/day=(\d{4}-\d{2}-\d{2})\/data_type=([A-Za-z0-9_]+)\/([^/]+)\.parquet$/;

/** Parse a lake path written by this module; null for paths it does not know. */
export function parseLakePath(path: string): ParsedLakePath | null {
  const m = DATA_PATH_RE.exec(path);
  if (!m) return null;
  const name = m[4]!;
  let instrumentKey: string | null = null;
  if (!name.startsWith('source=')) {
    try {
      instrumentKey = fileNameToKey(name);
    } catch {
      return null;
    }
  }
  return { dataset: m[1]!, day: m[2]!, dataType: m[3]!, instrumentKey };
}
