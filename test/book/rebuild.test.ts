/**
 * Book snapshots built from incremental_book_L2 in a real lake, read back by DuckDB, equal an
 * independent plain rebuild (test/book/reference.ts) at every bucket end of every timeframe — on the
 * real Deribit sample and on a generated Deribit day (labelled generated) with ~200k updates.
 * Also: engine output = published Parquet, incremental skip, lineage, no-data and bad-input errors.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBookSnapshotsForDay } from '../../src/book/build.js';
import { feedLag, feedOrder } from '../../src/book/feed-order.js';
import { BookSnapshotEngine } from '../../src/book/snapshots.js';
import { TIMEFRAMES, timeframeMicros } from '../../src/candles/timeframes.js';
import { generateTardisDataset } from '../../src/dev/generate.js';
import { decodeFooter } from '../../src/lake/footer.js';
import { bookSnapshotsPath, rawTickPath } from '../../src/lake/layout.js';
import { ParquetReader } from '../../src/parquet/reader.js';
import { dayStartMicros } from '../../src/util/time.js';
import { putVendorFile, REAL_TARDIS, realDataMissing, vendorPath } from '../helpers/fixtures.js';
import { type LakeEnv, lakeEnv } from '../helpers/lake.js';
import { duckBookRows, expectedRow, parseL2Csv, readCsvFile, referenceSnapshots } from './reference.js';

const KEY = 'DERIBIT:PERP:BTC-USD';
const REAL_DAY = '2020-04-01';
const GEN_DAY = '2024-08-01';
const REAL_CSV = join(REAL_TARDIS, 'deribit_incremental_book_L2_BTC-PERPETUAL_2020-04-01.csv');
const LEVELS = 10;
/** A hand-written day (not vendor data): a row before the snapshot, then an injected crossing ask. */
const CROSS_DAY = '2024-08-03';

/** A hand-written day with updates but no snapshot: no book, so empty files. */
const NO_SNAPSHOT_DAY = '2024-08-05';

function noSnapshotCsv(): string {
  const d0 = dayStartMicros(NO_SNAPSHOT_DAY);
  return [
    'exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount',
    `deribit,BTC-PERPETUAL,${d0 + 1000},${d0 + 2000},false,bid,100,1`,
    `deribit,BTC-PERPETUAL,${d0 + 3000},${d0 + 4000},false,ask,101,1`,
    '',
  ].join('\n');
}

function crossedCsv(): string {
  const d0 = dayStartMicros(CROSS_DAY);
  const row = (sec: number, snap: boolean, side: string, price: number, amount: number) =>
    `deribit,BTC-PERPETUAL,${d0 + sec * 1e6},${d0 + sec * 1e6 + 500},${snap},${side},${price},${amount}`;
  return [
    'exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount',
    row(0.5, false, 'bid', 50, 1), // before the first snapshot: skipped
    row(1, true, 'bid', 100, 10),
    row(1, true, 'ask', 101, 10),
    row(20, false, 'ask', 99, 5), // crosses bid 100
    row(70, false, 'ask', 99, 0), // uncrossed again
    '',
  ].join('\n');
}

let env: LakeEnv;

beforeAll(async () => {
  env = await lakeEnv(async (dir) => {
    if (!realDataMissing) {
      await putVendorFile(
        dir,
        'deribit',
        'incremental_book_L2',
        REAL_DAY,
        'BTC-PERPETUAL',
        readCsvFile(REAL_CSV),
      );
    }
    await putVendorFile(dir, 'deribit', 'incremental_book_L2', CROSS_DAY, 'BTC-PERPETUAL', crossedCsv());
    await putVendorFile(
      dir,
      'deribit',
      'incremental_book_L2',
      NO_SNAPSHOT_DAY,
      'BTC-PERPETUAL',
      noSnapshotCsv(),
    );
    await generateTardisDataset({
      dir,
      exchange: 'deribit',
      dataType: 'incremental_book_L2',
      symbol: 'BTC-PERPETUAL',
      day: GEN_DAY,
      rows: 200_000,
      seed: 35,
    });
  });
  const ingest = async (from: string, to: string) => {
    const s = await env.lake.ingest({
      exchange: 'deribit',
      dataTypes: ['incremental_book_L2'],
      symbols: ['BTC-PERPETUAL'],
      from,
      to,
    });
    expect(s.failed).toBe(0);
  };
  if (!realDataMissing) await ingest(REAL_DAY, REAL_DAY);
  await ingest(GEN_DAY, NO_SNAPSHOT_DAY);
}, 120_000);

afterAll(async () => {
  await env?.close();
});

async function checkAgainstReference(day: string, csvText: string): Promise<number> {
  const res = await buildBookSnapshotsForDay(env.lake, {
    key: KEY,
    day,
    timeframes: TIMEFRAMES,
    levels: LEVELS,
  });
  expect(res).not.toBeNull();
  expect(res!.paths).toEqual(TIMEFRAMES.map((tf) => bookSnapshotsPath(day, tf, KEY)));
  const rows = parseL2Csv(csvText);
  const ref = referenceSnapshots(rows, dayStartMicros(day), timeframeMicros('15s'), LEVELS);
  expect(ref.length).toBeGreaterThan(0);
  expect(res!.crossed).toBe(ref.filter((s) => s.crossed > 0).length);
  for (const tf of TIMEFRAMES) {
    const w = timeframeMicros(tf);
    const expected = ref
      .filter((s) => (s.end - dayStartMicros(day)) % w === 0)
      .map((s) => ({ ...expectedRow(s, w, LEVELS), instrument_key: KEY }));
    const got = await duckBookRows(join(env.lakeDir, bookSnapshotsPath(day, tf, KEY)), LEVELS);
    expect(got.length, tf).toBe(expected.length);
    expect(got, tf).toEqual(expected);
  }
  return res!.crossed;
}

describe.skipIf(realDataMissing !== null)(
  'real Deribit incremental_book_L2 (BTC-PERPETUAL 2020-04-01)',
  () => {
    it('equals an independent Map-based rebuild at every bucket end of every timeframe', async () => {
      await checkAgainstReference(REAL_DAY, readCsvFile(REAL_CSV));
      // The sample is the day's opening snapshot (asks only): the book exists from 00:00:00.245.
      const first = await duckBookRows(join(env.lakeDir, bookSnapshotsPath(REAL_DAY, '1h', KEY)), 2);
      expect(first).toHaveLength(24);
      expect(first[0]).toMatchObject({
        ask_price_0: 6421.5,
        ask_amount_0: 18640,
        bid_price_0: null,
        mid: null,
      });
    });
  },
);

describe('generated Deribit incremental_book_L2 day (generated data, 200k rows)', () => {
  it('equals an independent Map-based rebuild at every bucket end of every timeframe', async () => {
    const csv = readCsvFile(
      vendorPath(env.vendorDir, 'deribit', 'incremental_book_L2', GEN_DAY, 'BTC-PERPETUAL'),
    );
    // The generator's book never crosses in arrival order; timestamp order would cross it (stale levels).
    expect(await checkAgainstReference(GEN_DAY, csv)).toBe(0);
  }, 60_000);

  it('the published Parquet (read by DuckDB) equals the engine output', async () => {
    const src = await env.lake.storage.openRead(rawTickPath(GEN_DAY, 'incremental_book_L2', KEY));
    const engine = new BookSnapshotEngine({
      day: GEN_DAY,
      timeframes: ['1m'],
      levels: LEVELS,
      instrumentKey: KEY,
    });
    try {
      const all = await (await ParquetReader.open(src)).readBatch();
      const once = async function* () {
        yield all;
      };
      const lag = await feedLag(once());
      expect(lag.ordered).toBe(false); // generated exchange clocks jitter: feed order ≠ timestamp order
      for await (const o of feedOrder(once(), lag.minLag)) engine.pushIncremental(o.batch, o.order);
    } finally {
      await src.close();
    }
    const batch = engine.finish().batches.get('1m')!;
    const got = await duckBookRows(join(env.lakeDir, bookSnapshotsPath(GEN_DAY, '1m', KEY)), LEVELS);
    expect(got.length).toBe(batch.length);
    for (let i = 0; i < batch.length; i++) {
      for (const f of engine.schema.fields) {
        const c = batch.columns[f.name]!;
        const name = f.name === 'timestamp' ? 'ts' : f.name;
        let v: unknown;
        if (c.kind === 'dict') v = c.dictionary[c.indices[i]!];
        else if (c.kind === 'int32' || c.kind === 'float64' || c.kind === 'timestamp')
          v = c.validity && c.validity[i] === 0 ? null : c.values[i];
        expect(got[i]![name], `${f.name}[${i}]`).toBe(v);
      }
    }
  });

  it('records source and lineage in the footer and skips unchanged inputs', async () => {
    const path = bookSnapshotsPath(GEN_DAY, '5m', KEY);
    const src = await env.lake.storage.openRead(path);
    let footer: ReturnType<typeof decodeFooter>;
    try {
      footer = decodeFooter((await ParquetReader.open(src)).metadata.keyValueMetadata);
    } finally {
      await src.close();
    }
    const raw = await env.lake.catalog.getFile(rawTickPath(GEN_DAY, 'incremental_book_L2', KEY));
    expect(footer!.dataset).toBe('processed_book_snapshots');
    expect(footer!.dataType).toBe('5m');
    expect(footer!.generated).toBe(true);
    expect(footer!.lineage[0]).toEqual({ url: raw!.path, sha256: raw!.checksum, bytes: raw!.bytes });
    expect(footer!.lineage[1]!.url).toBe(
      'ticklake:params?dataset=book_snapshots&schema=1&source=incremental_book_L2&levels=10&timeframe=5m',
    );
    expect(footer!.extra).toMatchObject({ book_source: 'incremental_book_L2', book_levels: '10' });

    const before = await env.lake.catalog.getFile(path);
    const mtime = statSync(join(env.lakeDir, path)).mtimeMs;
    const again = await buildBookSnapshotsForDay(env.lake, {
      key: KEY,
      day: GEN_DAY,
      timeframes: ['5m', '1h'],
      levels: LEVELS,
    });
    expect(again!.paths).toEqual([path, bookSnapshotsPath(GEN_DAY, '1h', KEY)]);
    expect((await env.lake.catalog.getFile(path))!.createdAt).toBe(before!.createdAt);
    expect(statSync(join(env.lakeDir, path)).mtimeMs).toBe(mtime);

    // Another level count is another lineage: the file is rebuilt.
    await buildBookSnapshotsForDay(env.lake, { key: KEY, day: GEN_DAY, timeframes: ['5m'], levels: 3 });
    const after = await env.lake.catalog.getFile(path);
    expect(after!.checksum).not.toBe(before!.checksum);
    const rows = await duckBookRows(join(env.lakeDir, path), 3);
    expect(Object.keys(rows[0]!)).not.toContain('bid_price_3');
    // And back to 10 levels: rebuilt again, equal to the first build byte for byte except created_at.
    await buildBookSnapshotsForDay(env.lake, { key: KEY, day: GEN_DAY, timeframes: ['5m'], levels: LEVELS });
    expect((await env.lake.catalog.getFile(path))!.checksum).toBe(before!.checksum);
  });

  it('counts an injected crossed book, keeps it, and reports the count again on a skipped re-run', async () => {
    const args = { key: KEY, day: CROSS_DAY, timeframes: TIMEFRAMES, levels: 3 };
    const res = await buildBookSnapshotsForDay(env.lake, args);
    // 15 s ends at 00:00:30, :45 and 01:00 see the crossing ask (removed at 01:10).
    expect(res!.crossed).toBe(3);
    const fine = await duckBookRows(join(env.lakeDir, bookSnapshotsPath(CROSS_DAY, '15s', KEY)), 3);
    expect(fine.slice(0, 5).map((r) => r.crossed)).toEqual([0, 2, 2, 2, 0]);
    // The bid at 50 came before the first snapshot: skipped.
    expect(fine[0]).toMatchObject({ ts: dayStartMicros(CROSS_DAY), bid_price_0: 100, bid_price_1: null });
    expect(fine[1]).toMatchObject({
      bid_price_0: 100,
      ask_price_0: 99,
      ask_price_1: 101,
      spread: -1,
      bid_price_1: null,
    });
    const minute = await duckBookRows(join(env.lakeDir, bookSnapshotsPath(CROSS_DAY, '1m', KEY)), 3);
    expect(minute.slice(0, 2).map((r) => r.crossed)).toEqual([2, 0]);
    const again = await buildBookSnapshotsForDay(env.lake, args);
    expect(again!.crossed).toBe(3);
  });

  it('a day whose updates never start with a snapshot has no book: empty files', async () => {
    const res = await buildBookSnapshotsForDay(env.lake, {
      key: KEY,
      day: NO_SNAPSHOT_DAY,
      timeframes: ['1m', '1h'],
    });
    expect(res).toEqual({
      paths: [bookSnapshotsPath(NO_SNAPSHOT_DAY, '1m', KEY), bookSnapshotsPath(NO_SNAPSHOT_DAY, '1h', KEY)],
      crossed: 0,
    });
    for (const p of res!.paths) {
      expect(await duckBookRows(join(env.lakeDir, p), 10)).toEqual([]);
      expect((await env.lake.catalog.getFile(p))!.rows).toBe(0);
    }
  });

  it('returns null when the catalog has no book data for the key/day', async () => {
    expect(
      await buildBookSnapshotsForDay(env.lake, { key: KEY, day: '2024-08-02', timeframes: ['1m'] }),
    ).toBeNull();
    expect(
      await buildBookSnapshotsForDay(env.lake, {
        key: 'DERIBIT:PERP:ETH-USD',
        day: GEN_DAY,
        timeframes: ['1m'],
      }),
    ).toBeNull();
  });

  it('rejects bad arguments with typed errors', async () => {
    const b = (a: Partial<Parameters<typeof buildBookSnapshotsForDay>[1]>) =>
      buildBookSnapshotsForDay(env.lake, { key: KEY, day: GEN_DAY, timeframes: ['1m'], ...a });
    await expect(b({ key: 'not a key' })).rejects.toMatchObject({ code: 'INVALID_INSTRUMENT_KEY' });
    await expect(b({ day: '2024-13-01' })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(b({ timeframes: [] })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(b({ levels: 0 })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('levels'),
    });
  });
});
