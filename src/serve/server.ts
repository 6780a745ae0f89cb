/**
 * `ticklake serve`: the lake over HTTP on node:http. Read endpoints (instruments, ticks, candles, book
 * snapshots, features) stream Arrow Tables as NDJSON, CSV or Arrow IPC (by `?format=` or `Accept`);
 * catalog and jobs answer JSON; `POST /v1/sql` runs the confined SQL engine when enabled.
 *
 * Guards: a bearer token is required whenever the server is bound to anything but loopback (and
 * whenever one is configured); result size (rows, estimated bytes), request body size and query time
 * are limited; every error is JSON `{ error: { code, message, hint } }` with the TicklakeError code and
 * a fitting status. The token is never logged or echoed.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Table } from 'apache-arrow';
import {
  isTicklakeError,
  NotFoundError,
  QueryTimeoutError,
  ResultTooLargeError,
  type TicklakeError,
  UnauthorizedError,
  UsageError,
} from '../errors.js';
import type { Lake } from '../lake/lake.js';
import type { ReadRequest } from '../lake/read.js';
import { ServerMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { CONTENT_TYPES, streamTable, type WireFormat } from './stream.js';

export interface ServeLimits {
  /** Most rows one response may carry (default 10,000,000). */
  maxRows: number;
  /** Most (estimated, in-memory) bytes one response may carry (default 1 GiB). */
  maxBytes: number;
  /** Time limit of one read or SQL query (default 30 s). */
  timeoutMs: number;
  /** Largest request body (SQL text) accepted (default 64 KiB). */
  maxBodyBytes: number;
}

export const DEFAULT_LIMITS: ServeLimits = {
  maxRows: 10_000_000,
  maxBytes: 1024 * 1024 * 1024,
  timeoutMs: 30_000,
  maxBodyBytes: 64 * 1024,
};

export interface ServeOptions {
  lake: Lake;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 8765; 0 = any free port). */
  port?: number;
  /** Bearer token; required when `host` is not loopback. */
  token?: string;
  /** Serve `POST /v1/sql` (default off). */
  enableSql?: boolean;
  limits?: Partial<ServeLimits>;
  /** One line per request (method, path without query, status, ms); default: silent. */
  log?: (line: string) => void;
}

export interface RunningServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly server: Server;
  readonly metrics: ServerMetrics;
  close(): Promise<void>;
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

/** HTTP status for an error code. */
export function statusOf(code: string): number {
  switch (code) {
    case 'USAGE':
    case 'CONFIG':
    case 'UNKNOWN_DATA_TYPE':
    case 'UNKNOWN_EXCHANGE':
    case 'INVALID_INSTRUMENT_KEY':
    case 'SQL':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'SQL_FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'RESULT_TOO_LARGE':
      return 413;
    case 'QUERY_TIMEOUT':
      return 504;
    case 'STORAGE_ACCESS':
    case 'STORAGE':
    case 'CATALOG':
      return 503;
    default:
      return 500;
  }
}

type Handler = (ctx: RequestContext) => Promise<Reply>;
type Reply =
  | { kind: 'json'; body: unknown; status?: number }
  | { kind: 'table'; table: Table }
  | { kind: 'text'; body: string; type: string };

interface RequestContext {
  req: IncomingMessage;
  url: URL;
  params: Record<string, string>;
}

interface Route {
  method: 'GET' | 'POST';
  /** Template for metrics and docs, e.g. `/v1/ticks/{dataType}`. */
  template: string;
  re: RegExp;
  names: string[];
  handler: Handler;
  auth: boolean;
}

function route(method: Route['method'], template: string, handler: Handler, auth = true): Route {
  const names: string[] = [];
  const re = new RegExp(
    `^${template.replace(/\{(\w+)\}/g, (_, n: string) => {
      names.push(n);
      return '([^/]+)';
    })}$`,
  );
  return { method, template, re, names, handler, auth };
}

function errorBody(err: TicklakeError): { error: { code: string; message: string; hint?: string } } {
  return { error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) } };
}

/** Query-string helpers. */
function param(url: URL, name: string, required: true): string;
function param(url: URL, name: string, required?: false): string | undefined;
function param(url: URL, name: string, required = false): string | undefined {
  const v = url.searchParams.get(name);
  if ((v === null || v === '') && required) {
    throw new UsageError(`missing query parameter "${name}"`, {
      hint: 'see /openapi.json for the parameters',
    });
  }
  return v === null || v === '' ? undefined : v;
}

/** A time bound: YYYY-MM-DD, ISO time, or epoch milliseconds (digits only). */
function timeParam(url: URL, name: string): string | number {
  const v = param(url, name, true);
  return /^\d+$/.test(v) ? Number(v) : v;
}

function list(url: URL, name: string): string[] | undefined {
  const all = url.searchParams.getAll(name).flatMap((v) => v.split(','));
  const out = all.map((s) => s.trim()).filter((s) => s.length > 0);
  return out.length > 0 ? out : undefined;
}

/** The key(s) of a derived-dataset request (candles, book snapshots, features): several keys give one
 * table with an instrument_key column, grouped by key in the order given. */
function oneKey(url: URL, _what: string): { key?: string; keys?: string[] } {
  return keysOf(url);
}

function keysOf(url: URL): { key?: string; keys?: string[] } {
  const keys = list(url, 'key') ?? list(url, 'keys');
  if (!keys)
    throw new UsageError('missing query parameter "key"', {
      hint: 'pass key=VENUE:TYPE:SYMBOL (repeat or comma-separate for several)',
    });
  return keys.length === 1 ? { key: keys[0]! } : { keys };
}

/** Estimated in-memory bytes of a table (fixed widths + string bytes), without touching rows. */
export function estimateBytes(table: Table): number {
  let bytes = 0;
  for (const b of table.batches) {
    for (const d of b.data.children) {
      const t = String(d.type);
      if (t === 'Utf8') {
        const off = d.valueOffsets as Int32Array;
        // valueOffsets of a sliced Data are already sliced (d.length + 1 entries).
        bytes += off[d.length]! - off[0]! + 4 * d.length;
      } else if (t.startsWith('Dictionary') || t === 'Int32') bytes += 4 * d.length;
      else if (t === 'Bool') bytes += Math.ceil(d.length / 8);
      else bytes += 8 * d.length;
    }
  }
  return bytes;
}

function formatOf(req: IncomingMessage, url: URL): WireFormat {
  const f = url.searchParams.get('format');
  if (f) {
    if (f === 'ndjson' || f === 'json' || f === 'jsonl') return 'ndjson';
    if (f === 'csv' || f === 'arrow') return f;
    throw new UsageError(`format "${f}" is not supported`, { hint: 'use format=ndjson, csv or arrow' });
  }
  const accept = req.headers.accept ?? '';
  if (
    accept.includes('application/vnd.apache.arrow.stream') ||
    accept.includes('application/vnd.apache.arrow')
  )
    return 'arrow';
  if (accept.includes('text/csv')) return 'csv';
  return 'ndjson';
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QueryTimeoutError(what, ms)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function readBody(req: IncomingMessage, max: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) throw new ResultTooLargeError('request body', declared, max, 'bytes');
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > max) throw new ResultTooLargeError('request body', n, max, 'bytes');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Start serving; resolves once listening. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const lake = options.lake;
  const host = options.host ?? '127.0.0.1';
  const limits: ServeLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const token = options.token && options.token.length > 0 ? options.token : undefined;
  if (!token && !isLoopback(host)) {
    throw new UsageError(`serving on ${host} needs a bearer token`, {
      hint: 'pass --token (or set TICKLAKE_API_TOKEN), or bind to 127.0.0.1',
    });
  }
  const tokenBuf = token ? Buffer.from(token) : null;
  const metrics = new ServerMetrics();
  const log = options.log ?? (() => {});

  const readTable = (req: ReadRequest & Record<string, unknown>) =>
    withTimeout(lake.read(req as ReadRequest), limits.timeoutMs, `read of ${req.dataset}`);

  const routes: Route[] = [
    route('GET', '/healthz', async () => ({ kind: 'json', body: { status: 'ok' } }), false),
    route('GET', '/openapi.json', async () => ({ kind: 'json', body: openApiDocument() }), false),
    route('GET', '/metrics', async () => ({
      kind: 'text',
      body: metrics.render(lake.cache?.stats() ?? null),
      type: 'text/plain; version=0.0.4; charset=utf-8',
    })),
    route('GET', '/v1/instruments', async ({ url }) => {
      const within = param(url, 'expiringWithin');
      const table = await withTimeout(
        lake.instruments({
          date: param(url, 'date', true),
          ...(list(url, 'venue') ? { venue: list(url, 'venue')! } : {}),
          ...(list(url, 'type') ? { type: list(url, 'type')! } : {}),
          ...(list(url, 'base') ? { base: list(url, 'base')! } : {}),
          ...(list(url, 'quote') ? { quote: list(url, 'quote')! } : {}),
          ...(list(url, 'exchange') ? { exchange: list(url, 'exchange')! } : {}),
          ...(within !== undefined
            ? { expiringWithin: /^\d+(\.\d+)?$/.test(within) ? Number(within) : within }
            : {}),
        }),
        limits.timeoutMs,
        'instrument list',
      );
      return { kind: 'table', table };
    }),
    route('GET', '/v1/ticks/{dataType}', async ({ url, params }) => ({
      kind: 'table',
      table: await readTable({
        dataset: params.dataType!,
        ...keysOf(url),
        from: timeParam(url, 'from'),
        to: timeParam(url, 'to'),
        ...(list(url, 'columns') ? { columns: list(url, 'columns')! } : {}),
      }),
    })),
    ...(['candles', 'book_snapshots'] as const).map((dataset) =>
      route('GET', `/v1/${dataset}`, async ({ url }) => ({
        kind: 'table',
        table: await readTable({
          dataset,
          ...oneKey(url, dataset),
          timeframe: param(url, 'timeframe', true),
          from: timeParam(url, 'from'),
          to: timeParam(url, 'to'),
          ...(list(url, 'columns') ? { columns: list(url, 'columns')! } : {}),
        }),
      })),
    ),
    route('GET', '/v1/features', async ({ url }) => ({
      kind: 'table',
      table: await readTable({
        dataset: 'features',
        ...oneKey(url, 'features'),
        set: param(url, 'set', true),
        ...(param(url, 'version') ? { version: Number(param(url, 'version')) } : {}),
        timeframe: param(url, 'timeframe', true),
        from: timeParam(url, 'from'),
        to: timeParam(url, 'to'),
        ...(list(url, 'columns') ? { columns: list(url, 'columns')! } : {}),
      }),
    })),
    route('GET', '/v1/catalog/files', async ({ url }) => {
      const files = await lake.files({
        ...(param(url, 'dataset') ? { dataset: param(url, 'dataset')! } : {}),
        ...(param(url, 'dataType') ? { dataType: param(url, 'dataType')! } : {}),
        ...(param(url, 'key') ? { instrumentKey: param(url, 'key')! } : {}),
        ...(param(url, 'fromDay') ? { fromDay: param(url, 'fromDay')! } : {}),
        ...(param(url, 'toDay') ? { toDay: param(url, 'toDay')! } : {}),
      });
      if (files.length > limits.maxRows)
        throw new ResultTooLargeError('catalog listing', files.length, limits.maxRows, 'rows');
      return { kind: 'json', body: { files } };
    }),
    route('GET', '/v1/jobs/{id}', async ({ params }) => {
      const id = Number(params.id);
      if (!Number.isInteger(id) || id <= 0)
        throw new UsageError(`job id must be a positive integer, got "${params.id}"`);
      const job = await lake.catalog.getJob(id);
      if (!job) throw new NotFoundError(`no job ${id}`, { hint: 'job ids are printed by ingest --json' });
      return { kind: 'json', body: { job } };
    }),
    route('GET', '/v1/jobs', async ({ url }) => {
      const c = lake.catalog as unknown as { listJobs?: () => Promise<unknown[]> };
      const jobs = typeof c.listJobs === 'function' ? await c.listJobs() : null;
      const status = param(url, 'taskStatus');
      const tasks = await lake.tasks(status ? { status: status as 'failed' } : undefined);
      return { kind: 'json', body: { jobs, tasks: tasks.slice(0, limits.maxRows) } };
    }),
    route('POST', '/v1/sql', async ({ req }) => {
      if (!options.enableSql) {
        throw new NotFoundError('SQL over HTTP is off', { hint: 'start the server with --enable-sql' });
      }
      const body = await readBody(req, limits.maxBodyBytes);
      let sql = body;
      if ((req.headers['content-type'] ?? '').includes('application/json')) {
        try {
          sql = String((JSON.parse(body) as { sql?: unknown }).sql ?? '');
        } catch {
          throw new UsageError('request body is not JSON', {
            hint: 'send {"sql": "SELECT ..."} or the SQL as text/plain',
          });
        }
      }
      const table = await lake.sql(sql, { timeoutMs: limits.timeoutMs, maxRows: limits.maxRows });
      return { kind: 'table', table };
    }),
  ];

  const authorized = (req: IncomingMessage): boolean => {
    if (!tokenBuf) return true;
    const h = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(h);
    if (!m) return false;
    const given = Buffer.from(m[1]!.trim());
    return given.length === tokenBuf.length && timingSafeEqual(given, tokenBuf);
  };

  const server = createServer((req, res) => {
    const t0 = performance.now();
    metrics.inFlight++;
    let routeName = 'unmatched';
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      metrics.inFlight--;
      const secs = (performance.now() - t0) / 1000;
      metrics.observe(routeName, req.method ?? 'GET', res.statusCode, secs);
      log(`${req.method} ${(req.url ?? '').split('?')[0]} ${res.statusCode} ${(secs * 1000).toFixed(1)} ms`);
    };
    res.on('close', finish);
    res.on('finish', finish);
    const sendError = (err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const te = isTicklakeError(err) ? err : null;
      const body = te
        ? errorBody(te)
        : {
            error: {
              code: 'INTERNAL',
              message: `internal error: ${String((err as Error)?.message ?? err).split('\n')[0]}`,
            },
          };
      const status = te ? statusOf(te.code) : 500;
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
      });
      res.end(text);
    };
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const match = routes.map((r) => ({ r, m: r.re.exec(url.pathname) })).filter((x) => x.m !== null);
      if (match.length === 0)
        throw new NotFoundError(`no endpoint ${url.pathname}`, { hint: 'see /openapi.json' });
      const hit = match.find((x) => x.r.method === req.method);
      if (!hit) {
        routeName = match[0]!.r.template;
        throw new UsageError(`${req.method} is not allowed on ${url.pathname}`, {
          hint: `use ${match.map((x) => x.r.method).join(' or ')}`,
        });
      }
      routeName = hit.r.template;
      if (hit.r.auth && !authorized(req)) throw new UnauthorizedError();
      const params: Record<string, string> = {};
      hit.r.names.forEach((n, i) => {
        params[n] = decodeURIComponent(hit.m![i + 1]!);
      });
      const format = hit.r.template.startsWith('/v1/') ? formatOf(req, url) : 'ndjson';
      const reply = await hit.r.handler({ req, url, params });
      if (reply.kind === 'json') {
        const text = JSON.stringify(reply.body);
        res.writeHead(reply.status ?? 200, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
        metrics.served(routeName, 0, Buffer.byteLength(text), true);
        return;
      }
      if (reply.kind === 'text') {
        res.writeHead(200, { 'content-type': reply.type, 'content-length': Buffer.byteLength(reply.body) });
        res.end(reply.body);
        return;
      }
      const table = reply.table;
      if (table.numRows > limits.maxRows) {
        throw new ResultTooLargeError(`result of ${url.pathname}`, table.numRows, limits.maxRows, 'rows');
      }
      const bytes = estimateBytes(table);
      if (bytes > limits.maxBytes) {
        throw new ResultTooLargeError(`result of ${url.pathname}`, bytes, limits.maxBytes, 'bytes');
      }
      res.writeHead(200, { 'content-type': CONTENT_TYPES[format], 'x-ticklake-rows': String(table.numRows) });
      const r = await streamTable(res, table, format);
      metrics.served(routeName, r.rows, r.bytes, r.completed);
    })().catch(sendError);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new UsageError(`cannot listen on ${host}:${options.port ?? 8765}: ${err.code ?? err.message}`, {
          hint: 'choose another --port or --host',
        }),
      ),
    );
    server.listen(options.port ?? 8765, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shownHost}:${addr.port}`,
    host: addr.address,
    port: addr.port,
    server,
    metrics,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
