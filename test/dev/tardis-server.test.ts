import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  faultSequence,
  runTardisServerCommand,
  startTardisServer,
  type TardisServer,
} from '../../src/dev/tardis-server.js';
import { noise, putDataset, tempDir } from '../tardis-http/fixtures.js';

describe('local Tardis server', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: TardisServer;
  const body = noise(10_000, 3);
  let filePath: string;
  let paidPath: string;
  let plan: ReturnType<typeof faultSequence> | undefined;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('server'));
    filePath = await putDataset(dir, 'binance', 'trades', '2024-03-01', 'BTCUSDT', body);
    paidPath = await putDataset(dir, 'binance', 'trades', '2024-03-05', 'BTCUSDT', body);
    await mkdir(path.join(dir, '_api', 'exchanges'), { recursive: true });
    await writeFile(path.join(dir, '_api', 'exchanges', 'binance.json'), '{"id":"binance"}');
    server = await startTardisServer({ dir, apiKeys: ['k1', 'k2'], faults: (r) => plan?.(r) });
  });
  afterAll(async () => {
    await server?.close();
    await cleanup?.();
  });

  const get = (p: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> =>
    fetch(`http://127.0.0.1:${server.port}${p}`, { headers, method });

  it('serves a file with length, ETag, Accept-Ranges and no generated mark', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/v1`);
    expect(server.apiUrl).toBe(server.url);
    const res = await get(filePath);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(body.length));
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('etag')).toMatch(/^".+"$/);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('x-ticklake-generated')).toBeNull();
    expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
  });

  it('answers ranges with 206, suffix ranges, 416 past the end, and 200 on a stale If-Range', async () => {
    const r1 = await get(filePath, { range: 'bytes=100-199' });
    expect(r1.status).toBe(206);
    expect(r1.headers.get('content-range')).toBe(`bytes 100-199/${body.length}`);
    expect(Buffer.from(await r1.arrayBuffer()).equals(body.subarray(100, 200))).toBe(true);

    const r2 = await get(filePath, { range: 'bytes=9990-' });
    expect(r2.status).toBe(206);
    expect(Buffer.from(await r2.arrayBuffer()).equals(body.subarray(9990))).toBe(true);

    const r3 = await get(filePath, { range: 'bytes=-10' });
    expect(Buffer.from(await r3.arrayBuffer()).equals(body.subarray(body.length - 10))).toBe(true);

    const r4 = await get(filePath, { range: `bytes=${body.length}-` });
    expect(r4.status).toBe(416);
    expect(r4.headers.get('content-range')).toBe(`bytes */${body.length}`);
    await r4.arrayBuffer();

    const etag = r1.headers.get('etag') ?? '';
    const r5 = await get(filePath, { range: 'bytes=5-', 'if-range': etag });
    expect(r5.status).toBe(206);
    await r5.arrayBuffer();
    const r6 = await get(filePath, { range: 'bytes=5-', 'if-range': '"other"' });
    expect(r6.status).toBe(200);
    expect(Buffer.from(await r6.arrayBuffer()).equals(body)).toBe(true);
  });

  it('needs a valid key except on the first of the month; 404 JSON like an API', async () => {
    const noKey = await get(paidPath);
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ code: 401 });
    expect((await get(paidPath, { authorization: 'Bearer nope' })).status).toBe(401);
    const ok = await get(paidPath, { authorization: 'Bearer k2' });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();

    const missing = await get('/v1/binance/trades/2024/03/01/ETHUSDT.csv.gz');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/application\/json/);
    expect(await missing.json()).toMatchObject({ code: 404 });
    expect((await get('/v1/binance/trades/2024/03/01/..%2F..%2Fsecret.csv.gz')).status).toBe(404);
    expect((await get('/v2/whatever')).status).toBe(404);
  });

  it('serves /v1/exchanges/{exchange} from _api, 404 otherwise', async () => {
    const res = await get('/v1/exchanges/binance');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: 'binance' });
    expect((await get('/v1/exchanges/kraken')).status).toBe(404);
  });

  it('logs requests and plays faults in order per path', async () => {
    plan = faultSequence({
      [filePath]: [
        { status: 503 },
        { status: 429, retryAfter: 7 },
        { truncateTo: 10, contentLength: 'matching' },
      ],
    });
    server.requests.length = 0;
    expect((await get(filePath)).status).toBe(503);
    const r429 = await get(filePath);
    expect(r429.status).toBe(429);
    expect(r429.headers.get('retry-after')).toBe('7');
    const short = await get(filePath);
    expect(short.status).toBe(200);
    expect(Buffer.from(await short.arrayBuffer()).equals(body.subarray(0, 10))).toBe(true);
    const normal = await get(filePath, { range: 'bytes=0-0' });
    expect(normal.status).toBe(206);
    await normal.arrayBuffer();
    expect(server.requests.map((r) => r.status)).toEqual([503, 429, 200, 206]);
    expect(server.requests[3]?.range).toBe('bytes=0-0');
    expect(server.requests[0]?.fault).toEqual({ status: 503 });
    plan = undefined;
  });

  it('HEAD answers headers only', async () => {
    const res = await get(filePath, {}, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(body.length));
  });
});

describe('runTardisServerCommand', () => {
  it('prints the URL and how to use it, then stops on SIGINT', async () => {
    const { dir, cleanup } = await tempDir('cmd');
    const lines: string[] = [];
    const running = runTardisServerCommand({ dir, port: 0, print: (l) => lines.push(l) });
    for (let i = 0; i < 100 && lines.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    const url = /TARDIS_DATASETS_URL=(\S+)/.exec(lines.join('\n'))?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect((await fetch(`${url}/exchanges/none`)).status).toBe(404);
    process.emit('SIGINT', 'SIGINT');
    await running;
    expect(lines.at(-1)).toMatch(/stopped/);
    await cleanup();
  });
});
