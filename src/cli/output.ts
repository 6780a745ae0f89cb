/**
 * Terminal output: redacted writes, human-readable sizes and counts, a progress bar for TTYs, and
 * columnar CSV / JSON-lines formatting of Arrow tables (no object per row).
 */
import { type FileHandle, open } from 'node:fs/promises';
import type { Table, Vector } from 'apache-arrow';
import { int64ToFloat64 } from '../columns/arrow.js';
import type { ColumnBatch, Schema } from '../columns/types.js';
import { storageErrorFromFs } from '../errors.js';
import { ParquetWriter } from '../parquet/writer.js';
import { redact } from '../util/redact.js';
import { formatMicros } from '../util/time.js';

export interface Out {
  out(text: string): void;
  err(text: string): void;
  readonly isTTY: boolean;
}

export const processOut: Out = {
  out: (t) => process.stdout.write(redact(t)),
  err: (t) => process.stderr.write(redact(t)),
  get isTTY() {
    return Boolean(process.stderr.isTTY);
  },
};

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/** A one-line progress bar redrawn in place on a TTY. */
export class ProgressBar {
  private last = 0;
  constructor(
    private readonly o: Out,
    private readonly width = 24,
  ) {}

  render(done: number, total: number, detail: string, force = false): void {
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const frac = total === 0 ? 1 : done / total;
    const filled = Math.round(frac * this.width);
    const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(this.width - filled)}`;
    this.o.err(`\r[${bar}] ${done}/${total} ${detail}`.padEnd(100).slice(0, 120));
  }

  clear(): void {
    this.o.err(`\r${' '.repeat(120)}\r`);
  }
}

/** Simple aligned text table. */
export function textTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

type CellFormatter = (i: number) => string | number | boolean | null;

const decoder = new TextDecoder();

/** Per-column accessor over a (possibly chunked) Arrow vector, reading buffers directly. */
function columnFormatter(vec: Vector): CellFormatter {
  const typeId = String(vec.type);
  // Flatten chunks into per-row accessors without materialising row objects.
  const chunks = vec.data;
  const starts: number[] = [];
  let n = 0;
  for (const d of chunks) {
    starts.push(n);
    n += d.length;
  }
  const locate = (i: number): [number, number] => {
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return [lo, i - starts[lo]!];
  };
  const isNull = (c: number, j: number): boolean => {
    const d = chunks[c]!;
    if (!d.nullCount || !d.nullBitmap || d.nullBitmap.length === 0) return false;
    const bit = d.offset + j;
    return (d.nullBitmap[bit >> 3]! & (1 << (bit & 7))) === 0;
  };
  if (typeId.startsWith('Timestamp')) {
    const floats = chunks.map((d) => int64ToFloat64(d.values as BigInt64Array));
    return (i) => {
      const [c, j] = locate(i);
      return isNull(c, j) ? null : formatMicros(floats[c]![j]!);
    };
  }
  if (typeId.startsWith('Dictionary')) {
    return (i) => {
      const [c, j] = locate(i);
      if (isNull(c, j)) return null;
      const d = chunks[c]!;
      const idx = (d.values as Int32Array)[j]!;
      return d.dictionary?.get(idx) as string;
    };
  }
  if (typeId === 'Utf8') {
    return (i) => {
      const [c, j] = locate(i);
      if (isNull(c, j)) return null;
      const d = chunks[c]!;
      const off = d.valueOffsets as Int32Array;
      return decoder.decode((d.values as Uint8Array).subarray(off[j]!, off[j + 1]!));
    };
  }
  return (i) => {
    const v = vec.get(i) as unknown;
    if (v === null || v === undefined) return null;
    if (typeof v === 'bigint') return Number(v);
    return v as number | boolean;
  };
}

function csvCell(v: string | number | boolean | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Write a table as CSV (header + rows) through `write`, in chunks. */
export function writeCsv(table: Table, write: (s: string) => void): void {
  const names = table.schema.fields.map((f) => f.name);
  const fmts = names.map((n) => columnFormatter(table.getChild(n)!));
  write(`${names.join(',')}\n`);
  let buf: string[] = [];
  for (let i = 0; i < table.numRows; i++) {
    buf.push(fmts.map((f) => csvCell(f(i))).join(','));
    if (buf.length === 10_000) {
      write(`${buf.join('\n')}\n`);
      buf = [];
    }
  }
  if (buf.length > 0) write(`${buf.join('\n')}\n`);
}

/** Write a table as JSON lines (one object per row). */
export function writeJsonLines(table: Table, write: (s: string) => void): void {
  const names = table.schema.fields.map((f) => f.name);
  const fmts = names.map((n) => columnFormatter(table.getChild(n)!));
  let buf: string[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const o: Record<string, unknown> = {};
    for (let c = 0; c < names.length; c++) o[names[c]!] = fmts[c]!(i);
    buf.push(JSON.stringify(o));
    if (buf.length === 10_000) {
      write(`${buf.join('\n')}\n`);
      buf = [];
    }
  }
  if (buf.length > 0) write(`${buf.join('\n')}\n`);
}

/** Write batches to a local Parquet file (zstd) for `--format parquet --out FILE`; typed storage errors. */
export async function writeParquetFile(
  path: string,
  schema: Schema,
  batches: ColumnBatch | readonly ColumnBatch[],
): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'w');
  } catch (err) {
    throw storageErrorFromFs(path, err);
  }
  try {
    let position = 0;
    const sink = {
      get position() {
        return position;
      },
      async write(chunk: Uint8Array) {
        await fh.write(chunk, 0, chunk.length, position);
        position += chunk.length;
      },
    };
    const w = new ParquetWriter(sink, { schema, codec: 'zstd' });
    for (const b of Array.isArray(batches) ? batches : [batches as ColumnBatch])
      if (b.length > 0) await w.write(b);
    await w.close();
  } catch (err) {
    throw storageErrorFromFs(path, err);
  } finally {
    await fh.close();
  }
}
