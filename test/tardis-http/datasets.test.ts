import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultSequence, startTardisServer, type TardisServer } from '../../src/dev/tardis-server.js';
import {
  CancelledError,
  CorruptedSourceError,
  NetworkError,
  VendorAuthError,
  VendorNotFoundError,
  VendorRateLimitError,
  VendorServerError,
} from '../../src/errors.js';
import { downloadDataset, type RetryInfo, tardisDatasetUrl } from '../../src/sources/tardis/datasets.js';
import {
  collector,
  HAVE_REAL,
  NO_REAL_REASON,
  noise,
  putDataset,
  realTradesGz,
  tempDir,
} from './fixtures.js';

const KEY = 'TD.sk-super-secret-key-0123456789';
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('tardisDatasetUrl', () => {
  it('builds the vendor URL scheme exactly', () => {
    expect(
      tardisDatasetUrl('https://datasets.tardis.dev/v1', 'binance', 'trades', '2024-03-07', 'btcusdt'),
    ).toBe('https://datasets.tardis.dev/v1/binance/trades/2024/03/07/BTCUSDT.csv.gz');
    expect(
      tardisDatasetUrl(
        'http://127.0.0.1:9/v1/',
        'okex-swap',
        'incremental_book_L2',
        '2021-12-31',
        'BTC/USDT:SWAP',
      ),
    ).toBe('http://127.0.0.1:9/v1/okex-swap/incremental_book_L2/2021/12/31/BTC-USDT-SWAP.csv.gz');
    expect(tardisDatasetUrl('https://x/v1', 'deribit', 'options_chain', '2024-01-01', 'OPTIONS')).toBe(
      'https://x/v1/deribit/options_chain/2024/01/01/OPTIONS.csv.gz',
    );
    expect(() => tardisDatasetUrl('https://x/v1', 'binance', 'trades', '2024-3-7', 'BTCUSDT')).toThrow(
      /YYYY-MM-DD/,
    );
  });
});

describe('downloadDataset against the local Tardis server', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: TardisServer;
  let faults: ReturnType<typeof faultSequence> | undefined;
  const big = noise(300_000);
  let paidPath: string;
  let freePath: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('http'));
    paidPath = await putDataset(dir, 'test', 'trades', '2024-03-02', 'BIG', big);
    freePath = await putDataset(dir, 'test', 'trades', '2024-03-01', 'BIG', big);
    server = await startTardisServer({ dir, apiKeys: [KEY], faults: (req) => faults?.(req) });
  });
  afterAll(async () => {
    await server?.close();
    await cleanup?.();
  });

  const urlOf = (p: string): string => server.url + p.slice('/v1'.length);
  const count = (p: string): number => server.requests.filter((r) => r.path === p).length;
  function withFaults(plan: Parameters<typeof faultSequence>[0]): void {
    faults = faultSequence(plan);
    server.requests.length = 0;
  }

  it.skipIf(!HAVE_REAL)('downloads a real Tardis file byte-identical with its sha256', async () => {
    const gz = await realTradesGz();
    const p = await putDataset(dir, 'binance-futures', 'trades', '2020-02-22', 'BTCUSDT', gz);
    const url = tardisDatasetUrl(server.url, 'binance-futures', 'trades', '2020-02-22', 'BTCUSDT');
    expect(url).toBe(urlOf(p));
    const sink = collector();
    const res = await downloadDataset(url, { apiKey: KEY, onChunk: sink.onChunk });
    expect(sink.bytes().equals(gz)).toBe(true);
    expect(res).toMatchObject({
      bytes: gz.length,
      sha256: sha(gz),
      status: 200,
      generated: false,
      requests: 1,
    });
    expect(res.etag).toMatch(/^".+"$/);
  });
  if (!HAVE_REAL) it.skip(`real file download: ${NO_REAL_REASON}`, () => {});

  it('401 without a key on a paid day says the key is needed; the key makes it work', async () => {
    withFaults({});
    const err = await downloadDataset(urlOf(paidPath), { onChunk: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorAuthError);
    expect((err as VendorAuthError).message).toContain('needs an API key');
    expect((err as VendorAuthError).hadKey).toBe(false);
    expect(count(paidPath)).toBe(1); // never retried
    expect(server.requests[0]?.authorized).toBe(false);

    const sink = collector();
    const ok = await downloadDataset(urlOf(paidPath), { apiKey: KEY, onChunk: sink.onChunk });
    expect(sink.bytes().equals(big)).toBe(true);
    expect(ok.sha256).toBe(sha(big));
  });

  it('first day of a month is free without a key', async () => {
    withFaults({});
    const sink = collector();
    const res = await downloadDataset(urlOf(freePath), { onChunk: sink.onChunk });
    expect(res.bytes).toBe(big.length);
    expect(sink.bytes().equals(big)).toBe(true);
    expect(server.requests[0]?.authorized).toBe(false);
  });

  it('a wrong key is "API key rejected", not retried', async () => {
    withFaults({});
    const err = await downloadDataset(urlOf(paidPath), { apiKey: 'wrong-key', onChunk: () => {} }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VendorAuthError);
    expect((err as Error).message).toContain('API key rejected');
    expect(count(paidPath)).toBe(1);
  });

  it('404 is VendorNotFoundError and is not retried', async () => {
    withFaults({});
    const missing = '/v1/test/trades/2024/03/01/NOPE.csv.gz';
    const err = await downloadDataset(urlOf(missing), { baseDelayMs: 1, onChunk: () => {} }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VendorNotFoundError);
    expect(count(missing)).toBe(1);
  });

  it('429 waits at least Retry-After, then succeeds', async () => {
    withFaults({ [freePath]: [{ status: 429, retryAfter: 1 }] });
    const retries: RetryInfo[] = [];
    const t0 = Date.now();
    const sink = collector();
    const res = await downloadDataset(urlOf(freePath), {
      baseDelayMs: 1,
      onChunk: sink.onChunk,
      onRetry: (i) => retries.push(i),
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(count(freePath)).toBe(2);
    expect(res.requests).toBe(2);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ status: 429, retry: 1 });
    expect(retries[0]?.delayMs).toBeGreaterThanOrEqual(1000);
    expect(sink.bytes().equals(big)).toBe(true);
  });

  it('429 until retries run out is VendorRateLimitError', async () => {
    withFaults({ [freePath]: [{ status: 429 }, { status: 429 }, { status: 429 }] });
    const err = await downloadDataset(urlOf(freePath), {
      maxRetries: 2,
      baseDelayMs: 1,
      onChunk: () => {},
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorRateLimitError);
    expect(count(freePath)).toBe(3);
  });

  it('5xx until retries run out is VendorServerError after maxRetries+1 requests', async () => {
    withFaults({ [freePath]: Array.from({ length: 10 }, () => ({ status: 503 })) });
    const retries: RetryInfo[] = [];
    const err = await downloadDataset(urlOf(freePath), {
      maxRetries: 3,
      baseDelayMs: 2,
      onChunk: () => {},
      onRetry: (i) => retries.push(i),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorServerError);
    expect((err as VendorServerError).message).toContain('HTTP 503');
    expect((err as VendorServerError).message).toContain('after 4 attempts');
    expect(count(freePath)).toBe(4);
    expect(retries.map((r) => r.retry)).toEqual([1, 2, 3]);
    for (const r of retries) expect(r.delayMs).toBeLessThanOrEqual(2 * 2 ** (r.retry - 1));
  });

  it('5xx then success delivers the file once', async () => {
    withFaults({ [freePath]: [{ status: 500 }, { status: 502 }] });
    const sink = collector();
    const res = await downloadDataset(urlOf(freePath), { baseDelayMs: 1, onChunk: sink.onChunk });
    expect(res.requests).toBe(3);
    expect(sink.bytes().equals(big)).toBe(true);
  });

  it('a connection dropped mid-body is resumed with Range + If-Range; the consumer sees the exact bytes', async () => {
    withFaults({ [paidPath]: [{ dropAfterBytes: 100_000 }, { dropAfterBytes: 50_000 }] });
    const sink = collector();
    const retries: RetryInfo[] = [];
    const res = await downloadDataset(urlOf(paidPath), {
      apiKey: KEY,
      baseDelayMs: 1,
      onChunk: sink.onChunk,
      onRetry: (i) => retries.push(i),
    });
    expect(sink.bytes().equals(big)).toBe(true);
    expect(res).toMatchObject({ bytes: big.length, sha256: sha(big), status: 206, requests: 3 });
    const log = server.requests.filter((r) => r.path === paidPath);
    expect(log.map((r) => r.status)).toEqual([200, 206, 206]);
    expect(log[0]?.range).toBeUndefined();
    expect(log[1]?.range).toBe(`bytes=${retries[0]?.resumeFrom}-`);
    expect(retries[0]?.resumeFrom).toBeGreaterThanOrEqual(100_000 - 16_384);
    expect(retries[1]?.resumeFrom).toBeGreaterThan(retries[0]?.resumeFrom ?? 0);
  });

  it('a body shorter than Content-Length is resumed', async () => {
    withFaults({ [freePath]: [{ truncateTo: 123_457 }] });
    const sink = collector();
    const res = await downloadDataset(urlOf(freePath), { baseDelayMs: 1, onChunk: sink.onChunk });
    expect(sink.bytes().equals(big)).toBe(true);
    expect(res.sha256).toBe(sha(big));
    const log = server.requests.filter((r) => r.path === freePath);
    expect(log).toHaveLength(2);
    expect(log[1]?.range).toBe('bytes=123457-');
  });

  it('a server that ignores Range (200 instead of 206) has the consumed prefix skipped', async () => {
    withFaults({ [freePath]: [{ dropAfterBytes: 77_777 }, { ignoreRange: true }] });
    const sink = collector();
    const res = await downloadDataset(urlOf(freePath), { baseDelayMs: 1, onChunk: sink.onChunk });
    expect(sink.bytes().equals(big)).toBe(true);
    expect(res.sha256).toBe(sha(big));
    expect(res.status).toBe(200);
    const log = server.requests.filter((r) => r.path === freePath);
    expect(log.map((r) => r.status)).toEqual([200, 200]);
    expect(log[1]?.range).toMatch(/^bytes=\d+-$/);
  });

  it('resumes across processes from resumeFrom + the prefix hash', async () => {
    withFaults({});
    const prefix = 200_001;
    const hash = createHash('sha256').update(big.subarray(0, prefix));
    const sink = collector();
    const res = await downloadDataset(urlOf(freePath), { resumeFrom: prefix, hash, onChunk: sink.onChunk });
    expect(sink.bytes().equals(big.subarray(prefix))).toBe(true);
    expect(res).toMatchObject({ bytes: big.length, sha256: sha(big), status: 206 });
    expect(server.requests[0]?.range).toBe(`bytes=${prefix}-`);
    await expect(downloadDataset(urlOf(freePath), { resumeFrom: 10, onChunk: () => {} })).rejects.toThrow(
      /hash/,
    );
  });

  it('resumeFrom at the end of the file completes without a body', async () => {
    withFaults({});
    const hash = createHash('sha256').update(big);
    const sink = collector();
    const res = await downloadDataset(urlOf(freePath), {
      resumeFrom: big.length,
      hash,
      onChunk: sink.onChunk,
    });
    expect(res).toMatchObject({ bytes: big.length, sha256: sha(big), status: 416 });
    expect(sink.bytes().length).toBe(0);
  });

  it('a file that changed since the ETag of the prefix is refused, not spliced', async () => {
    withFaults({});
    const hash = createHash('sha256').update(big.subarray(0, 1000));
    const err = await downloadDataset(urlOf(freePath), {
      resumeFrom: 1000,
      etag: '"stale-etag"',
      hash,
      onChunk: () => {},
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptedSourceError);
  });

  it('dropped connections without progress end in NetworkError', async () => {
    withFaults({ [freePath]: [{ dropAfterBytes: 0 }, { dropAfterBytes: 0 }, { dropAfterBytes: 0 }] });
    const err = await downloadDataset(urlOf(freePath), {
      maxRetries: 2,
      baseDelayMs: 1,
      onChunk: () => {},
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(count(freePath)).toBe(3);
  });

  it('applies backpressure: a slow consumer is awaited chunk by chunk', async () => {
    withFaults({});
    let inFlight = 0;
    let maxInFlight = 0;
    const parts: Buffer[] = [];
    await downloadDataset(urlOf(freePath), {
      onChunk: async (c) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 1));
        parts.push(Buffer.from(c));
        inFlight--;
      },
    });
    expect(maxInFlight).toBe(1);
    expect(Buffer.concat(parts).equals(big)).toBe(true);
  });

  it('an error thrown by the consumer propagates and is not retried', async () => {
    withFaults({});
    const boom = new Error('disk full');
    const err = await downloadDataset(urlOf(freePath), {
      onChunk: () => {
        throw boom;
      },
    }).catch((e: unknown) => e);
    expect(err).toBe(boom);
    expect(count(freePath)).toBe(1);
  });

  it('abort via signal rejects with CancelledError (during a request and during a backoff wait)', async () => {
    withFaults({ [freePath]: [{ delayMs: 5000 }] });
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 50);
    await expect(
      downloadDataset(urlOf(freePath), { signal: ac.signal, onChunk: () => {} }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(Date.now() - t0).toBeLessThan(2000);

    withFaults({ [freePath]: [{ status: 503 }] });
    const ac2 = new AbortController();
    const p = downloadDataset(urlOf(freePath), {
      signal: ac2.signal,
      baseDelayMs: 10_000,
      onChunk: () => {},
      onRetry: () => setTimeout(() => ac2.abort(), 20),
    });
    await expect(p).rejects.toBeInstanceOf(CancelledError);

    const ac3 = new AbortController();
    ac3.abort();
    await expect(
      downloadDataset(urlOf(freePath), { signal: ac3.signal, onChunk: () => {} }),
    ).rejects.toBeInstanceOf(CancelledError);
  });

  it('reuses keep-alive connections for many downloads without listener leaks', async () => {
    withFaults({});
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(String(w));
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 30; i++) await downloadDataset(urlOf(freePath), { onChunk: () => {} });
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
    expect(count(freePath)).toBe(30);
  });

  it('marks generated files (x-ticklake-generated: 1)', async () => {
    withFaults({});
    const p = await putDataset(dir, 'test', 'trades', '2024-04-01', 'GEN', Buffer.from('x'));
    const { writeFile } = await import('node:fs/promises');
    const path = await import('node:path');
    await writeFile(path.join(dir, p.slice('/v1/'.length) + '.generated.json'), '{"generator":"ticklake"}');
    const res = await downloadDataset(urlOf(p), { onChunk: () => {} });
    expect(res.generated).toBe(true);
  });

  it('never lets the API key out: errors, their causes, retry info', async () => {
    const seen: unknown[] = [];
    const onRetry = (i: RetryInfo): void => void seen.push(i);
    // rejected key
    withFaults({});
    seen.push(
      await downloadDataset(urlOf(paidPath), { apiKey: `${KEY}x`, onChunk: () => {} }).catch(
        (e: unknown) => e,
      ),
    );
    // server errors until retries run out
    withFaults({ [paidPath]: [{ status: 500 }, { status: 500 }] });
    seen.push(
      await downloadDataset(urlOf(paidPath), {
        apiKey: KEY,
        maxRetries: 1,
        baseDelayMs: 1,
        onChunk: () => {},
        onRetry,
      }).catch((e: unknown) => e),
    );
    // network errors until retries run out
    withFaults({ [paidPath]: [{ dropAfterBytes: 0 }, { dropAfterBytes: 0 }] });
    seen.push(
      await downloadDataset(urlOf(paidPath), {
        apiKey: KEY,
        maxRetries: 1,
        baseDelayMs: 1,
        onChunk: () => {},
        onRetry,
      }).catch((e: unknown) => e),
    );
    // cancelled mid-request
    withFaults({ [paidPath]: [{ delayMs: 2000 }] });
    seen.push(
      await downloadDataset(urlOf(paidPath), {
        apiKey: KEY,
        signal: AbortSignal.timeout(30),
        onChunk: () => {},
      }).catch((e: unknown) => e),
    );
    // a key with a newline is refused without echoing it
    seen.push(
      await downloadDataset(urlOf(paidPath), { apiKey: `${KEY}\n`, onChunk: () => {} }).catch(
        (e: unknown) => e,
      ),
    );
    expect(seen.filter((e) => e instanceof Error)).toHaveLength(5);
    for (const e of seen) {
      const text = inspect(e, { depth: 20, showHidden: true }) + JSON.stringify(e) + String(e);
      expect(text).not.toContain(KEY);
      expect(text).not.toContain('super-secret');
      if (e instanceof Error && e.cause !== undefined) {
        expect(inspect(e.cause, { depth: 20, showHidden: true })).not.toContain('super-secret');
      }
    }
  });
});
