/**
 * Where things live in the lake (DESIGN.md "Lake layout"): hive-style `key=value` folders, one file
 * per instrument per day per data type, named by the canonical key.
 */
import { fileNameToKey, keyToFileName } from '../keys/key.js';
import type { DataType } from '../schema/datasets.js';
import type { Day } from '../util/time.js';

export const RAW_TICK_DATA = 'raw_tick_data';
export const QUARANTINE = 'quarantine';

/** `raw_tick_data/by_date/day=D/data_type=T/KEY.parquet` */
export function rawTickPath(day: Day, dataType: DataType, key: string): string {
  return `${RAW_TICK_DATA}/by_date/day=${day}/data_type=${dataType}/${keyToFileName(key)}.parquet`;
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
