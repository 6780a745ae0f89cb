/**
 * Bounded-memory external sorter: puts ingested rows into sort-key order before they are written.
 *
 *   push(batch)* → runs of `runRows` rows, each sorted in memory (sort-keys.ts)
 *     one run in total → yielded from memory, no disk
 *     more            → each sorted run spilled to a raw column file in `tmpDir` (sort-spill.ts)
 *   finish()        → k-way galloping merge reading runs in blocks (sort-merge.ts)
 *
 * Memory ≈ one run (plus one gathered column while spilling) during push, and ≈ k blocks during
 * the merge, where the block size shrinks as k grows so that k × block ≤ runRows rows.
 * The sort is stable: rows with equal keys come out in push order.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sliceBatch, takeBatch } from '../columns/ops.js';
import type { ColumnBatch, Field, Schema } from '../columns/types.js';
import { SchemaMismatchError, storageErrorFromFs } from '../errors.js';
import { dictionaryRanks, keyColumnsOf, sortPermutation } from './sort-keys.js';
import { mergeRuns } from './sort-merge.js';
import { RunBuffer, SharedDictionary } from './sort-run-buffer.js';
import { type RunFile, RunReader, writeRun } from './sort-spill.js';

export interface ExternalSorterOptions {
  readonly schema: Schema;
  /** Columns to order by, most significant first (see `sortKeyOf`). Numeric, timestamp, bool or dict. */
  readonly sortKey: readonly string[];
  /** Rows sorted in memory per run (default 1_048_576). */
  readonly runRows?: number;
  /** Directory for spill files (created if missing); the sorter works in a private subdirectory. */
  readonly tmpDir: string;
  /** Rows per yielded batch; the last one may be shorter (default 65_536). */
  readonly outputBatchRows?: number;
  /** Rows read per run per merge step (default: runRows / runs, clamped to 1_024..65_536). */
  readonly mergeBlockRows?: number;
}

export interface ExternalSorterStats {
  /** Rows pushed. */
  readonly rows: number;
  /** Sorted runs formed (1 when everything fit in memory). */
  readonly runs: number;
  /** Bytes written to spill files. */
  readonly spilledBytes: number;
  /** True while every row pushed so far was already in key order (no permutation needed). */
  readonly alreadySorted: boolean;
}

const DEFAULT_RUN_ROWS = 1_048_576;
const DEFAULT_OUTPUT_BATCH_ROWS = 65_536;
const MIN_BLOCK_ROWS = 1_024;
const MAX_BLOCK_ROWS = 65_536;
const SORTABLE_KINDS = new Set<Field['kind']>(['timestamp', 'float64', 'int64', 'int32', 'bool', 'dict']);

type KeyValue = number | string | null;

function positiveInteger(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1)
    throw new RangeError(`ExternalSorter: ${name} must be a positive integer, got ${v}`);
  return v;
}

/** Compare two key tuples with the sorter's order (numbers, strings in UTF-8 byte order, nulls last). */
function compareKeyValues(a: readonly KeyValue[], b: readonly KeyValue[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    const xn = x === null || (typeof x === 'number' && Number.isNaN(x));
    const yn = y === null || (typeof y === 'number' && Number.isNaN(y));
    if (xn || yn) {
      if (xn !== yn) return xn ? 1 : -1;
      continue;
    }
    const c =
      typeof x === 'string' && typeof y === 'string'
        ? Buffer.compare(Buffer.from(x, 'utf8'), Buffer.from(y, 'utf8'))
        : (x as number) < (y as number)
          ? -1
          : (x as number) > (y as number)
            ? 1
            : 0;
    if (c !== 0) return c;
  }
  return 0;
}

export class ExternalSorter {
  private readonly fields: readonly Field[];
  private readonly sortKey: readonly string[];
  private readonly runRows: number;
  private readonly outputBatchRows: number;
  private readonly mergeBlockRows: number | undefined;
  private readonly tmpDir: string;
  private readonly dictionaries = new Map<string, SharedDictionary>();
  private buffer: RunBuffer | null = null;
  private readonly runFiles: RunFile[] = [];
  private readers: RunReader[] = [];
  private dir: string | null = null;
  private state: 'open' | 'finishing' | 'closed' = 'open';
  private busy = false;
  private rows = 0;
  private runs = 0;
  private spilledBytes = 0;
  private alreadySorted = true;
  /** Key of the last row of the previous run, to tell whether runs are in order across boundaries. */
  private lastKey: KeyValue[] | null = null;

  constructor(options: ExternalSorterOptions) {
    this.fields = options.schema.fields;
    this.sortKey = [...options.sortKey];
    this.tmpDir = options.tmpDir;
    this.runRows = positiveInteger('runRows', options.runRows ?? DEFAULT_RUN_ROWS);
    this.outputBatchRows = positiveInteger(
      'outputBatchRows',
      options.outputBatchRows ?? DEFAULT_OUTPUT_BATCH_ROWS,
    );
    this.mergeBlockRows =
      options.mergeBlockRows === undefined
        ? undefined
        : positiveInteger('mergeBlockRows', options.mergeBlockRows);
    if (this.sortKey.length === 0) throw new RangeError('ExternalSorter: sortKey is empty');
    for (const name of this.sortKey) {
      const field = this.fields.find((f) => f.name === name);
      if (field === undefined) {
        throw new RangeError(
          `ExternalSorter: sort key column "${name}" is not in the schema (${this.fields.map((f) => f.name).join(', ')})`,
        );
      }
      if (!SORTABLE_KINDS.has(field.kind)) {
        throw new RangeError(
          `ExternalSorter: sort key column "${name}" is ${field.kind}; sort keys must be ${[...SORTABLE_KINDS].join(', ')}`,
        );
      }
    }
    for (const f of this.fields) if (f.kind === 'dict') this.dictionaries.set(f.name, new SharedDictionary());
  }

  get stats(): ExternalSorterStats {
    return {
      rows: this.rows,
      runs: this.runs,
      spilledBytes: this.spilledBytes,
      alreadySorted: this.alreadySorted,
    };
  }

  /** Add rows. Await each call before the next; the batch may be reused by the caller afterwards. */
  async push(batch: ColumnBatch): Promise<void> {
    if (this.state !== 'open')
      throw new Error(`ExternalSorter: push after ${this.state === 'closed' ? 'close' : 'finish'}`);
    if (this.busy) throw new Error('ExternalSorter: push called before the previous push settled');
    this.checkBatch(batch);
    this.busy = true;
    try {
      let start = 0;
      while (start < batch.length) {
        this.buffer ??= new RunBuffer(this.fields, this.dictionaries, this.runRows);
        if (this.buffer.full) await this.spill(this.buffer);
        const take = Math.min(batch.length - start, this.runRows - this.buffer.length);
        this.buffer.append(batch, start, start + take);
        start += take;
        this.rows += take;
      }
    } catch (err) {
      await this.close();
      throw err;
    } finally {
      this.busy = false;
    }
  }

  /**
   * The sorted rows, in batches of `outputBatchRows`. Call once, after the last push. Spill files
   * are removed when the iteration ends, however it ends (completion, `break`, error).
   */
  finish(): AsyncIterable<ColumnBatch> {
    if (this.state !== 'open') throw new Error(`ExternalSorter: finish called twice or after close`);
    if (this.busy) throw new Error('ExternalSorter: finish called before the last push settled');
    this.state = 'finishing';
    return this.output();
  }

  /** Remove spill files and release memory. Idempotent; safe at any time. */
  async close(): Promise<void> {
    this.state = 'closed';
    this.buffer = null;
    const readers = this.readers;
    this.readers = [];
    await Promise.all(readers.map((r) => r.close()));
    const dir = this.dir;
    this.dir = null;
    if (dir !== null) {
      try {
        await rm(dir, { recursive: true, force: true });
      } catch (err) {
        throw storageErrorFromFs(dir, err);
      }
    }
  }

  private async *output(): AsyncGenerator<ColumnBatch> {
    try {
      const buffer = this.buffer;
      if (this.runFiles.length === 0) {
        if (buffer === null || buffer.length === 0) return;
        yield* this.fromMemory(buffer);
        return;
      }
      if (buffer !== null && buffer.length > 0) await this.spill(buffer);
      this.buffer = null;
      yield* this.merge();
    } finally {
      await this.close();
    }
  }

  private finalDictionaries(): Map<string, readonly string[]> {
    const out = new Map<string, readonly string[]>();
    for (const [name, d] of this.dictionaries) out.set(name, Object.freeze([...d.values]));
    return out;
  }

  private keyRanks(): Map<string, Int32Array> {
    const ranks = new Map<string, Int32Array>();
    for (const name of this.sortKey) {
      const d = this.dictionaries.get(name);
      if (d !== undefined) ranks.set(name, dictionaryRanks(d.values));
    }
    return ranks;
  }

  /** Sort the current run; track whether the input is still in order. */
  private sortRun(run: ColumnBatch): Uint32Array | null {
    const perm = sortPermutation(keyColumnsOf(run, this.sortKey, this.keyRanks()), run.length);
    this.runs++;
    if (perm !== null) this.alreadySorted = false;
    if (this.alreadySorted && run.length > 0) {
      const first = this.keyValuesAt(run, 0);
      if (this.lastKey !== null && compareKeyValues(this.lastKey, first) > 0) this.alreadySorted = false;
    }
    if (run.length > 0)
      this.lastKey = this.keyValuesAt(run, perm === null ? run.length - 1 : perm[run.length - 1]!);
    return perm;
  }

  private keyValuesAt(run: ColumnBatch, row: number): KeyValue[] {
    return this.sortKey.map((name) => {
      const col = run.columns[name]!;
      if (col.validity !== null && col.validity[row] === 0) return null;
      switch (col.kind) {
        case 'dict':
          return col.dictionary[col.indices[row]!] ?? null;
        case 'utf8':
          return null;
        default:
          return col.values[row]!;
      }
    });
  }

  private *fromMemory(buffer: RunBuffer): Generator<ColumnBatch> {
    const run = buffer.view(this.finalDictionaries());
    const perm = this.sortRun(run);
    const step = this.outputBatchRows;
    for (let s = 0; s < run.length; s += step) {
      const e = Math.min(run.length, s + step);
      yield perm === null ? sliceBatch(run, s, e) : takeBatch(run, perm.subarray(s, e));
    }
  }

  private async spill(buffer: RunBuffer): Promise<void> {
    const run = buffer.view();
    const perm = this.sortRun(run);
    const dir = await this.spillDir();
    const file = await writeRun(join(dir, `run-${this.runFiles.length}.bin`), this.fields, run, perm);
    this.runFiles.push(file);
    this.spilledBytes += file.bytes;
    buffer.reset();
  }

  private async spillDir(): Promise<string> {
    if (this.dir !== null) return this.dir;
    try {
      await mkdir(this.tmpDir, { recursive: true });
      this.dir = await mkdtemp(join(this.tmpDir, 'ticklake-sort-'));
    } catch (err) {
      throw storageErrorFromFs(this.tmpDir, err);
    }
    return this.dir;
  }

  private async *merge(): AsyncGenerator<ColumnBatch> {
    for (const f of this.runFiles) this.readers.push(await RunReader.open(f));
    const k = this.runFiles.length;
    const blockRows =
      this.mergeBlockRows ?? Math.max(MIN_BLOCK_ROWS, Math.min(MAX_BLOCK_ROWS, Math.floor(this.runRows / k)));
    yield* mergeRuns(this.readers, {
      fields: this.fields,
      sortKey: this.sortKey,
      ranks: this.keyRanks(),
      dictionaries: this.finalDictionaries(),
      blockRows,
      outputBatchRows: this.outputBatchRows,
    });
  }

  private checkBatch(batch: ColumnBatch): void {
    const names = Object.keys(batch.columns);
    for (const field of this.fields) {
      const col = batch.columns[field.name];
      if (col === undefined) {
        throw new SchemaMismatchError(`sorter: batch has no column "${field.name}"`, {
          details: { expected: this.fields.map((f) => f.name), found: names },
        });
      }
      if (col.kind !== field.kind) {
        throw new SchemaMismatchError(
          `sorter: column "${field.name}" is ${col.kind}, schema says ${field.kind}`,
        );
      }
    }
    if (names.length !== this.fields.length) {
      const extra = names.filter((n) => !this.fields.some((f) => f.name === n));
      throw new SchemaMismatchError(`sorter: batch has columns not in the schema: ${extra.join(', ')}`);
    }
  }
}
