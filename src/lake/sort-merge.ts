/**
 * K-way merge of spilled runs, reading each run in blocks of rows.
 *
 * Galloping instead of row-by-row heap pops: the run with the smallest head gives every row that
 * sorts before the second-smallest head in one slice (exponential + binary search inside its loaded
 * block). Runs cut from nearly-sorted input barely overlap, so the merge mostly copies long slices.
 * Ties go to the run pushed earlier, which keeps the whole sort stable.
 */
import { sliceBatch } from '../columns/ops.js';
import type { Column, ColumnBatch, Field, Validity } from '../columns/types.js';
import { compareKeyRows, keyColumnsOf, type SortKeyColumn } from './sort-keys.js';
import type { RunReader } from './sort-spill.js';

export interface MergeOptions {
  readonly fields: readonly Field[];
  readonly sortKey: readonly string[];
  /** Final dictionary ranks by dict key column name. */
  readonly ranks: ReadonlyMap<string, Int32Array>;
  /** Final shared dictionaries by dict column name. */
  readonly dictionaries: ReadonlyMap<string, readonly string[]>;
  readonly blockRows: number;
  readonly outputBatchRows: number;
}

class Cursor {
  block: ColumnBatch = { length: 0, columns: {} };
  keys: SortKeyColumn[] = [];
  pos = 0;
  private nextRow = 0;

  constructor(
    /** Push order of the run: breaks ties. */
    readonly index: number,
    private readonly reader: RunReader,
    private readonly opts: MergeOptions,
  ) {}

  /** Load the next block; false when the run is exhausted. */
  async load(): Promise<boolean> {
    const rows = this.reader.run.rows;
    if (this.nextRow >= rows) return false;
    const end = Math.min(rows, this.nextRow + this.opts.blockRows);
    this.block = await this.reader.read(this.nextRow, end, this.opts.dictionaries);
    this.keys = keyColumnsOf(this.block, this.opts.sortKey, this.opts.ranks);
    this.pos = 0;
    this.nextRow = end;
    return true;
  }
}

/** Head of `a` sorts before head of `b` (ties: earlier run first). */
function before(a: Cursor, b: Cursor): boolean {
  const c = compareKeyRows(a.keys, a.pos, b.keys, b.pos);
  return c < 0 || (c === 0 && a.index < b.index);
}

/** End (exclusive) of the rows of `top`'s block, from its head, that sort before `other`'s head. */
function gallop(top: Cursor, other: Cursor): number {
  const len = top.block.length;
  const takes = (x: number): boolean => {
    const c = compareKeyRows(top.keys, x, other.keys, other.pos);
    return c < 0 || (c === 0 && top.index < other.index);
  };
  let lo = top.pos; // takes(lo) holds: top is the minimum
  let step = 1;
  let hi = lo + 1;
  while (hi < len && takes(hi)) {
    lo = hi;
    step *= 2;
    hi = lo + step;
  }
  if (hi > len) hi = len;
  // takes(lo); hi === len or !takes(hi)
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (takes(mid)) lo = mid;
    else hi = mid;
  }
  return lo + 1;
}

function siftDown(heap: Cursor[], i: number): void {
  const n = heap.length;
  const item = heap[i]!;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && before(heap[r]!, heap[l]!) ? r : l;
    if (!before(heap[c]!, item)) break;
    heap[i] = heap[c]!;
    i = c;
  }
  heap[i] = item;
}

interface Segment {
  readonly block: ColumnBatch;
  readonly start: number;
  readonly end: number;
}

export async function* mergeRuns(
  readers: readonly RunReader[],
  opts: MergeOptions,
): AsyncGenerator<ColumnBatch> {
  const heap: Cursor[] = [];
  const cursors = readers.map((r, i) => new Cursor(i, r, opts));
  const loaded = await Promise.all(cursors.map((c) => c.load()));
  cursors.forEach((c, i) => {
    if (loaded[i]) heap.push(c);
  });
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(heap, i);

  const out = opts.outputBatchRows;
  let segments: Segment[] = [];
  let pending = 0;

  while (heap.length > 0) {
    const top = heap[0]!;
    let end: number;
    if (heap.length === 1) end = top.block.length;
    else {
      const second = heap.length === 2 || before(heap[1]!, heap[2]!) ? heap[1]! : heap[2]!;
      end = gallop(top, second);
    }
    // Emit [top.pos, end) in output-sized pieces.
    let s = top.pos;
    while (s < end) {
      const t = Math.min(end, s + out - pending);
      segments.push({ block: top.block, start: s, end: t });
      pending += t - s;
      s = t;
      if (pending === out) {
        yield gatherSegments(opts.fields, segments, pending, opts.dictionaries);
        segments = [];
        pending = 0;
      }
    }
    top.pos = end;
    if (end === top.block.length && !(await top.load())) {
      const last = heap.pop()!;
      if (heap.length === 0) break;
      heap[0] = last;
    }
    siftDown(heap, 0);
  }
  if (pending > 0) yield gatherSegments(opts.fields, segments, pending, opts.dictionaries);
}

/** One batch of `rows` rows from consecutive segments (a view when there is only one). */
function gatherSegments(
  fields: readonly Field[],
  segments: readonly Segment[],
  rows: number,
  dictionaries: ReadonlyMap<string, readonly string[]>,
): ColumnBatch {
  if (segments.length === 1) {
    const s = segments[0]!;
    return sliceBatch(s.block, s.start, s.end);
  }
  const columns: Record<string, Column> = {};
  for (const field of fields) {
    const name = field.name;
    const parts = segments.map((s) => s.block.columns[name]!);
    const validity = gatherValidity(parts, segments, rows);
    switch (field.kind) {
      case 'utf8': {
        let bytes = 0;
        segments.forEach((s, i) => {
          const c = parts[i]!;
          if (c.kind === 'utf8') bytes += c.offsets[s.end]! - c.offsets[s.start]!;
        });
        const offsets = new Int32Array(rows + 1);
        const data = new Uint8Array(bytes);
        let row = 0;
        let pos = 0;
        segments.forEach((s, i) => {
          const c = parts[i]!;
          if (c.kind !== 'utf8') return;
          const from = c.offsets[s.start]!;
          const to = c.offsets[s.end]!;
          data.set(c.data.subarray(from, to), pos);
          // offsets[row + k] = pos + (c.offsets[s.start + k] - from)
          const shift = pos - from;
          for (let k = 1; k <= s.end - s.start; k++) offsets[row + k] = c.offsets[s.start + k]! + shift;
          row += s.end - s.start;
          pos += to - from;
        });
        columns[name] = { kind: 'utf8', offsets, data, validity };
        break;
      }
      case 'dict': {
        const indices = new Int32Array(rows);
        let row = 0;
        segments.forEach((s, i) => {
          const c = parts[i]!;
          if (c.kind === 'dict') indices.set(c.indices.subarray(s.start, s.end), row);
          row += s.end - s.start;
        });
        columns[name] = { kind: 'dict', indices, dictionary: dictionaries.get(name) ?? [], validity };
        break;
      }
      default: {
        const values =
          field.kind === 'int32'
            ? new Int32Array(rows)
            : field.kind === 'bool'
              ? new Uint8Array(rows)
              : new Float64Array(rows);
        let row = 0;
        segments.forEach((s, i) => {
          const c = parts[i]!;
          if (c.kind !== 'utf8' && c.kind !== 'dict') {
            (values as Float64Array).set(c.values.subarray(s.start, s.end) as Float64Array, row);
          }
          row += s.end - s.start;
        });
        columns[name] = { kind: field.kind, values, validity } as Column;
      }
    }
  }
  return { length: rows, columns };
}

function gatherValidity(parts: readonly Column[], segments: readonly Segment[], rows: number): Validity {
  if (parts.every((c) => c.validity === null)) return null;
  const out = new Uint8Array(rows);
  let row = 0;
  segments.forEach((s, i) => {
    const v = parts[i]!.validity;
    if (v === null) out.fill(1, row, row + s.end - s.start);
    else out.set(v.subarray(s.start, s.end), row);
    row += s.end - s.start;
  });
  return out;
}
