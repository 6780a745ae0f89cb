/**
 * Queries over the availability files: `lake.instruments({ date, venue?, type?, base?, quote?,
 * expiringWithin? })` → Arrow Table (the rows of that day, filtered), and `instrumentHistory(key)`:
 * the days an instrument was available and how its attributes changed from day to day.
 *
 * A warm process answers from memory: each day file is decoded once and kept (validated against the
 * catalog's checksum on every call, so a re-sync is seen at once), and filtered results are memoized
 * per (day file, filter).
 */
import type { Table } from 'apache-arrow';
import { batchToArrow } from '../columns/arrow.js';
import { takeBatch, valueAt } from '../columns/ops.js';
import type { ColumnBatch, DictColumn, Float64Column, Utf8Column } from '../columns/types.js';
import { NotFoundError, UsageError } from '../errors.js';
import { parseInstrumentKey } from '../keys/key.js';
import type { Lake } from '../lake/lake.js';
import { INSTRUMENT_AVAILABILITY, instrumentAvailabilityPath } from '../lake/layout.js';
import { ParquetReader } from '../parquet/reader.js';
import { type Day, dayStartMs, parseDay } from '../util/time.js';
import { AVAILABILITY_SCHEMA } from './availability.js';
import { type DayExtras, readDayFile } from './sync.js';

export interface InstrumentQuery {
  /** The UTC day (`YYYY-MM-DD`, or a Date). */
  date: string | Date;
  venue?: string | readonly string[];
  /** Key types (`PERP`, `OPTION`, ...) or friendly names (`perpetual`, `option`, `future`, `spot`). */
  type?: string | readonly string[];
  base?: string | readonly string[];
  quote?: string | readonly string[];
  /** Only instruments expiring within this many days after the day's start (`30`, `'30d'`, `'12h'`). */
  expiringWithin?: number | string;
  /** Vendor exchanges (`deribit`, `binance-futures`). */
  exchange?: string | readonly string[];
}

const TYPE_ALIASES: Readonly<Record<string, string>> = {
  spot: 'SPOT_PAIR',
  spot_pair: 'SPOT_PAIR',
  perpetual: 'PERP',
  perpetuals: 'PERP',
  perp: 'PERP',
  swap: 'PERP',
  future: 'FUTURE',
  futures: 'FUTURE',
  option: 'OPTION',
  options: 'OPTION',
  equity: 'EQUITY',
  index: 'INDEX',
};

/** `perpetual` → `PERP` etc.; key type names pass through. */
export function normalizeInstrumentType(t: string): string {
  const s = t.trim();
  const alias = TYPE_ALIASES[s.toLowerCase()];
  if (alias) return alias;
  const up = s.toUpperCase();
  if (['SPOT_PAIR', 'PERP', 'FUTURE', 'OPTION', 'EQUITY', 'INDEX'].includes(up)) return up;
  throw new UsageError(`unknown instrument type "${t}"`, {
    hint: 'use spot, perpetual, future, option (or SPOT_PAIR, PERP, FUTURE, OPTION)',
  });
}

/** `30`, `'30d'`, `'12h'`, `'90m'` → µs. */
export function parseDuration(v: number | string, what = '--expiring-within'): number {
  if (typeof v === 'number') {
    if (!(v >= 0)) throw new UsageError(`${what}: ${v} is not a duration`);
    return v * 86_400_000_000;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([dhm]?)\s*$/i.exec(v);
  if (!m) throw new UsageError(`${what}: "${v}" is not a duration`, { hint: 'use e.g. 30d, 12h or 90m' });
  const n = Number(m[1]);
  const unit = (m[2] || 'd').toLowerCase();
  return n * (unit === 'd' ? 86_400_000_000 : unit === 'h' ? 3_600_000_000 : 60_000_000);
}

const list = (v: string | readonly string[] | undefined): string[] | null =>
  v === undefined
    ? null
    : (typeof v === 'string' ? v.split(',') : [...v]).map((s) => s.trim()).filter((s) => s.length > 0);

interface CachedDay {
  checksum: string;
  batch: ColumnBatch;
  extras: DayExtras;
  all: Table | null;
  results: Map<string, Table>;
}

const MAX_DAYS_CACHED = 64;
const MAX_RESULTS_PER_DAY = 256;

/** Decoded day files of each lake (by lake object), newest use last. */
const caches = new WeakMap<object, Map<string, CachedDay>>();

async function loadDay(lake: Lake, day: Day): Promise<CachedDay | null> {
  const path = instrumentAvailabilityPath(day);
  const record = await lake.catalog.getFile(path);
  if (!record) return null;
  let cache = caches.get(lake);
  if (!cache) {
    cache = new Map();
    caches.set(lake, cache);
  }
  const hit = cache.get(path);
  if (hit && hit.checksum === record.checksum) {
    cache.delete(path);
    cache.set(path, hit);
    return hit;
  }
  const { batch, extras } = await readDayFile(lake, path);
  const entry: CachedDay = { checksum: record.checksum, batch, extras, all: null, results: new Map() };
  cache.set(path, entry);
  while (cache.size > MAX_DAYS_CACHED) cache.delete(cache.keys().next().value as string);
  return entry;
}

/** Rows of `batch` matching a dictionary column against a set of values (null = no filter). */
function dictMask(col: DictColumn, values: readonly string[] | null, mask: Uint8Array, upper = true): void {
  if (values === null) return;
  const want = new Set(values.map((v) => (upper ? v.toUpperCase() : v)));
  const ok = new Uint8Array(col.dictionary.length);
  col.dictionary.forEach((d, i) => {
    ok[i] = want.has(d) ? 1 : 0;
  });
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] && (!ok[col.indices[i]!] || (col.validity && !col.validity[i]))) mask[i] = 0;
  }
}

/**
 * The instruments available on `q.date`, filtered, as an Arrow Table (schema: AVAILABILITY_SCHEMA,
 * sorted by instrument_key). Throws NotFoundError when the day has not been synced.
 */
export async function queryInstruments(lake: Lake, q: InstrumentQuery): Promise<Table> {
  const day = parseDay(q.date instanceof Date ? q.date.toISOString().slice(0, 10) : q.date, 'date');
  const entry = await loadDay(lake, day);
  if (!entry) {
    throw new NotFoundError(`no instrument availability for ${day} in the lake`, {
      hint: `run: ticklake instruments sync --exchange EXCHANGE --from ${day} --to ${day}`,
    });
  }
  const venues = list(q.venue);
  const types = list(q.type)?.map(normalizeInstrumentType) ?? null;
  const bases = list(q.base);
  const quotes = list(q.quote);
  const exchanges = list(q.exchange);
  const within = q.expiringWithin === undefined ? null : parseDuration(q.expiringWithin);
  const memo = JSON.stringify([venues, types, bases, quotes, exchanges, within]);
  const noFilter = memo === JSON.stringify([null, null, null, null, null, null]);
  if (noFilter) {
    entry.all ??= batchToArrow(entry.batch, AVAILABILITY_SCHEMA);
    return entry.all;
  }
  const cached = entry.results.get(memo);
  if (cached) return cached;
  const b = entry.batch;
  const mask = new Uint8Array(b.length).fill(1);
  dictMask(b.columns.venue as DictColumn, venues, mask);
  dictMask(b.columns.instrument_type as DictColumn, types, mask);
  dictMask(b.columns.base_asset as DictColumn, bases, mask);
  dictMask(b.columns.quote_asset as DictColumn, quotes, mask);
  dictMask(b.columns.vendor_exchange as DictColumn, exchanges, mask, false);
  if (within !== null) {
    const start = dayStartMs(day) * 1000;
    const exp = b.columns.expiry as Float64Column;
    for (let i = 0; i < b.length; i++) {
      if (!mask[i]) continue;
      const e = exp.values[i]!;
      if ((exp.validity && !exp.validity[i]) || e < start || e > start + within) mask[i] = 0;
    }
  }
  const idx: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i]) idx.push(i);
  const table = batchToArrow(takeBatch(b, idx), AVAILABILITY_SCHEMA);
  if (entry.results.size >= MAX_RESULTS_PER_DAY)
    entry.results.delete(entry.results.keys().next().value as string);
  entry.results.set(memo, table);
  return table;
}

/**
 * Some columns and the footer extras of one day, read without caching (large scans over many days:
 * `check missing`), or null when the day was not synced. Served from the cache when it holds the day.
 */
export async function availabilityColumns(
  lake: Lake,
  day: Day,
  columns: readonly string[],
): Promise<{ batch: ColumnBatch; extras: DayExtras } | null> {
  const path = instrumentAvailabilityPath(day);
  const record = await lake.catalog.getFile(path);
  if (!record) return null;
  const hit = caches.get(lake)?.get(path);
  if (hit && hit.checksum === record.checksum) return { batch: hit.batch, extras: hit.extras };
  const { batch, extras } = await readDayFile(lake, path, columns);
  return { batch, extras };
}

/** The decoded rows and footer extras of one day (for plans and checks), or null when not synced. */
export async function availabilityDay(
  lake: Lake,
  day: Day,
): Promise<{ batch: ColumnBatch; extras: DayExtras } | null> {
  const e = await loadDay(lake, day);
  return e ? { batch: e.batch, extras: e.extras } : null;
}

/** Attributes compared from day to day in an instrument's history. */
export const HISTORY_FIELDS = [
  'tick_size',
  'lot_size',
  'min_size',
  'contract_multiplier',
  'maker_fee',
  'taker_fee',
  'settle_asset',
  'expiry',
  'strike',
  'inverse',
  'active',
  'available_to',
  'data_types',
  'vendor_symbol',
] as const;

export interface InstrumentHistory {
  key: string;
  /** The row of the last day it was available (every column). */
  latest: Record<string, string | number | boolean | null>;
  latestDay: Day;
  firstDay: Day;
  daysAvailable: number;
  /** Synced days in the lake (the history covers these). */
  daysSynced: number;
  /** From `day` on, `field` changed `from` → `to`. */
  changes: {
    day: Day;
    field: string;
    from: string | number | boolean | null;
    to: string | number | boolean | null;
  }[];
}

function keyRange(batch: ColumnBatch, key: string): number {
  const c = batch.columns.instrument_key as Utf8Column;
  const dec = new TextDecoder();
  let lo = 0;
  let hi = batch.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = dec.decode(c.data.subarray(c.offsets[mid]!, c.offsets[mid + 1]!));
    if (k < key) lo = mid + 1;
    else hi = mid;
  }
  if (lo < batch.length && dec.decode(c.data.subarray(c.offsets[lo]!, c.offsets[lo + 1]!)) === key) return lo;
  return -1;
}

/**
 * Everything the lake knows about `key` over time: the synced days it was available and every
 * attribute change between consecutive available days. Reads only the row group that can hold the key
 * in each day file (row-group statistics on instrument_key).
 */
export async function instrumentHistory(lake: Lake, key: string): Promise<InstrumentHistory> {
  parseInstrumentKey(key);
  const files = (await lake.catalog.listFiles({ dataset: INSTRUMENT_AVAILABILITY })).sort((a, b) =>
    (a.day ?? '').localeCompare(b.day ?? ''),
  );
  const changes: InstrumentHistory['changes'] = [];
  let prev: Record<string, string | number | boolean | null> | null = null;
  let latest: Record<string, string | number | boolean | null> | null = null;
  let firstDay: Day | null = null;
  let latestDay: Day | null = null;
  let daysAvailable = 0;
  for (const f of files) {
    if (!f.day) continue;
    const src = await lake.storage.openRead(f.path);
    let row: Record<string, string | number | boolean | null> | null = null;
    try {
      const reader = await ParquetReader.open(src, f.path);
      const groups = reader.metadata.rowGroups
        .map((rg, i) => ({ rg, i }))
        .filter(({ rg }) => {
          const st = rg.columns.instrument_key;
          const min = typeof st?.min === 'string' ? st.min : undefined;
          const max = typeof st?.max === 'string' ? st.max : undefined;
          return min === undefined || max === undefined || (min <= key && key <= max);
        })
        .map(({ i }) => i);
      if (groups.length === 0) continue;
      const batch = await reader.readBatch({ rowGroups: groups });
      const at = keyRange(batch, key);
      if (at >= 0) {
        row = {};
        for (const field of AVAILABILITY_SCHEMA.fields)
          row[field.name] = valueAt(batch.columns[field.name]!, at);
      }
    } finally {
      await src.close();
    }
    if (!row) continue;
    daysAvailable++;
    firstDay ??= f.day;
    latestDay = f.day;
    if (prev) {
      for (const field of HISTORY_FIELDS) {
        if (prev[field] !== row[field])
          changes.push({ day: f.day, field, from: prev[field]!, to: row[field]! });
      }
    }
    prev = row;
    latest = row;
  }
  if (!latest || !firstDay || !latestDay) {
    throw new NotFoundError(`instrument ${key} is not in any synced day (${files.length} day(s) synced)`, {
      hint: 'check the key (ticklake instruments ls --date D) or sync more days',
    });
  }
  return { key, latest, latestDay, firstDay, daysAvailable, daysSynced: files.length, changes };
}
