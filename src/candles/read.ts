/**
 * Reads of derived datasets (candles, book snapshots, features): one instrument, one timeframe,
 * `[from, to)` across day files, as one Arrow Table in timestamp order. `lake.read` dispatches here
 * for `dataset: 'candles' | 'book_snapshots' | 'features'`.
 */
import { Table, tableFromArrays, Utf8, vectorFromArray } from 'apache-arrow';
import type { Catalog, FileRecord } from '../catalog/types.js';
import { batchToArrow, int64ToFloat64 } from '../columns/arrow.js';
import type { ColumnBatch, Schema } from '../columns/types.js';
import { NotFoundError, UsageError } from '../errors.js';
import { parseInstrumentKey } from '../keys/key.js';
import { FEATURES, PROCESSED_BOOK_SNAPSHOTS, PROCESSED_CANDLES } from '../lake/layout.js';
import type { Storage } from '../lake/storage.js';
import { ParquetReader } from '../parquet/reader.js';
import { dayOfMicros, parseTimeBound } from '../util/time.js';
import { CANDLE_SCHEMA } from './schema.js';
import { isTimeframe, TIMEFRAMES, type Timeframe } from './timeframes.js';

export const DERIVED_DATASETS = ['candles', 'book_snapshots', 'features'] as const;
export type DerivedDataset = (typeof DERIVED_DATASETS)[number];

export function isDerivedDataset(s: string): s is DerivedDataset {
  return (DERIVED_DATASETS as readonly string[]).includes(s);
}

export interface DerivedReadRequest {
  dataset: DerivedDataset;
  /** One instrument key (or use `keys`). */
  key?: string;
  /**
   * Several instruments: one table with an `instrument_key` column, rows grouped by key in the order
   * given, each key's rows in timestamp order.
   */
  keys?: readonly string[];
  timeframe: Timeframe | string;
  /** Inclusive start: `YYYY-MM-DD` (UTC midnight), ISO time, Date or epoch milliseconds. */
  from: string | number | Date;
  /** Exclusive end. */
  to: string | number | Date;
  columns?: readonly string[];
  /** Feature set name (features only). */
  set?: string;
  /** Feature set version (features only; default: the latest in the lake). */
  version?: number;
}

export interface DerivedReadContext {
  storage: Storage;
  catalog: Catalog;
}

const FOLDER: Record<DerivedDataset, string> = {
  candles: PROCESSED_CANDLES,
  book_snapshots: PROCESSED_BOOK_SNAPSHOTS,
  features: FEATURES,
};

/** The lake path prefix of one timeframe's files: the part before `by_date/`. */
function prefixOf(req: DerivedReadRequest, version: number | null): string {
  if (req.dataset === 'features') return `${FEATURES}/${req.set}/v${version}/`;
  return `${FOLDER[req.dataset]}/`;
}

/** Versions of a feature set present in the lake (ascending). */
export async function featureVersionsInLake(catalog: Catalog, set: string): Promise<number[]> {
  const files = await catalog.listFiles({ dataset: FEATURES });
  const re = new RegExp(`^${FEATURES}/${set.replace(/[^A-Za-z0-9_-]/g, '')}/v(\\d+)/`);
  const out = new Set<number>();
  for (const f of files) {
    const m = re.exec(f.path);
    if (m) out.add(Number(m[1]));
  }
  return [...out].sort((a, b) => a - b);
}

/** Files of one derived dataset/key/timeframe whose day lies in the inclusive range, by day. */
export async function derivedFiles(
  ctx: DerivedReadContext,
  req: DerivedReadRequest,
  version: number | null,
  fromDay: string,
  toDay: string,
): Promise<FileRecord[]> {
  const prefix = prefixOf(req, version);
  const files = await ctx.catalog.listFiles({
    dataset: FOLDER[req.dataset],
    instrumentKey: req.key,
    fromDay,
    toDay,
  });
  return files
    .filter((f) => f.path.startsWith(prefix) && f.path.includes(`/timeframe=${req.timeframe}/`))
    .sort((a, b) => (a.day ?? '').localeCompare(b.day ?? ''));
}

export async function readDerived(ctx: DerivedReadContext, req: DerivedReadRequest): Promise<Table> {
  if (req.keys !== undefined && req.keys.length > 0) {
    const keys = [...new Set([...(req.key ? [req.key] : []), ...req.keys])];
    let out: Table | null = null;
    for (const key of keys) {
      const t = await readDerived(ctx, { ...req, key, keys: undefined });
      const col = new Table({ instrument_key: vectorFromArray(new Array<string>(t.numRows).fill(key), new Utf8()) });
      const withKey = t.numRows === 0 && t.numCols === 0 ? col : t.assign(col);
      out = out === null ? withKey : out.concat(withKey);
    }
    return out!;
  }
  if (req.key === undefined) {
    throw new UsageError(`${req.dataset}: no instrument key given`, { hint: 'pass key: "VENUE:TYPE:SYMBOL" or keys: [...]' });
  }
  parseInstrumentKey(req.key);
  if (typeof req.timeframe !== 'string' || !isTimeframe(req.timeframe)) {
    throw new UsageError(
      `${req.dataset}: timeframe "${String(req.timeframe)}" is not one of ${TIMEFRAMES.join(', ')}`,
      {
        hint: "pass timeframe: '1m' (or another of the list)",
      },
    );
  }
  let version: number | null = null;
  if (req.dataset === 'features') {
    if (!req.set)
      throw new UsageError('features: no feature set given', {
        hint: "pass set: 'momentum' (see `ticklake features ls`)",
      });
    const versions = await featureVersionsInLake(ctx.catalog, req.set);
    if (req.version !== undefined) {
      if (!versions.includes(req.version)) {
        throw new NotFoundError(`feature set ${req.set} v${req.version} is not in the lake`, {
          hint:
            versions.length > 0
              ? `versions present: ${versions.map((v) => `v${v}`).join(', ')}`
              : `build it: ticklake features build --set ${req.set} --from D --to D`,
        });
      }
      version = req.version;
    } else {
      version = versions.length > 0 ? versions[versions.length - 1]! : 1;
    }
  }
  const fromUs = parseTimeBound(req.from, 'from');
  const toUs = parseTimeBound(req.to, 'to');
  const files =
    toUs > fromUs
      ? (await derivedFiles(ctx, req, version, dayOfMicros(fromUs), dayOfMicros(toUs - 1))).filter(
          (f) => f.rows > 0,
        )
      : [];
  const tables: Table[] = [];
  for (const f of files) {
    const src = await ctx.storage.openRead(f.path);
    try {
      const reader = await ParquetReader.open(src, f.path);
      const names = reader.metadata.fields.map((x) => x.name);
      const wanted = req.columns ? [...req.columns] : names;
      for (const c of wanted) {
        if (!names.includes(c)) {
          throw new UsageError(`unknown column "${c}" for ${req.dataset}`, {
            hint: `columns: ${names.join(', ')}`,
          });
        }
      }
      const cols = wanted.includes('timestamp') ? wanted : ['timestamp', ...wanted];
      let t = await reader.readArrow({ columns: cols });
      const ts = timestampsOf(t);
      const start = lowerBound(ts, fromUs);
      const end = lowerBound(ts, toUs);
      if (end <= start) continue;
      if (start > 0 || end < ts.length) t = t.slice(start, end);
      tables.push(wanted.length === cols.length ? t : t.select(wanted));
    } finally {
      await src.close();
    }
  }
  if (tables.length === 0) return emptyTable(req);
  if (tables.length === 1) return tables[0]!;
  let out = tables[0]!;
  for (let i = 1; i < tables.length; i++) out = out.concat(tables[i]!);
  return out;
}

function emptyTable(req: DerivedReadRequest): Table {
  if (req.dataset === 'candles') {
    const fields = CANDLE_SCHEMA.fields.filter((f) => !req.columns || req.columns.includes(f.name));
    for (const c of req.columns ?? []) {
      if (!fields.some((f) => f.name === c)) {
        throw new UsageError(`unknown column "${c}" for candles`, {
          hint: `columns: ${CANDLE_SCHEMA.fields.map((f) => f.name).join(', ')}`,
        });
      }
    }
    const schema: Schema = { fields };
    const columns: ColumnBatch['columns'] = Object.fromEntries(
      fields.map((f) => [f.name, { kind: f.kind, values: new Float64Array(0), validity: null }]),
    ) as ColumnBatch['columns'];
    return batchToArrow({ length: 0, columns }, schema);
  }
  return tableFromArrays({});
}

function timestampsOf(table: Table): Float64Array {
  const v = table.getChild('timestamp');
  if (!v) throw new Error('timestamp column missing');
  const out = new Float64Array(table.numRows);
  let p = 0;
  for (const d of v.data) {
    int64ToFloat64(d.values as BigInt64Array, out.subarray(p, p + d.length));
    p += d.length;
  }
  return out;
}

function lowerBound(values: Float64Array, t: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The last row's value of `column` in a derived file (for carrying the previous day's close). */
export async function lastValueOf(storage: Storage, path: string, column: string): Promise<number | null> {
  const src = await storage.openRead(path);
  try {
    const reader = await ParquetReader.open(src, path);
    if (reader.metadata.numRows === 0) return null;
    const last = reader.metadata.rowGroups.length - 1;
    const b = await reader.readBatch({ columns: [column], rowGroups: [last] });
    const c = b.columns[column];
    if (!c || !('values' in c) || b.length === 0) return null;
    const v = (c.values as Float64Array)[b.length - 1]!;
    return c.validity && c.validity[b.length - 1] === 0 ? null : v;
  } finally {
    await src.close();
  }
}
