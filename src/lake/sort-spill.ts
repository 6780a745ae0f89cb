/**
 * Spill files of the external sorter: one file per sorted run, column-major raw bytes, so any row
 * range can be read back with a few positional reads.
 *
 * Layout per column (each section starts at a multiple of 8 bytes, so reads land in fresh, aligned
 * buffers that typed arrays can view directly):
 *   [validity: n bytes, only if the run has nulls in the column]
 *   fixed width: [values: n × 8 (float64/timestamp/int64) | n × 4 (int32) | n × 1 (bool)]
 *   utf8:        [offsets: (n + 1) × int32, absolute within the run] [data: bytes]
 *   dict:        [indices: n × int32 into the sorter-wide dictionary]
 * The layout itself stays in memory (`RunFile`); the file holds only column bytes.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { takeColumn } from '../columns/ops.js';
import type { Column, ColumnBatch, Field } from '../columns/types.js';
import { StorageError, storageErrorFromFs } from '../errors.js';

interface ColumnLayout {
  readonly field: Field;
  /** Byte position of the validity section, or -1 when the column has no nulls in this run. */
  readonly validityPos: number;
  /** Values / indices / utf8 offsets section. */
  readonly valuesPos: number;
  /** utf8 only: data section position and size. */
  readonly dataPos: number;
  readonly dataBytes: number;
}

export interface RunFile {
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
  readonly columns: readonly ColumnLayout[];
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

function elementBytes(kind: Field['kind']): number {
  switch (kind) {
    case 'int32':
    case 'dict':
      return 4;
    case 'bool':
      return 1;
    default:
      return 8;
  }
}

function bytesOf(a: Float64Array | Int32Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

async function writeAll(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten <= 0) throw new Error('short write');
    done += bytesWritten;
  }
}

/** Fresh (own, 8-aligned ArrayBuffer) bytes `[position, position + length)` of `fh`. */
async function readExact(
  fh: FileHandle,
  path: string,
  position: number,
  length: number,
): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new StorageError(`${path}: sorter spill file is shorter than written`);
    done += bytesRead;
  }
  return buf;
}

/**
 * Write `run` (a batch of views) in the order `perm` (identity when null) to a new file at `path`.
 * Columns are gathered one at a time, so the extra memory is one column of the run.
 */
export async function writeRun(
  path: string,
  fields: readonly Field[],
  run: ColumnBatch,
  perm: Uint32Array | null,
): Promise<RunFile> {
  const n = run.length;
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'wx');
    let pos = 0;
    const columns: ColumnLayout[] = [];
    for (const field of fields) {
      const src = run.columns[field.name]!;
      const col: Column = perm === null ? src : takeColumn(src, perm);
      const validityPos = col.validity === null ? -1 : pos;
      if (col.validity !== null) {
        await writeAll(fh, col.validity, pos);
        pos = align8(pos + n);
      }
      const valuesPos = pos;
      let dataPos = 0;
      let dataBytes = 0;
      if (col.kind === 'utf8') {
        let offsets = col.offsets;
        const base = offsets[0]!;
        if (base !== 0) offsets = offsets.map((o) => o - base);
        await writeAll(fh, bytesOf(offsets), pos);
        pos = align8(pos + (n + 1) * 4);
        dataPos = pos;
        dataBytes = offsets[n]!;
        await writeAll(fh, col.data.subarray(base, base + dataBytes), pos);
        pos = align8(pos + dataBytes);
      } else {
        await writeAll(fh, bytesOf(col.kind === 'dict' ? col.indices : col.values), pos);
        pos = align8(pos + n * elementBytes(col.kind));
      }
      columns.push({ field, validityPos, valuesPos, dataPos, dataBytes });
    }
    return { path, rows: n, bytes: pos, columns };
  } catch (err) {
    throw storageErrorFromFs(path, err);
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Reads row ranges of one spilled run. */
export class RunReader {
  private constructor(
    readonly run: RunFile,
    private readonly fh: FileHandle,
  ) {}

  static async open(run: RunFile): Promise<RunReader> {
    try {
      return new RunReader(run, await open(run.path, 'r'));
    } catch (err) {
      throw storageErrorFromFs(run.path, err);
    }
  }

  /** Rows `[start, end)` as a batch (fresh buffers; dict columns carry `dictionaries[name]`). */
  async read(
    start: number,
    end: number,
    dictionaries: ReadonlyMap<string, readonly string[]>,
  ): Promise<ColumnBatch> {
    const n = end - start;
    try {
      const cols = await Promise.all(
        this.run.columns.map((c) => this.readColumn(c, start, end, dictionaries)),
      );
      const columns: Record<string, Column> = {};
      this.run.columns.forEach((c, i) => {
        columns[c.field.name] = cols[i]!;
      });
      return { length: n, columns };
    } catch (err) {
      throw storageErrorFromFs(this.run.path, err);
    }
  }

  private async readColumn(
    c: ColumnLayout,
    start: number,
    end: number,
    dictionaries: ReadonlyMap<string, readonly string[]>,
  ): Promise<Column> {
    const n = end - start;
    const path = this.run.path;
    const validityP: Promise<Uint8Array | null> =
      c.validityPos < 0 ? Promise.resolve(null) : readExact(this.fh, path, c.validityPos + start, n);
    const kind = c.field.kind;
    if (kind === 'utf8') {
      const readText = async (): Promise<{ offsets: Int32Array; data: Uint8Array }> => {
        const raw = await readExact(this.fh, path, c.valuesPos + start * 4, (n + 1) * 4);
        const offsets = new Int32Array(raw.buffer, 0, n + 1);
        const from = offsets[0]!;
        const data = await readExact(this.fh, path, c.dataPos + from, offsets[n]! - from);
        if (from !== 0) for (let i = 0; i <= n; i++) offsets[i]! -= from;
        return { offsets, data };
      };
      const [{ offsets, data }, validity] = await Promise.all([readText(), validityP]);
      return { kind, offsets, data, validity };
    }
    const w = elementBytes(kind);
    const [raw, validity] = await Promise.all([
      readExact(this.fh, path, c.valuesPos + start * w, n * w),
      validityP,
    ]);
    switch (kind) {
      case 'dict':
        return {
          kind,
          indices: new Int32Array(raw.buffer, 0, n),
          dictionary: dictionaries.get(c.field.name) ?? [],
          validity,
        };
      case 'int32':
        return { kind, values: new Int32Array(raw.buffer, 0, n), validity };
      case 'bool':
        return { kind, values: raw, validity };
      default:
        return { kind, values: new Float64Array(raw.buffer, 0, n), validity };
    }
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}
