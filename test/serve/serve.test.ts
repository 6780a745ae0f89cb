/**
 * The HTTP API over real sockets: every endpoint and format (NDJSON, CSV, Arrow IPC parsed back with
 * apache-arrow) checked against DuckDB / the generated inputs, typed JSON errors, size limits (413),
 * bearer-token auth off loopback, a client that disconnects mid-stream (no leak, server keeps serving)
 * and /metrics values after known requests.
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCandles } from '../../src/candles/build.js';
import { UsageError } from '../../src/errors.js';
import { estimateBytes, type RunningServer, startServer } from '../../src/serve/server.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import type { LakeEnv } from '../helpers/lake.js';
import { BTC, buildReadLake, ETH, GEN_DAYS, GEN_ROWS } from '../read/lake-fixture.js';
import { type GenInstrument, writeAvailability } from '../sql/availability.js';

const DAY = GEN_DAYS[0]!;
const NEXT = GEN_DAYS[1]!;
const TOKEN = 'tl-serve-token-8c1d0e';

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

describe('ticklake serve', () => {
  let env: LakeEnv;
  let srv: RunningServer;
  let instruments: GenInstrument[];
  let expectedBtcDay: Record<string, unknown>[];
  const logLines: string[] = [];

  beforeAll(async () => {
    env = await buildReadLake({ real: false });
    instruments = await writeAvailability(env.lakeDir, DAY, 400, env.lake.catalog);
    await buildCandles(env.lake, { from: DAY, to: DAY, keys: [BTC], timeframes: ['1m'], books: false });
    srv = await startServer({
      lake: env.lake,
      port: 0,
      enableSql: true,
      limits: { maxRows: 10_000, maxBodyBytes: 4096 },
      log: (l) => logLines.push(l),
    });
    const [rec] = await env.lake.files({ dataType: 'trades', instrumentKey: BTC, fromDay: DAY, toDay: DAY });
    expectedBtcDay = await duckRows(
      `SELECT epoch_us("timestamp") AS ts, id, side, price, amount FROM read_parquet(${sqlString(join(env.lakeDir, rec!.path))}) ORDER BY ts`,
    );
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    await env?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${srv.url}${path}`, { headers });
  const ticks = `/v1/ticks/trades?key=${encodeURIComponent(BTC)}&from=${DAY}&to=${NEXT}`;

  it('/healthz and /openapi.json', async () => {
    expect(await json(await get('/healthz'))).toEqual({ status: 'ok' });
    const doc = await json(await get('/openapi.json'));
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths as object)).toEqual(
      expect.arrayContaining([
        '/v1/ticks/{dataType}',
        '/v1/instruments',
        '/v1/candles',
        '/v1/sql',
        '/metrics',
      ]),
    );
  });

  it('ticks as NDJSON (default) equal DuckDB over the file', async () => {
    const res = await get(`${ticks}&columns=timestamp,id,side,price,amount`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    expect(res.headers.get('x-ticklake-rows')).toBe(String(GEN_ROWS));
    const rows = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.length).toBe(GEN_ROWS);
    expect(rows.map((r) => Date.parse(String(r.timestamp)) * 1000)).toEqual(expectedBtcDay.map((r) => r.ts));
    expect(rows.map((r) => [r.id, r.side, r.price, r.amount])).toEqual(
      expectedBtcDay.map((r) => [r.id, r.side, r.price, r.amount]),
    );
  });

  it('ticks as CSV (by Accept) with one header row', async () => {
    const res = await get(`${ticks}&columns=id,price`, { accept: 'text/csv' });
    expect(res.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = (await res.text()).trim().split('\n');
    expect(lines[0]).toBe('id,price');
    expect(lines.length).toBe(GEN_ROWS + 1);
    expect(lines.slice(1).map((l) => l.split(','))).toEqual(
      expectedBtcDay.map((r) => [r.id, String(r.price)]),
    );
  });

  it('ticks as Arrow IPC stream, parsed back with apache-arrow', async () => {
    const res = await get(`${ticks}&format=arrow`);
    expect(res.headers.get('content-type')).toBe('application/vnd.apache.arrow.stream');
    const t = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
    expect(t.numRows).toBe(GEN_ROWS);
    expect(Array.from(t.getChild('timestamp')!.toArray() as BigInt64Array, Number)).toEqual(
      expectedBtcDay.map((r) => r.ts),
    );
    expect(Array.from(t.getChild('price')!.toArray() as Float64Array)).toEqual(
      expectedBtcDay.map((r) => r.price),
    );
    expect(t.getChild('instrument_key')!.get(0)).toBe(BTC);
  });

  it('two days (several files and row groups, each with its own dictionaries) survive Arrow IPC', async () => {
    const direct = await env.lake.read({ dataset: 'trades', key: BTC, from: DAY, to: '2024-08-03' });
    expect(direct.batches.length).toBeGreaterThan(2);
    const res = await get(
      `/v1/ticks/trades?key=${encodeURIComponent(BTC)}&from=${DAY}&to=2024-08-03&format=arrow`,
    );
    const t = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
    const cells = (x: typeof t, c: string) =>
      Array.from({ length: x.numRows }, (_, i) => x.getChild(c)!.get(i));
    for (const c of ['side', 'instrument_key', 'id']) expect(cells(t, c), c).toEqual(cells(direct, c));
  });

  it('several keys (Arrow): merged in timestamp order with instrument_key', async () => {
    const res = await get(
      `/v1/ticks/trades?key=${encodeURIComponent(`${BTC},${ETH}`)}&from=${DAY}&to=${NEXT}&format=arrow&columns=timestamp,price`,
    );
    const t = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
    expect(t.numRows).toBe(2 * GEN_ROWS);
    const ts = Array.from(t.getChild('timestamp')!.toArray() as BigInt64Array, Number);
    expect(ts.every((v, i) => i === 0 || v >= ts[i - 1]!)).toBe(true);
    const keys = new Set(Array.from({ length: t.numRows }, (_, i) => t.getChild('instrument_key')!.get(i)));
    expect(keys).toEqual(new Set([BTC, ETH]));
  });

  it('an empty range still answers 200 with the schema (Arrow) / nothing (NDJSON)', async () => {
    const from = `${DAY}T23:00:00Z`;
    const a = await get(
      `/v1/ticks/trades?key=${encodeURIComponent(BTC)}&from=${from}&to=${NEXT}&format=arrow`,
    );
    const t = tableFromIPC(new Uint8Array(await a.arrayBuffer()));
    expect(t.numRows).toBe(0);
    expect(t.schema.fields.map((f) => f.name)).toContain('price');
    const n = await get(`/v1/ticks/trades?key=${encodeURIComponent(BTC)}&from=${from}&to=${NEXT}`);
    expect(await n.text()).toBe('');
  });

  it('instruments of a date, filtered, equal the generated list', async () => {
    const all = await get(`/v1/instruments?date=${DAY}&format=arrow`);
    expect(all.status, await all.clone().text()).toBe(200);
    expect(tableFromIPC(new Uint8Array(await all.arrayBuffer())).numRows).toBe(instruments.length);
    const fut = (await (await get(`/v1/instruments?date=${DAY}&type=FUTURE&base=BTC`)).text())
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { instrument_key: string }).instrument_key);
    expect(fut).toEqual(instruments.filter((i) => i.type === 'FUTURE' && i.base === 'BTC').map((i) => i.key));
    const d0 = Date.parse(`${DAY}T00:00:00Z`) * 1000;
    const soon = (await (await get(`/v1/instruments?date=${DAY}&expiringWithin=3`)).text())
      .trim()
      .split('\n');
    expect(soon.length).toBe(
      instruments.filter((i) => i.expiryUs >= d0 && i.expiryUs < d0 + 3 * 86_400_000_000).length,
    );
    const none = await get('/v1/instruments?date=2031-01-01');
    expect(none.status).toBe(404);
    expect(((await json(none)).error as { code: string }).code).toBe('NOT_FOUND');
  });

  it('candles of a day (1m): one bar per traded minute, OHLC equal DuckDB over the trades', async () => {
    const res = await get(
      `/v1/candles?key=${encodeURIComponent(BTC)}&timeframe=1m&from=${DAY}&to=${NEXT}&format=arrow`,
    );
    expect(res.status).toBe(200);
    const t = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
    const direct = await env.lake.read({
      dataset: 'candles',
      key: BTC,
      timeframe: '1m',
      from: DAY,
      to: NEXT,
    });
    expect(t.numRows).toBe(direct.numRows);
    const [rec] = await env.lake.files({ dataType: 'trades', instrumentKey: BTC, fromDay: DAY, toDay: DAY });
    const bars = await duckRows(
      `SELECT epoch_us(time_bucket(INTERVAL 1 minute, "timestamp")) AS ts, first(price ORDER BY "timestamp") AS o, max(price) AS h, min(price) AS l, last(price ORDER BY "timestamp") AS c, count(*) AS n
       FROM read_parquet(${sqlString(join(env.lakeDir, rec!.path))}) GROUP BY 1 ORDER BY 1`,
    );
    const ts = Array.from(t.getChild('timestamp')!.toArray() as BigInt64Array, Number);
    const byTs = new Map(ts.map((v, i) => [v, i]));
    for (const b of bars) {
      const i = byTs.get(b.ts as number);
      expect(i, `bar at ${b.ts}`).toBeDefined();
      expect([
        t.getChild('open')!.get(i!),
        t.getChild('high')!.get(i!),
        t.getChild('low')!.get(i!),
        t.getChild('close')!.get(i!),
      ]).toEqual([b.o, b.h, b.l, b.c]);
      expect(Number(t.getChild('trade_count')!.get(i!))).toBe(b.n);
    }
    // Several keys: one table with an instrument_key column, grouped by key in the order given.
    const two = await get(
      `/v1/candles?key=${encodeURIComponent(`${BTC},${ETH}`)}&timeframe=1m&from=${DAY}&to=${NEXT}&format=arrow`,
    );
    expect(two.status).toBe(200);
    const both = tableFromIPC(new Uint8Array(await two.arrayBuffer()));
    const eth = await env.lake.read({ dataset: 'candles', key: ETH, timeframe: '1m', from: DAY, to: NEXT });
    expect(both.numRows).toBe(direct.numRows + eth.numRows);
    const keyCol = both.getChild('instrument_key')!.toArray() as string[];
    expect(keyCol[0]).toBe(BTC);
    expect(keyCol[both.numRows - 1]).toBe(eth.numRows > 0 ? ETH : BTC);
    const tf = await get(`/v1/candles?key=${encodeURIComponent(BTC)}&timeframe=7m&from=${DAY}&to=${NEXT}`);
    expect(tf.status).toBe(400);
  });

  it('catalog files and jobs answer JSON', async () => {
    const body = await json(await get(`/v1/catalog/files?dataType=trades&key=${encodeURIComponent(ETH)}`));
    const files = body.files as { path: string; rows: number }[];
    expect(files.map((f) => f.path)).toEqual(
      (await env.lake.files({ dataType: 'trades', instrumentKey: ETH })).map((f) => f.path),
    );
    const tasks = (await json(await get('/v1/jobs'))).tasks as { status: string }[];
    expect(tasks.length).toBe(4);
    const job = await json(await get('/v1/jobs/1'));
    expect((job.job as { id: number }).id).toBe(1);
    const missing = await get('/v1/jobs/9999');
    expect(missing.status).toBe(404);
  });

  it('SQL over HTTP: results, forbidden statements (403), errors (400)', async () => {
    const ok = await fetch(`${srv.url}/v1/sql?format=csv`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        sql: `SELECT instrument_key, count(*) AS n FROM trades WHERE day = '${DAY}' GROUP BY 1 ORDER BY 1`,
      }),
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe(`instrument_key,n\n${BTC},${GEN_ROWS}\n${ETH},${GEN_ROWS}\n`);
    const copy = await fetch(`${srv.url}/v1/sql`, {
      method: 'POST',
      body: `COPY (SELECT 1) TO '${env.root}/x.csv'`,
    });
    expect(copy.status).toBe(403);
    expect(((await json(copy)).error as { code: string }).code).toBe('SQL_FORBIDDEN');
    const bad = await fetch(`${srv.url}/v1/sql`, { method: 'POST', body: 'SELEC 1' });
    expect(bad.status).toBe(400);
    expect(((await json(bad)).error as { code: string }).code).toBe('SQL');
  });

  it('oversized: too many rows, too large a body, too large a SQL result → 413 JSON, and the server keeps serving', async () => {
    const big = await get(
      `/v1/ticks/trades?key=${encodeURIComponent(`${BTC},${ETH}`)}&from=${DAY}&to=2024-08-03`,
    );
    expect(big.status).toBe(413);
    const e = (await json(big)).error as { code: string; message: string };
    expect(e.code).toBe('RESULT_TOO_LARGE');
    expect(e.message).toMatch(/12000 rows exceeds the limit of 10000 rows/);
    const body = await fetch(`${srv.url}/v1/sql`, { method: 'POST', body: `SELECT '${'x'.repeat(10_000)}'` });
    expect(body.status).toBe(413);
    expect(((await json(body)).error as { code: string }).code).toBe('RESULT_TOO_LARGE');
    const rows = await fetch(`${srv.url}/v1/sql`, { method: 'POST', body: 'SELECT * FROM range(20000)' });
    expect(rows.status).toBe(413);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('the byte limit uses the size of the rows actually sent (sliced strings counted exactly)', async () => {
    const from = `${DAY}T01:00:00Z`;
    const to = `${DAY}T02:00:00Z`;
    const t = await env.lake.read({ dataset: 'trades', key: BTC, from, to, columns: ['id'] });
    const [e] = await duckRows(
      `SELECT sum(strlen(id)) AS b, count(*) AS n FROM read_parquet(${sqlString(join(env.lakeDir, (await env.lake.files({ dataType: 'trades', instrumentKey: BTC, fromDay: DAY, toDay: DAY }))[0]!.path))})
       WHERE "timestamp" >= TIMESTAMPTZ '${from}' AND "timestamp" < TIMESTAMPTZ '${to}'`,
    );
    expect(t.numRows).toBe(e!.n);
    expect(estimateBytes(t)).toBe((e!.b as number) + 4 * t.numRows);
    const small = await startServer({ lake: env.lake, port: 0, limits: { maxBytes: 1000 } });
    try {
      const res = await fetch(
        `${small.url}/v1/ticks/trades?key=${encodeURIComponent(BTC)}&from=${from}&to=${to}&columns=id`,
      );
      expect(res.status).toBe(413);
      expect(((await json(res)).error as { message: string }).message).toBe(
        `result of /v1/ticks/trades: ${estimateBytes(t)} bytes exceeds the limit of 1000 bytes`,
      );
    } finally {
      await small.close();
    }
  });

  it('bad requests: typed JSON errors with fitting statuses', async () => {
    const cases: [string, number, string][] = [
      [`/v1/ticks/nope?key=${encodeURIComponent(BTC)}&from=${DAY}&to=${NEXT}`, 400, 'UNKNOWN_DATA_TYPE'],
      [`/v1/ticks/trades?from=${DAY}&to=${NEXT}`, 400, 'USAGE'],
      [`/v1/ticks/trades?key=nope&from=${DAY}&to=${NEXT}`, 400, 'INVALID_INSTRUMENT_KEY'],
      [`/v1/ticks/trades?key=${encodeURIComponent(BTC)}&from=yesterday&to=${NEXT}`, 400, 'USAGE'],
      [`${ticks}&format=xml`, 400, 'USAGE'],
      [`${ticks}&columns=bid_price`, 400, 'USAGE'],
      ['/v1/nothing', 404, 'NOT_FOUND'],
    ];
    for (const [path, status, code] of cases) {
      const res = await get(path);
      expect(res.status, path).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const err = (await json(res)).error as { code: string; message: string };
      expect(err.code, path).toBe(code);
      expect(err.message.length).toBeGreaterThan(5);
    }
  });

  it('/metrics: request counts, latency histogram, rows served, cache', async () => {
    const before = await (await get('/metrics')).text();
    const rowsBefore = metric(before, 'ticklake_rows_served_total{route="/v1/ticks/{dataType}"}');
    const okBefore = metric(
      before,
      'ticklake_http_requests_total{route="/v1/ticks/{dataType}",method="GET",status="200"}',
    );
    for (let i = 0; i < 3; i++) await (await get(`${ticks}&columns=price`)).text();
    const after = await (await get('/metrics')).text();
    expect(
      metric(after, 'ticklake_http_requests_total{route="/v1/ticks/{dataType}",method="GET",status="200"}'),
    ).toBe(okBefore + 3);
    expect(metric(after, 'ticklake_rows_served_total{route="/v1/ticks/{dataType}"}')).toBe(
      rowsBefore + 3 * GEN_ROWS,
    );
    expect(
      metric(after, 'ticklake_http_request_duration_seconds_count{route="/v1/ticks/{dataType}"}'),
    ).toBeGreaterThanOrEqual(okBefore + 3);
    expect(
      metric(after, 'ticklake_http_requests_total{route="/v1/ticks/{dataType}",method="GET",status="413"}'),
    ).toBe(1);
    expect(metric(after, 'ticklake_cache_hits_total')).toBeGreaterThan(0);
    const ratio = metric(after, 'ticklake_cache_hit_ratio');
    const st = env.lake.cache.stats();
    expect(ratio).toBeCloseTo(st.hits / (st.hits + st.misses), 2);
    expect(after).toMatch(/# TYPE ticklake_http_request_duration_seconds histogram/);
  });

  it('the request log never shows query strings or tokens', () => {
    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.some((l) => l.includes('?'))).toBe(false);
  });
});

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

describe('ticklake serve: auth off loopback, client disconnects', () => {
  let env: LakeEnv;
  let open: RunningServer;
  const lines: string[] = [];
  beforeAll(async () => {
    env = await buildReadLake({ real: false });
    open = await startServer({
      lake: env.lake,
      host: '0.0.0.0',
      port: 0,
      token: TOKEN,
      enableSql: true,
      limits: { maxRows: 1_000_000 },
      log: (l) => lines.push(l),
    });
  }, 120_000);
  afterAll(async () => {
    await open?.close();
    await env?.close();
  });
  const url = () => `http://127.0.0.1:${open.port}`;

  it('refuses to start off loopback without a token', async () => {
    await expect(startServer({ lake: env.lake, host: '0.0.0.0', port: 0 })).rejects.toBeInstanceOf(
      UsageError,
    );
  });

  it('requires the bearer token (401 JSON otherwise); /healthz stays open; the token is never logged', async () => {
    const path = `/v1/ticks/trades?key=${encodeURIComponent(BTC)}&from=${DAY}&to=${NEXT}&columns=price`;
    const none = await fetch(`${url()}${path}`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    const wrong = await fetch(`${url()}${path}`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    await wrong.text();
    const ok = await fetch(`${url()}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect((await ok.text()).trim().split('\n').length).toBe(GEN_ROWS);
    expect((await fetch(`${url()}/healthz`)).status).toBe(200);
    const metricsNoToken = await fetch(`${url()}/metrics`);
    expect(metricsNoToken.status).toBe(401);
    await metricsNoToken.text();
    expect(lines.join('\n')).not.toContain(TOKEN);
  });

  it('a client that disconnects mid-stream: the stream stops, nothing leaks, the server keeps serving', async () => {
    const conns = () =>
      new Promise<number>((res, rej) => open.server.getConnections((e, n) => (e ? rej(e) : res(n))));
    const sql = "SELECT range AS i, repeat('x', 1000) AS pad FROM range(60000)";
    // Keep-alive sockets of earlier fetches may still be open: compare with the count before.
    const before = await conns();
    const got = await new Promise<number>((resolve, reject) => {
      const sock = connect(open.port, '127.0.0.1', () => {
        sock.write(
          `POST /v1/sql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(sql)}\r\n\r\n${sql}`,
        );
      });
      let n = 0;
      sock.on('data', (d: Buffer) => {
        n += d.length;
        if (n > 64 * 1024) {
          sock.destroy(); // gone after the first 64 KiB of a ~70 MB response
          resolve(n);
        }
      });
      sock.on('error', reject);
    });
    expect(got).toBeGreaterThan(64 * 1024);
    // The server notices, stops streaming and releases the connection and the request.
    for (let i = 0; i < 100 && ((await conns()) > before || open.metrics.inFlight > 0); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await conns()).toBeLessThanOrEqual(before);
    expect(open.metrics.inFlight).toBe(0);
    const text = await (
      await fetch(`${url()}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(metric(text, 'ticklake_streams_aborted_total{route="/v1/sql"}')).toBe(1);
    const served = metric(text, 'ticklake_bytes_served_total{route="/v1/sql"}');
    expect(served).toBeLessThan(70_000_000 / 2);
    // And the next requests are served normally.
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${url()}/v1/sql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: 'SELECT 7 AS x',
      });
      expect(await r.text()).toBe('{"x":7}\n');
    }
  });
});
