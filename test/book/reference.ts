/**
 * An independent, deliberately plain book rebuild for tests: Tardis incremental_book_L2 CSV text →
 * rows in the vendor file's order (arrival order) → a Map per side → the top N levels at every bucket
 * end (sorting the Map's keys each time). Shares no code with src/book. A bucket end is taken just
 * before the first row whose exchange timestamp reaches it.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { duckRows, sqlString } from '../helpers/duck.js';

export interface L2Row {
  ts: number;
  snap: boolean;
  bid: boolean;
  price: number;
  amount: number;
}

/** Parse Tardis incremental_book_L2 CSV text (header + rows), in file (= arrival) order. */
export function parseL2Csv(text: string): L2Row[] {
  const lines = text.split('\n');
  const head = lines[0]!.split(',');
  const at = (n: string) => head.indexOf(n);
  const [iTs, iSnap, iSide, iPrice, iAmount] = ['timestamp', 'is_snapshot', 'side', 'price', 'amount'].map(
    at,
  );
  const rows: L2Row[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i]!.length === 0) continue;
    const c = lines[i]!.split(',');
    rows.push({
      ts: Number(c[iTs!]),
      snap: c[iSnap!] === 'true',
      bid: c[iSide!] === 'bid',
      price: Number(c[iPrice!]),
      amount: Number(c[iAmount!]),
    });
  }
  return rows;
}

export function readCsvFile(path: string): string {
  const buf = readFileSync(path);
  return (path.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
}

export interface RefSnapshot {
  /** Bucket end (µs). */
  end: number;
  bookTs: number;
  /** Levels (whole book) overlapping the other side's best price. */
  crossed: number;
  bids: [number, number][];
  asks: [number, number][];
}

/**
 * The book at every `step` bucket end of the day, from the bucket holding the first applied row.
 * A snapshot run (is_snapshot rows, one timestamp) replaces the book; rows before the first snapshot
 * are skipped; amount 0 deletes; updates with ts < end are in the book at `end`.
 */
export function referenceSnapshots(
  rows: L2Row[],
  dayStart: number,
  step: number,
  levels: number,
): RefSnapshot[] {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  const dayEnd = dayStart + 86_400_000_000;
  const out: RefSnapshot[] = [];
  let started = false;
  let prevSnapTs: number | null = null;
  let bookTs = 0;
  let end = 0;
  const top = () => {
    const b = [...bids.entries()].sort((x, y) => y[0] - x[0]);
    const a = [...asks.entries()].sort((x, y) => x[0] - y[0]);
    let crossed = 0;
    if (b.length > 0 && a.length > 0 && b[0]![0] >= a[0]![0]) {
      crossed = b.filter(([p]) => p >= a[0]![0]).length + a.filter(([p]) => p <= b[0]![0]).length;
    }
    return { crossed, bids: b.slice(0, levels), asks: a.slice(0, levels) };
  };
  let watermark = Number.NEGATIVE_INFINITY;
  for (const r of rows) {
    watermark = Math.max(watermark, r.ts);
    if (started) {
      while (end <= watermark && end <= dayEnd) {
        out.push({ end, bookTs, ...top() });
        end += step;
      }
    }
    if (watermark >= dayEnd) break;
    if (r.snap) {
      if (prevSnapTs !== r.ts) {
        bids.clear();
        asks.clear();
        prevSnapTs = r.ts;
        if (!started) {
          started = true;
          end = dayStart + (Math.floor((Math.max(r.ts, dayStart) - dayStart) / step) + 1) * step;
        }
      }
    } else {
      prevSnapTs = null;
      if (!started) continue;
    }
    const m = r.bid ? bids : asks;
    if (r.amount === 0) m.delete(r.price);
    else m.set(r.price, r.amount);
    bookTs = Math.max(bookTs, r.ts);
  }
  if (started) {
    while (end <= dayEnd) {
      out.push({ end, bookTs, ...top() });
      end += step;
    }
  }
  return out;
}

/** A published book-snapshot file read by DuckDB, ordered by timestamp (timestamps as µs numbers). */
export async function duckBookRows(file: string, levels: number): Promise<Record<string, unknown>[]> {
  const cols = ['epoch_us("timestamp") AS ts', 'epoch_us(book_ts) AS book_ts'];
  for (let i = 0; i < levels; i++)
    cols.push(`bid_price_${i}`, `bid_amount_${i}`, `ask_price_${i}`, `ask_amount_${i}`);
  cols.push('mid', 'spread', 'imbalance', 'crossed', 'instrument_key');
  return duckRows(`SELECT ${cols.join(', ')} FROM read_parquet(${sqlString(file)}) ORDER BY "timestamp"`);
}

/** The reference row for a DuckDB row: levels (null when missing), mid, spread, imbalance. */
export function expectedRow(s: RefSnapshot, width: number, levels: number): Record<string, unknown> {
  const o: Record<string, unknown> = { ts: s.end - width, book_ts: s.bookTs };
  for (let i = 0; i < levels; i++) {
    o[`bid_price_${i}`] = s.bids[i]?.[0] ?? null;
    o[`bid_amount_${i}`] = s.bids[i]?.[1] ?? null;
    o[`ask_price_${i}`] = s.asks[i]?.[0] ?? null;
    o[`ask_amount_${i}`] = s.asks[i]?.[1] ?? null;
  }
  const b = s.bids[0];
  const a = s.asks[0];
  o.mid = b && a ? (b[0] + a[0]) / 2 : null;
  o.spread = b && a ? a[0] - b[0] : null;
  o.imbalance = b && a ? (b[1] - a[1]) / (b[1] + a[1]) : null;
  o.crossed = s.crossed;
  return o;
}
