/**
 * Quality metrics of one raw file (issue #4), computed from its columns in one pass each (typed arrays,
 * no object per row). Stored per file in the catalog and shown by `ticklake check quality`.
 *
 * - `rows`, `first_ts`, `last_ts`, `coverage` (share of the UTC day between the first and last row).
 * - `out_of_order`: rows whose arrival time (`local_timestamp`) is earlier than the previous row's in
 *   exchange-time order (the exchange and the recorder disagree about the order);
 *   `negative_latency`: rows stamped by the exchange after they arrived (clock skew).
 * - `duplicate_ids` (trades, liquidations): rows repeating the trade id of an earlier row with the same
 *   exchange timestamp.
 * - `non_positive`: prices or amounts ≤ 0 where the schema requires positive values.
 * - `price_outliers` (trades, liquidations; quotes/book tickers use the mid): prices further than
 *   `outlierMadThreshold` × 1.4826·MAD from the median log price of their block of `outlierWindow` rows
 *   (estimated from 101 evenly spaced values; MAD floored at 0.05% so a block of identical prices does
 *   not flag every tick).
 * - `gaps`, `max_gap_s`: intervals between consecutive rows longer than
 *   max(`minGapSeconds`, `gapFactor` × the file's 99th-percentile interval) — what the instrument's own
 *   activity makes unlikely.
 * - `crossed`, `locked` (quotes, book_ticker, book snapshots): best bid > best ask, best bid = best ask.
 */
import type { ColumnBatch, Float64Column, TimestampColumn, Utf8Column } from '../columns/types.js';
import type { QualityConfig } from '../config.js';
import { dayStartMicros, MICROS_PER_DAY } from '../util/time.js';

export type QualityMetrics = Record<string, number | null>;

/** Columns each data type's checks read (others are not decoded). */
export function metricColumns(dataType: string): string[] {
  switch (dataType) {
    case 'trades':
    case 'liquidations':
      return ['timestamp', 'local_timestamp', 'id', 'price', 'amount'];
    case 'quotes':
    case 'book_ticker':
      return ['timestamp', 'local_timestamp', 'bid_price', 'ask_price', 'bid_amount', 'ask_amount'];
    case 'book_snapshot_5':
    case 'book_snapshot_25':
      return ['timestamp', 'local_timestamp', 'bid_price_0', 'ask_price_0'];
    case 'incremental_book_L2':
      return ['timestamp', 'local_timestamp', 'price', 'amount'];
    default:
      return ['timestamp', 'local_timestamp'];
  }
}

const MAD_FLOOR = 0.0005;
/** Values of a block the median and MAD are estimated from (evenly strided; odd). */
const SAMPLE = 101;

/**
 * Visit the outliers of `prices`: values further than `madThreshold` × 1.4826·MAD from the median log
 * price of their block of `window` rows (MAD floored at 0.05%). The median and MAD come from up to
 * 101 evenly spaced values of the block — robust statistics need no more, and it keeps the check
 * O(rows). Shared by the quality metric and the cleaning rule, so both flag the same rows.
 */
export function forEachOutlier(
  prices: Float64Array,
  valid: Uint8Array | null,
  madThreshold: number,
  windowRows: number,
  visit: (row: number) => void,
): void {
  const window = Math.max(11, windowRows | 0);
  const block = new Float64Array(window);
  const rowOf = new Int32Array(window);
  const sample = new Float64Array(SAMPLE);
  for (let start = 0; start < prices.length; start += window) {
    let n = 0;
    const end = Math.min(prices.length, start + window);
    for (let i = start; i < end; i++) {
      const p = prices[i]!;
      if ((valid && !valid[i]) || !(p > 0)) continue;
      rowOf[n] = i;
      block[n++] = Math.log(p);
    }
    if (n < 5) continue;
    const m = Math.min(n, SAMPLE);
    for (let k = 0; k < m; k++) sample[k] = block[Math.floor((k * n) / m)]!;
    const s = sample.subarray(0, m);
    const med = medianSorted(s.sort());
    for (let k = 0; k < m; k++) s[k] = Math.abs(s[k]! - med);
    const mad = Math.max(medianSorted(s.sort()), MAD_FLOOR);
    const limit = madThreshold * 1.4826 * mad;
    for (let i = 0; i < n; i++) if (Math.abs(block[i]! - med) > limit) visit(rowOf[i]!);
  }
}

function medianSorted(s: Float64Array): number {
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** Count prices far from their block's median log price (see forEachOutlier). */
export function countOutliers(prices: Float64Array, valid: Uint8Array | null, q: QualityConfig): number {
  let outliers = 0;
  forEachOutlier(prices, valid, q.outlierMadThreshold, q.outlierWindow, () => {
    outliers++;
  });
  return outliers;
}

/**
 * Rows repeating the trade id of an earlier row with the same exchange timestamp (a replayed or
 * duplicated trade keeps its timestamp; comparing within equal-timestamp runs of the sorted file
 * keeps this O(rows) with no per-row allocation).
 */
export function duplicateIds(ts: Float64Array, ids: Utf8Column): number {
  let dup = 0;
  const n = ts.length;
  const { offsets, data, validity } = ids;
  const same = (a: number, b: number) => {
    const la = offsets[a + 1]! - offsets[a]!;
    if (la === 0 || la !== offsets[b + 1]! - offsets[b]!) return false;
    for (let k = 0; k < la; k++) if (data[offsets[a]! + k] !== data[offsets[b]! + k]) return false;
    return true;
  };
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && ts[end] === ts[start]) end++;
    if (end - start > 64) {
      // A long run of equal timestamps: a set instead of pairwise comparison.
      const seen = new Set<string>();
      const dec = new TextDecoder();
      for (let i = start; i < end; i++) {
        if ((validity && !validity[i]) || offsets[i + 1] === offsets[i]) continue;
        const id = dec.decode(data.subarray(offsets[i]!, offsets[i + 1]!));
        if (seen.has(id)) dup++;
        else seen.add(id);
      }
      start = end;
      continue;
    }
    for (let i = start + 1; i < end; i++) {
      if (validity && !validity[i]) continue;
      for (let j = start; j < i; j++) {
        if (validity && !validity[j]) continue;
        if (same(i, j)) {
          dup++;
          break;
        }
      }
    }
    start = end;
  }
  return dup;
}

/** Sub-buckets per power of two of the interval histogram (p99 to within ±9%). */
const HIST_SUB = 8;
const HIST_BUCKETS = 64 * HIST_SUB;

/**
 * The metrics of one raw file, fed chunk by chunk (a row group at a time), so a 50 M-row file is
 * checked in bounded memory. Chunks come in file (timestamp) order. Within-chunk checks (outlier
 * blocks, duplicate-id runs) restart at chunk boundaries; the interval p99 comes from a log
 * histogram of every 8th interval; every other metric is exact.
 */
export class MetricsAccumulator {
  private rows = 0;
  private first: number | null = null;
  private last: number | null = null;
  private prevTs: number | null = null;
  private maxLocal = Number.NEGATIVE_INFINITY;
  private ooo = 0;
  private neg = 0;
  private sawLocal = false;
  private maxGap = 0;
  private readonly hist = new Float64Array(HIST_BUCKETS);
  private intervals = 0;
  private sampled = 0;
  /** Intervals at least `minGapSeconds` long (the only ones that can be gaps). */
  private readonly longIntervals: number[] = [];
  private nonPositive = 0;
  private outliers = 0;
  private duplicates = 0;
  private sawIds = false;
  private crossed = 0;
  private locked = 0;

  constructor(
    private readonly dataType: string,
    private readonly day: string | null,
    private readonly q: QualityConfig,
  ) {}

  push(b: ColumnBatch): void {
    const n = b.length;
    if (n === 0) return;
    const ts = (b.columns.timestamp as TimestampColumn | undefined)?.values ?? new Float64Array(n);
    const local = (b.columns.local_timestamp as TimestampColumn | undefined)?.values ?? null;
    this.rows += n;
    this.first ??= ts[0]!;
    this.last = ts[n - 1]!;
    if (local) {
      this.sawLocal = true;
      let maxLocal = this.maxLocal;
      for (let i = 0; i < n; i++) {
        const l = local[i]!;
        if (l < maxLocal) this.ooo++;
        else maxLocal = l;
        if (ts[i]! > l) this.neg++;
      }
      this.maxLocal = maxLocal;
    }
    const minGapUs = this.q.minGapSeconds * 1e6;
    let prev = this.prevTs;
    for (let i = 0; i < n; i++) {
      const t = ts[i]!;
      if (prev !== null) {
        const g = t - prev;
        if (g > this.maxGap) this.maxGap = g;
        // Every 8th interval feeds the p99 histogram (plenty for a percentile, 8× fewer logs).
        if ((this.intervals++ & 7) === 0) {
          const bucket = g <= 0 ? 0 : Math.min(HIST_BUCKETS - 1, Math.floor(Math.log2(g + 1) * HIST_SUB));
          this.hist[bucket]!++;
          this.sampled++;
        }
        if (g >= minGapUs) this.longIntervals.push(g);
      }
      prev = t;
    }
    this.prevTs = prev;
    const dt = this.dataType;
    if (dt === 'trades' || dt === 'liquidations') {
      const price = b.columns.price as Float64Column;
      const amount = b.columns.amount as Float64Column;
      for (let i = 0; i < n; i++) if (!(price.values[i]! > 0) || !(amount.values[i]! > 0)) this.nonPositive++;
      this.outliers += countOutliers(price.values, price.validity, this.q);
      const ids = b.columns.id as Utf8Column | undefined;
      if (ids) {
        this.sawIds = true;
        this.duplicates += duplicateIds(ts, ids);
      }
    } else if (dt === 'incremental_book_L2') {
      const price = b.columns.price as Float64Column;
      const amount = b.columns.amount as Float64Column;
      for (let i = 0; i < n; i++) if (!(price.values[i]! > 0) || amount.values[i]! < 0) this.nonPositive++;
    } else if (dt === 'quotes' || dt === 'book_ticker' || dt.startsWith('book_snapshot')) {
      const snap = dt.startsWith('book_snapshot');
      const bid = b.columns[snap ? 'bid_price_0' : 'bid_price'] as Float64Column;
      const ask = b.columns[snap ? 'ask_price_0' : 'ask_price'] as Float64Column;
      const mid = new Float64Array(n);
      const midValid = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const hasB = !bid.validity || bid.validity[i] === 1;
        const hasA = !ask.validity || ask.validity[i] === 1;
        const bp = bid.values[i]!;
        const ap = ask.values[i]!;
        if ((hasB && !(bp > 0)) || (hasA && !(ap > 0))) this.nonPositive++;
        if (hasB && hasA) {
          if (bp > ap) this.crossed++;
          else if (bp === ap) this.locked++;
          mid[i] = (bp + ap) / 2;
          midValid[i] = 1;
        }
      }
      this.outliers += countOutliers(mid, midValid, this.q);
    }
  }

  finish(): QualityMetrics {
    const m: QualityMetrics = { rows: this.rows, first_ts: this.first, last_ts: this.last };
    if (this.day !== null && this.first !== null && this.last !== null) {
      const start = dayStartMicros(this.day);
      const lo = Math.max(start, this.first);
      const hi = Math.min(start + MICROS_PER_DAY, this.last);
      m.coverage = Math.max(0, hi - lo) / MICROS_PER_DAY;
    } else m.coverage = null;
    if (this.sawLocal) {
      m.out_of_order = this.ooo;
      m.negative_latency = this.neg;
    }
    // p99 interval: the upper edge of the histogram bucket holding the 99th percentile.
    let p99 = 0;
    if (this.intervals >= 2) {
      const target = Math.floor(this.sampled * 0.99);
      let seen = 0;
      for (let k = 0; k < HIST_BUCKETS; k++) {
        seen += this.hist[k]!;
        if (seen > target) {
          p99 = 2 ** ((k + 1) / HIST_SUB) - 1;
          break;
        }
      }
    }
    const thresholdUs =
      this.intervals >= 2 ? Math.max(this.q.minGapSeconds * 1e6, this.q.gapFactor * p99) : 0;
    m.gaps = this.intervals >= 2 ? this.longIntervals.filter((g) => g > thresholdUs).length : 0;
    m.max_gap_s = this.maxGap / 1e6;
    m.gap_threshold_s = thresholdUs / 1e6;
    const dt = this.dataType;
    if (dt === 'trades' || dt === 'liquidations') {
      m.non_positive = this.nonPositive;
      m.price_outliers = this.outliers;
      if (this.sawIds) m.duplicate_ids = this.duplicates;
    } else if (dt === 'incremental_book_L2') {
      m.non_positive = this.nonPositive;
    } else if (dt === 'quotes' || dt === 'book_ticker' || dt.startsWith('book_snapshot')) {
      m.crossed = this.crossed;
      m.locked = this.locked;
      m.non_positive = this.nonPositive;
      m.price_outliers = this.outliers;
    }
    return m;
  }
}

/**
 * The problems a file's metrics show, one line each (empty = clean). `out_of_order` and
 * `negative_latency` are informational (vendors document both as normal) and never an issue.
 */
export function issuesOf(m: QualityMetrics, q: QualityConfig): string[] {
  const out: string[] = [];
  const rows = m.rows ?? 0;
  const v = (k: string) => m[k] ?? 0;
  if (v('non_positive') > 0) out.push(`${v('non_positive')} non-positive price/amount`);
  if (rows > 0 && v('duplicate_ids') / rows > q.maxDuplicateShare)
    out.push(`${v('duplicate_ids')} duplicate trade ids`);
  if (v('price_outliers') > 0) out.push(`${v('price_outliers')} price outlier(s)`);
  if (v('gaps') > 0)
    out.push(
      `${v('gaps')} gap(s) > ${Math.round(v('gap_threshold_s'))} s (longest ${Math.round(v('max_gap_s'))} s)`,
    );
  if (rows > 0 && (v('crossed') + v('locked')) / rows > q.maxCrossedShare) {
    out.push(`${v('crossed')} crossed, ${v('locked')} locked book row(s)`);
  }
  return out;
}
