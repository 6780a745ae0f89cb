// Issue #5 part 3: book snapshots at all timeframes rebuilt from a generated incremental_book_L2 day,
// against the raw floor of decoding the same rows from the same Parquet file.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildBookSnapshotsForDay } from '../../dist/book/build.js';
import { TIMEFRAMES } from '../../dist/candles/timeframes.js';
import { generateTardisDataset } from '../../dist/dev/generate.js';
import { startTardisServer } from '../../dist/dev/tardis-server.js';
import { openLake } from '../../dist/lake/lake.js';
import { ParquetReader } from '../../dist/parquet/reader.js';
import { DAY, log, QUICK, TMP, time } from '../lib.mjs';

const ROWS = QUICK ? 1_000_000 : 5_000_000;
const KEY = 'DERIBIT:PERP:BTC-USD';

export const notes = [
  `Book snapshots: a generated (labelled generated) Deribit BTC-PERPETUAL incremental_book_L2 day of ${ROWS.toLocaleString()} rows; ticklake reads the raw Parquet row group by row group, rebuilds the book (sorted typed-array levels) and writes 10-level snapshots for all 7 timeframes (15s … 24h) through the write protocol (stage, verify, catalog). The reference is the raw floor: decoding the same six columns of the same Parquet file row group by row group (ParquetReader, no read cache), no book work. Generated exchange clocks jitter, so the build also restores arrival order (feed-order.ts) — real days whose local_timestamp is already in order skip that step.`,
];

async function ensureL2() {
  const dir = join(TMP, 'vendor');
  const path = join(dir, 'deribit', 'incremental_book_L2', '2024', '08', '01', 'BTC-PERPETUAL.csv.gz');
  const sidecar = `${path}.generated.json`;
  if (!(existsSync(sidecar) && JSON.parse(readFileSync(sidecar, 'utf8')).rows === ROWS)) {
    log(
      `generating ${ROWS.toLocaleString()} incremental_book_L2 rows (generated data, cached in bench/tmp)…`,
    );
    await generateTardisDataset({
      dir,
      exchange: 'deribit',
      dataType: 'incremental_book_L2',
      symbol: 'BTC-PERPETUAL',
      day: DAY,
      rows: ROWS,
      seed: 35,
    });
  }
  return dir;
}

export async function bench() {
  const vendorDir = await ensureL2();
  const lakeDir = join(TMP, 'lake-book');
  rmSync(lakeDir, { recursive: true, force: true });
  const server = await startTardisServer({ dir: vendorDir, port: 0 });
  const lake = await openLake({ root: lakeDir, config: { tardis: { datasetsUrl: server.url } } });
  try {
    await lake.ingest({
      exchange: 'deribit',
      dataTypes: ['incremental_book_L2'],
      symbols: ['BTC-PERPETUAL'],
      from: DAY,
      to: DAY,
    });
    // Raw floor: decode the same columns of the same file, row group by row group, straight from
    // storage (no read cache), doing nothing with them.
    const [file] = await lake.files({ dataType: 'incremental_book_L2', instrumentKey: KEY });
    const cols = ['timestamp', 'local_timestamp', 'is_snapshot', 'side', 'price', 'amount'];
    const readMs = await time(async () => {
      const src = await lake.storage.openRead(file.path);
      try {
        const reader = await ParquetReader.open(src, file.path);
        let n = 0;
        for (let rg = 0; rg < reader.metadata.rowGroups.length; rg++) {
          n += (await reader.readBatch({ columns: cols, rowGroups: [rg] })).length;
        }
        if (n !== ROWS) throw new Error(`read ${n} rows`);
      } finally {
        await src.close();
      }
    }, 3);
    let crossed = 0;
    const buildMs = await time(async () => {
      // Remove the outputs so every run rebuilds (an unchanged input is otherwise skipped).
      rmSync(join(lakeDir, 'processed_book_snapshots'), { recursive: true, force: true });
      const res = await buildBookSnapshotsForDay(lake, {
        key: KEY,
        day: DAY,
        timeframes: TIMEFRAMES,
        levels: 10,
      });
      if (!res || res.paths.length !== TIMEFRAMES.length) throw new Error('no book snapshots');
      crossed = res.crossed;
    }, 3);
    const skipMs = await time(async () => {
      await buildBookSnapshotsForDay(lake, { key: KEY, day: DAY, timeframes: TIMEFRAMES, levels: 10 });
    }, 3);
    log(
      `book snapshots: build ${buildMs.toFixed(0)} ms, raw read ${readMs.toFixed(0)} ms, skip ${skipMs.toFixed(0)} ms, crossed ${crossed}`,
    );
    return [
      {
        what: `book snapshots, 7 timeframes × 10 levels, from a ${ROWS.toLocaleString()}-row incremental_book_L2 day`,
        ours: buildMs,
        ref: readMs,
        refName: 'raw floor: decoding the same columns of the same file',
        goal: '≤ 3',
      },
      {
        what: 'book snapshots re-run on unchanged input (lineage check, no rebuild)',
        ours: skipMs,
        ref: buildMs,
        refName: 'full rebuild',
        goal: '≤ 0.05',
      },
    ];
  } finally {
    await lake.close();
    await server.close();
  }
}
