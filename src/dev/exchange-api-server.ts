/**
 * A local server speaking the public REST URL schemes of Binance and Deribit for instrument lists, for
 * tests and demos: it answers with JSON files from a directory (real captures or generated ones).
 *
 *   GET /api/v3/exchangeInfo                       ← dir/binance/spot/exchangeInfo.json
 *   GET /fapi/v1/exchangeInfo                      ← dir/binance/usdm/exchangeInfo.json
 *   GET /dapi/v1/exchangeInfo                      ← dir/binance/coinm/exchangeInfo.json
 *   GET /api/v2/public/get_instruments?expired=E   ← dir/deribit/get_instruments[.expired].json
 *
 * (`?currency=` is accepted and ignored: the files hold whatever the capture holds.) A missing file is
 * a 404 in the vendor's error shape (a missing `.expired.json` is an empty Deribit list); `faults` can answer any request with a status code or a body.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface ExchangeApiServerOptions {
  dir: string;
  port?: number;
  host?: string;
  /** Return a status (and optional body) to answer a request with instead of the file. */
  faults?: (req: {
    path: string;
    query: URLSearchParams;
    attempt: number;
  }) => { status: number; body?: string } | undefined;
}

export interface ExchangeApiServer {
  /** Base for `binance.*ApiUrl` (all three markets). */
  readonly binanceUrl: string;
  /** Base for `deribit.apiUrl` (`…/api/v2`). */
  readonly deribitUrl: string;
  readonly requests: { path: string; status: number }[];
  close(): Promise<void>;
}

const ROUTES: Readonly<Record<string, (q: URLSearchParams) => string>> = {
  '/api/v3/exchangeInfo': () => 'binance/spot/exchangeInfo.json',
  '/fapi/v1/exchangeInfo': () => 'binance/usdm/exchangeInfo.json',
  '/dapi/v1/exchangeInfo': () => 'binance/coinm/exchangeInfo.json',
  '/api/v2/public/get_instruments': (q) =>
    q.get('expired') === 'true' ? 'deribit/get_instruments.expired.json' : 'deribit/get_instruments.json',
};

export async function startExchangeApiServer(options: ExchangeApiServerOptions): Promise<ExchangeApiServer> {
  const root = path.resolve(options.dir);
  const requests: { path: string; status: number }[] = [];
  const attempts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: string | Buffer) => {
      requests.push({ path: url.pathname + url.search, status });
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    };
    const n = (attempts.get(url.pathname) ?? 0) + 1;
    attempts.set(url.pathname, n);
    const fault = options.faults?.({ path: url.pathname, query: url.searchParams, attempt: n });
    if (fault)
      return send(fault.status, fault.body ?? JSON.stringify({ code: fault.status, msg: 'injected' }));
    const route = ROUTES[url.pathname];
    if (!route) return send(404, JSON.stringify({ code: -1, msg: `no route ${url.pathname}` }));
    const file = route(url.searchParams);
    readFile(path.join(root, file)).then(
      (body) => send(200, body),
      () =>
        // Deribit answers an empty list when nothing has expired; other files must exist.
        file.endsWith('.expired.json')
          ? send(200, JSON.stringify({ jsonrpc: '2.0', result: [] }))
          : send(404, JSON.stringify({ code: -1121, msg: 'Invalid symbol.' })),
    );
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  return {
    binanceUrl: `http://${host}:${port}`,
    deribitUrl: `http://${host}:${port}/api/v2`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
