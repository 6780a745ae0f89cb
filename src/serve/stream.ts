/**
 * Streaming an Arrow Table into an HTTP response as NDJSON, CSV or Arrow IPC (stream format), a slice
 * or record batch at a time. Each write respects backpressure (waits for `drain`), and a client that
 * goes away stops the loop at the next slice (nothing more is formatted or buffered).
 */
import type { ServerResponse } from 'node:http';
import { type Data, RecordBatchStreamWriter, type Table, type Vector } from 'apache-arrow';
import { int64ToFloat64 } from '../columns/arrow.js';

export type WireFormat = 'ndjson' | 'csv' | 'arrow';

export const CONTENT_TYPES: Record<WireFormat, string> = {
  ndjson: 'application/x-ndjson',
  csv: 'text/csv; charset=utf-8',
  arrow: 'application/vnd.apache.arrow.stream',
};

/** Rows per formatted slice (NDJSON/CSV). */
const SLICE_ROWS = 8192;

export interface StreamResult {
  rows: number;
  bytes: number;
  /** False when the client disconnected before the end. */
  completed: boolean;
}

/** True once the response can no longer be written (client gone or socket destroyed). */
function gone(res: ServerResponse): boolean {
  return res.destroyed || res.writableEnded || (res.socket?.destroyed ?? false);
}

/**
 * An Arrow IPC stream writer whose bytes are collected synchronously (instead of going through an
 * async queue), so each record batch leaves as one buffer.
 */
class CollectingStreamWriter extends RecordBatchStreamWriter {
  private chunks: Uint8Array[] = [];
  protected override _write(chunk: unknown): this {
    if (this._started) {
      const view = chunk as ArrayBufferView;
      const buf = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      if (buf.byteLength > 0) {
        this.chunks.push(buf);
        this._position += buf.byteLength;
      }
    }
    return this;
  }
  /** The bytes written since the last call. */
  take(): Buffer {
    const b = Buffer.concat(this.chunks);
    this.chunks = [];
    return b;
  }
}

const utf8 = new TextDecoder();

/** `formatMicros` (ISO-8601 with µs) with the per-second prefix reused across consecutive values. */
function microsFormatter(): (us: number) => string {
  let lastSec = Number.NaN;
  let prefix = '';
  return (us) => {
    const sec = Math.floor(us / 1_000_000);
    if (sec !== lastSec) {
      lastSec = sec;
      prefix = new Date(sec * 1000).toISOString().slice(0, 20);
    }
    return `${prefix}${String(us - sec * 1_000_000).padStart(6, '0')}Z`;
  };
}

function csvEscape(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * One column of a slice as encoded cells (JSON values for NDJSON, CSV fields), column by column:
 * typed-array reads, dictionaries encoded once per chunk, no object per row.
 */
function formatColumn(vec: Vector, n: number, format: 'ndjson' | 'csv'): string[] {
  const out: string[] = new Array(n);
  const json = format === 'ndjson';
  const nul = json ? 'null' : '';
  const str = (s: string) => (json ? JSON.stringify(s) : csvEscape(s));
  let p = 0;
  for (const d of vec.data as Data[]) {
    const len = d.length;
    const bitmap = d.nullCount > 0 ? d.nullBitmap : null;
    const isNull = (j: number) =>
      bitmap !== null &&
      bitmap.length > 0 &&
      (bitmap[(d.offset + j) >> 3]! & (1 << ((d.offset + j) & 7))) === 0;
    const type = String(d.type);
    if (type.startsWith('Timestamp')) {
      const us = int64ToFloat64(d.values as BigInt64Array);
      const formatMicros = microsFormatter();
      for (let j = 0; j < len; j++)
        out[p + j] = isNull(j) ? nul : json ? `"${formatMicros(us[j]!)}"` : formatMicros(us[j]!);
    } else if (type.startsWith('Dictionary')) {
      const dict = d.dictionary;
      const enc: string[] = [];
      if (dict) for (let k = 0; k < dict.length; k++) enc.push(str(String(dict.get(k))));
      const idx = d.values as Int32Array;
      for (let j = 0; j < len; j++) out[p + j] = isNull(j) ? nul : enc[idx[j]!]!;
    } else if (type === 'Utf8') {
      const off = d.valueOffsets as Int32Array;
      const bytes = d.values as Uint8Array;
      for (let j = 0; j < len; j++)
        out[p + j] = isNull(j) ? nul : str(utf8.decode(bytes.subarray(off[j]!, off[j + 1]!)));
    } else if (type === 'Bool') {
      const bits = d.values as Uint8Array;
      for (let j = 0; j < len; j++) {
        const bit = d.offset + j;
        out[p + j] = isNull(j) ? nul : (bits[bit >> 3]! >> (bit & 7)) & 1 ? 'true' : 'false';
      }
    } else if (type === 'Int64' || type === 'Uint64') {
      const v = d.values as BigInt64Array;
      for (let j = 0; j < len; j++) out[p + j] = isNull(j) ? nul : String(v[j]);
    } else if (type.startsWith('Float') || type.startsWith('Int') || type.startsWith('Uint')) {
      const v = d.values as Float64Array;
      for (let j = 0; j < len; j++) {
        const x = v[j]!;
        out[p + j] = isNull(j) || (json && !Number.isFinite(x)) ? nul : String(x);
      }
    } else {
      for (let j = 0; j < len; j++) {
        const x = vec.get(p + j) as unknown;
        out[p + j] = x === null || x === undefined ? nul : str(String(x));
      }
    }
    p += len;
  }
  return out;
}

/** Wait until `res` drains or closes. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function writeText(res: ServerResponse, s: string, counter: { bytes: number }): Promise<void> {
  const buf = Buffer.from(s, 'utf8');
  counter.bytes += buf.length;
  if (!res.write(buf)) await drained(res);
}

/** Stream `table` as `format`; resolves when done or the client went away. */
export async function streamTable(
  res: ServerResponse,
  table: Table,
  format: WireFormat,
): Promise<StreamResult> {
  const counter = { bytes: 0 };
  let rows = 0;
  if (format === 'arrow') {
    // One buffer per record batch (schema + dictionaries first), written with backpressure.
    const writer = new CollectingStreamWriter();
    const batches = table.batches;
    if (batches.length === 0) {
      writer.writeAll(table);
      const bytes = writer.take();
      counter.bytes += bytes.length;
      res.end(bytes);
      return { rows: 0, bytes: counter.bytes, completed: true };
    }
    for (const b of batches) {
      if (gone(res)) return { rows, bytes: counter.bytes, completed: false };
      writer.write(b);
      const bytes = writer.take();
      counter.bytes += bytes.length;
      if (!res.write(bytes)) await drained(res);
      rows += b.numRows;
    }
    writer.close(); // the end-of-stream marker, kept for `take`
    const tail = writer.take();
    counter.bytes += tail.length;
    if (gone(res)) return { rows, bytes: counter.bytes, completed: false };
    res.end(tail);
    return { rows, bytes: counter.bytes, completed: true };
  }
  const names = table.schema.fields.map((f) => f.name);
  if (format === 'csv') await writeText(res, `${names.map(csvEscape).join(',')}\n`, counter);
  const prefixes = names.map((n, c) => `${c === 0 ? '{' : ','}${JSON.stringify(n)}:`);
  for (let start = 0; start < table.numRows; start += SLICE_ROWS) {
    if (gone(res)) return { rows, bytes: counter.bytes, completed: false };
    const end = Math.min(table.numRows, start + SLICE_ROWS);
    const slice = table.slice(start, end);
    const n = end - start;
    const cols = names.map((name) => formatColumn(slice.getChild(name)!, n, format));
    let out = '';
    for (let i = 0; i < n; i++) {
      if (format === 'csv') {
        let line = cols[0]![i]!;
        for (let c = 1; c < cols.length; c++) line += `,${cols[c]![i]!}`;
        out += `${line}\n`;
      } else {
        let line = '';
        for (let c = 0; c < cols.length; c++) line += prefixes[c]! + cols[c]![i]!;
        out += `${line}}\n`;
      }
    }
    await writeText(res, out, counter);
    rows += n;
  }
  if (gone(res)) return { rows, bytes: counter.bytes, completed: false };
  res.end();
  return { rows, bytes: counter.bytes, completed: true };
}
