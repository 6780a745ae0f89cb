/**
 * Column kernels shared by the sorter, the writers and the tests: slice, gather (take), concat,
 * and a few readers for single values (for tests and error messages, never for bulk paths).
 */
import type { Column, ColumnBatch, Utf8Column, Validity } from './types.js';

const decoder = new TextDecoder();

function sliceValidity(v: Validity, start: number, end: number): Validity {
  return v === null ? null : v.subarray(start, end);
}

/** Rows `[start, end)` as views (no copy for fixed-width columns; utf8 offsets are rebased). */
export function sliceColumn(col: Column, start: number, end: number): Column {
  switch (col.kind) {
    case 'utf8': {
      const base = col.offsets[start]!;
      const offsets = new Int32Array(end - start + 1);
      for (let i = 0; i <= end - start; i++) offsets[i] = col.offsets[start + i]! - base;
      return {
        kind: 'utf8',
        offsets,
        data: col.data.subarray(base, col.offsets[end]!),
        validity: sliceValidity(col.validity, start, end),
      };
    }
    case 'dict':
      return {
        kind: 'dict',
        indices: col.indices.subarray(start, end),
        dictionary: col.dictionary,
        validity: sliceValidity(col.validity, start, end),
      };
    default:
      return {
        kind: col.kind,
        values: col.values.subarray(start, end),
        validity: sliceValidity(col.validity, start, end),
      } as Column;
  }
}

export function sliceBatch(batch: ColumnBatch, start: number, end: number): ColumnBatch {
  const columns: Record<string, Column> = {};
  for (const [name, col] of Object.entries(batch.columns)) columns[name] = sliceColumn(col, start, end);
  return { length: end - start, columns };
}

function takeValidity(v: Validity, idx: ArrayLike<number>, n: number): Validity {
  if (v === null) return null;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = v[idx[i]!]!;
  return out;
}

/** Gather rows in the order given by `idx` (a permutation or any index list). */
export function takeColumn(col: Column, idx: ArrayLike<number>): Column {
  const n = idx.length;
  switch (col.kind) {
    case 'utf8': {
      const offsets = new Int32Array(n + 1);
      let bytes = 0;
      for (let i = 0; i < n; i++) {
        const r = idx[i]!;
        bytes += col.offsets[r + 1]! - col.offsets[r]!;
        offsets[i + 1] = bytes;
      }
      const data = new Uint8Array(bytes);
      const src = col.data;
      for (let i = 0; i < n; i++) {
        const r = idx[i]!;
        const s = col.offsets[r]!;
        const e = col.offsets[r + 1]!;
        let p = offsets[i]!;
        for (let j = s; j < e; j++) data[p++] = src[j]!;
      }
      return { kind: 'utf8', offsets, data, validity: takeValidity(col.validity, idx, n) };
    }
    case 'dict': {
      const indices = new Int32Array(n);
      for (let i = 0; i < n; i++) indices[i] = col.indices[idx[i]!]!;
      return {
        kind: 'dict',
        indices,
        dictionary: col.dictionary,
        validity: takeValidity(col.validity, idx, n),
      };
    }
    default: {
      const src = col.values;
      const values = new (src.constructor as new (n: number) => typeof src)(n);
      for (let i = 0; i < n; i++) values[i] = src[idx[i]!]!;
      return { kind: col.kind, values, validity: takeValidity(col.validity, idx, n) } as Column;
    }
  }
}

export function takeBatch(batch: ColumnBatch, idx: ArrayLike<number>): ColumnBatch {
  const columns: Record<string, Column> = {};
  const segs = runsOf(idx);
  for (const [name, col] of Object.entries(batch.columns)) {
    columns[name] = segs === null ? takeColumn(col, idx) : takeColumnRuns(col, segs, idx.length);
  }
  return { length: idx.length, columns };
}

/**
 * The index list as runs of consecutive source rows `[src, dst, len]`, when runs are long on average
 * (a nearly-sorted permutation): then each run is one block copy instead of a per-row loop. Null
 * when the list is too fragmented for that to pay.
 */
function runsOf(idx: ArrayLike<number>): Int32Array | null {
  const n = idx.length;
  if (n < 64) return null;
  let runs = 1;
  for (let i = 1; i < n; i++) if (idx[i]! !== idx[i - 1]! + 1) runs++;
  if (runs * 32 > n) return null;
  const segs = new Int32Array(runs * 3);
  let r = 0;
  let start = 0;
  for (let i = 1; i <= n; i++) {
    if (i === n || idx[i]! !== idx[i - 1]! + 1) {
      segs[r++] = idx[start]!;
      segs[r++] = start;
      segs[r++] = i - start;
      start = i;
    }
  }
  return segs;
}

/** `takeColumn` by runs of consecutive rows (see `runsOf`): typed-array block copies. */
function takeColumnRuns(col: Column, segs: Int32Array, n: number): Column {
  const copyValidity = (v: Validity): Validity => {
    if (v === null) return null;
    const out = new Uint8Array(n);
    for (let k = 0; k < segs.length; k += 3)
      out.set(v.subarray(segs[k]!, segs[k]! + segs[k + 2]!), segs[k + 1]!);
    return out;
  };
  switch (col.kind) {
    case 'utf8': {
      const offsets = new Int32Array(n + 1);
      let bytes = 0;
      for (let k = 0; k < segs.length; k += 3) {
        const src = segs[k]!;
        const dst = segs[k + 1]!;
        const len = segs[k + 2]!;
        const base = col.offsets[src]!;
        for (let i = 1; i <= len; i++) offsets[dst + i] = bytes + col.offsets[src + i]! - base;
        bytes += col.offsets[src + len]! - base;
      }
      const data = new Uint8Array(bytes);
      for (let k = 0; k < segs.length; k += 3) {
        const src = segs[k]!;
        const len = segs[k + 2]!;
        data.set(col.data.subarray(col.offsets[src]!, col.offsets[src + len]!), offsets[segs[k + 1]!]!);
      }
      return { kind: 'utf8', offsets, data, validity: copyValidity(col.validity) };
    }
    case 'dict': {
      const indices = new Int32Array(n);
      for (let k = 0; k < segs.length; k += 3)
        indices.set(col.indices.subarray(segs[k]!, segs[k]! + segs[k + 2]!), segs[k + 1]!);
      return { kind: 'dict', indices, dictionary: col.dictionary, validity: copyValidity(col.validity) };
    }
    default: {
      const src = col.values;
      const values = new (src.constructor as new (n: number) => typeof src)(n);
      for (let k = 0; k < segs.length; k += 3) {
        values.set(src.subarray(segs[k]!, segs[k]! + segs[k + 2]!) as never, segs[k + 1]!);
      }
      return { kind: col.kind, values, validity: copyValidity(col.validity) } as Column;
    }
  }
}

/**
 * Concatenate batches with the same fields. Dictionary columns are re-keyed onto a merged dictionary
 * (first-seen order), so batches built with different dictionaries concatenate correctly.
 */
export function concatBatches(batches: readonly ColumnBatch[]): ColumnBatch {
  if (batches.length === 1) return batches[0]!;
  if (batches.length === 0) return { length: 0, columns: {} };
  const first = batches[0]!;
  const length = batches.reduce((s, b) => s + b.length, 0);
  const columns: Record<string, Column> = {};
  for (const name of Object.keys(first.columns)) {
    columns[name] = concatColumns(
      batches.map((b) => {
        const c = b.columns[name];
        if (c === undefined) throw new Error(`concatBatches: column ${name} missing in a batch`);
        return c;
      }),
      length,
    );
  }
  return { length, columns };
}

function concatValidity(cols: readonly Column[], length: number): Validity {
  if (cols.every((c) => c.validity === null)) return null;
  const out = new Uint8Array(length);
  let p = 0;
  for (const c of cols) {
    const n = columnLength(c);
    if (c.validity === null) out.fill(1, p, p + n);
    else out.set(c.validity, p);
    p += n;
  }
  return out;
}

export function columnLength(col: Column): number {
  switch (col.kind) {
    case 'utf8':
      return col.offsets.length - 1;
    case 'dict':
      return col.indices.length;
    default:
      return col.values.length;
  }
}

function concatColumns(cols: readonly Column[], length: number): Column {
  const kind = cols[0]!.kind;
  const validity = concatValidity(cols, length);
  switch (kind) {
    case 'utf8': {
      const us = cols as Utf8Column[];
      const bytes = us.reduce((s, c) => s + c.data.length, 0);
      const data = new Uint8Array(bytes);
      const offsets = new Int32Array(length + 1);
      let row = 0;
      let pos = 0;
      for (const c of us) {
        const n = c.offsets.length - 1;
        const base = c.offsets[0]!;
        for (let i = 1; i <= n; i++) offsets[row + i] = pos + c.offsets[i]! - base;
        data.set(c.data.subarray(base, c.offsets[n]!), pos);
        pos += c.offsets[n]! - base;
        row += n;
      }
      return { kind: 'utf8', offsets, data, validity };
    }
    case 'dict': {
      const dictionary: string[] = [];
      const lookup = new Map<string, number>();
      const indices = new Int32Array(length);
      let row = 0;
      for (const c of cols) {
        if (c.kind !== 'dict') throw new Error('concat: mixed column kinds');
        const remap = c.dictionary.map((s) => {
          let id = lookup.get(s);
          if (id === undefined) {
            id = dictionary.length;
            dictionary.push(s);
            lookup.set(s, id);
          }
          return id;
        });
        for (let i = 0; i < c.indices.length; i++) indices[row + i] = remap[c.indices[i]!] ?? 0;
        row += c.indices.length;
      }
      return { kind: 'dict', indices, dictionary, validity };
    }
    default: {
      const srcs = cols.map((c) => (c as { values: Float64Array | Int32Array | Uint8Array }).values);
      const values = new (srcs[0]!.constructor as new (n: number) => Float64Array | Int32Array | Uint8Array)(
        length,
      );
      let p = 0;
      for (const s of srcs) {
        values.set(s as never, p);
        p += s.length;
      }
      return { kind, values, validity } as Column;
    }
  }
}

/** Value of row `i` as a JS value (null for nulls). For tests and messages only. */
export function valueAt(col: Column, i: number): string | number | boolean | null {
  if (col.validity !== null && col.validity[i] === 0) return null;
  switch (col.kind) {
    case 'utf8':
      return decoder.decode(col.data.subarray(col.offsets[i]!, col.offsets[i + 1]!));
    case 'dict':
      return col.dictionary[col.indices[i]!] ?? null;
    case 'bool':
      return col.values[i] === 1;
    default:
      return col.values[i]!;
  }
}

/** First index `i` of ascending `values` with `values[i] >= t` (`values.length` when none). */
export function lowerBound(values: Float64Array, t: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
