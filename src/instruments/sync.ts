/**
 * `ticklake instruments sync`: fetch each exchange's definitions once, then write
 * `instrument_availability/by_date/day=D/instruments.parquet` for every day of the range.
 *
 * A day file holds every synced venue: a sync replaces the rows of the (vendor, exchange) pairs it
 * fetched and keeps the others. One row per instrument key: two vendor instruments of one source that
 * map to one key stop the sync (both names shown); the same key from two sources keeps the Tardis row
 * (it knows data types and availability), else the newer sync's row.
 *
 * A day whose content (rows, incidents, grouped symbols) equals what the file already holds is not
 * rewritten: the content hash is kept in the footer (`ticklake.content_sha256`).
 */
import { concatBatches, takeBatch } from '../columns/ops.js';
import type { ColumnBatch, DictColumn, Utf8Column } from '../columns/types.js';
import { UsageError } from '../errors.js';
import { assertUniqueKeys } from '../keys/unique.js';
import type { LineageInput } from '../lake/footer.js';
import { decodeFooter } from '../lake/footer.js';
import type { Lake } from '../lake/lake.js';
import { INSTRUMENT_AVAILABILITY, instrumentAvailabilityPath } from '../lake/layout.js';
import { publishStaged, stageLakeFile } from '../lake/publish.js';
import { ParquetReader } from '../parquet/reader.js';
import { type Day, dayStartMs, daysInclusive, parseDay } from '../util/time.js';
import {
  AVAILABILITY_SCHEMA,
  AVAILABILITY_SCHEMA_VERSION,
  availabilityForDay,
  contentHash,
  definitionTable,
} from './availability.js';
import {
  type DefinitionSourceName,
  type GroupedSymbol,
  type IncidentReport,
  loadDefinitions,
  parseSource,
  type SourceResult,
} from './sources.js';

export interface SyncRequest {
  exchanges: readonly string[];
  source?: DefinitionSourceName | string;
  from: string;
  /** Inclusive (default: `from`). */
  to?: string;
  signal?: AbortSignal;
  onNotice?: (line: string) => void;
}

export interface SyncDayReport {
  day: Day;
  rows: number;
  status: 'written' | 'unchanged';
}

export interface SyncSummary {
  source: DefinitionSourceName;
  exchanges: string[];
  /** Definitions fetched (all days). */
  definitions: number;
  /** Vendor instruments without a key (combos, ...), and the first few with their reasons. */
  skipped: number;
  skippedExamples: string[];
  written: number;
  unchanged: number;
  days: SyncDayReport[];
  notices: string[];
  seconds: number;
}

/** What a day file holds besides its rows (footer keys). */
export interface DayExtras {
  incidents: IncidentReport[];
  groups: GroupedSymbol[];
}

const MAX_DAYS = 3660;

/** Footer extras of a day file: incidents and grouped symbols, per exchange. */
export function parseDayExtras(extra: Readonly<Record<string, string>> | undefined): DayExtras {
  const parse = <T>(s: string | undefined): T[] => {
    try {
      return s ? (JSON.parse(s) as T[]) : [];
    } catch {
      return [];
    }
  };
  return { incidents: parse(extra?.incidents), groups: parse(extra?.groups) };
}

/** Read a day file's rows and footer extras, or null when the lake has no file for the day. */
/** Read a day file's rows (all columns, or `columns`) and footer extras, with its content hash. */
export async function readDayFile(
  lake: Pick<Lake, 'storage'>,
  path: string,
  columns?: readonly string[],
): Promise<{ batch: ColumnBatch; extras: DayExtras; contentSha256: string | null }> {
  const src = await lake.storage.openRead(path);
  try {
    const reader = await ParquetReader.open(src, path);
    const footer = decodeFooter(reader.metadata.keyValueMetadata);
    const batch = await reader.readBatch(columns ? { columns: [...columns] } : {});
    return {
      batch,
      extras: parseDayExtras(footer?.extra),
      contentSha256: footer?.extra?.content_sha256 ?? null,
    };
  } finally {
    await src.close();
  }
}

/** Read a day file's rows and footer extras, or null when the lake has no file for the day. */
export async function readAvailabilityDay(
  lake: Lake,
  day: Day,
): Promise<{ batch: ColumnBatch; extras: DayExtras; contentSha256: string | null; path: string } | null> {
  const path = instrumentAvailabilityPath(day);
  if (!(await lake.storage.stat(path))) return null;
  return { ...(await readDayFile(lake, path)), path };
}

function utf8At(c: Utf8Column, i: number, dec: { decode(b: Uint8Array): string }): string {
  return dec.decode(c.data.subarray(c.offsets[i]!, c.offsets[i + 1]!));
}

function dictAt(c: DictColumn, i: number): string {
  return c.dictionary[c.indices[i]!]!;
}

/**
 * Merge `fresh` (rows of the synced (vendor, exchange) pairs, sorted by key) into `old` (a day file's
 * rows): rows of `old` from synced pairs are dropped; on a key present in both, the Tardis row wins,
 * else the fresh one. Both inputs sorted by key; so is the result.
 */
export function mergeDay(old: ColumnBatch, fresh: ColumnBatch, synced: ReadonlySet<string>): ColumnBatch {
  const dec = new TextDecoder();
  const oVendor = old.columns.vendor as DictColumn;
  const oEx = old.columns.vendor_exchange as DictColumn;
  const fKey = fresh.columns.instrument_key as Utf8Column;
  const fVendor = fresh.columns.vendor as DictColumn;
  const keepOld: number[] = [];
  for (let i = 0; i < old.length; i++) {
    if (!synced.has(`${dictAt(oVendor, i)}:${dictAt(oEx, i)}`)) keepOld.push(i);
  }
  if (keepOld.length === 0) return fresh;
  const oldKept = takeBatch(old, keepOld);
  const okc = oldKept.columns.instrument_key as Utf8Column;
  const ovc = oldKept.columns.vendor as DictColumn;
  // Merge by key: indices into concat(oldKept, fresh).
  const order: number[] = [];
  let a = 0;
  let b = 0;
  const na = oldKept.length;
  const nb = fresh.length;
  let ka = na > 0 ? utf8At(okc, 0, dec) : '';
  let kb = nb > 0 ? utf8At(fKey, 0, dec) : '';
  while (a < na || b < nb) {
    if (b >= nb || (a < na && ka < kb)) {
      order.push(a++);
      if (a < na) ka = utf8At(okc, a, dec);
    } else if (a >= na || kb < ka) {
      order.push(na + b++);
      if (b < nb) kb = utf8At(fKey, b, dec);
    } else {
      // Same key from another source: Tardis wins, else the fresh row.
      const oldIsTardis = dictAt(ovc, a) === 'tardis' && dictAt(fVendor, b) !== 'tardis';
      order.push(oldIsTardis ? a : na + b);
      a++;
      b++;
      if (a < na) ka = utf8At(okc, a, dec);
      if (b < nb) kb = utf8At(fKey, b, dec);
    }
  }
  return takeBatch(concatBatches([oldKept, fresh]), order);
}

function extrasFor(
  day: Day,
  results: readonly SourceResult[],
  old: DayExtras | null,
  source: DefinitionSourceName,
): DayExtras {
  const start = dayStartMs(day);
  const end = start + 86_400_000;
  const overlaps = (from: number | null, to: number | null) =>
    (from === null || from < end) && (to === null || to > start);
  const syncedExchanges = new Set(results.map((r) => r.exchange));
  // Incidents and grouped symbols come from Tardis: a Tardis sync replaces those of its exchanges.
  const keep = <T extends { exchange: string }>(xs: readonly T[]) =>
    xs.filter((x) => source !== 'tardis' || !syncedExchanges.has(x.exchange));
  const incidents = [
    ...keep(old?.incidents ?? []),
    ...results.flatMap((r) => r.incidents.filter((i) => overlaps(i.from, i.to))),
  ].sort((x, y) => x.exchange.localeCompare(y.exchange) || x.from - y.from);
  const groups = [
    ...keep(old?.groups ?? []),
    ...results.flatMap((r) => r.groups.filter((g) => overlaps(g.availableFrom, g.availableTo))),
  ].sort((x, y) => x.exchange.localeCompare(y.exchange) || x.symbol.localeCompare(y.symbol));
  return { incidents, groups };
}

/** Fetch definitions once and write one availability file per day of `[from, to]`. */
export async function syncInstruments(lake: Lake, req: SyncRequest): Promise<SyncSummary> {
  const started = performance.now();
  const source = parseSource(req.source);
  const exchanges = [...new Set(req.exchanges.map((e) => e.trim()).filter(Boolean))];
  if (exchanges.length === 0) throw new UsageError('no exchange given', { hint: 'use --exchange deribit' });
  const from = parseDay(req.from, '--from');
  const to = parseDay(req.to ?? req.from, '--to');
  const days = daysInclusive(from, to);
  if (days.length === 0) throw new UsageError(`--from ${from} is after --to ${to}`);
  if (days.length > MAX_DAYS)
    throw new UsageError(`${days.length} days is more than ${MAX_DAYS} in one sync`);
  await lake.storage.ensureWritable();
  await lake.recover();
  const notices: string[] = [];
  const note = (s: string) => {
    notices.push(s);
    req.onNotice?.(s);
  };
  const results: SourceResult[] = [];
  for (const exchange of exchanges) {
    const r = await loadDefinitions(source, exchange, { config: lake.config, signal: req.signal });
    for (const n of r.notices) note(n);
    if (r.skipped.length > 0) {
      const first = r.skipped[0]!;
      note(
        `${exchange}: ${r.skipped.length} vendor instrument(s) without a key are skipped (e.g. ${first.symbol}: ${first.reason})`,
      );
    }
    results.push(r);
  }
  const all = results.flatMap((r) => r.definitions);
  // Across exchanges of one sync, two vendor instruments with one key stop the sync (each source
  // already checked its own list).
  if (results.length > 1)
    assertUniqueKeys(
      all.map(({ definition: d }) => ({
        key: d.instrumentKey,
        vendorExchange: d.vendorExchange,
        vendorSymbol: d.vendorSymbol,
      })),
    );
  const table = definitionTable(all);
  const synced = new Set(results.map((r) => `${source}:${r.exchange}`));
  const inputs: LineageInput[] = results.flatMap((r) => r.inputs);
  const reports: SyncDayReport[] = [];
  for (const day of days) {
    if (req.signal?.aborted) break;
    const fresh = availabilityForDay(table, day);
    const existing = await readAvailabilityDay(lake, day);
    const batch = existing ? mergeDay(existing.batch, fresh, synced) : fresh;
    const extras = extrasFor(day, results, existing?.extras ?? null, source);
    const extrasJson = { incidents: JSON.stringify(extras.incidents), groups: JSON.stringify(extras.groups) };
    const hash = contentHash(batch, `${extrasJson.incidents}\n${extrasJson.groups}`);
    if (existing && existing.contentSha256 === hash) {
      reports.push({ day, rows: batch.length, status: 'unchanged' });
      continue;
    }
    const path = instrumentAvailabilityPath(day);
    const staged = await stageLakeFile([batch], {
      storage: lake.storage,
      path,
      schema: AVAILABILITY_SCHEMA,
      codec: lake.config.ingest.compression,
      zstdLevel: lake.config.ingest.zstdLevel,
      rowGroupRows: 65_536,
      sortingColumns: ['instrument_key'],
      timestampColumn: '(none)',
      footer: {
        dataset: INSTRUMENT_AVAILABILITY,
        dataType: null,
        schemaVersion: AVAILABILITY_SCHEMA_VERSION,
        instrumentKey: null,
        day,
        vendor: source,
        vendorExchange: exchanges.join(','),
        vendorSymbol: null,
        sourceUrl: null,
        sourceSha256: null,
        sourceBytes: null,
        generated: false,
        sortedBy: ['instrument_key'],
        lineage: inputs,
        extra: { content_sha256: hash, ...extrasJson },
      },
    });
    await publishStaged(lake.catalog, staged);
    await lake.catalog.commitFiles([path]);
    reports.push({ day, rows: batch.length, status: 'written' });
  }
  return {
    source,
    exchanges,
    definitions: all.length,
    skipped: results.reduce((s, r) => s + r.skipped.length, 0),
    skippedExamples: results.flatMap((r) =>
      r.skipped.slice(0, 5).map((x) => `${r.exchange} ${x.symbol}: ${x.reason}`),
    ),
    written: reports.filter((r) => r.status === 'written').length,
    unchanged: reports.filter((r) => r.status === 'unchanged').length,
    days: reports,
    notices,
    seconds: (performance.now() - started) / 1000,
  };
}
