/**
 * Tardis datasets client: the URL of one instrument-day file and a resumable, retrying download that
 * streams the gzipped bytes to a consumer.
 *
 * Retry policy (as Tardis's own clients): exponential backoff with full jitter on network errors, 5xx
 * and 429 (429 waits at least `Retry-After`); never retry 400/401/403/404. A body cut short is resumed
 * with `Range: bytes=<consumed>-` (+ `If-Range: <etag>`), so the consumer sees one continuous stream.
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  CancelledError,
  CorruptedSourceError,
  NetworkError,
  TicklakeError,
  VendorAuthError,
  VendorBadRequestError,
  VendorNotFoundError,
  VendorRateLimitError,
  VendorServerError,
} from '../../errors.js';
import type { DataType } from '../../schema/datasets.js';
import { backoffDelay, DEFAULT_USER_AGENT, httpGet, parseRetryAfter, safeUrl, sleep } from './http.js';

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Tardis file-name form of a symbol: upper case, `/` and `:` become `-`. */
export function tardisFileSymbol(symbol: string): string {
  return symbol.toUpperCase().replace(/[/:]/g, '-');
}

/** `{base}/{exchange}/{data_type}/{YYYY}/{MM}/{DD}/{SYMBOL}.csv.gz` */
export function tardisDatasetUrl(
  baseUrl: string,
  exchange: string,
  dataType: DataType,
  day: string,
  symbol: string,
): string {
  const m = DAY_RE.exec(day);
  if (!m) throw new RangeError(`day must look like YYYY-MM-DD, got "${day}"`);
  const base = baseUrl.replace(/\/+$/, '');
  const file = encodeURIComponent(tardisFileSymbol(symbol));
  return `${base}/${encodeURIComponent(exchange)}/${dataType}/${m[1]}/${m[2]}/${m[3]}/${file}.csv.gz`;
}

/** What `onRetry` is told before each wait. Never contains the API key. */
export interface RetryInfo {
  url: string;
  /** 1-based retry number since the last attempt that made progress. */
  retry: number;
  /** Milliseconds about to be waited. */
  delayMs: number;
  /** HTTP status of the failed attempt; undefined for network errors. */
  status: number | undefined;
  /** One-line reason ("HTTP 503", "socket hang up", "body ended after 10 of 20 bytes"). */
  problem: string;
  /** Bytes of the body consumed so far; the next request asks for the rest. */
  resumeFrom: number;
}

export interface DownloadOptions {
  /** Tardis API key; sent as `Authorization: Bearer <key>` only when given. */
  apiKey?: string;
  /** Receives the gzipped body in order. Awaited: a slow consumer slows the download (backpressure). */
  onChunk: (chunk: Uint8Array) => void | Promise<void>;
  /** Retries after the first attempt (default 5). The count restarts after an attempt that made progress. */
  maxRetries?: number;
  /** Backoff base (default 1000 ms). */
  baseDelayMs?: number;
  /** Backoff ceiling (default 60 000 ms). `Retry-After` may ask for longer and is honoured. */
  maxDelayMs?: number;
  /** Idle socket timeout per attempt (default 60 000 ms); counts as a network error. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Bytes already consumed by an earlier process: the download starts with `Range: bytes=<n>-` and
   * `onChunk` receives only what follows. Requires `hash` (the sha256 state of those n bytes).
   */
  resumeFrom?: number;
  /** ETag the `resumeFrom` prefix came from; sent as `If-Range` so a changed file is not spliced. */
  etag?: string;
  /**
   * sha256 state to continue (`createHash('sha256')` fed the first `resumeFrom` bytes). The download
   * updates it with every delivered byte and digests it at the end. Default: a fresh hash.
   */
  hash?: Hash;
  onRetry?: (info: RetryInfo) => void;
  userAgent?: string;
}

export interface DownloadResult {
  /** Total body size in bytes, including a `resumeFrom` prefix. */
  bytes: number;
  /** sha256 (hex) of the full gzipped body, including a `resumeFrom` prefix. */
  sha256: string;
  /** HTTP status of the last response (200, 206, or 416 when `resumeFrom` was already the whole file). */
  status: number;
  etag: string | undefined;
  /** True when the server marked the file as generated (`x-ticklake-generated: 1`), not vendor data. */
  generated: boolean;
  /** Requests made, redirects excluded. */
  requests: number;
}

type Failure =
  | { kind: 'status'; status: number; retryAfterMs: number | undefined }
  | { kind: 'network'; problem: string; cause: unknown };

type AttemptOutcome =
  | { kind: 'done'; status: number; etag: string | undefined; generated: boolean }
  | { kind: 'retry'; failure: Failure };

/** Wraps an error thrown by the caller's `onChunk`, so it is rethrown as is and never retried. */
class ConsumerFailure {
  constructor(readonly error: unknown) {}
}

const MAX_REDIRECTS = 5;
const HEADER_SAFE = /^[\x21-\x7e]+$/;

/**
 * Download one dataset file, streaming its gzipped bytes to `options.onChunk`.
 *
 * Throws `VendorAuthError` (401/403), `VendorNotFoundError` (404), `VendorBadRequestError` (other
 * 4xx), `VendorServerError` / `VendorRateLimitError` / `NetworkError` once retries run out,
 * `CorruptedSourceError` when a resumed body cannot be spliced (the file changed at the vendor), and
 * `CancelledError` when `signal` aborts. Errors from `onChunk` propagate unchanged.
 */
export async function downloadDataset(url: string, options: DownloadOptions): Promise<DownloadResult> {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new VendorBadRequestError(safeUrl(target), 0);
  }
  const shownUrl = safeUrl(target);
  const apiKey = options.apiKey === '' ? undefined : options.apiKey;
  if (apiKey !== undefined && !HEADER_SAFE.test(apiKey)) {
    // Never echo the key: say only what is wrong with it.
    throw new TypeError('Tardis API key contains whitespace or non-ASCII characters');
  }
  const resumeFrom = options.resumeFrom ?? 0;
  if (!Number.isSafeInteger(resumeFrom) || resumeFrom < 0) {
    throw new RangeError(`resumeFrom must be a non-negative integer, got ${resumeFrom}`);
  }
  if (resumeFrom > 0 && options.hash === undefined) {
    throw new TypeError('resumeFrom needs `hash`: the sha256 state of the bytes already consumed');
  }
  const maxRetries = options.maxRetries ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 1000;
  const maxDelayMs = options.maxDelayMs ?? 60_000;
  const signal = options.signal;

  const state: DownloadState = {
    consumed: resumeFrom,
    etag: options.etag,
    hash: options.hash ?? createHash('sha256'),
  };
  let requests = 0;
  let retry = 0;
  for (;;) {
    if (signal?.aborted) throw new CancelledError();
    const before = state.consumed;
    requests++;
    let outcome: AttemptOutcome;
    try {
      outcome = await attempt(target, apiKey, options, state);
    } catch (err) {
      if (err instanceof ConsumerFailure) throw err.error;
      if (signal?.aborted || err instanceof CancelledError) throw new CancelledError();
      if (err instanceof TicklakeError) throw err;
      outcome = { kind: 'retry', failure: { kind: 'network', problem: describe(err), cause: err } };
    }
    if (outcome.kind === 'done') {
      return {
        bytes: state.consumed,
        sha256: state.hash.digest('hex'),
        status: outcome.status,
        etag: outcome.etag ?? state.etag,
        generated: outcome.generated,
        requests,
      };
    }
    const failure = outcome.failure;
    // An attempt that delivered bytes was worth it: a flaky connection still finishes a big file.
    retry = state.consumed > before ? 1 : retry + 1;
    if (retry > maxRetries) throw exhausted(shownUrl, failure, requests);
    let delayMs = backoffDelay(retry, baseDelayMs, maxDelayMs);
    if (failure.kind === 'status' && failure.retryAfterMs !== undefined) {
      delayMs = Math.max(delayMs, failure.retryAfterMs);
    }
    options.onRetry?.({
      url: shownUrl,
      retry,
      delayMs,
      status: failure.kind === 'status' ? failure.status : undefined,
      problem: failure.kind === 'status' ? `HTTP ${failure.status}` : failure.problem,
      resumeFrom: state.consumed,
    });
    await sleep(delayMs, signal);
  }
}

interface DownloadState {
  consumed: number;
  etag: string | undefined;
  hash: Hash;
}

function exhausted(url: string, failure: Failure, attempts: number): TicklakeError {
  if (failure.kind === 'network') {
    // A fresh cause with only name/message/code: the original may reference the request and its headers.
    return new NetworkError(url, failure.problem, attempts, sanitizedCause(failure.cause));
  }
  if (failure.status === 429) return new VendorRateLimitError(url, attempts);
  return new VendorServerError(url, failure.status, attempts);
}

function sanitizedCause(err: unknown): Error {
  const e = new Error(describe(err));
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') Object.assign(e, { code });
  e.name = err instanceof Error ? err.name : 'Error';
  return e;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function attempt(
  start: URL,
  apiKey: string | undefined,
  options: DownloadOptions,
  state: DownloadState,
): Promise<AttemptOutcome> {
  let url = start;
  for (let redirects = 0; ; redirects++) {
    const headers: Record<string, string> = {
      'user-agent': options.userAgent ?? DEFAULT_USER_AGENT,
      accept: '*/*',
    };
    // The key goes only to the origin it was meant for, never to a redirect target elsewhere.
    if (apiKey !== undefined && url.origin === start.origin) headers.authorization = `Bearer ${apiKey}`;
    if (state.consumed > 0) {
      headers.range = `bytes=${state.consumed}-`;
      if (state.etag !== undefined) headers['if-range'] = state.etag;
    }
    const { res, dispose } = await httpGet(url, {
      headers,
      signal: options.signal,
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    });
    try {
      const status = res.statusCode ?? 0;
      const location = header(res, 'location');
      if (status >= 300 && status < 400 && location !== undefined) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) throw new VendorBadRequestError(safeUrl(start), status);
        url = new URL(location, url);
        continue;
      }
      return await handleResponse(res, status, start, options, state, apiKey !== undefined);
    } finally {
      dispose();
    }
  }
}

async function handleResponse(
  res: IncomingMessage,
  status: number,
  start: URL,
  options: DownloadOptions,
  state: DownloadState,
  hadKey: boolean,
): Promise<AttemptOutcome> {
  const shown = safeUrl(start);
  const generated = header(res, 'x-ticklake-generated') === '1';
  const etag = header(res, 'etag');
  if (status === 401 || status === 403) {
    res.resume();
    throw new VendorAuthError(shown, status, hadKey);
  }
  if (status === 404) {
    res.resume();
    throw new VendorNotFoundError(shown);
  }
  if (status === 429 || status >= 500) {
    res.resume();
    return {
      kind: 'retry',
      failure: { kind: 'status', status, retryAfterMs: parseRetryAfter(res.headers['retry-after']) },
    };
  }
  if (status === 416 && state.consumed > 0) {
    res.resume();
    const total = /\/(\d+)\s*$/.exec(header(res, 'content-range') ?? '')?.[1];
    if (total !== undefined && Number(total) === state.consumed) {
      return { kind: 'done', status, etag, generated };
    }
    throw new CorruptedSourceError(shown, `the vendor cannot resume at byte ${state.consumed}`, {
      hint: 'the file changed or shrank at the vendor; delete the partial download and rerun',
    });
  }
  if (status !== 200 && status !== 206) {
    res.resume();
    throw new VendorBadRequestError(shown, status);
  }

  // Where this body starts relative to the whole file, and how long it should be.
  let bodyStart = 0;
  let expected: number | undefined;
  const length = header(res, 'content-length');
  if (length !== undefined && /^\d+$/.test(length)) expected = Number(length);
  if (status === 206) {
    const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/.exec(header(res, 'content-range') ?? '');
    if (!m) {
      res.resume();
      throw new CorruptedSourceError(shown, 'partial response without a valid Content-Range');
    }
    bodyStart = Number(m[1]);
    expected ??= Number(m[2]) - bodyStart + 1;
    if (bodyStart > state.consumed) {
      res.resume();
      throw new CorruptedSourceError(shown, `asked for byte ${state.consumed}, got bytes from ${bodyStart}`);
    }
  } else if (state.consumed > 0 && state.etag !== undefined && etag !== undefined && etag !== state.etag) {
    // If-Range said "the file changed": the consumed prefix belongs to another version.
    res.resume();
    throw new CorruptedSourceError(shown, 'the file changed at the vendor during the download', {
      hint: 'delete the partial download and rerun to fetch the new version',
    });
  }
  if (state.etag === undefined && etag !== undefined) state.etag = etag;

  let skip = state.consumed - bodyStart; // > 0 when the server ignored Range (200) or overlapped
  let received = 0;
  try {
    for await (const raw of res as AsyncIterable<Buffer>) {
      received += raw.length;
      let chunk: Uint8Array = raw;
      if (skip > 0) {
        if (skip >= chunk.length) {
          skip -= chunk.length;
          continue;
        }
        chunk = chunk.subarray(skip);
        skip = 0;
      }
      state.hash.update(chunk);
      state.consumed += chunk.length;
      try {
        await options.onChunk(chunk);
      } catch (err) {
        throw new ConsumerFailure(err);
      }
    }
  } catch (err) {
    if (err instanceof ConsumerFailure || err instanceof CancelledError) throw err;
    if (options.signal?.aborted) throw new CancelledError();
    return { kind: 'retry', failure: { kind: 'network', problem: describe(err), cause: err } };
  }
  if (!res.complete || (expected !== undefined && received < expected)) {
    const of = expected === undefined ? '' : ` of ${expected}`;
    return {
      kind: 'retry',
      failure: { kind: 'network', problem: `body ended after ${received}${of} bytes`, cause: undefined },
    };
  }
  return { kind: 'done', status, etag: etag ?? state.etag, generated };
}
