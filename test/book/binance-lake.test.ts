/**
 * Real Binance depth streams through the whole lake path. Three of the real WebSocket captures hold a
 * REST depth snapshot (`lastUpdateId`, 1000 levels a side) besides the diffs; they are turned into
 * Tardis incremental_book_L2 CSV the way Tardis does it — the snapshot (is_snapshot=true) placed right
 * before the first diff it needs (`U ≤ lastUpdateId ≤ u`), stale diffs after it (`u < lastUpdateId`)
 * dropped, diffs received before it kept as plain rows (the book rebuild must skip them: before the
 * first snapshot). Then:
 *
 * 1. replaying that CSV with the lake's OrderBook matches every bookTicker aligned exactly by update id,
 *    from the very first diff (with a snapshot there is no warm-up);
 * 2. ingest + `buildBookSnapshotsForDay` + DuckDB equals the independent Map rebuild at every bucket end;
 * 3. at bucket ends whose last applied diff has a bookTicker with the same update id, the published
 *    best bid/ask equals the exchange's.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASK, BID, OrderBook } from '../../src/book/book.js';
import { buildBookSnapshotsForDay } from '../../src/book/build.js';
import { timeframeMicros } from '../../src/candles/timeframes.js';
import { bookSnapshotsPath } from '../../src/lake/layout.js';
import { dayStartMicros } from '../../src/util/time.js';
import { putVendorFile, REAL_DATA } from '../helpers/fixtures.js';
import { type LakeEnv, lakeEnv } from '../helpers/lake.js';
import { type BookTicker, type DepthDiff, readCapture } from './binance-capture.js';
import { duckBookRows, expectedRow, parseL2Csv, referenceSnapshots } from './reference.js';

const WS_DIR = join(REAL_DATA, 'binance', 'ws_capture');
const missing = existsSync(WS_DIR) ? null : `Binance ws captures not found at ${WS_DIR}: skipping`;
const LEVELS = 10;

interface Capture {
  file: string;
  exchange: string;
  symbol: string;
  key: string;
  day: string;
  /** Receive time unit → µs. */
  recvDiv: number;
}

const CAPTURES: Capture[] = [
  {
    file: 'usdm_btcusdt_20240808.gz',
    exchange: 'binance-futures',
    symbol: 'BTCUSDT',
    key: 'BINANCE:PERP:BTC-USDT',
    day: '2024-08-08',
    recvDiv: 1000,
  },
  {
    file: 'cm_btcusd_perp_20240808.gz',
    exchange: 'binance-delivery',
    symbol: 'BTCUSD_PERP',
    key: 'BINANCE:PERP:BTC-USD',
    day: '2024-08-08',
    recvDiv: 1000,
  },
  {
    file: 'usdm_btcusdt_20230404.dat.gz',
    exchange: 'binance-futures',
    symbol: 'BTCUSDT',
    key: 'BINANCE:PERP:BTC-USDT',
    day: '2023-04-04',
    recvDiv: 1,
  },
];

interface Converted {
  csv: string;
  /** Diffs in CSV order with their exchange timestamp (µs); `applied` false = before the snapshot. */
  diffs: { ts: number; u: number; applied: boolean }[];
  tickers: BookTicker[];
  skippedRows: number;
  staleDiffs: number;
}

/** A capture → Tardis incremental_book_L2 CSV text (see the header comment). */
function toTardisL2(c: Capture): Converted {
  const items = readCapture(join(WS_DIR, c.file));
  const snap = items.find((x) => x.kind === 'snapshot');
  if (snap?.kind !== 'snapshot') throw new Error(`${c.file}: no REST snapshot`);
  const last = snap.data.lastUpdateId;
  const first = items.findIndex((x) => x.kind === 'diff' && x.data.U <= last && x.data.u >= last);
  if (first < 0) throw new Error(`${c.file}: no diff bridges the snapshot`);
  const lines = ['exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount'];
  const row = (ts: number, local: number, snapshot: boolean, side: string, [p, q]: [string, string]) =>
    lines.push(`${c.exchange},${c.symbol},${ts},${local},${snapshot},${side},${p},${q}`);
  const out: Converted = { csv: '', diffs: [], tickers: [], skippedRows: 0, staleDiffs: 0 };
  items.forEach((x, i) => {
    if (x.kind === 'ticker') out.tickers.push(x.data);
    if (x.kind !== 'diff') return;
    const d: DepthDiff = x.data;
    const ts = d.E * 1000;
    const local = Math.floor(x.recv / c.recvDiv);
    if (i === first) {
      const sts = (snap.data.E ?? d.E) * 1000;
      for (const l of snap.data.bids) row(sts, local, true, 'bid', l);
      for (const l of snap.data.asks) row(sts, local, true, 'ask', l);
    } else if (i > first && d.u < last) {
      out.staleDiffs++;
      return;
    }
    if (i < first) out.skippedRows += d.b.length + d.a.length;
    for (const l of d.b) row(ts, local, false, 'bid', l);
    for (const l of d.a) row(ts, local, false, 'ask', l);
    out.diffs.push({ ts, u: d.u, applied: i >= first });
  });
  out.csv = `${lines.join('\n')}\n`;
  return out;
}

const same = (book: OrderBook, t: BookTicker) =>
  book.bestBid() === Number(t.b) &&
  book.bestAsk() === Number(t.a) &&
  book.bids.amount(0) === Number(t.B) &&
  book.asks.amount(0) === Number(t.A);

describe.skipIf(missing !== null)('real Binance depth (snapshot + diffs) through the lake', () => {
  const converted = new Map<string, Converted>();
  let env: LakeEnv;

  beforeAll(async () => {
    for (const c of CAPTURES) converted.set(c.file, toTardisL2(c));
    env = await lakeEnv(async (dir) => {
      for (const c of CAPTURES) {
        await putVendorFile(
          dir,
          c.exchange,
          'incremental_book_L2',
          c.day,
          c.symbol,
          converted.get(c.file)!.csv,
        );
      }
    });
    for (const c of CAPTURES) {
      const s = await env.lake.ingest({
        exchange: c.exchange,
        dataTypes: ['incremental_book_L2'],
        symbols: [c.symbol],
        from: c.day,
        to: c.day,
      });
      expect(s.failed).toBe(0);
    }
  }, 60_000);

  afterAll(async () => {
    await env?.close();
  });

  it('the snapshot + diffs book matches every exactly aligned bookTicker, with no warm-up', () => {
    for (const c of CAPTURES) {
      const conv = converted.get(c.file)!;
      const tickers = new Map<number, BookTicker[]>();
      for (const t of conv.tickers) tickers.set(t.u, [...(tickers.get(t.u) ?? []), t]);
      const book = new OrderBook();
      let prevSnap = false;
      let started = false;
      let lastTs = -1;
      let lastLocal = -1;
      let compared = 0;
      let agree = 0;
      let diff = 0;
      // Replay the CSV rows; at each diff end (the next row belongs to another message) look up tickers.
      const rows = conv.csv.trim().split('\n').slice(1);
      rows.forEach((line, i) => {
        const [, , ts, local, snap, side, p, q] = line.split(',');
        const isSnap = snap === 'true';
        if (isSnap && !prevSnap) {
          book.clear();
          started = true;
        }
        prevSnap = isSnap;
        if (started) book.set(side === 'bid' ? BID : ASK, Number(p), Number(q));
        lastTs = Number(ts);
        lastLocal = Number(local);
        const next = rows[i + 1]?.split(',');
        const endOfMessage =
          !next || Number(next[2]) !== lastTs || Number(next[3]) !== lastLocal || next[4] !== snap;
        if (!endOfMessage || isSnap) return;
        const d = conv.diffs[diff++]!;
        if (!d.applied) return;
        for (const t of tickers.get(d.u) ?? []) {
          compared++;
          if (same(book, t)) agree++;
        }
      });
      expect(diff).toBe(conv.diffs.length);
      console.log(
        `${c.file}: snapshot + ${conv.diffs.filter((d) => d.applied).length} diffs (${conv.staleDiffs} stale dropped, ` +
          `${conv.skippedRows} rows before the snapshot): ${agree}/${compared} exactly aligned bookTickers agree`,
      );
      expect(compared).toBeGreaterThan(200);
      expect(agree).toBe(compared);
    }
  });

  it('published snapshots equal the independent rebuild and the exchange at aligned bucket ends', async () => {
    for (const c of CAPTURES) {
      const conv = converted.get(c.file)!;
      const res = await buildBookSnapshotsForDay(env.lake, {
        key: c.key,
        day: c.day,
        timeframes: ['15s', '1m', '5m'],
        levels: LEVELS,
      });
      expect(res!.crossed).toBe(0);
      const d0 = dayStartMicros(c.day);
      const ref = referenceSnapshots(parseL2Csv(conv.csv), d0, timeframeMicros('15s'), LEVELS);
      const tickers = new Map(conv.tickers.map((t) => [t.u, t]));
      let aligned = 0;
      for (const tf of ['15s', '1m', '5m'] as const) {
        const w = timeframeMicros(tf);
        const expected = ref
          .filter((s) => (s.end - d0) % w === 0)
          .map((s) => ({ ...expectedRow(s, w, LEVELS), instrument_key: c.key }));
        const got = await duckBookRows(join(env.lakeDir, bookSnapshotsPath(c.day, tf, c.key)), LEVELS);
        expect(got, `${c.file} ${tf}`).toEqual(expected);
        if (tf !== '15s') continue;
        for (const r of got) {
          const end = (r.ts as number) + w;
          const lastDiff = conv.diffs.filter((d) => d.applied && d.ts < end).at(-1);
          const t = lastDiff && tickers.get(lastDiff.u);
          if (!t) continue;
          aligned++;
          expect([r.bid_price_0, r.bid_amount_0, r.ask_price_0, r.ask_amount_0]).toEqual(
            [t.b, t.B, t.a, t.A].map(Number),
          );
        }
      }
      console.log(
        `${c.file}: ${ref.length} 15 s bucket ends equal the Map rebuild; ${aligned} of them aligned with a bookTicker and equal to it`,
      );
    }
  });
});
