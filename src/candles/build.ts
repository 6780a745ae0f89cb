/**
 * `ticklake candles build`: for each (instrument, day) with raw trades in the catalog, read the day's
 * trades (and quotes, else book tickers) in timestamp order, run the candle engine, and publish one
 * Parquet file per timeframe through the write protocol. Book snapshots for the same (key, day) follow
 * (src/book/build.ts).
 *
 * Incremental: every output's footer records a *fingerprint* (in `source_sha256`) of what it was
 * built from — input lake paths + checksums, the previous day's close, engine and schema versions —
 * and the same in `lineage` (inputs, plus one `ticklake:params?...` entry). A (key, day, timeframe)
 * whose catalog record carries the current fingerprint and whose file exists is skipped.
 */
import { createHash } from 'node:crypto';
import type { Table } from 'apache-arrow';
import { buildBookSnapshotsForDay } from '../book/build.js';
import type { FileRecord } from '../catalog/types.js';
import { arrowToBatch } from '../columns/arrow.js';
import type { ColumnBatch } from '../columns/types.js';
import { UsageError } from '../errors.js';
import { parseInstrumentKey } from '../keys/key.js';
import type { LineageInput } from '../lake/footer.js';
import type { Lake } from '../lake/lake.js';
import { candlesPath, PROCESSED_CANDLES, RAW_TICK_DATA } from '../lake/layout.js';
import { publishStaged, type StagedFile, stageLakeFile } from '../lake/publish.js';
import { CANONICAL_SCHEMAS } from '../schema/datasets.js';
import { addDays, type Day, dayStartMicros, daysInclusive, MICROS_PER_DAY, parseDay } from '../util/time.js';
import { computeCandles } from './engine.js';
import { lastValueOf } from './read.js';
import { CANDLE_SCHEMA, CANDLE_SCHEMA_VERSION } from './schema.js';
import { TIMEFRAMES, type Timeframe } from './timeframes.js';

/** Bumped whenever the engine's arithmetic or rules change: every candle file is then rebuilt. */
export const CANDLE_ENGINE_VERSION = 1;

const BOOK_TYPES = ['incremental_book_L2', 'book_snapshot_25', 'book_snapshot_5'] as const;

export interface BuildCandlesRequest {
  from: Day;
  to: Day;
  /** Only these instrument keys. */
  keys?: readonly string[];
  /** Only instruments of this vendor exchange (e.g. `binance-futures`). */
  exchange?: string;
  timeframes?: readonly Timeframe[];
  /** Rebuild even when the fingerprint matches. */
  force?: boolean;
  /** Also build book snapshots (default true). */
  books?: boolean;
  onProgress?: (e: { key: string; day: Day; status: DayStatus; files: number }) => void;
}

export type DayStatus = 'built' | 'skipped' | 'empty';

export interface BuildCandlesSummary {
  /** (key, day) pairs whose candles were written. */
  built: number;
  /** (key, day) pairs already up to date. */
  skipped: number;
  /** (key, day) pairs with trade files but no trade inside the day. */
  empty: number;
  /** Candle files written. */
  files: number;
  /** Book snapshot files written (or confirmed up to date) and crossed books seen. */
  bookFiles: number;
  crossed: number;
  paths: string[];
}

interface Inputs {
  trades: FileRecord[];
  quotes: FileRecord[];
  quoteType: 'quotes' | 'book_ticker' | null;
}

/** Raw files of `dataType` for `key` that hold rows of `day` (a day file can spill a little across midnight). */
async function rawFilesFor(lake: Lake, dataType: string, key: string, day: Day): Promise<FileRecord[]> {
  const start = dayStartMicros(day);
  const end = start + MICROS_PER_DAY;
  const files = await lake.catalog.listFiles({
    dataset: RAW_TICK_DATA,
    dataType,
    instrumentKey: key,
    fromDay: addDays(day, -1),
    toDay: addDays(day, 1),
  });
  return files
    .filter((f) => f.rows > 0 && f.minTs !== null && f.maxTs !== null && f.maxTs >= start && f.minTs < end)
    .sort((a, b) => a.path.localeCompare(b.path));
}

async function inputsFor(lake: Lake, key: string, day: Day): Promise<Inputs> {
  const trades = await rawFilesFor(lake, 'trades', key, day);
  let quotes = await rawFilesFor(lake, 'quotes', key, day);
  let quoteType: Inputs['quoteType'] = quotes.length > 0 ? 'quotes' : null;
  if (quotes.length === 0) {
    quotes = await rawFilesFor(lake, 'book_ticker', key, day);
    if (quotes.length > 0) quoteType = 'book_ticker';
  }
  return { trades, quotes, quoteType };
}

/** The previous day's close from its candle files (any timeframe: all end on the same close), or null. */
export async function previousClose(lake: Lake, key: string, day: Day): Promise<number | null> {
  const prev = addDays(day, -1);
  const files = (
    await lake.catalog.listFiles({
      dataset: PROCESSED_CANDLES,
      instrumentKey: key,
      fromDay: prev,
      toDay: prev,
    })
  ).filter((f) => f.rows > 0);
  if (files.length === 0) return null;
  // Prefer the 24h file (one row).
  files.sort((a, b) => Number(b.path.includes('timeframe=24h/')) - Number(a.path.includes('timeframe=24h/')));
  for (const f of files) {
    if (!(await lake.storage.stat(f.path))) continue;
    return lastValueOf(lake.storage, f.path, 'close');
  }
  return null;
}

function fingerprintOf(inputs: Inputs, prevClose: number | null): { sha: string; lineage: LineageInput[] } {
  const files = [...inputs.trades, ...inputs.quotes];
  const lineage: LineageInput[] = files.map((f) => ({ url: f.path, sha256: f.checksum, bytes: f.bytes }));
  const params = `ticklake:params?engine=${CANDLE_ENGINE_VERSION}&schema=${CANDLE_SCHEMA_VERSION}&prev_close=${prevClose === null ? 'null' : prevClose.toString()}&quotes=${inputs.quoteType ?? 'none'}`;
  const sha = createHash('sha256')
    .update(JSON.stringify({ params, inputs: lineage.map((l) => [l.url, l.sha256]) }))
    .digest('hex');
  lineage.push({ url: params, sha256: sha, bytes: 0 });
  return { sha, lineage };
}

async function readDay(
  lake: Lake,
  dataset: string,
  key: string,
  day: Day,
  columns: string[],
): Promise<ColumnBatch> {
  const table: Table = await lake.read({ dataset, key, from: day, to: addDays(day, 1), columns });
  const schema = CANONICAL_SCHEMAS[dataset as 'trades'];
  return arrowToBatch(table, { fields: schema.fields.filter((f) => columns.includes(f.name)) });
}

/**
 * Candles of one (key, day): skipped when every requested timeframe's file carries the current
 * fingerprint; otherwise computed and the stale timeframes published.
 */
export async function buildCandlesForDay(
  lake: Lake,
  args: { key: string; day: Day; timeframes?: readonly Timeframe[]; force?: boolean },
): Promise<{ status: DayStatus; paths: string[] }> {
  const timeframes = args.timeframes ?? TIMEFRAMES;
  const { key, day } = args;
  const inputs = await inputsFor(lake, key, day);
  if (inputs.trades.length === 0) return { status: 'empty', paths: [] };
  const prevClose = await previousClose(lake, key, day);
  const { sha, lineage } = fingerprintOf(inputs, prevClose);
  const existing = new Map(
    (
      await lake.catalog.listFiles({
        dataset: PROCESSED_CANDLES,
        instrumentKey: key,
        fromDay: day,
        toDay: day,
      })
    ).map((f) => [f.path, f]),
  );
  const stale: Timeframe[] = [];
  for (const tf of timeframes) {
    const rec = existing.get(candlesPath(day, tf, key));
    const fresh =
      rec !== undefined && rec.sourceChecksum === sha && (await lake.storage.stat(rec.path)) !== null;
    if (args.force || !fresh) stale.push(tf);
  }
  if (stale.length === 0) return { status: 'skipped', paths: [] };

  const trades = await readDay(lake, 'trades', key, day, ['timestamp', 'price', 'amount', 'side']);
  if (trades.length === 0) return { status: 'empty', paths: [] };
  const quoteBatches = inputs.quoteType
    ? [
        await readDay(lake, inputs.quoteType, key, day, [
          'timestamp',
          'bid_price',
          'bid_amount',
          'ask_price',
          'ask_amount',
        ]),
      ]
    : [];
  const bars = computeCandles(trades, { timeframes, prevClose, quoteBatches });
  const generated = [...inputs.trades, ...inputs.quotes].some((f) => f.generated);
  const staged: StagedFile[] = [];
  try {
    for (const tf of stale) {
      const batch = bars.get(tf);
      if (!batch) continue;
      staged.push(
        await stageLakeFile([batch], {
          storage: lake.storage,
          path: candlesPath(day, tf, key),
          schema: CANDLE_SCHEMA,
          codec: lake.config.ingest.compression,
          zstdLevel: lake.config.ingest.zstdLevel,
          footer: {
            dataset: PROCESSED_CANDLES,
            dataType: tf,
            schemaVersion: CANDLE_SCHEMA_VERSION,
            instrumentKey: key,
            day,
            vendor: null,
            vendorExchange: inputs.trades[0]!.vendorExchange,
            vendorSymbol: inputs.trades[0]!.vendorSymbol,
            sourceUrl: null,
            sourceSha256: sha,
            sourceBytes: null,
            generated,
            sortedBy: ['timestamp'],
            lineage,
          },
          sortingColumns: ['timestamp'],
        }),
      );
    }
  } catch (err) {
    for (const s of staged) await s.pending.abort().catch(() => {});
    throw err;
  }
  for (const s of staged) await publishStaged(lake.catalog, s);
  const paths = staged.map((s) => s.path);
  await lake.catalog.commitFiles(paths);
  return { status: 'built', paths };
}

/** (key, day) pairs in the range that have raw trades or book data, ordered by key then day. */
async function plan(lake: Lake, req: BuildCandlesRequest, withBooks: boolean): Promise<[string, Day][]> {
  const from = parseDay(req.from, '--from');
  const to = parseDay(req.to ?? req.from, '--to');
  daysInclusive(from, to);
  const types = withBooks ? ['trades', ...BOOK_TYPES] : ['trades'];
  const pairs = new Map<string, [string, Day]>();
  for (const dataType of types) {
    for (const f of await lake.catalog.listFiles({
      dataset: RAW_TICK_DATA,
      dataType,
      fromDay: from,
      toDay: to,
    })) {
      if (!f.instrumentKey || !f.day || f.rows === 0) continue;
      if (req.keys && req.keys.length > 0 && !req.keys.includes(f.instrumentKey)) continue;
      if (req.exchange && f.vendorExchange !== req.exchange) continue;
      pairs.set(`${f.instrumentKey}\u0000${f.day}`, [f.instrumentKey, f.day]);
    }
  }
  return [...pairs.values()].sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
}

/** Build candles (and book snapshots) for every (key, day) with data in `[from, to]`. */
export async function buildCandles(lake: Lake, req: BuildCandlesRequest): Promise<BuildCandlesSummary> {
  const timeframes = req.timeframes ?? TIMEFRAMES;
  if (timeframes.length === 0)
    throw new UsageError('no timeframes to build', { hint: `use some of ${TIMEFRAMES.join(', ')}` });
  const withBooks = req.books ?? true;
  for (const k of req.keys ?? []) parseInstrumentKey(k);
  const summary: BuildCandlesSummary = {
    built: 0,
    skipped: 0,
    empty: 0,
    files: 0,
    bookFiles: 0,
    crossed: 0,
    paths: [],
  };
  for (const [key, day] of await plan(lake, req, withBooks)) {
    const r = await buildCandlesForDay(lake, { key, day, timeframes, force: req.force });
    summary[r.status]++;
    summary.files += r.paths.length;
    summary.paths.push(...r.paths);
    if (withBooks) {
      const b = await buildBookSnapshotsForDay(lake, { key, day, timeframes });
      if (b) {
        summary.bookFiles += b.paths.length;
        summary.crossed += b.crossed;
        summary.paths.push(...b.paths);
      }
    }
    req.onProgress?.({ key, day, status: r.status, files: r.paths.length });
  }
  return summary;
}
