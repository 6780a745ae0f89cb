/**
 * HTTP plumbing shared by the Tardis clients: keep-alive agents, one GET with abort and idle timeout,
 * retry delays (exponential backoff with full jitter, `Retry-After`), an abortable `sleep` and a small
 * concurrency limiter for callers that download many files at once.
 *
 * Nothing here ever sees an API key as text it could print: headers go straight to node:http.
 */
import http from 'node:http';
import https from 'node:https';
import { CancelledError } from '../../errors.js';

/** Keep-alive agents: one TCP/TLS connection serves many downloads from the same host. */
export const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
export const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });

export const DEFAULT_USER_AGENT = 'ticklake/0.1';

/** Resolves after `ms`; rejects with `CancelledError` as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new CancelledError());
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new CancelledError());
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Delay before retry number `retry` (1-based): full jitter, uniform in [0, min(max, base·2^(retry-1))].
 * `random` is injectable for tests.
 */
export function backoffDelay(
  retry: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP-date. Undefined when absent/invalid. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const text = v.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** `url` without user-info, safe for messages (`https://user:secret@host/` → `https://host/`). */
export function safeUrl(url: string | URL): string {
  try {
    const u = new URL(url.toString());
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

export interface GetOptions {
  headers: Record<string, string>;
  signal?: AbortSignal;
  /** Destroy the request when the socket is idle this long (ms). */
  idleTimeoutMs: number;
}

/** An open response. `dispose` detaches the abort listener; call it once the body is read or dropped. */
export interface OpenResponse {
  readonly res: http.IncomingMessage;
  dispose(): void;
}

/** Raised (internally) when the socket sits idle too long; treated like any network error. */
export class IdleTimeoutError extends Error {
  constructor(ms: number) {
    super(`no data for ${ms} ms`);
    this.name = 'IdleTimeoutError';
  }
}

/**
 * One GET. Resolves when the status line and headers arrive; the body is then read from `res`.
 * Aborting `signal` destroys the request (and the body stream) with a `CancelledError`.
 */
export function httpGet(url: URL, options: GetOptions): Promise<OpenResponse> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(new CancelledError());
  const isHttps = url.protocol === 'https:';
  const request = isHttps ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'GET',
      headers: options.headers,
      agent: isHttps ? httpsAgent : httpAgent,
    });
    const onAbort = (): void => {
      req.destroy(new CancelledError());
    };
    const dispose = (): void => signal?.removeEventListener('abort', onAbort);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.setTimeout(options.idleTimeoutMs, () => req.destroy(new IdleTimeoutError(options.idleTimeoutMs)));
    req.once('error', (err) => {
      dispose();
      reject(err);
    });
    req.once('response', (res) => {
      // Errors after this point surface on the body stream; keep one listener so none goes unhandled.
      req.on('error', () => {});
      resolve({ res, dispose });
    });
    req.end();
  });
}

/**
 * Counting semaphore: at most `limit` holders at a time, FIFO. `run` is the usual entry point.
 *
 * ```ts
 * const downloads = new Semaphore(4);
 * await Promise.all(urls.map((u) => downloads.run(() => downloadDataset(u, opts))));
 * ```
 */
export class Semaphore {
  readonly limit: number;
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`Semaphore limit must be a positive integer, got ${limit}`);
    }
    this.limit = limit;
  }

  /** Holders right now. */
  get running(): number {
    return this.active;
  }

  /** Callers waiting for a slot. */
  get pending(): number {
    return this.waiters.length;
  }

  /** Wait for a slot; resolves to its `release` function (idempotent). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw new CancelledError();
    if (this.active < this.limit) {
      this.active++;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new CancelledError());
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    // The releasing holder handed its slot over: `active` was not decremented.
    return this.releaser();
  }

  /** Run `fn` when a slot is free, release it when `fn` settles. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.active--;
    };
  }
}

/** `p-limit` style: `const limit = pLimit(4); await limit(() => work())`. */
export function pLimit(concurrency: number): <T>(fn: () => Promise<T>) => Promise<T> {
  const sem = new Semaphore(concurrency);
  return (fn) => sem.run(fn);
}
