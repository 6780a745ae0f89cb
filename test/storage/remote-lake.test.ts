/**
 * End to end on object stores: the same ingest from the local Tardis server into a local lake, an
 * s3:// lake (s3rver) and a gs:// lake (the GCS stand-in) gives byte-identical Parquet files, the
 * same catalog records and the same `lake.read` tables; the catalog rebuilds from the remote footers;
 * and `openLake` opens s3:// / gs:// URLs from config + environment alone, with the default catalog
 * location for remote lakes.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileRecord } from '../../src/catalog/types.js';
import { startTardisServer, type TardisServer } from '../../src/dev/tardis-server.js';
import { UsageError } from '../../src/errors.js';
import { openLake } from '../../src/lake/lake.js';
import { defaultRemoteCatalogPath, openStorage } from '../../src/lake/open-storage.js';
import { CachedStorage } from '../../src/lake/remote-cache.js';
import { S3Storage } from '../../src/lake/s3-storage.js';
import { putVendorFile, tempDir } from '../helpers/fixtures.js';
import { type LakeEnv, TEST_API_KEY } from '../helpers/lake.js';
import { lakeEnvOn } from './lake-env.js';
import { BUCKET, backends, S3_CREDENTIALS } from './servers.js';

const H = 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount';
const D1 = Date.UTC(2024, 7, 1) * 1000;
const KEY = 'BINANCE:SPOT_PAIR:BTC-USDT';

// Generated rows (labelled generated): two symbols, two days, a few late rows out of order.
function csv(day: number, symbol: string, n: number): string {
  const lines = [H];
  for (let i = 0; i < n; i++) {
    const ts = day + (i % 97 === 5 ? i - 3 : i) * 7_000_000;
    lines.push(
      `binance,${symbol},${ts},${ts + 1500},${i},${i % 3 ? 'buy' : 'sell'},${60000 + (i % 11)},0.${i % 9}1`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const prepare = async (dir: string) => {
  for (const [d, day] of [
    ['2024-08-01', D1],
    ['2024-08-02', D1 + 86_400_000_000],
  ] as const) {
    await putVendorFile(dir, 'binance', 'trades', d, 'BTCUSDT', csv(day, 'BTCUSDT', 12_000));
    await putVendorFile(dir, 'binance', 'trades', d, 'ETHUSDT', csv(day, 'ETHUSDT', 5_000));
  }
};

const request = {
  exchange: 'binance',
  dataTypes: ['trades'],
  symbols: ['BTCUSDT', 'ETHUSDT'],
  from: '2024-08-01',
  to: '2024-08-02',
};

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const comparable = (files: FileRecord[]) =>
  files.map(({ createdAt: _c, ...rest }) => rest).sort((a, b) => (a.path < b.path ? -1 : 1));

describe('ingest into s3:// and gs:// lakes equals the local lake', () => {
  const envs: Partial<Record<'local' | 's3' | 'gcs', LakeEnv>> = {};
  let tardis: { server: TardisServer; vendorDir: string; cleanup(): Promise<void> };
  beforeAll(async () => {
    // One vendor server for all three lakes: its URL goes into every footer (sourceUrl).
    const tmp = await tempDir();
    const vendorDir = join(tmp.path, 'vendor');
    await prepare(vendorDir);
    const server = await startTardisServer({ dir: vendorDir, port: 0, apiKeys: [TEST_API_KEY] });
    tardis = { server, vendorDir, cleanup: tmp.cleanup };
    for (const b of ['local', 's3', 'gcs'] as const) {
      envs[b] = await lakeEnvOn(b, prepare, { tardis, config: { ingest: { rowGroupRows: 4000 } } });
      const s = await envs[b]!.lake.ingest(request);
      expect(s.failed).toBe(0);
    }
  }, 120_000);
  afterAll(async () => {
    for (const e of Object.values(envs)) await e?.close();
    await tardis?.server.close();
    await tardis?.cleanup();
  });

  it('same files, byte for byte, and the same catalog records', async () => {
    const local = envs.local!;
    const localFiles = await local.lake.files();
    expect(localFiles.length).toBe(4);
    for (const b of ['s3', 'gcs'] as const) {
      const env = envs[b]!;
      const files = await env.lake.files();
      expect(comparable(files)).toEqual(comparable(localFiles));
      for (const f of localFiles) {
        const localBytes = await readFile(join(local.lakeDir, ...f.path.split('/')));
        const remoteBytes = await env.lake.storage.readAll(f.path);
        expect(sha(remoteBytes)).toBe(sha(localBytes));
        expect(sha(remoteBytes)).toBe(f.checksum);
      }
      // Exactly the recorded files are in the bucket (no staging leftovers, nothing unrecorded).
      const listed: string[] = [];
      for await (const o of env.lake.storage.list('')) listed.push(o.path);
      expect(listed.sort()).toEqual(localFiles.map((f) => f.path).sort());
      expect(env.lake.storage.location).toMatch(
        b === 's3' ? /^s3:\/\/lake-bucket\// : /^gs:\/\/lake-bucket\//,
      );
    }
  });

  it('lake.read returns the same table from every backend (second read served by the local cache)', async () => {
    const q = { dataset: 'trades', key: KEY, from: '2024-08-01', to: '2024-08-03' };
    const want = await envs.local!.lake.read(q);
    expect(want.numRows).toBe(24_000);
    for (const b of ['s3', 'gcs'] as const) {
      const lake = envs[b]!.lake;
      const got = await lake.read(q);
      expect(got.numRows).toBe(want.numRows);
      for (const f of want.schema.fields) {
        const col = (t: typeof want) =>
          Array.from(t.getChild(f.name)!.toArray() as ArrayLike<unknown>, String).join();
        expect(col(got)).toBe(col(want));
      }
      // Ingest moved every published file into the cache (write-through): nothing to download.
      expect((lake.storage as CachedStorage).cache.stats.downloads).toBe(0);
      // A new Lake (as another process would) reads the files from the on-disk cache.
      const again = await envs[b]!.reopen();
      const cache = (again.storage as CachedStorage).cache;
      expect((await again.read(q)).numRows).toBe(want.numRows);
      expect(cache.stats.downloads).toBe(0);
      expect(cache.stats.hits).toBeGreaterThanOrEqual(2);
    }
  });

  it('the catalog of a remote lake rebuilds from the footers in the bucket', async () => {
    for (const b of ['s3', 'gcs'] as const) {
      const env = envs[b]!;
      const before = comparable(await env.lake.files());
      const summary = await env.lake.rebuildCatalog();
      expect(summary.skipped).toEqual([]);
      expect(comparable(await env.lake.files())).toEqual(before);
    }
  });

  it('re-ingest is idempotent on a remote lake (tasks done, files present)', async () => {
    const s = await envs.s3!.lake.ingest(request);
    expect(s.failed).toBe(0);
    expect(comparable(await envs.s3!.lake.files())).toEqual(comparable(await envs.local!.lake.files()));
  });
});

describe('openLake / openStorage with s3:// and gs:// URLs', () => {
  let servers: Awaited<ReturnType<typeof backends>>;
  const saved = { ...process.env };
  beforeAll(async () => {
    servers = await backends();
  });
  afterAll(async () => {
    process.env = saved;
    await servers?.close();
  });

  it('opens from config + environment alone; default catalog per lake under XDG_DATA_HOME', async () => {
    process.env.AWS_ACCESS_KEY_ID = S3_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = S3_CREDENTIALS.secretAccessKey;
    process.env.AWS_ENDPOINT_URL_S3 = servers.s3.endpoint;
    process.env.XDG_DATA_HOME = join(servers.tmp, 'xdg');
    const url = `s3://${BUCKET}/opened/by-url`;
    const lake = await openLake({
      root: url,
      config: { remote: { stagingDir: join(servers.tmp, 'st'), cacheDir: join(servers.tmp, 'cache') } },
    });
    try {
      expect(lake.storage).toBeInstanceOf(CachedStorage);
      expect((lake.storage as CachedStorage).inner).toBeInstanceOf(S3Storage);
      expect(lake.storage.location).toBe(url);
      expect(lake.config.lake).toBe(url);
      expect(lake.config.catalog).toBe(defaultRemoteCatalogPath(url));
      expect(lake.config.catalog!.startsWith(join(servers.tmp, 'xdg', 'ticklake', 'catalogs'))).toBe(true);
      await lake.storage.ensureWritable();
    } finally {
      await lake.close();
    }
    const gs = await openLake({
      root: `gs://${BUCKET}/g`,
      catalog: join(servers.tmp, 'g.sqlite'),
      config: { gcs: { endpoint: servers.gcs.url }, remote: { stagingDir: join(servers.tmp, 'st') } },
    });
    try {
      await gs.storage.ensureWritable();
      expect(gs.storage.location).toBe(`gs://${BUCKET}/g`);
    } finally {
      await gs.close();
    }
  });

  it('distinct lakes get distinct default catalogs; bad URLs are usage errors', async () => {
    expect(defaultRemoteCatalogPath('s3://a-bucket/x')).not.toBe(defaultRemoteCatalogPath('s3://a-bucket/y'));
    expect(defaultRemoteCatalogPath('s3://a-bucket/x')).not.toBe(defaultRemoteCatalogPath('gs://a-bucket/x'));
    await expect(openStorage('ftp://host/lake')).rejects.toBeInstanceOf(UsageError);
    await expect(openStorage('s3://')).rejects.toThrow(/not a s3:\/\/ URL/);
    await expect(openLake({ root: 'azure://x/y', catalog: join(servers.tmp, 'z.sqlite') })).rejects.toThrow(
      /unsupported storage scheme "azure:\/\/"/,
    );
  });
});
