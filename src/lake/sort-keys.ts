/**
 * Sort keys of the external sorter: how rows compare, and the stable in-memory sort of one run.
 *
 * Order: keys compare left to right. Numeric keys (timestamp, float64, int64, int32, bool) compare by
 * value; dict keys compare by their *string* in UTF-8 byte order (the same order Parquet statistics
 * use), never by dictionary index, so the order does not depend on which run saw a string first.
 * Nulls (and NaN) sort after every value and equal each other. Ties keep push order (stable).
 */
import { endianness } from 'node:os';
import type { Column, ColumnBatch, Validity } from '../columns/types.js';

export interface NumberKey {
  readonly kind: 'number';
  readonly values: Float64Array | Int32Array | Uint8Array;
  readonly validity: Validity;
}

export interface DictKey {
  readonly kind: 'dict';
  readonly indices: Int32Array;
  readonly validity: Validity;
  /** `rank[id]` = position of dictionary string `id` in byte order. */
  readonly rank: Int32Array;
}

export type SortKeyColumn = NumberKey | DictKey;

const LITTLE_ENDIAN = endianness() === 'LE';

/** Rank of each dictionary entry in UTF-8 byte order (equal strings get equal ranks). */
export function dictionaryRanks(dictionary: readonly string[]): Int32Array {
  const bytes = dictionary.map((s) => Buffer.from(s, 'utf8'));
  const order = dictionary.map((_, i) => i).sort((a, b) => Buffer.compare(bytes[a]!, bytes[b]!));
  const rank = new Int32Array(dictionary.length);
  let r = 0;
  for (let i = 0; i < order.length; i++) {
    if (i > 0 && Buffer.compare(bytes[order[i - 1]!]!, bytes[order[i]!]!) !== 0) r++;
    rank[order[i]!] = r;
  }
  return rank;
}

/** Key views of `batch` for `sortKey` (dict ranks come from `ranks`, by column name). */
export function keyColumnsOf(
  batch: ColumnBatch,
  sortKey: readonly string[],
  ranks: ReadonlyMap<string, Int32Array>,
): SortKeyColumn[] {
  return sortKey.map((name) => {
    const col: Column | undefined = batch.columns[name];
    if (col === undefined) throw new Error(`sort key column ${name} missing from batch`);
    switch (col.kind) {
      case 'dict': {
        const rank = ranks.get(name);
        if (rank === undefined) throw new Error(`no dictionary ranks for sort key ${name}`);
        return { kind: 'dict', indices: col.indices, validity: col.validity, rank };
      }
      case 'utf8':
        throw new Error(`sort key column ${name} is utf8, which is not supported`);
      default:
        return { kind: 'number', values: col.values, validity: col.validity };
    }
  });
}

function numberIsNull(k: NumberKey, i: number): boolean {
  if (k.validity !== null && k.validity[i] === 0) return true;
  const v = k.values[i]!;
  return Number.isNaN(v);
}

/** Bucket of row `i` of a dict key: its rank, or `rank.length` for null. */
function dictBucket(k: DictKey, i: number): number {
  if (k.validity !== null && k.validity[i] === 0) return k.rank.length;
  return k.rank[k.indices[i]!] ?? k.rank.length;
}

/** Compare row `a` of key set `ka` with row `b` of key set `kb` (same key layout). */
export function compareKeyRows(
  ka: readonly SortKeyColumn[],
  a: number,
  kb: readonly SortKeyColumn[],
  b: number,
): number {
  for (let k = 0; k < ka.length; k++) {
    const x = ka[k]!;
    const y = kb[k]!;
    if (x.kind === 'dict') {
      const d = dictBucket(x, a) - dictBucket(y as DictKey, b);
      if (d !== 0) return d;
    } else {
      const ny = y as NumberKey;
      const xn = numberIsNull(x, a);
      const yn = numberIsNull(ny, b);
      if (xn || yn) {
        if (xn !== yn) return xn ? 1 : -1;
        continue;
      }
      const va = x.values[a]!;
      const vb = ny.values[b]!;
      if (va < vb) return -1;
      if (va > vb) return 1;
    }
  }
  return 0;
}

/** True when rows `0..n` are already in key order (O(n); the common case for vendor files). */
export function isSorted(keys: readonly SortKeyColumn[], n: number): boolean {
  let start = 1;
  const first = keys[0];
  if (keys.length === 1 && first !== undefined && first.kind === 'number' && first.validity === null) {
    const v = first.values;
    // for (i) if (!(v[i] >= v[i-1])) break;  — NaN also breaks out, then the exact check below decides
    let prev = v[0]!;
    for (; start < n; start++) {
      const cur = v[start]!;
      if (!(cur >= prev)) break;
      prev = cur;
    }
    if (start >= n) return true;
  }
  for (let i = start; i < n; i++) if (compareKeyRows(keys, i - 1, keys, i) > 0) return false;
  return true;
}

/**
 * Stable sort permutation of rows `0..n` by `keys`, or `null` when they are already in order.
 * LSD: stable-sort by the last key, then by each earlier key, composing permutations.
 */
export function sortPermutation(keys: readonly SortKeyColumn[], n: number): Uint32Array | null {
  if (n < 2 || isSorted(keys, n)) return null;
  let perm: Uint32Array | null = null;
  for (let k = keys.length - 1; k >= 0; k--) {
    const key = keys[k]!;
    perm = key.kind === 'dict' ? countingSortByDict(key, perm, n) : sortByNumber(key, perm, n);
  }
  return perm;
}

/** Stable counting sort of the sequence `perm` (identity when null) by dictionary rank. */
function countingSortByDict(key: DictKey, perm: Uint32Array | null, n: number): Uint32Array {
  const buckets = key.rank.length + 1;
  const start = new Uint32Array(buckets + 1);
  const bucketOf = new Uint32Array(n);
  for (let j = 0; j < n; j++) {
    const b = dictBucket(key, perm === null ? j : perm[j]!);
    bucketOf[j] = b;
    start[b + 1]!++;
  }
  for (let b = 0; b < buckets; b++) start[b + 1]! += start[b]!;
  const out = new Uint32Array(n);
  for (let j = 0; j < n; j++) out[start[bucketOf[j]!]!++] = perm === null ? j : perm[j]!;
  return out;
}

/**
 * Stable sort of the sequence `perm` by a numeric key. Fast path: pack `(value - min) << bits | j`
 * into 64-bit lanes written through a Uint32Array view and let the native `BigUint64Array.sort`
 * order them; ties are broken by `j`, which makes it stable. Needs integer values with a range below
 * `2^(64 - bits)` (2^44 µs ≈ 203 days for 1 M-row runs) and no nulls; otherwise a comparator sort.
 */
function sortByNumber(key: NumberKey, perm: Uint32Array | null, n: number): Uint32Array {
  const v = key.values;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let packable = LITTLE_ENDIAN && key.validity === null;
  if (packable) {
    for (let j = 0; j < n; j++) {
      const x = v[perm === null ? j : perm[j]!]!;
      if (x < min) min = x;
      if (x > max) max = x;
      if (!Number.isInteger(x)) {
        packable = false;
        break;
      }
    }
  }
  const bits = 32 - Math.clz32(n - 1);
  if (packable && bits <= 31 && max - min < 2 ** (64 - bits) && Number.isSafeInteger(max - min)) {
    return packedSort(v, perm, n, min, bits);
  }
  return comparatorSort(key, perm, n);
}

function packedSort(
  v: Float64Array | Int32Array | Uint8Array,
  perm: Uint32Array | null,
  n: number,
  min: number,
  bits: number,
): Uint32Array {
  const lanes = new BigUint64Array(n);
  const u32 = new Uint32Array(lanes.buffer);
  const loScale = 2 ** bits; // low `bits` bits hold the position j
  const hiDiv = 2 ** (32 - bits); // the key's low (32 - bits) bits go into the low word
  for (let j = 0; j < n; j++) {
    const d = v[perm === null ? j : perm[j]!]! - min;
    const hi = Math.floor(d / hiDiv);
    u32[2 * j + 1] = hi;
    u32[2 * j] = (d - hi * hiDiv) * loScale + j;
  }
  lanes.sort();
  const mask = loScale - 1;
  const out = new Uint32Array(n);
  if (perm === null) for (let j = 0; j < n; j++) out[j] = u32[2 * j]! & mask;
  else for (let j = 0; j < n; j++) out[j] = perm[u32[2 * j]! & mask]!;
  return out;
}

function comparatorSort(key: NumberKey, perm: Uint32Array | null, n: number): Uint32Array {
  const rows = new Uint32Array(n);
  for (let j = 0; j < n; j++) rows[j] = perm === null ? j : perm[j]!;
  const keys = [key];
  const pos = new Uint32Array(n);
  for (let j = 0; j < n; j++) pos[j] = j;
  // Ties broken by position: stable whatever algorithm the engine uses.
  pos.sort((a, b) => compareKeyRows(keys, rows[a]!, keys, rows[b]!) || a - b);
  const out = new Uint32Array(n);
  for (let j = 0; j < n; j++) out[j] = rows[pos[j]!]!;
  return out;
}
