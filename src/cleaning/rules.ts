/**
 * The named cleaning rules of the cleaned layer and their version. `applyRules` computes, in one
 * pass per rule over typed arrays, which rows of a raw file's batch are kept; each removed row is
 * charged to the FIRST rule (in RULE_ORDER) that removes it, so the per-rule counts add up to the
 * rows removed.
 *
 * - `dedupe`: a row repeating an earlier row's (id, timestamp) — trades, liquidations; for data types
 *   without an id, a row identical in every column to an earlier row with the same timestamp.
 * - `non_positive`: price or amount ≤ 0 (trades, liquidations); a present bid/ask price ≤ 0 (quotes,
 *   book_ticker, level 0 of book snapshots).
 * - `crossed_quotes`: best bid > best ask (quotes, book_ticker, book snapshots). Locked (=) is kept.
 * - `outliers`: the MAD rule of `ticklake check quality` (src/quality/metrics.ts countOutliers): price
 *   (trades) or mid (quotes) further than `outlierMadThreshold` × 1.4826·MAD from the median log price
 *   of its block of `outlierWindow` rows (MAD floored at 0.05%), same blocks, same thresholds
 *   (config `quality`), so the counts agree with the quality metric.
 *
 * CLEANING_RULES_VERSION is the rules' semver: bump the patch for fixes that change no output, the
 * minor for changed output (files are rebuilt: the lineage no longer matches), the major for a new
 * layout or meaning (a new `cleaned/v{major}` folder; older folders stay readable with `version`).
 */
import type { Column, ColumnBatch, Float64Column, TimestampColumn, Utf8Column } from '../columns/types.js';
import type { QualityConfig } from '../config.js';
import { forEachOutlier } from '../quality/metrics.js';

export const CLEANING_RULES_VERSION = '1.0.0';
/** The folder version: `cleaned/v{major}`. */
export const CLEANING_MAJOR = Number(CLEANING_RULES_VERSION.split('.')[0]);

export const RULE_ORDER = ['dedupe', 'non_positive', 'crossed_quotes', 'outliers'] as const;
export type RuleName = (typeof RULE_ORDER)[number];

/** Data types the rules know; others are not cleaned. */
export const CLEANABLE_DATA_TYPES = [
  'trades',
  'liquidations',
  'quotes',
  'book_ticker',
  'book_snapshot_5',
  'book_snapshot_25',
] as const;

export function isCleanable(dataType: string): boolean {
  return (CLEANABLE_DATA_TYPES as readonly string[]).includes(dataType);
}

export type RuleParams = Pick<QualityConfig, 'outlierMadThreshold' | 'outlierWindow'>;

export interface RulesResult {
  /** 1 = kept. */
  keep: Uint8Array;
  kept: number;
  removed: Record<RuleName, number>;
}

/** The rules' identity for lineage: version + the parameters that change output. */
export function rulesSignature(p: RuleParams): string {
  return `${CLEANING_RULES_VERSION};outlierMadThreshold=${p.outlierMadThreshold};outlierWindow=${p.outlierWindow}`;
}

/** Mark (1) the outliers of `prices`: the quality metric's blocks and thresholds, as a mask. */
export function outlierMask(prices: Float64Array, valid: Uint8Array | null, p: RuleParams): Uint8Array {
  const mask = new Uint8Array(prices.length);
  forEachOutlier(prices, valid, p.outlierMadThreshold, p.outlierWindow, (row) => {
    mask[row] = 1;
  });
  return mask;
}

function utf8Equal(c: Utf8Column, a: number, b: number): boolean {
  const a0 = c.offsets[a]!;
  const a1 = c.offsets[a + 1]!;
  const b0 = c.offsets[b]!;
  if (c.offsets[b + 1]! - b0 !== a1 - a0) return false;
  for (let k = 0; k < a1 - a0; k++) if (c.data[a0 + k] !== c.data[b0 + k]) return false;
  return true;
}

function valueEqual(col: Column, a: number, b: number): boolean {
  const va = !col.validity || col.validity[a] === 1;
  const vb = !col.validity || col.validity[b] === 1;
  if (va !== vb) return false;
  if (!va) return true;
  switch (col.kind) {
    case 'utf8':
      return utf8Equal(col, a, b);
    case 'dict':
      return col.dictionary[col.indices[a]!] === col.dictionary[col.indices[b]!];
    default: {
      const x = col.values[a]!;
      const y = col.values[b]!;
      return x === y || (Number.isNaN(x) && Number.isNaN(y));
    }
  }
}

/**
 * Rows repeating an earlier row of the same timestamp: same `id` when the batch has one, else the same
 * value in every column. Compares within each run of equal timestamps (the files are sorted by time).
 */
function duplicateMask(batch: ColumnBatch): Uint8Array {
  const n = batch.length;
  const mask = new Uint8Array(n);
  const ts = (batch.columns.timestamp as TimestampColumn).values;
  const id = batch.columns.id as Utf8Column | undefined;
  const cols = id ? [id] : Object.values(batch.columns);
  let runStart = 0;
  for (let i = 1; i <= n; i++) {
    if (i < n && ts[i] === ts[runStart]) continue;
    // run [runStart, i)
    for (let a = runStart + 1; a < i; a++) {
      for (let b = runStart; b < a; b++) {
        if (mask[b]) continue;
        let same = true;
        for (const c of cols) {
          if (!valueEqual(c, a, b)) {
            same = false;
            break;
          }
        }
        if (same) {
          mask[a] = 1;
          break;
        }
      }
    }
    runStart = i;
  }
  return mask;
}

function present(c: Float64Column, i: number): boolean {
  return !c.validity || c.validity[i] === 1;
}

function quoteColumns(
  batch: ColumnBatch,
  dataType: string,
): { bid: Float64Column; ask: Float64Column } | null {
  if (dataType === 'quotes' || dataType === 'book_ticker') {
    return { bid: batch.columns.bid_price as Float64Column, ask: batch.columns.ask_price as Float64Column };
  }
  if (dataType.startsWith('book_snapshot')) {
    return {
      bid: batch.columns.bid_price_0 as Float64Column,
      ask: batch.columns.ask_price_0 as Float64Column,
    };
  }
  return null;
}

/** Apply every rule to one file's rows (`batch` sorted by timestamp). */
export function applyRules(batch: ColumnBatch, dataType: string, p: RuleParams): RulesResult {
  const n = batch.length;
  const keep = new Uint8Array(n).fill(1);
  const removed: Record<RuleName, number> = { dedupe: 0, non_positive: 0, crossed_quotes: 0, outliers: 0 };
  const charge = (rule: RuleName, mask: Uint8Array) => {
    let c = 0;
    for (let i = 0; i < n; i++) {
      if (mask[i] && keep[i]) {
        keep[i] = 0;
        c++;
      }
    }
    removed[rule] += c;
  };
  if (n === 0) return { keep, kept: 0, removed };
  charge('dedupe', duplicateMask(batch));
  const quotes = quoteColumns(batch, dataType);
  const nonPos = new Uint8Array(n);
  if (quotes) {
    const { bid, ask } = quotes;
    const crossed = new Uint8Array(n);
    const mid = new Float64Array(n);
    const midValid = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const hasB = present(bid, i);
      const hasA = present(ask, i);
      const bp = bid.values[i]!;
      const ap = ask.values[i]!;
      if ((hasB && !(bp > 0)) || (hasA && !(ap > 0))) nonPos[i] = 1;
      if (hasB && hasA) {
        if (bp > ap) crossed[i] = 1;
        mid[i] = (bp + ap) / 2;
        midValid[i] = 1;
      }
    }
    charge('non_positive', nonPos);
    charge('crossed_quotes', crossed);
    charge('outliers', outlierMask(mid, midValid, p));
  } else {
    const price = batch.columns.price as Float64Column;
    const amount = batch.columns.amount as Float64Column;
    for (let i = 0; i < n; i++) if (!(price.values[i]! > 0) || !(amount.values[i]! > 0)) nonPos[i] = 1;
    charge('non_positive', nonPos);
    charge('outliers', outlierMask(price.values, price.validity, p));
  }
  let kept = 0;
  for (let i = 0; i < n; i++) kept += keep[i]!;
  return { keep, kept, removed };
}
