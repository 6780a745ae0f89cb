/**
 * The on-disk read cache for remote lakes: a second read makes no request (counted at a proxy in
 * front of the real server), `localPathFor` gives the whole object as a local file, the folder stays
 * under its byte limit by evicting the least recently used file, a republished or remotely replaced
 * object is never served stale, and objects bigger than the cache are read by ranges instead.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/errors.js';
import { type CachedStorage, RemoteReadCache, type RemoteStorage } from '../../src/lake/remote-cache.js';
import type { Storage } from '../../src/lake/storage.js';
import { type Backends, backends, type FaultProxy } from './servers.js';

const digest = (b: Uint8Array) => `${b.length}:${createHash('sha256').update(b).digest('hex')}`;

let servers: Backends;
beforeAll(async () => {
  servers = await backends();
});
afterAll(async () => {
  await servers?.close();
});

async function put(s: Storage, path: string, data: Uint8Array): Promise<void> {
  const p = await s.begin(path);
  await p.sink.write(data);
  await p.seal();
  await p.publish();
}

async function readWhole(s: Storage, path: string): Promise<Buffer> {
  const src = await s.openRead(path);
  try {
    return Buffer.from(await src.read(0, src.size));
  } finally {
    await src.close();
  }
}

let n = 0;
describe.each(['s3', 'gcs'] as const)('remote read cache: %s', (name) => {
  let proxy: FaultProxy;
  let cacheDir: string;
  let prefix: string;
  let s: CachedStorage;
  const data = { a: randomBytes(100_000), b: randomBytes(100_000), c: randomBytes(100_000) };
  const big = randomBytes(300_000);

  beforeAll(async () => {
    proxy = name === 's3' ? await servers.s3Proxy() : await servers.gcsProxy();
    prefix = `cache-${++n}`;
    cacheDir = join(servers.tmp, `cache-${n}`);
    s = servers.storage(name, prefix, {
      proxy,
      cache: { dir: cacheDir, maxBytes: 250_000 },
    }) as CachedStorage;
    // Written by another storage (no write-through into this cache).
    const writer = servers.storage(name, prefix);
    for (const [k, v] of Object.entries(data)) await put(writer, `d/${k}.parquet`, v);
    await put(writer, 'd/big.parquet', big);
  });

  it('the second read of a file makes no request; localPathFor gives the whole file', async () => {
    const before = proxy.requests.length;
    expect(digest(await readWhole(s, 'd/a.parquet'))).toBe(digest(data.a));
    expect(proxy.requests.length).toBeGreaterThan(before);
    expect(s.cache.stats.downloads).toBe(1);
    const after = proxy.requests.length;
    expect(digest(await readWhole(s, 'd/a.parquet'))).toBe(digest(data.a));
    const local = await s.localPathFor('d/a.parquet');
    expect(local.startsWith(cacheDir)).toBe(true);
    expect(digest(await readFile(local))).toBe(digest(data.a));
    expect(proxy.requests.length).toBe(after);
    expect(s.cache.stats.hits).toBe(2);
    expect(s.cache.stats.downloads).toBe(1);
  });

  it('stays under its byte limit, evicting the least recently used file', async () => {
    await readWhole(s, 'd/b.parquet');
    await readWhole(s, 'd/c.parquet'); // a + b + c = 300 kB > 250 kB: a (least recent) goes
    expect(s.cache.stats.evictions).toBe(1);
    expect(await s.cache.size()).toBe(200_000);
    expect((await readdir(cacheDir)).length).toBe(2);
    const downloads = s.cache.stats.downloads;
    expect(digest(await readWhole(s, 'd/a.parquet'))).toBe(digest(data.a)); // back again: b goes
    expect(s.cache.stats.downloads).toBe(downloads + 1);
    expect(s.cache.stats.evictions).toBe(2);
    await readWhole(s, 'd/c.parquet');
    expect(s.cache.stats.downloads).toBe(downloads + 1); // c stayed
  });

  it('objects bigger than the cache are read by ranges, not cached', async () => {
    const src = await s.openRead('d/big.parquet');
    expect(src.size).toBe(big.length);
    expect(digest(await src.read(big.length - 8, 8))).toBe(digest(big.subarray(big.length - 8)));
    expect(digest(await src.read(1000, 5000))).toBe(digest(big.subarray(1000, 6000)));
    expect(s.cache.stats.bypassed).toBe(1);
    expect(await s.cache.size()).toBeLessThanOrEqual(250_000);
  });

  it('a republished file is read fresh; a file replaced by another writer too (after the stat TTL)', async () => {
    const v2 = randomBytes(50_000);
    await put(s, 'd/c.parquet', v2);
    expect(digest(await readWhole(s, 'd/c.parquet'))).toBe(digest(v2));

    // Another process replaces a file: a cache with statTtlMs 0 revalidates (one HEAD) and re-downloads.
    const other = servers.storage(name, prefix);
    const fresh = new RemoteReadCache(s.inner as RemoteStorage, {
      dir: cacheDir,
      maxBytes: 250_000,
      statTtlMs: 0,
    });
    expect(
      digest(await readWhole({ openRead: (p: string) => fresh.openRead(p) } as Storage, 'd/c.parquet')),
    ).toBe(digest(v2));
    expect(fresh.stats.hits).toBe(1); // shared folder: found on disk, not downloaded
    const v3 = randomBytes(40_000);
    await put(other, 'd/c.parquet', v3);
    const src = await fresh.openRead('d/c.parquet');
    expect(digest(await src.read(0, src.size))).toBe(digest(v3));
    await src.close();
    expect(fresh.stats.downloads).toBe(1);
  });

  it('what this storage publishes is moved into the cache: reading it back makes no request', async () => {
    const v = randomBytes(30_000);
    const downloads = s.cache.stats.downloads;
    await put(s, 'd/written.parquet', v);
    const before = proxy.requests.length;
    expect(digest(await readWhole(s, 'd/written.parquet'))).toBe(digest(v));
    expect(digest(await readFile(await s.localPathFor('d/written.parquet')))).toBe(digest(v));
    expect(proxy.requests.length).toBe(before);
    expect(s.cache.stats.downloads).toBe(downloads);
    // A fresh cache over the same folder (another process) finds it after one HEAD.
    const fresh = new RemoteReadCache(s.inner as RemoteStorage, { dir: cacheDir, maxBytes: 250_000 });
    const src = await fresh.openRead('d/written.parquet');
    expect(digest(await src.read(0, src.size))).toBe(digest(v));
    await src.close();
    expect(fresh.stats).toMatchObject({ hits: 1, downloads: 0 });
    // The staging folder keeps nothing.
    const staged = await readdir(join(servers.tmp, 'staging')).catch(() => []);
    expect(staged.filter((f) => f.endsWith('-written.parquet'))).toEqual([]);
  });

  it('a missing object is NotFoundError; delete forgets it', async () => {
    await expect(s.localPathFor('d/nope.parquet')).rejects.toBeInstanceOf(NotFoundError);
    await readWhole(s, 'd/b.parquet');
    await s.delete('d/b.parquet');
    await expect(s.openRead('d/b.parquet')).rejects.toBeInstanceOf(NotFoundError);
  });
});
