/**
 * A local Tardis-compatible server for tests and the demo. It serves dataset files from a directory
 * laid out like the vendor's URLs, with the vendor's auth rule (first day of a month is free), ETags,
 * byte ranges and 404 JSON bodies, and lets tests inject faults (429, 5xx, dropped connections,
 * truncated bodies, delays) per request.
 *
 *   GET /v1/{exchange}/{data_type}/{YYYY}/{MM}/{DD}/{SYMBOL}.csv.gz  ← dir/{exchange}/{data_type}/{YYYY}/{MM}/{DD}/{SYMBOL}.csv.gz
 *   GET /v1/exchanges/{exchange}                                    ← dir/_api/exchanges/{exchange}.json
 *   GET /v1/instruments/{exchange}   (needs a valid key, else 401)  ← dir/_api/instruments/{exchange}.json
 *
 * Files with a sidecar `{file}.generated.json` (written by `generateTardisDataset`) are answered with
 * `x-ticklake-generated: 1`, so nothing downstream mistakes generated data for vendor data.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** What a fault hook sees of a request. */
export interface FaultRequest {
  method: string;
  /** URL path, e.g. `/v1/binance/trades/2024/03/02/BTCUSDT.csv.gz`. */
  path: string;
  /** The `Range` header, if any. */
  range: string | undefined;
  /** 1-based count of requests to this path so far, this one included. */
  attempt: number;
}

/**
 * One injected behaviour:
 * - `{ status, retryAfter? }` answer with that status (JSON body), `Retry-After` when given;
 * - `{ dropAfterBytes }` send the normal headers and that many body bytes, then reset the connection;
 * - `{ truncateTo }` send only that many body bytes: with `contentLength: 'full'` (default) the headers
 *   promise the whole file and the connection closes early; with `'matching'` the short body is a
 *   complete, well-formed response (a file truncated at the vendor);
 * - `{ ignoreRange: true }` serve the whole file with 200 even when a Range was asked for;
 * - `{ delayMs }` wait, then serve normally.
 */
export type FaultAction =
  | { status: number; retryAfter?: number | string }
  | { dropAfterBytes: number }
  | { truncateTo: number; contentLength?: 'full' | 'matching' }
  | { ignoreRange: true }
  | { delayMs: number };

export type FaultPlan = (req: FaultRequest) => FaultAction | undefined;

/**
 * A plan that plays each path's actions in order, one per request, then serves normally. Keys are URL
 * paths or `*` (any path without its own list). `undefined` entries serve one request normally.
 */
export function faultSequence(plan: Record<string, readonly (FaultAction | undefined)[]>): FaultPlan {
  const queues = new Map<string, (FaultAction | undefined)[]>();
  for (const [key, actions] of Object.entries(plan)) queues.set(key, [...actions]);
  return (req) => {
    const q = queues.get(req.path) ?? queues.get('*');
    return q && q.length > 0 ? q.shift() : undefined;
  };
}

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  range?: string;
  /** Whether an `Authorization` header was sent (never its value). */
  authorized: boolean;
  /** The fault applied, if any. */
  fault?: FaultAction;
}

export interface TardisServerOptions {
  dir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Valid API keys. When given, days other than the 1st of a month need `Authorization: Bearer <key>`. */
  apiKeys?: readonly string[];
  faults?: FaultPlan;
}

export interface TardisServer {
  /** Datasets base URL, e.g. `http://127.0.0.1:PORT/v1` (what `TARDIS_DATASETS_URL` takes). */
  readonly url: string;
  /** API base URL (same server), what `TARDIS_API_URL` takes. */
  readonly apiUrl: string;
  readonly port: number;
  /** Every request answered so far, in order. */
  readonly requests: RequestLogEntry[];
  close(): Promise<void>;
}

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const DATASET_PATH = /^\/v1\/([^/]+)\/([^/]+)\/(\d{4})\/(\d{2})\/(\d{2})\/([^/]+\.csv\.gz)$/;
const EXCHANGE_PATH = /^\/v1\/exchanges\/([^/]+)$/;
const INSTRUMENTS_PATH = /^\/v1\/instruments\/([^/]+)$/;

function safeSegment(s: string): boolean {
  return SEGMENT.test(s) && s !== '.' && s !== '..';
}

export async function startTardisServer(options: TardisServerOptions): Promise<TardisServer> {
  const root = path.resolve(options.dir);
  const requests: RequestLogEntry[] = [];
  const attempts = new Map<string, number>();
  const keys = options.apiKeys === undefined ? undefined : new Set(options.apiKeys);

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { code: 500, message: String(err) });
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const range = typeof req.headers.range === 'string' ? req.headers.range : undefined;
    const n = (attempts.get(urlPath) ?? 0) + 1;
    attempts.set(urlPath, n);
    const entry: RequestLogEntry = {
      method,
      path: urlPath,
      status: 0,
      authorized: req.headers.authorization !== undefined,
    };
    if (range !== undefined) entry.range = range;
    requests.push(entry);
    const origWriteHead = res.writeHead.bind(res);
    res.writeHead = ((...args: Parameters<typeof res.writeHead>) => {
      entry.status = args[0];
      return origWriteHead(...args);
    }) as typeof res.writeHead;

    if (method !== 'GET' && method !== 'HEAD') {
      json(res, 405, { code: 405, message: `method ${method} not allowed` });
      return;
    }
    let fault = options.faults?.({ method, path: urlPath, range, attempt: n });
    if (fault) entry.fault = fault;
    if (fault && 'delayMs' in fault) {
      await new Promise((r) => setTimeout(r, fault && 'delayMs' in fault ? fault.delayMs : 0));
      fault = undefined;
    }
    if (fault && 'status' in fault) {
      if (fault.retryAfter !== undefined) res.setHeader('retry-after', String(fault.retryAfter));
      json(res, fault.status, { code: fault.status, message: http.STATUS_CODES[fault.status] ?? 'error' });
      return;
    }

    const ex = EXCHANGE_PATH.exec(urlPath);
    if (ex) {
      const exchange = ex[1] ?? '';
      if (!safeSegment(exchange)) return notFound(res, urlPath);
      try {
        const body = await readFile(path.join(root, '_api', 'exchanges', `${exchange}.json`));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(method === 'HEAD' ? undefined : body);
      } catch {
        json(res, 404, { code: 404, message: `Invalid 'exchange' param provided: '${exchange}'` });
      }
      return;
    }

    const inst = INSTRUMENTS_PATH.exec(urlPath);
    if (inst) {
      const exchange = inst[1] ?? '';
      if (!safeSegment(exchange)) return notFound(res, urlPath);
      const auth = req.headers.authorization;
      const key = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
      if (key === undefined || (keys !== undefined && !keys.has(key))) {
        json(res, 401, { code: 401, message: key === undefined ? 'API key required' : 'Invalid API key' });
        return;
      }
      try {
        const body = await readFile(path.join(root, '_api', 'instruments', `${exchange}.json`));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(method === 'HEAD' ? undefined : body);
      } catch {
        json(res, 404, { code: 404, message: `Invalid 'exchange' param provided: '${exchange}'` });
      }
      return;
    }

    const m = DATASET_PATH.exec(urlPath);
    if (m === null || !m.slice(1).every((s) => safeSegment(s ?? ''))) return notFound(res, urlPath);
    const [, exchange = '', dataType = '', yyyy = '', mm = '', dd = '', file = ''] = m;

    if (keys !== undefined && dd !== '01') {
      const auth = req.headers.authorization;
      const key = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
      if (key === undefined || !keys.has(key)) {
        json(res, 401, {
          code: 401,
          message:
            key === undefined
              ? 'API key required: only the first day of each month is available without one'
              : 'Invalid API key',
        });
        return;
      }
    }

    const filePath = path.join(root, exchange, dataType, yyyy, mm, dd, file);
    let size: number;
    let mtimeMs: number;
    try {
      const st = await stat(filePath);
      if (!st.isFile()) return notFound(res, urlPath);
      size = st.size;
      mtimeMs = st.mtimeMs;
    } catch {
      return notFound(res, urlPath);
    }
    const generated = await stat(`${filePath}.generated.json`).then(
      (s) => s.isFile(),
      () => false,
    );
    const etag = `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;

    // Range handling (single range; If-Range with a stale ETag means "send it all").
    let start = 0;
    let end = size - 1;
    let status = 200;
    const ifRange = req.headers['if-range'];
    const useRange =
      range !== undefined &&
      !(fault && 'ignoreRange' in fault) &&
      (ifRange === undefined || ifRange === etag);
    if (useRange) {
      const r = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      const a = r?.[1] ?? '';
      const b = r?.[2] ?? '';
      if (r && (a !== '' || b !== '')) {
        if (a === '') {
          start = Math.max(0, size - Number(b));
        } else {
          start = Number(a);
          if (b !== '') end = Math.min(end, Number(b));
        }
        if (start >= size || start > end) {
          res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-length': 0 });
          res.end();
          return;
        }
        status = 206;
      }
    }
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      etag,
      'last-modified': new Date(mtimeMs).toUTCString(),
      'content-length': end - start + 1,
    };
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    if (generated) headers['x-ticklake-generated'] = '1';

    if (fault && 'truncateTo' in fault) {
      end = Math.min(end, start + fault.truncateTo - 1);
      if (fault.contentLength === 'matching') {
        headers['content-length'] = end - start + 1;
        if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${end + 1}`;
      } else {
        res.shouldKeepAlive = false;
      }
    }
    res.writeHead(status, headers);
    if (method === 'HEAD' || end < start) {
      res.end();
      if (fault && 'truncateTo' in fault && fault.contentLength !== 'matching') res.destroy();
      return;
    }

    if (fault && 'dropAfterBytes' in fault) {
      const n = Math.min(fault.dropAfterBytes, end - start + 1);
      const buf = n > 0 ? await readRange(filePath, start, start + n - 1) : Buffer.alloc(0);
      res.flushHeaders();
      res.write(buf, () => {
        // Give the bytes a moment to leave, then cut the connection like a reset.
        setTimeout(() => req.socket.resetAndDestroy(), 10);
      });
      return;
    }

    const stream = createReadStream(filePath, { start, end });
    stream.on('error', () => res.destroy());
    res.on('close', () => stream.destroy());
    stream.pipe(res, { end: !(fault && 'truncateTo' in fault && fault.contentLength !== 'matching') });
    if (fault && 'truncateTo' in fault && fault.contentLength !== 'matching') {
      // The headers promised more: close the connection after the short body.
      stream.on('end', () => setTimeout(() => req.socket.destroy(), 10));
    }
  }

  function notFound(res: http.ServerResponse, urlPath: string): void {
    json(res, 404, { code: 404, message: `Not found: ${urlPath}` });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const base = `http://${hostForUrl}:${address.port}/v1`;
  return {
    url: base,
    apiUrl: base,
    port: address.port,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readRange(file: string, start: number, end: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of createReadStream(file, { start, end })) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

export interface TardisServerCommandOptions {
  dir: string;
  port?: number;
  host?: string;
  apiKeys?: readonly string[];
  /** Where to print (default stdout). */
  print?: (line: string) => void;
}

/**
 * `ticklake dev tardis-server`: start the server, print how to use it, run until SIGINT/SIGTERM.
 * Resolves once the server has closed.
 */
export async function runTardisServerCommand(options: TardisServerCommandOptions): Promise<void> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const server = await startTardisServer({
    dir: options.dir,
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    apiKeys: options.apiKeys,
  });
  print(`Tardis-compatible server serving ${path.resolve(options.dir)} at ${server.url}`);
  print('Point ticklake at it with:');
  print(`  export TARDIS_DATASETS_URL=${server.url}`);
  print(`  export TARDIS_API_URL=${server.apiUrl}`);
  print('Press Ctrl+C to stop.');
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  print('Tardis-compatible server stopped.');
}
