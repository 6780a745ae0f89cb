/**
 * Book snapshots from the vendor's own book_snapshot_5 / book_snapshot_25 files (real Tardis samples,
 * binance-futures BTCUSDT 2020-09-01): the best source present is used and recorded in the footer, a
 * better source arriving later rebuilds the files, and every bucket end holds the CSV's last row
 * stamped before it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBookSnapshotsForDay } from '../../src/book/build.js';
import { timeframeMicros } from '../../src/candles/timeframes.js';
import { decodeFooter } from '../../src/lake/footer.js';
import { bookSnapshotsPath } from '../../src/lake/layout.js';
import { ParquetReader } from '../../src/parquet/reader.js';
import { dayStartMicros } from '../../src/util/time.js';
import { putVendorFile, REAL_TARDIS, realDataMissing } from '../helpers/fixtures.js';
import { type LakeEnv, lakeEnv } from '../helpers/lake.js';
import { duckBookRows, readCsvFile } from './reference.js';

const DAY = '2020-09-01';
const KEY = 'BINANCE:PERP:BTC-USDT';
const LEVELS = 10;
const csvPath = (n: number) => join(REAL_TARDIS, `binance-futures_book_snapshot_${n}_BTCUSDT_${DAY}.csv`);

/** The CSV's rows as { ts, bids, asks } (levels as [price, amount]). */
function parseSnapshotCsv(text: string, depth: number) {
  const lines = text.trim().split('\n');
  const head = lines[0]!.split(',');
  const at = (n: string) => head.indexOf(n);
  return lines.slice(1).map((l) => {
    const c = l.split(',');
    const side = (s: 'bids' | 'asks') =>
      Array.from({ length: depth }, (_, i): [number, number] => [
        Number(c[at(`${s}[${i}].price`)]),
        Number(c[at(`${s}[${i}].amount`)]),
      ]);
    return { ts: Number(c[at('timestamp')]), bids: side('bids'), asks: side('asks') };
  });
}

async function footerOf(path: string) {
  const src = await env.lake.storage.openRead(path);
  try {
    return decodeFooter((await ParquetReader.open(src)).metadata.keyValueMetadata)!;
  } finally {
    await src.close();
  }
}

async function expectMatchesCsv(depth: number): Promise<void> {
  const rows = parseSnapshotCsv(readCsvFile(csvPath(depth)), depth);
  const d0 = dayStartMicros(DAY);
  for (const tf of ['15s', '1h'] as const) {
    const w = timeframeMicros(tf);
    const got = await duckBookRows(join(env.lakeDir, bookSnapshotsPath(DAY, tf, KEY)), LEVELS);
    // Every bucket from the one holding the first row to the end of the day.
    expect(got.length).toBe(86_400_000_000 / w - Math.floor((rows[0]!.ts - d0) / w));
    const expected = got.map((r) => {
      const end = (r.ts as number) + w;
      const last = rows.filter((x) => x.ts < end).at(-1)!;
      const o: Record<string, unknown> = { ts: r.ts, book_ts: last.ts };
      for (let i = 0; i < LEVELS; i++) {
        o[`bid_price_${i}`] = i < depth ? last.bids[i]![0] : null;
        o[`bid_amount_${i}`] = i < depth ? last.bids[i]![1] : null;
        o[`ask_price_${i}`] = i < depth ? last.asks[i]![0] : null;
        o[`ask_amount_${i}`] = i < depth ? last.asks[i]![1] : null;
      }
      const [b, a] = [last.bids[0]!, last.asks[0]!];
      o.mid = (b[0] + a[0]) / 2;
      o.spread = a[0] - b[0];
      o.imbalance = (b[1] - a[1]) / (b[1] + a[1]);
      o.crossed = 0;
      o.instrument_key = KEY;
      return o;
    });
    expect(got[0]!.ts).toBe(Math.floor((rows[0]!.ts - d0) / w) * w + d0);
    expect(got).toEqual(expected);
  }
}

let env: LakeEnv;

describe.skipIf(realDataMissing !== null)(
  'book snapshots from real book_snapshot_5/25 (binance-futures BTCUSDT)',
  () => {
    beforeAll(async () => {
      env = await lakeEnv(async (dir) => {
        for (const n of [5, 25]) {
          await putVendorFile(
            dir,
            'binance-futures',
            `book_snapshot_${n}`,
            DAY,
            'BTCUSDT',
            readCsvFile(csvPath(n)),
          );
        }
      });
    }, 60_000);

    afterAll(async () => {
      await env?.close();
    });

    const ingest = async (dataType: string) => {
      const s = await env.lake.ingest({
        exchange: 'binance-futures',
        dataTypes: [dataType],
        symbols: ['BTCUSDT'],
        from: DAY,
        to: DAY,
      });
      expect(s.failed).toBe(0);
    };

    it('uses book_snapshot_5 when it is the only source (levels past 5 are null)', async () => {
      await ingest('book_snapshot_5');
      const res = await buildBookSnapshotsForDay(env.lake, {
        key: KEY,
        day: DAY,
        timeframes: ['1h', '15s'],
        levels: LEVELS,
      });
      expect(res!.paths).toEqual([bookSnapshotsPath(DAY, '15s', KEY), bookSnapshotsPath(DAY, '1h', KEY)]);
      expect(res!.crossed).toBe(0);
      const f = await footerOf(bookSnapshotsPath(DAY, '1h', KEY));
      expect(f.lineage[0]!.url).toContain('data_type=book_snapshot_5/');
      expect(f.lineage[1]!.url).toContain('source=book_snapshot_5&');
      expect(f.extra?.book_source).toBe('book_snapshot_5');
      expect(f.vendorExchange).toBe('binance-futures');
      await expectMatchesCsv(5);
    });

    it('switches to book_snapshot_25 once it is in the lake (new lineage → rebuilt)', async () => {
      await ingest('book_snapshot_25');
      await buildBookSnapshotsForDay(env.lake, {
        key: KEY,
        day: DAY,
        timeframes: ['15s', '1h'],
        levels: LEVELS,
      });
      const f = await footerOf(bookSnapshotsPath(DAY, '15s', KEY));
      expect(f.lineage[1]!.url).toContain('source=book_snapshot_25&');
      expect(f.extra?.book_source).toBe('book_snapshot_25');
      await expectMatchesCsv(25);
    });
  },
);
