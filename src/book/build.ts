/**
 * Book snapshots for one instrument/day: pick the best book source in the catalog
 * (incremental_book_L2 > book_snapshot_25 > book_snapshot_5), rebuild the book row group by row
 * group in feed order (bounded memory; feed-order.ts), and publish one Parquet file per timeframe
 * through the write protocol (`processed_book_snapshots/by_date/day=D/timeframe=TF/KEY.parquet`).
 *
 * Incremental: each file's footer lineage lists the input file (lake path, sha256, bytes) and a
 * `ticklake:params?…` entry (source data type, levels, timeframe, schema version); a timeframe whose
 * published file has the same lineage and code version is not rebuilt. The footer's `data_type` is
 * the timeframe; `book_source` and `book_levels` say which source and how many levels.
 */
import { createHash } from 'node:crypto';
import type { FileRecord } from '../catalog/types.js';
import { type Timeframe, TIMEFRAMES } from '../candles/timeframes.js';
import type { ColumnBatch, Int32Column } from '../columns/types.js';
import { UsageError } from '../errors.js';
import { parseInstrumentKey } from '../keys/key.js';
import { decodeFooter, type LineageInput } from '../lake/footer.js';
import type { Lake } from '../lake/lake.js';
import { bookSnapshotsPath, PROCESSED_BOOK_SNAPSHOTS, RAW_TICK_DATA } from '../lake/layout.js';
import { publishStaged, type StagedFile, stageLakeFile } from '../lake/publish.js';
import { ParquetReader } from '../parquet/reader.js';
import { parseDay } from '../util/time.js';
import { VERSION } from '../version.js';
import { feedLag, feedOrder } from './feed-order.js';
import { BookSnapshotEngine, checkLevels, DEFAULT_BOOK_LEVELS } from './snapshots.js';

/** Schema version of processed book snapshot files. */
export const BOOK_SNAPSHOTS_SCHEMA_VERSION = 1;

/** Book sources, best first. */
export const BOOK_SOURCES = ['incremental_book_L2', 'book_snapshot_25', 'book_snapshot_5'] as const;
export type BookSource = (typeof BOOK_SOURCES)[number];

/** The best book source file for a key/day, or null when the catalog has none. */
export async function findBookSource(
  lake: Lake,
  key: string,
  day: string,
): Promise<{ source: BookSource; file: FileRecord } | null> {
  for (const source of BOOK_SOURCES) {
    const files = await lake.catalog.listFiles({
      dataset: RAW_TICK_DATA,
      dataType: source,
      instrumentKey: key,
      fromDay: day,
      toDay: day,
    });
    const file = files.find((f) => f.day === day && f.rows > 0);
    if (file) return { source, file };
  }
  return null;
}

/** The footer lineage of one output file. */
export function bookLineage(
  source: BookSource,
  file: FileRecord,
  levels: number,
  tf: Timeframe,
): LineageInput[] {
  const params = `ticklake:params?dataset=book_snapshots&schema=${BOOK_SNAPSHOTS_SCHEMA_VERSION}&source=${source}&levels=${levels}&timeframe=${tf}`;
  return [
    { url: file.path, sha256: file.checksum, bytes: file.bytes },
    { url: params, sha256: createHash('sha256').update(params).digest('hex'), bytes: 0 },
  ];
}

/** True when the published file at `path` exists, is recorded, and has this lineage and code version. */
async function upToDate(lake: Lake, path: string, lineage: readonly LineageInput[]): Promise<boolean> {
  const rec = await lake.catalog.getFile(path);
  if (!rec || rec.codeVersion !== VERSION) return false;
  const info = await lake.storage.stat(path);
  if (!info || info.size !== rec.bytes) return false;
  const src = await lake.storage.openRead(path);
  try {
    const reader = await ParquetReader.open(src, path);
    const footer = decodeFooter(reader.metadata.keyValueMetadata);
    return (
      footer !== null &&
      footer.codeVersion === VERSION &&
      JSON.stringify(footer.lineage) === JSON.stringify(lineage)
    );
  } catch {
    return false;
  } finally {
    await src.close();
  }
}

/**
 * Crossed bucket ends recorded in a published file (rows with `crossed > 0`). For the finest requested
 * timeframe this equals the engine's count, so an up-to-date day reports it without rebuilding.
 */
async function crossedIn(lake: Lake, path: string): Promise<number> {
  let n = 0;
  for await (const b of readRowGroups(lake, path, ['crossed'])) {
    const v = (b.columns.crossed as Int32Column).values;
    for (let i = 0; i < v.length; i++) if (v[i]! > 0) n++;
  }
  return n;
}

/** Stream a lake file's row groups as batches (one row group at a time). */
async function* readRowGroups(lake: Lake, path: string, columns: string[]): AsyncGenerator<ColumnBatch> {
  const src = await lake.storage.openRead(path);
  try {
    const reader = await ParquetReader.open(src, path);
    for (let rg = 0; rg < reader.metadata.rowGroups.length; rg++) {
      yield await reader.readBatch({ columns, rowGroups: [rg] });
    }
  } finally {
    await src.close();
  }
}

export async function buildBookSnapshotsForDay(
  lake: Lake,
  args: { key: string; day: string; timeframes: readonly Timeframe[]; levels?: number },
): Promise<{ paths: string[]; crossed: number } | null> {
  parseInstrumentKey(args.key);
  const day = parseDay(args.day, 'day');
  const levels = checkLevels(args.levels ?? DEFAULT_BOOK_LEVELS);
  const tfs = TIMEFRAMES.filter((t) => args.timeframes.includes(t));
  if (tfs.length === 0 || tfs.length !== new Set(args.timeframes).size) {
    throw new UsageError(`book snapshot timeframes "${args.timeframes.join(',')}" are not valid`, {
      hint: `use one or more of ${TIMEFRAMES.join(', ')}`,
    });
  }
  const found = await findBookSource(lake, args.key, day);
  if (!found) return null;
  const { source, file } = found;
  const paths = tfs.map((tf) => bookSnapshotsPath(day, tf, args.key));
  const lineages = tfs.map((tf) => bookLineage(source, file, levels, tf));
  const stale: number[] = [];
  for (let i = 0; i < tfs.length; i++) if (!(await upToDate(lake, paths[i]!, lineages[i]!))) stale.push(i);
  if (stale.length === 0) return { paths, crossed: await crossedIn(lake, paths[0]!) };
  // One pass builds every requested timeframe; only the stale ones are published.
  const engine = new BookSnapshotEngine({ day, timeframes: tfs, levels, instrumentKey: args.key });
  if (source === 'incremental_book_L2') {
    // Replay in arrival order (feed-order.ts); one cheap pass over two columns says whether it differs.
    const lag = await feedLag(readRowGroups(lake, file.path, ['timestamp', 'local_timestamp']));
    const cols = ['timestamp', 'local_timestamp', 'is_snapshot', 'side', 'price', 'amount'];
    const rows = readRowGroups(lake, file.path, cols);
    if (lag.ordered) for await (const b of rows) engine.pushIncremental(b);
    else for await (const o of feedOrder(rows, lag.minLag)) engine.pushIncremental(o.batch, o.order);
  } else {
    const depth = source === 'book_snapshot_25' ? 25 : 5;
    const cols = ['timestamp'];
    for (let l = 0; l < Math.min(depth, levels); l++) {
      cols.push(`bid_price_${l}`, `bid_amount_${l}`, `ask_price_${l}`, `ask_amount_${l}`);
    }
    for await (const b of readRowGroups(lake, file.path, cols)) engine.pushSnapshots(b, depth);
  }
  const result = engine.finish();

  const staged: StagedFile[] = [];
  try {
    for (const i of stale) {
      const tf = tfs[i]!;
      staged.push(
        await stageLakeFile([result.batches.get(tf)!], {
          storage: lake.storage,
          path: paths[i]!,
          schema: engine.schema,
          codec: lake.config.ingest.compression,
          zstdLevel: lake.config.ingest.zstdLevel,
          rowGroupRows: lake.config.ingest.rowGroupRows,
          sortingColumns: ['timestamp'],
          footer: {
            dataset: PROCESSED_BOOK_SNAPSHOTS,
            dataType: tf,
            schemaVersion: BOOK_SNAPSHOTS_SCHEMA_VERSION,
            instrumentKey: args.key,
            day,
            vendor: file.vendor,
            vendorExchange: file.vendorExchange,
            vendorSymbol: file.vendorSymbol,
            sourceUrl: file.path,
            sourceSha256: file.checksum,
            sourceBytes: file.bytes,
            generated: file.generated,
            sortedBy: ['timestamp'],
            lineage: lineages[i]!,
            extra: { book_source: source, book_levels: String(levels) },
          },
        }),
      );
    }
    for (const s of staged) await publishStaged(lake.catalog, s);
  } catch (err) {
    for (const s of staged) await s.pending.abort().catch(() => {});
    throw err;
  }
  await lake.catalog.commitFiles(staged.map((s) => s.path));
  return { paths, crossed: result.crossed };
}
