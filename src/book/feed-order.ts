/**
 * Feed order for book rebuilds. Raw lake files are sorted by exchange `timestamp`, but a book must be
 * replayed in the order the messages arrived (the vendor's `local_timestamp` order): when exchange
 * clocks jitter, timestamp order can put a level's removal before its insertion and leave a stale
 * level that crosses the book for the rest of the day.
 *
 * `feedOrder` restores arrival order with bounded memory: rows are sorted by (local_timestamp, position
 * in the file), and a row is released once no later row of the file can arrive before it. With
 * `minLag` = min(local_timestamp − timestamp) over the file (one cheap pass over two columns), every
 * row not yet read has `local_timestamp ≥ timestamp ≥ t_read + minLag`, so buffered rows with
 * `local_timestamp < t_read + minLag` are final. The buffer holds about one latency window of rows.
 * Rows of one message share both timestamps, so they keep their order.
 */
import { concatBatches, sliceBatch, takeBatch } from '../columns/ops.js';
import type { ColumnBatch, TimestampColumn } from '../columns/types.js';

/** min(local_timestamp − timestamp) and whether local_timestamp is already non-decreasing. */
export async function feedLag(
  batches: AsyncIterable<ColumnBatch>,
): Promise<{ minLag: number; ordered: boolean }> {
  let minLag = Number.POSITIVE_INFINITY;
  let prev = Number.NEGATIVE_INFINITY;
  let ordered = true;
  for await (const b of batches) {
    const ts = (b.columns.timestamp as TimestampColumn).values;
    const lts = (b.columns.local_timestamp as TimestampColumn).values;
    for (let i = 0; i < b.length; i++) {
      const l = lts[i]!;
      const lag = l - ts[i]!;
      if (lag < minLag) minLag = lag;
      if (l < prev) ordered = false;
      prev = l;
    }
  }
  return { minLag: Number.isFinite(minLag) ? minLag : 0, ordered };
}

/** A batch and the rows to take from it, in arrival order (`order` null = all rows as they are). */
export interface OrderedBatch {
  readonly batch: ColumnBatch;
  readonly order: Uint32Array | null;
}

/**
 * Re-emit timestamp-sorted batches in arrival (local_timestamp, then file position) order. Rows are
 * not gathered: each yielded batch comes with the permutation to visit it in (the held-back window is
 * the only copy).
 */
export async function* feedOrder(
  batches: AsyncIterable<ColumnBatch>,
  minLag: number,
): AsyncGenerator<OrderedBatch> {
  let pending: ColumnBatch | null = null;
  for await (const b of batches) {
    if (b.length === 0) continue;
    const buf: ColumnBatch = pending ? concatBatches([pending, b]) : b;
    const ts = (b.columns.timestamp as TimestampColumn).values;
    const out = split(buf, ts[b.length - 1]! + minLag);
    if (out.ready) yield out.ready;
    pending = out.rest;
  }
  if (pending) {
    const { ready } = split(pending, Number.POSITIVE_INFINITY);
    if (ready) yield ready;
  }
}

/** Materialise ordered batches (tests, small inputs). */
export function gatherOrdered(o: OrderedBatch): ColumnBatch {
  return o.order ? takeBatch(o.batch, o.order) : o.batch;
}

/**
 * Row indices sorted by (local_timestamp, position). The input is nearly sorted (rows move by about
 * one latency window), so a stable insertion sort is linear in practice; when it has moved more than
 * 32 elements per row on average it gives up and sorts with a comparator instead.
 */
export function arrivalOrder(lts: Float64Array): Uint32Array {
  const n = lts.length;
  const idx = new Uint32Array(n);
  const keys = new Float64Array(n);
  let budget = 32 * n;
  for (let i = 0; i < n; i++) {
    const k = lts[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) j--;
    const moves = i - 1 - j;
    if (moves > 0) {
      budget -= moves;
      if (budget < 0) {
        const all = Array.from({ length: n }, (_, x) => x).sort((a, b) => lts[a]! - lts[b]! || a - b);
        return Uint32Array.from(all);
      }
      idx.copyWithin(j + 2, j + 1, i);
      keys.copyWithin(j + 2, j + 1, i);
    }
    idx[j + 1] = i;
    keys[j + 1] = k;
  }
  return idx;
}

/** Order `buf` by (local_timestamp, position); rows with local_timestamp < threshold are ready. */
function split(
  buf: ColumnBatch,
  threshold: number,
): { ready: OrderedBatch | null; rest: ColumnBatch | null } {
  const lts = (buf.columns.local_timestamp as TimestampColumn).values;
  const n = buf.length;
  let sorted = true;
  for (let i = 1; i < n; i++) {
    if (lts[i]! < lts[i - 1]!) {
      sorted = false;
      break;
    }
  }
  const order = sorted ? null : arrivalOrder(lts);
  // Rows before `cut` (in arrival order) are ready.
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (lts[order ? order[mid]! : mid]! < threshold) lo = mid + 1;
    else hi = mid;
  }
  const cut = lo;
  let ready: OrderedBatch | null = null;
  if (cut > 0)
    ready = { batch: buf, order: order ? order.subarray(0, cut) : cut === n ? null : identity(cut) };
  let rest: ColumnBatch | null = null;
  if (cut < n) rest = order ? takeBatch(buf, order.subarray(cut)) : sliceBatch(buf, cut, n);
  return { ready, rest };
}

function identity(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
