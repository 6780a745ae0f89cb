/**
 * The decode stage of an ingest task: download a vendor file (with sha256), gunzip it and parse the
 * CSV into canonical column batches. This one function runs either on the main thread or inside a
 * `worker_threads` Worker (decode-worker.ts, driven by decode-pool.ts); both give the same batches in
 * the same order, so both give byte-identical lake files.
 *
 * It knows nothing about the lake: batches go to `hooks.onBatch` (awaited: that is the backpressure),
 * bad rows to `hooks.onBadRow`, downloaded byte counts to `hooks.onBytes`.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { TransformOptions } from 'node:stream';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import type { ColumnBatch } from '../columns/types.js';
import {
  CorruptedSourceError,
  type SerializedTicklakeError,
  storageErrorFromFs,
  TicklakeError,
} from '../errors.js';
import { tardisKeyForSymbol } from '../keys/tardis.js';
import type { DataType } from '../schema/datasets.js';
import { createTardisCsvParser, type ParseSummary } from '../sources/tardis/csv.js';
import { downloadDataset } from '../sources/tardis/datasets.js';

/** Gunzipped bytes inflated ahead of the parser, and gzipped bytes queued ahead of inflate. */
const GUNZIP_READ_AHEAD = 4 << 20;
const GUNZIP_WRITE_AHEAD = 1 << 20;

/** Longest raw line kept for the quarantine file (longer ones are cut and end in `…`). */
export const MAX_QUARANTINED_LINE = 4096;

/** What to decode. Plain data (structured-clone safe) and free of secrets: it crosses to the worker. */
export interface DecodeJob {
  url: string;
  dataType: DataType;
  exchange: string;
  /** Instrument key of every row for a single-instrument file; null for grouped files (per row). */
  singleKey: string | null;
  maxBadRowShare: number;
  maxRetries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /**
   * Where to keep the gzipped bytes while they download (local lakes), so a killed process resumes the
   * download where it stopped: the next attempt re-reads this prefix from disk, then asks the vendor
   * for the rest with a Range request. Null: no persistence (resume within the process only).
   */
  partialPath?: string | null;
}

export interface DecodeHooks {
  /** Never part of a DecodeJob: on the worker path it travels once, in `workerData`. */
  apiKey: string | undefined;
  signal?: AbortSignal | undefined;
  /** Total gzipped bytes received so far. */
  onBytes: (n: number) => void;
  /** Awaited before parsing goes on. The batch's arrays are handed over. */
  onBatch: (batch: ColumnBatch) => void | Promise<void>;
  /** A row that could not be parsed (raw line already cut to MAX_QUARANTINED_LINE). */
  onBadRow: (line: number, reason: string, raw: string) => void;
}

export interface DownloadInfo {
  sha256: string;
  bytes: number;
  generated: boolean;
}

export interface DecodeResult {
  parsed: ParseSummary;
  download: DownloadInfo;
}

export async function decodeDataset(job: DecodeJob, hooks: DecodeHooks): Promise<DecodeResult> {
  const keyCache = new Map<string, string>();
  const resolveKey = (vendorSymbol: string): string => {
    let k = keyCache.get(vendorSymbol);
    if (k === undefined) {
      k = job.singleKey ?? tardisKeyForSymbol(job.exchange, vendorSymbol);
      keyCache.set(vendorSymbol, k);
    }
    return k;
  };
  const parser = createTardisCsvParser({
    dataType: job.dataType,
    source: job.url,
    resolveKey,
    onBatch: hooks.onBatch,
    onBadRow: (line: number, reason: string, raw: string) => {
      hooks.onBadRow(
        line,
        reason,
        raw.length > MAX_QUARANTINED_LINE ? `${raw.slice(0, MAX_QUARANTINED_LINE)}…` : raw,
      );
    },
    maxBadRowShare: job.maxBadRowShare,
  });
  const download = await streamGunzipped(job, hooks, (chunk) => parser.push(chunk));
  const parsed = await parser.end();
  return { parsed, download };
}

export function toTicklakeError(err: unknown): TicklakeError {
  if (err instanceof TicklakeError) return err;
  const e = err as Error;
  return new TicklakeError('INTERNAL', `unexpected error: ${e?.message ?? String(err)}`, {
    hint: 'please report this at the project issue tracker with --verbose output',
    cause: err,
  });
}

function gzipProblem(err: unknown, source: string): TicklakeError {
  if (err instanceof TicklakeError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(e?.message ?? '')) {
    return new CorruptedSourceError(
      source,
      'truncated gzip: the file ends before the end of the compressed stream',
      {
        cause: err,
      },
    );
  }
  if (e?.code === 'Z_DATA_ERROR') {
    return new CorruptedSourceError(source, `not a valid gzip file (${e.message})`, {
      hint: 'the vendor sent something else (an HTML error page?); check TARDIS_DATASETS_URL and rerun',
      cause: err,
    });
  }
  return toTicklakeError(err);
}

/** Download `job.url` and feed the gunzipped bytes to `consume`, honouring backpressure both ways. */
async function streamGunzipped(
  job: DecodeJob,
  hooks: DecodeHooks,
  consume: (chunk: Uint8Array) => void | Promise<void>,
): Promise<DownloadInfo> {
  const url = job.url;
  // Inflate runs on the libuv pool. With the 16 KiB stream defaults it alternated with parsing (one
  // 1 MiB chunk at a time); these read-aheads let it work while this thread parses (measured: about
  // 1 s less per 5 M trades here). Bounded, so memory does not depend on the file size.
  const gunzipOptions: ZlibOptions & TransformOptions = {
    chunkSize: 1 << 20,
    readableHighWaterMark: GUNZIP_READ_AHEAD,
    writableHighWaterMark: GUNZIP_WRITE_AHEAD,
  };
  const gunzip = createGunzip(gunzipOptions);
  let gzError: unknown = null;
  const consumer = (async () => {
    for await (const chunk of gunzip) await consume(chunk as Buffer);
  })();
  consumer.catch((err) => {
    gzError ??= err;
  });
  gunzip.on('error', (err) => {
    gzError ??= err;
  });
  let received = 0;
  const partial = job.partialPath ? openPartial(job.partialPath, url) : null;
  const hash = createHash('sha256');
  if (partial && partial.prefixBytes > 0) {
    // Replay the bytes an earlier (killed) attempt already downloaded.
    for await (const chunk of createReadStream(partial.path, {
      end: partial.prefixBytes - 1,
      highWaterMark: 1 << 20,
    })) {
      const c = chunk as Buffer;
      hash.update(c);
      received += c.length;
      if (!gunzip.write(c)) await Promise.race([once(gunzip, 'drain'), consumer.then(() => undefined)]);
      if (gzError) break;
    }
  }
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  if (hooks.signal?.aborted) controller.abort();
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await downloadDataset(url, {
      apiKey: hooks.apiKey,
      maxRetries: job.maxRetries,
      baseDelayMs: job.retryBaseDelayMs,
      maxDelayMs: job.retryMaxDelayMs,
      signal: controller.signal,
      hash,
      ...(partial && partial.prefixBytes > 0 ? { resumeFrom: partial.prefixBytes } : {}),
      onChunk: async (chunk: Uint8Array) => {
        if (gzError) throw gzipProblem(gzError, url);
        partial?.append(chunk);
        received += chunk.length;
        hooks.onBytes(received);
        if (!gunzip.write(chunk)) {
          await Promise.race([once(gunzip, 'drain'), consumer.then(() => undefined)]);
        }
        if (gzError) throw gzipProblem(gzError, url);
      },
    });
    gunzip.end();
    await consumer.catch(() => {});
    if (gzError) throw gzipProblem(gzError, url);
    partial?.finish(true);
    return { sha256: res.sha256, bytes: res.bytes, generated: res.generated };
  } catch (err) {
    // Keep the bytes for a later attempt only when the failure says nothing about them.
    const code = err instanceof TicklakeError ? err.code : null;
    partial?.finish(
      !(
        code === 'NETWORK' ||
        code === 'VENDOR_SERVER' ||
        code === 'VENDOR_RATE_LIMIT' ||
        code === 'CANCELLED'
      ),
    );
    gunzip.destroy();
    await consumer.catch(() => {});
    if (gzError && !(err instanceof TicklakeError && err.code !== 'INTERNAL'))
      throw gzipProblem(gzError, url);
    throw err instanceof TicklakeError ? err : gzipProblem(gzError ?? err, url);
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort);
  }
}

interface Partial {
  path: string;
  /** Bytes already on disk from an earlier attempt of the same URL. */
  prefixBytes: number;
  append(chunk: Uint8Array): void;
  /** Close; delete the bytes when `discard` (success, or a failure that makes them useless). */
  finish(discard: boolean): void;
}

/**
 * Open the partial download of `url` at `path` (`path.json` records the URL it belongs to). A lock file
 * with this process's pid keeps two processes from writing one partial; if another live process holds
 * it, this attempt simply does not persist.
 */
function openPartial(path: string, url: string): Partial | null {
  const lock = `${path}.lock`;
  const meta = `${path}.json`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(lock)) {
      const pid = Number(readFileSync(lock, 'utf8'));
      let alive = false;
      try {
        if (pid > 0 && pid !== process.pid) {
          process.kill(pid, 0);
          alive = true;
        }
      } catch {
        alive = false;
      }
      if (alive) return null;
    }
    writeFileSync(lock, String(process.pid));
    let prefixBytes = 0;
    try {
      const m = JSON.parse(readFileSync(meta, 'utf8')) as { url?: string };
      // Keep all but the last byte, so the vendor always answers with a body (206) and its headers
      // (generated flag, ETag) — a whole file on disk would get a bodiless 416 instead.
      if (m.url === url && existsSync(path)) prefixBytes = Math.max(0, statSync(path).size - 1);
    } catch {
      prefixBytes = 0;
    }
    if (prefixBytes === 0) writeFileSync(meta, JSON.stringify({ url }));
    else truncateSync(path, prefixBytes);
    const fd = openSync(path, prefixBytes > 0 ? 'a' : 'w');
    let open = true;
    return {
      path,
      prefixBytes,
      append: (chunk) => {
        let off = 0;
        try {
          while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
        } catch (err) {
          throw storageErrorFromFs(path, err);
        }
      },
      finish: (discard) => {
        if (!open) return;
        open = false;
        closeSync(fd);
        if (discard) {
          rmSync(path, { force: true });
          rmSync(meta, { force: true });
        }
        rmSync(lock, { force: true });
      },
    };
  } catch {
    // Persistence is an optimisation: without it the download still works (and resumes in-process).
    return null;
  }
}

// ---- the worker protocol (decode-pool.ts ⇄ decode-worker.ts) ------------------------------------
//
// main → worker: start {id, job}; ack {id} once a batch has been consumed; abort {id}.
// worker → main: bytes {id, n}; batch {id, batch, bad} (typed-array buffers transferred);
//                done {id, result, bad}; error {id, error, bad} (a serialized TicklakeError).
// `bad` holds the bad rows reported since the previous message, in line order. The worker keeps at
// most `maxInFlight` batches unacknowledged: parsing (and so gunzip and the download) waits for acks.

/** Bad rows in columns, so a message holds three arrays rather than one object per row. */
export interface BadRows {
  lines: number[];
  reasons: string[];
  raws: string[];
}

export interface DecodeWorkerData {
  /** The Tardis API key: in the worker's memory only, never in a message. */
  apiKey: string | undefined;
  maxInFlight: number;
}

export type ToWorker =
  | { type: 'start'; id: number; job: DecodeJob }
  | { type: 'ack'; id: number }
  | { type: 'abort'; id: number };

export type FromWorker =
  | { type: 'bytes'; id: number; n: number }
  | { type: 'batch'; id: number; batch: ColumnBatch; bad: BadRows | null }
  | { type: 'done'; id: number; result: DecodeResult; bad: BadRows | null }
  | { type: 'error'; id: number; error: SerializedTicklakeError; bad: BadRows | null };
