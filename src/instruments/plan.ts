/**
 * Download targets (`ticklake plan`): from the synced availability days, the list of vendor files to
 * fetch — (vendor exchange, data type, vendor symbol, day, key) — only for days on which the
 * instrument exists and the vendor has that data type.
 *
 * Grouped files: `options_chain` exists only as the grouped `OPTIONS` file (one task per exchange and
 * day). For other data types, when at least `groupMin` selected instruments of one kind (options,
 * futures, perpetuals, spot) need the same data type on the same day and the vendor offers the
 * grouped symbol (`OPTIONS`, `FUTURES`, `PERPETUALS`, `SPOT`) with that data type that day, one grouped
 * task replaces them: one request instead of many (the grouped file also holds the kind's other
 * instruments; ingest stores them all).
 */
import type { PlanTask } from '../catalog/types.js';
import type { DictColumn, Float64Column, Utf8Column } from '../columns/types.js';
import { UsageError } from '../errors.js';
import type { Lake } from '../lake/lake.js';
import { DATA_TYPES, isDataType } from '../schema/datasets.js';
import { type Day, dayStartMs, daysInclusive, parseDay } from '../util/time.js';
import { availabilityDay, normalizeInstrumentType, parseDuration } from './query.js';

export interface PlanRequest {
  exchanges: readonly string[];
  /** Instrument types (`perpetual,future,option` or key types); all when absent. */
  types?: readonly string[];
  bases?: readonly string[];
  quotes?: readonly string[];
  dataTypes: readonly string[];
  from: string;
  /** Inclusive (default: `from`). */
  to?: string;
  /** Vendor symbols or instrument keys; all when absent. */
  symbols?: readonly string[];
  expiringWithin?: number | string;
  /** Smallest number of instruments that a grouped file replaces (default 20; 0 = never group). */
  groupMin?: number;
}

export interface PlanSummary {
  tasks: number;
  groupedTasks: number;
  instruments: number;
  days: number;
  exchanges: string[];
  byDataType: Record<string, number>;
  /** Instrument-days covered (grouped tasks count every selected instrument they hold). */
  instrumentDays: number;
}

export interface BuiltPlan {
  tasks: PlanTask[];
  summary: PlanSummary;
  notices: string[];
}

export const DEFAULT_GROUP_MIN = 20;

/** The grouped dataset symbol holding each instrument type's files (`OPTIONS` for options, ...). */
export const GROUP_OF_TYPE: Readonly<Record<string, string>> = {
  OPTION: 'OPTIONS',
  FUTURE: 'FUTURES',
  PERP: 'PERPETUALS',
  SPOT_PAIR: 'SPOT',
};

const clean = (xs: readonly string[] | undefined) =>
  xs === undefined ? null : xs.map((s) => s.trim()).filter((s) => s.length > 0);

/** Build the tasks of a plan (does not save it; `Lake.plan` does). */
export async function buildPlan(lake: Lake, req: PlanRequest): Promise<BuiltPlan> {
  const exchanges = [...new Set(clean(req.exchanges) ?? [])];
  if (exchanges.length === 0) throw new UsageError('no exchange given', { hint: 'use --exchange deribit' });
  const dataTypes = [...new Set(clean(req.dataTypes) ?? [])];
  if (dataTypes.length === 0) {
    throw new UsageError('no data types given', { hint: `use --data-types ${DATA_TYPES.join(',')}` });
  }
  for (const dt of dataTypes) {
    if (!isDataType(dt))
      throw new UsageError(`unknown data type "${dt}"`, { hint: `use ${DATA_TYPES.join(', ')}` });
  }
  const types = clean(req.types)?.map(normalizeInstrumentType) ?? null;
  const bases = clean(req.bases)?.map((s) => s.toUpperCase()) ?? null;
  const quotes = clean(req.quotes)?.map((s) => s.toUpperCase()) ?? null;
  const symbols = clean(req.symbols);
  const symbolSet = symbols ? new Set(symbols.flatMap((s) => [s, s.toUpperCase()])) : null;
  const within = req.expiringWithin === undefined ? null : parseDuration(req.expiringWithin);
  const groupMin = req.groupMin ?? DEFAULT_GROUP_MIN;
  const from = parseDay(req.from, '--from');
  const to = parseDay(req.to ?? req.from, '--to');
  const days = daysInclusive(from, to);
  if (days.length === 0) throw new UsageError(`--from ${from} is after --to ${to}`);

  const tasks: PlanTask[] = [];
  const notices: string[] = [];
  const instruments = new Set<string>();
  const missingDays: Day[] = [];
  let assumedTypes = 0;
  let instrumentDays = 0;
  const dec = new TextDecoder();
  for (const day of days) {
    const loaded = await availabilityDay(lake, day);
    if (!loaded) {
      missingDays.push(day);
      continue;
    }
    const { batch, extras } = loaded;
    const groupTypes = new Map<string, Set<string>>();
    for (const g of extras.groups) groupTypes.set(`${g.exchange}:${g.symbol}`, new Set(g.dataTypes));
    const c = batch.columns;
    const key = c.instrument_key as Utf8Column;
    const type = c.instrument_type as DictColumn;
    const base = c.base_asset as DictColumn;
    const quote = c.quote_asset as DictColumn;
    const ex = c.vendor_exchange as DictColumn;
    const vendor = c.vendor as DictColumn;
    const vsym = c.vendor_symbol as Utf8Column;
    const dsym = c.vendor_dataset_symbol as Utf8Column;
    const dts = c.data_types as DictColumn;
    const expiry = c.expiry as Float64Column;
    const start = dayStartMs(day) * 1000;
    const str = (u: Utf8Column, i: number) =>
      u.validity && !u.validity[i] ? null : dec.decode(u.data.subarray(u.offsets[i]!, u.offsets[i + 1]!));
    const dict = (d: DictColumn, i: number) => d.dictionary[d.indices[i]!]!;
    // (exchange, dataType, group) → selected rows
    const buckets = new Map<
      string,
      { exchange: string; dataType: string; group: string | null; rows: number[] }
    >();
    for (let i = 0; i < batch.length; i++) {
      const exchange = dict(ex, i);
      if (!exchanges.includes(exchange)) continue;
      const t = dict(type, i);
      if (types && !types.includes(t)) continue;
      if (bases && !bases.includes(dict(base, i))) continue;
      if (quotes && !quotes.includes(dict(quote, i))) continue;
      const k = str(key, i)!;
      const vs = str(vsym, i)!;
      if (symbolSet && !symbolSet.has(vs) && !symbolSet.has(k) && !symbolSet.has(str(dsym, i) ?? ''))
        continue;
      if (within !== null) {
        const e = expiry.values[i]!;
        if ((expiry.validity && !expiry.validity[i]) || e < start || e > start + within) continue;
      }
      const listed = dict(dts, i);
      const known = listed.length > 0 ? new Set(listed.split(',')) : null;
      if (!known && dict(vendor, i) === 'tardis') continue; // Tardis lists no data for it
      for (const dataType of dataTypes) {
        if (dataType === 'options_chain') {
          // Exists only as the grouped OPTIONS file: the group's data types decide.
          const offered = groupTypes.get(`${exchange}:OPTIONS`);
          if (t !== 'OPTION' || (offered !== undefined && !offered.has('options_chain'))) continue;
        } else if (known && !known.has(dataType)) continue;
        if (!known) assumedTypes++;
        const group =
          dataType === 'options_chain' ? (t === 'OPTION' ? 'OPTIONS' : null) : (GROUP_OF_TYPE[t] ?? null);
        if (dataType === 'options_chain' && group === null) continue;
        const bucketKey = `${exchange}\u0000${dataType}\u0000${group ?? ''}`;
        let bucket = buckets.get(bucketKey);
        if (!bucket) {
          bucket = { exchange, dataType, group, rows: [] };
          buckets.set(bucketKey, bucket);
        }
        bucket.rows.push(i);
      }
    }
    for (const b of buckets.values()) {
      const offered =
        b.group !== null && (groupTypes.get(`${b.exchange}:${b.group}`)?.has(b.dataType) ?? false);
      const useGroup =
        b.dataType === 'options_chain' ||
        (offered && groupMin > 0 && b.rows.length >= groupMin && b.group !== null);
      for (const i of b.rows) instruments.add(str(key, i)!);
      instrumentDays += b.rows.length;
      if (useGroup) {
        tasks.push({
          vendor: 'tardis',
          exchange: b.exchange,
          dataType: b.dataType,
          symbol: b.group!,
          day,
          instrumentKey: null,
        });
        continue;
      }
      for (const i of b.rows) {
        tasks.push({
          vendor: 'tardis',
          exchange: b.exchange,
          dataType: b.dataType,
          symbol: (str(dsym, i) ?? str(vsym, i)!).toUpperCase(),
          day,
          instrumentKey: str(key, i)!,
        });
      }
    }
  }
  if (missingDays.length === days.length) {
    throw new UsageError(`no instrument availability synced for ${from}…${to}`, {
      hint: `run: ticklake instruments sync --exchange ${exchanges.join(' --exchange ')} --from ${from} --to ${to}`,
    });
  }
  if (missingDays.length > 0) {
    notices.push(
      `${missingDays.length} day(s) have no synced availability and are not planned: ${missingDays.slice(0, 5).join(', ')}${missingDays.length > 5 ? ', …' : ''}`,
    );
  }
  if (assumedTypes > 0) {
    notices.push(
      `${assumedTypes} instrument-day-type(s) come from a native list without data types: assumed to exist at the vendor`,
    );
  }
  tasks.sort(
    (a, b) =>
      a.day.localeCompare(b.day) ||
      a.exchange.localeCompare(b.exchange) ||
      a.dataType.localeCompare(b.dataType) ||
      a.symbol.localeCompare(b.symbol),
  );
  const byDataType: Record<string, number> = {};
  for (const t of tasks) byDataType[t.dataType] = (byDataType[t.dataType] ?? 0) + 1;
  return {
    tasks,
    notices,
    summary: {
      tasks: tasks.length,
      groupedTasks: tasks.filter((t) => t.instrumentKey === null).length,
      instruments: instruments.size,
      days: days.length - missingDays.length,
      exchanges,
      byDataType,
      instrumentDays,
    },
  };
}
