/**
 * The decode stage in a worker thread (the built dist/, as the CLI runs it) against the same function
 * in-process (`ingest.decodeInWorker: false`): the same batches, bad rows and typed errors, and
 * byte-identical lake files. Cancellation reaches the worker's download; the API key never shows.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnBatch } from '../../src/columns/types.js';
import { generateTardisDataset } from '../../src/dev/generate.js';
import { startTardisServer, type TardisServer } from '../../src/dev/tardis-server.js';
import { runCli } from '../helpers/cli.js';
import { filesUnder, putRawVendorFile, putVendorFile, REPO_ROOT, tempDir } from '../helpers/fixtures.js';

type DecodeModule = typeof import('../../src/pipeline/decode.js');
type PoolModule = typeof import('../../src/pipeline/decode-pool.js');

const SECRET = 'tl-worker-secret-5e1f0c';
const HEADER = 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount';

/** Generated trades CSV (labelled generated) with a few bad rows, slightly out of order. */
function tradesWithBadRows(n: number): string {
  const lines = [HEADER];
  const t0 = Date.UTC(2024, 7, 2) * 1000;
  for (let i = 0; i < n; i++) {
    const ts = t0 + i * 1_000_000 - (i % 7) * 1_500_000;
    if (i % 5_000 === 17) lines.push(`binance,BTCUSDT,${ts},${ts + 1},${i},sideways,1.5,2`);
    else if (i % 5_000 === 2_500) lines.push(`binance,BTCUSDT,${ts},${ts + 1},${i},buy,abc,2`);
    else
      lines.push(
        `binance,BTCUSDT,${ts},${ts + 1500},${i},${i % 2 ? 'buy' : 'sell'},${60000 + (i % 97)},0.${i % 9}1`,
      );
  }
  return `${lines.join('\n')}\n`;
}

function parquetFiles(lake: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of filesUnder(lake, { ext: '.parquet', skip: ['_staging'] })) {
    out.set(relative(lake, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
  }
  return out;
}

/** A digest of a batch's contents (every array, by bytes) and shape. */
function batchDigest(b: ColumnBatch): string {
  const h = createHash('sha256');
  h.update(String(b.length));
  for (const [name, c] of Object.entries(b.columns)) {
    h.update(`|${name}:${c.kind}`);
    const arrays = c.kind === 'utf8' ? [c.offsets, c.data] : c.kind === 'dict' ? [c.indices] : [c.values];
    for (const a of arrays) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    if (c.kind === 'dict') h.update(JSON.stringify(c.dictionary));
    h.update(c.validity === null ? 'v:null' : new Uint8Array(c.validity));
  }
  return h.digest('hex');
}

describe('decode in a worker thread', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let server: TardisServer;
  let decode: DecodeModule;
  let pool: InstanceType<PoolModule['DecodePool']>;
  let poolModule: PoolModule;
  const urlOf = (symbol: string, day: string) =>
    `${server.url}/binance/trades/${day.replaceAll('-', '/')}/${symbol}.csv.gz`;

  beforeAll(async () => {
    tmp = await tempDir('ticklake-worker-');
    const vendor = join(tmp.path, 'vendor');
    await generateTardisDataset({
      dir: vendor,
      exchange: 'binance',
      dataType: 'trades',
      symbol: 'BTCUSDT',
      day: '2024-08-01',
      rows: 150_000,
      seed: 3,
    });
    await putVendorFile(vendor, 'binance', 'trades', '2024-08-02', 'BTCUSDT', tradesWithBadRows(80_000));
    const gz = gzipSync(Buffer.from(tradesWithBadRows(20_000)));
    await putRawVendorFile(
      vendor,
      'binance',
      'trades',
      '2024-08-03',
      'BTCUSDT',
      gz.subarray(0, gz.length >> 1),
    );
    await putRawVendorFile(
      vendor,
      'binance',
      'trades',
      '2024-08-04',
      'BTCUSDT',
      Buffer.from('<html>no</html>'),
    );
    server = await startTardisServer({ dir: vendor, port: 0, apiKeys: [SECRET] });
    // The built modules: only there is there a JavaScript worker file.
    decode = (await import(
      pathToFileURL(join(REPO_ROOT, 'dist', 'pipeline', 'decode.js')).href
    )) as DecodeModule;
    poolModule = (await import(
      pathToFileURL(join(REPO_ROOT, 'dist', 'pipeline', 'decode-pool.js')).href
    )) as PoolModule;
    const workerUrl = poolModule.decodeWorkerUrl();
    expect(workerUrl?.href).toMatch(/\/dist\/pipeline\/decode-worker\.js$/);
    pool = new poolModule.DecodePool(workerUrl!, SECRET);
  }, 120_000);

  afterAll(async () => {
    await pool?.close();
    await server?.close();
    await tmp?.cleanup();
  });

  it('from TypeScript sources there is no worker file: ingest decodes in-process', async () => {
    const src = await import('../../src/pipeline/decode-pool.js');
    expect(src.decodeWorkerUrl()).toBeNull();
  });

  const job = (url: string) => ({
    url,
    dataType: 'trades' as const,
    exchange: 'binance',
    singleKey: 'BINANCE:SPOT_PAIR:BTC-USDT',
    maxBadRowShare: 0.01,
    maxRetries: 0,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 1,
  });

  async function both(url: string, slow = false) {
    const run = async (inWorker: boolean) => {
      const digests: string[] = [];
      const bad: string[] = [];
      let bytes = 0;
      const hooks = {
        onBytes: (n: number) => {
          bytes = n;
        },
        onBatch: async (b: ColumnBatch) => {
          digests.push(batchDigest(b));
          if (slow) await new Promise((r) => setTimeout(r, 5));
        },
        onBadRow: (line: number, reason: string, raw: string) => {
          bad.push(`${line}|${reason}|${raw}`);
        },
      };
      try {
        const result = inWorker
          ? await pool.decode(job(url), hooks)
          : await decode.decodeDataset(job(url), { ...hooks, apiKey: SECRET });
        return { ok: true as const, result, digests, bad, bytes };
      } catch (err) {
        const e = err as { name: string; code: string; message: string; hint?: string; details?: unknown };
        return {
          ok: false as const,
          error: { name: e.name, code: e.code, message: e.message, hint: e.hint, details: e.details },
          digests,
          bad,
        };
      }
    };
    return { local: await run(false), worker: await run(true) };
  }

  it('gives the same batches, summary and download info (with backpressure from a slow consumer)', async () => {
    const { local, worker } = await both(urlOf('BTCUSDT', '2024-08-01'), true);
    expect(local.ok && worker.ok).toBe(true);
    expect(worker).toEqual(local);
    expect(local.digests.length).toBeGreaterThan(2);
  });

  it('gives the same bad rows in the same order', async () => {
    const { local, worker } = await both(urlOf('BTCUSDT', '2024-08-02'));
    expect(local.ok).toBe(true);
    expect(local.bad.length).toBe(32);
    expect(worker).toEqual(local);
  });

  it.each([
    ['404', 'NOPEUSDT', '2024-08-01', 'VENDOR_NOT_FOUND'],
    ['truncated gzip', 'BTCUSDT', '2024-08-03', 'CORRUPTED_SOURCE'],
    ['not gzip', 'BTCUSDT', '2024-08-04', 'CORRUPTED_SOURCE'],
  ])('%s: the same typed error (code, name, message, hint, details)', async (_what, symbol, day, code) => {
    const { local, worker } = await both(urlOf(symbol, day));
    expect(local.ok).toBe(false);
    // The error is the same; how many rows were parsed before a mid-stream gzip error is a race between
    // inflate and parse (and irrelevant: a failed file keeps nothing), so rows are not compared here.
    expect(worker.ok).toBe(false);
    if (!worker.ok && !local.ok) expect(worker.error).toEqual(local.error);
    if (!worker.ok) {
      expect(worker.error.code).toBe(code);
      expect(JSON.stringify(worker.error)).not.toContain(SECRET);
    }
  });

  it('a wrong key: VENDOR_AUTH from the worker without the key in it', async () => {
    const wrong = new poolModule.DecodePool(poolModule.decodeWorkerUrl()!, `${SECRET}-wrong`);
    try {
      const err = (await wrong
        .decode(job(urlOf('BTCUSDT', '2024-08-02')), {
          onBytes: () => {},
          onBatch: () => {},
          onBadRow: () => {},
        })
        .catch((e: unknown) => e)) as Error & { code: string; hint: string };
      expect(err.code).toBe('VENDOR_AUTH');
      expect(`${err.message} ${err.hint} ${JSON.stringify(err)} ${err.stack}`).not.toContain(SECRET);
    } finally {
      await wrong.close();
    }
  });

  it('cancellation aborts the worker’s download (CANCELLED) and the pool goes on working', async () => {
    const controller = new AbortController();
    let batches = 0;
    const err = (await pool
      .decode(job(urlOf('BTCUSDT', '2024-08-01')), {
        signal: controller.signal,
        onBytes: () => {},
        onBatch: () => {
          if (++batches === 1) controller.abort();
        },
        onBadRow: () => {},
      })
      .catch((e: unknown) => e)) as { code: string };
    expect(err.code).toBe('CANCELLED');
    const again = await both(urlOf('BTCUSDT', '2024-08-02'));
    expect(again.worker).toEqual(again.local);
  });

  it('the CLI writes byte-identical lakes with decodeInWorker true and false, with the same outcomes', async () => {
    const runWith = async (inWorker: boolean) => {
      const dir = join(tmp.path, inWorker ? 'in-worker' : 'in-process');
      await mkdir(dir, { recursive: true });
      await writeFile(
        join(dir, 'ticklake.yaml'),
        `ingest:\n  decodeInWorker: ${inWorker}\n  runRows: 40000\n`,
      );
      const lake = join(dir, 'lake');
      const r = await runCli(
        [
          '--lake',
          lake,
          'ingest',
          '--exchange',
          'binance',
          '--data-types',
          'trades',
          '--symbols',
          'BTCUSDT,NOPEUSDT',
          '--from',
          '2024-08-01',
          '--to',
          '2024-08-04',
          '--concurrency',
          '2',
          '--json',
        ],
        { TARDIS_DATASETS_URL: server.url, TARDIS_API_KEY: SECRET },
        dir,
      );
      expect(r.stdout + r.stderr).not.toContain(SECRET);
      const ends = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; task?: { symbol: string; day: string } })
        .filter((e) => e.type === 'task-end')
        .sort((a, b) => `${a.task!.day}${a.task!.symbol}`.localeCompare(`${b.task!.day}${b.task!.symbol}`));
      return { code: r.code, ends, files: parquetFiles(lake) };
    };
    const inProcess = await runWith(false);
    const inWorker = await runWith(true);
    expect(inProcess.code).toBe(1); // the corrupt files fail
    expect(inProcess.files.size).toBe(3); // two days of trades + one quarantine file
    expect(inWorker).toEqual(inProcess);
    const outcomes = inWorker.ends.map((e) => (e as unknown as { outcome: string }).outcome);
    expect(outcomes.filter((o) => o === 'absent')).toHaveLength(4);
    expect(outcomes.filter((o) => o === 'failed')).toHaveLength(2);
  }, 120_000);
});
