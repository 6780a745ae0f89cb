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
 *   (MAD floored at 0.05% so a block of identical prices does not flag every tick).
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

function medianOf(values: Float64Array): number {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** Count prices far from their block's median log price (robust z > threshold). */
export function countOutliers(prices: Float64Array, valid: Uint8Array | null, q: QualityConfig): number {
  const window = Math.max(11, q.outlierWindow | 0);
  let outliers = 0;
  const block = new Float64Array(window);
  const dev = new Float64Array(window);
  for (let start = 0; start < prices.length; start += window) {
    let n = 0;
    const end = Math.min(prices.length, start + window);
    for (let i = start; i < end; i++) {
      const p = prices[i]!;
      if ((valid && !valid[i]) || !(p > 0)) continue;
      block[n++] = Math.log(p);
    }
    if (n < 5) continue;
    const vals = block.subarray(0, n);
    const med = medianOf(vals);
    for (let i = 0; i < n; i++) dev[i] = Math.abs(vals[i]! - med);
    const mad = Math.max(medianOf(dev.subarray(0, n)), MAD_FLOOR);
    const limit = q.outlierMadThreshold * 1.4826 * mad;
    for (let i = 0; i < n; i++) if (dev[i]! > limit) outliers++;
  }
  return outliers;
}

/** Gaps between consecutive timestamps longer than the file's own activity makes likely. */
export function gapStats(
  ts: Float64Array,
  q: QualityConfig,
): { gaps: number; maxGapUs: number; thresholdUs: number } {
  const n = ts.length;
  if (n < 3) return { gaps: 0, maxGapUs: n === 2 ? ts[1]! - ts[0]! : 0, thresholdUs: 0 };
  const d = new Float64Array(n - 1);
  let max = 0;
  for (let i = 1; i < n; i++) {
    const g = ts[i]! - ts[i - 1]!;
    d[i - 1] = g;
    if (g > max) max = g;
  }
  const sorted = d.sort();
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
  const thresholdUs = Math.max(q.minGapSeconds * 1e6, q.gapFactor * p99);
  let gaps = 0;
  for (let i = sorted.length - 1; i >= 0 && sorted[i]! > thresholdUs; i--) gaps++;
  return { gaps, maxGapUs: max, thresholdUs };
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

/** All metrics of one raw file's columns (sorted by timestamp, as the lake stores them). */
export function computeMetrics(
  dataType: string,
  day: string | null,
  b: ColumnBatch,
  q: QualityConfig,
): QualityMetrics {
  const n = b.length;
  const ts = (b.columns.timestamp as TimestampColumn | undefined)?.values ?? new Float64Array(0);
  const local = (b.columns.local_timestamp as TimestampColumn | undefined)?.values ?? null;
  const m: QualityMetrics = { rows: n };
  m.first_ts = n > 0 ? ts[0]! : null;
  m.last_ts = n > 0 ? ts[n - 1]! : null;
  if (day !== null && n > 0) {
    const start = dayStartMicros(day);
    const lo = Math.max(start, ts[0]!);
    const hi = Math.min(start + MICROS_PER_DAY, ts[n - 1]!);
    m.coverage = Math.max(0, hi - lo) / MICROS_PER_DAY;
  } else m.coverage = null;
  if (local) {
    let ooo = 0;
    let neg = 0;
    let maxLocal = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const l = local[i]!;
      if (l < maxLocal) ooo++;
      else maxLocal = l;
      if (ts[i]! > l) neg++;
    }
    m.out_of_order = ooo;
    m.negative_latency = neg;
  }
  const g = gapStats(ts, q);
  m.gaps = g.gaps;
  m.max_gap_s = g.maxGapUs / 1e6;
  m.gap_threshold_s = g.thresholdUs / 1e6;
  if (dataType === 'trades' || dataType === 'liquidations') {
    const price = b.columns.price as Float64Column;
    const amount = b.columns.amount as Float64Column;
    let nonPos = 0;
    for (let i = 0; i < n; i++) if (!(price.values[i]! > 0) || !(amount.values[i]! > 0)) nonPos++;
    m.non_positive = nonPos;
    m.price_outliers = countOutliers(price.values, price.validity, q);
    const ids = b.columns.id as Utf8Column | undefined;
    if (ids) m.duplicate_ids = duplicateIds(ts, ids);
  } else if (dataType === 'incremental_book_L2') {
    const price = b.columns.price as Float64Column;
    const amount = b.columns.amount as Float64Column;
    let nonPos = 0;
    for (let i = 0; i < n; i++) if (!(price.values[i]! > 0) || amount.values[i]! < 0) nonPos++;
    m.non_positive = nonPos;
  } else if (dataType === 'quotes' || dataType === 'book_ticker' || dataType.startsWith('book_snapshot')) {
    const snap = dataType.startsWith('book_snapshot');
    const bid = b.columns[snap ? 'bid_price_0' : 'bid_price'] as Float64Column;
    const ask = b.columns[snap ? 'ask_price_0' : 'ask_price'] as Float64Column;
    let crossed = 0;
    let locked = 0;
    let nonPos = 0;
    const mid = new Float64Array(n);
    const midValid = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const hasB = !bid.validity || bid.validity[i] === 1;
      const hasA = !ask.validity || ask.validity[i] === 1;
      const bp = bid.values[i]!;
      const ap = ask.values[i]!;
      if ((hasB && !(bp > 0)) || (hasA && !(ap > 0))) nonPos++;
      if (hasB && hasA) {
        if (bp > ap) crossed++;
        else if (bp === ap) locked++;
        mid[i] = (bp + ap) / 2;
        midValid[i] = 1;
      }
    }
    m.crossed = crossed;
    m.locked = locked;
    m.non_positive = nonPos;
    m.price_outliers = countOutliers(mid, midValid, q);
  }
  return m;
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
