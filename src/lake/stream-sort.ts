/**
 * Streaming sort by timestamp for nearly-sorted input, so Parquet writing overlaps decoding.
 *
 * Vendor files arrive in receive-time order and exchange time is only locally out of order, so a
 * small sliding window is enough: each pushed batch is sorted (stably), merged behind the rows still
 * held back, and every held row older than the new batch's earliest timestamp (the *watermark*) is
 * released in order. A row that arrives older than a row already released would need to go back in
 * time: that is a `SpeculationFailedError`, and the caller redoes the file with the external sorter
 * (`sort.ts`), which handles any order. When no row is late, the output is exactly the stable sort of
 * the input (ties keep arrival order), so both paths write the same bytes.
 *
 * Memory: the held-back window (about one batch) plus at most `maxQueued` released batches waiting
 * for the writer; `push` waits while the writer is behind.
 */
import { concatBatches, lowerBound, sliceBatch, takeBatch } from '../columns/ops.js';
import type { ColumnBatch, TimestampColumn } from '../columns/types.js';
import { keyColumnsOf, sortPermutation } from './sort-keys.js';

const NO_RANKS: ReadonlyMap<string, Int32Array> = new Map();

/** A row arrived earlier than rows already written: the streaming sort cannot place it. */
export class SpeculationFailedError extends Error {
  constructor(
    readonly lateTs: number,
    readonly releasedTs: number,
  ) {
    super(`row at ${lateTs} µs arrived after rows up to ${releasedTs} µs were released`);
    this.name = 'SpeculationFailedError';
  }
}

export interface StreamingSorterOptions {
  /** Released batches waiting for the consumer before `push` waits (default 4). */
  maxQueued?: number;
}

export class StreamingSorter {
  private held: ColumnBatch | null = null;
  private released = Number.NEGATIVE_INFINITY;
  private readonly queue: ColumnBatch[] = [];
  private ended = false;
  private error: unknown = null;
  private wakeConsumer: (() => void) | null = null;
  private wakeProducer: (() => void) | null = null;
  private readonly maxQueued: number;
  rows = 0;
  /** True once a late row made the window sort impossible (the caller redoes the file). */
  speculationFailed = false;

  constructor(options: StreamingSorterOptions = {}) {
    this.maxQueued = options.maxQueued ?? 4;
  }

  async push(batch: ColumnBatch): Promise<void> {
    if (this.error) throw this.error;
    if (batch.length === 0) return;
    const ts = (batch.columns.timestamp as TimestampColumn).values;
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < ts.length; i++) if (ts[i]! < min) min = ts[i]!;
    if (min < this.released) {
      const err = new SpeculationFailedError(min, this.released);
      this.speculationFailed = true;
      this.fail(err);
      throw err;
    }
    this.rows += batch.length;
    const perm =
      nearlySortedPermutation(ts) ??
      sortPermutation(keyColumnsOf(batch, ['timestamp'], NO_RANKS), batch.length);
    const sorted = perm === null ? batch : takeBatch(batch, perm);
    // Held rows older than this batch go out as they are (a view, no copy); only the held rows that
    // interleave with the new batch — usually none or a few — are merged with it.
    let tail = this.held;
    if (tail !== null) {
      const hts = (tail.columns.timestamp as TimestampColumn).values;
      const older = lowerBound(hts, min);
      if (older > 0) {
        this.released = hts[older - 1]!;
        this.enqueue(sliceBatch(tail, 0, older));
      }
      tail = older === tail.length ? null : older === 0 ? tail : sliceBatch(tail, older, tail.length);
    }
    const merged = tail === null ? sorted : mergeStable(tail, sorted);
    // Release everything strictly older than the earliest row just pushed.
    const mts = (merged.columns.timestamp as TimestampColumn).values;
    const cut = lowerBound(mts, min);
    if (cut > 0) {
      this.released = mts[cut - 1]!;
      this.enqueue(sliceBatch(merged, 0, cut));
    }
    this.held = cut === merged.length ? null : cut === 0 ? merged : sliceBatch(merged, cut, merged.length);
    while (this.queue.length >= this.maxQueued && !this.error) {
      await new Promise<void>((resolve) => {
        this.wakeProducer = resolve;
      });
    }
    if (this.error) throw this.error;
  }

  /** No more input: release what is held. */
  end(): void {
    if (this.held) this.enqueue(this.held);
    this.held = null;
    this.ended = true;
    this.wake();
  }

  /** Stop with an error: the consumer's iteration throws it. */
  fail(err: unknown): void {
    this.error ??= err;
    this.wake();
  }

  async *output(): AsyncGenerator<ColumnBatch> {
    while (true) {
      if (this.error) throw this.error;
      const b = this.queue.shift();
      if (b) {
        this.wakeProducer?.();
        this.wakeProducer = null;
        yield b;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wakeConsumer = resolve;
      });
    }
  }

  private enqueue(b: ColumnBatch): void {
    this.queue.push(b);
    this.wakeConsumer?.();
    this.wakeConsumer = null;
  }

  private wake(): void {
    this.wakeConsumer?.();
    this.wakeConsumer = null;
    this.wakeProducer?.();
    this.wakeProducer = null;
  }
}

/**
 * Stable sort permutation by insertion sort, for input that is almost in order (the common case:
 * a few rows displaced by a few positions). Gives up (null) once it has moved more than `n` rows'
 * worth of positions, so a badly ordered batch costs O(n) here before the general sort takes over.
 * Also null when the input is already sorted (no permutation needed).
 */
export function nearlySortedPermutation(ts: Float64Array): Uint32Array | null {
  const n = ts.length;
  let firstDrop = -1;
  for (let i = 1; i < n; i++) {
    if (ts[i]! < ts[i - 1]!) {
      firstDrop = i;
      break;
    }
  }
  if (firstDrop < 0) return null;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  let budget = n;
  for (let i = firstDrop; i < n; i++) {
    const cur = idx[i]!;
    const t = ts[cur]!;
    let j = i;
    // Strict `>` keeps equal timestamps in arrival order (stable).
    while (j > 0 && ts[idx[j - 1]!]! > t) {
      idx[j] = idx[j - 1]!;
      j--;
    }
    idx[j] = cur;
    budget -= i - j;
    if (budget < 0) return null;
  }
  return idx;
}

/** Merge two batches sorted by timestamp; on ties rows of `a` (earlier arrivals) come first. */
function mergeStable(a: ColumnBatch, b: ColumnBatch): ColumnBatch {
  const at = (a.columns.timestamp as TimestampColumn).values;
  const bt = (b.columns.timestamp as TimestampColumn).values;
  const both = concatBatches([a, b]);
  const n = at.length + bt.length;
  const idx = new Uint32Array(n);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < at.length && j < bt.length) idx[k++] = bt[j]! < at[i]! ? at.length + j++ : i++;
  while (i < at.length) idx[k++] = i++;
  while (j < bt.length) idx[k++] = at.length + j++;
  return takeBatch(both, idx);
}
