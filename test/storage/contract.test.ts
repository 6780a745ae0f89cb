/**
 * The Storage contract, run over every backend: local filesystem, S3 (a real s3rver in a child
 * process) and GCS (the JSON-API stand-in). Staging is invisible until publish, abort leaves no
 * trace, ranged reads return exact bytes, listings are recursive and page past 1000 keys, and
 * failures (missing bucket, 403, 5xx) become typed errors or are retried.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NotFoundError,
  ObjectStoreAccessError,
  ObjectStoreError,
  StorageAccessError,
  TicklakeError,
} from '../../src/errors.js';
import { GcsStorage } from '../../src/lake/gcs-storage.js';
import { S3Storage } from '../../src/lake/s3-storage.js';
import type { Storage } from '../../src/lake/storage.js';
import { BACKENDS, type BackendName, type Backends, BUCKET, backends, S3_CREDENTIALS } from './servers.js';

/** Compare bytes by digest + length (deep-equal on megabyte buffers is very slow). */
const digest = (b: Uint8Array) => `${b.length}:${createHash('sha256').update(b).digest('hex')}`;

let servers: Backends;
beforeAll(async () => {
  servers = await backends();
});
afterAll(async () => {
  await servers?.close();
});

let n = 0;
const fresh = (name: BackendName, o?: Parameters<Backends['storage']>[2]) =>
  servers.storage(name, `c${++n}`, o);

async function writeObject(s: Storage, path: string, data: Uint8Array, chunk = 65_536): Promise<void> {
  const p = await s.begin(path);
  for (let off = 0; off < data.length; off += chunk) await p.sink.write(data.subarray(off, off + chunk));
  await p.seal();
  await p.publish();
}

async function listAll(s: Storage, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const o of s.list(prefix)) out.push(o.path);
  return out.sort();
}

describe.each(BACKENDS)('Storage contract: %s', (name) => {
  it('begin → seal → openStaged → publish: nothing visible before publish, exact bytes after', async () => {
    const s = fresh(name);
    await s.ensureWritable();
    const data = randomBytes(300_001);
    const path = 'trades/exchange=binance/day=2024-08-01/x.parquet';
    const p = await s.begin(path);
    for (let off = 0; off < data.length; off += 70_000) await p.sink.write(data.subarray(off, off + 70_000));
    expect(p.sink.position).toBe(data.length);
    expect(await s.stat(path)).toBeNull();
    await p.seal();
    const staged = await p.openStaged();
    expect(staged.size).toBe(data.length);
    expect(digest(await staged.read(0, data.length))).toBe(digest(data));
    await staged.close();
    expect(await s.stat(path)).toBeNull();
    expect(await listAll(s)).toEqual([]);
    await p.publish();
    const info = await s.stat(path);
    expect(info?.size).toBe(data.length);
    expect(info?.path).toBe(path);
    expect(digest(await s.readAll(path))).toBe(digest(data));
    expect(await listAll(s)).toEqual([path]);

    const src = await s.openRead(path);
    expect(src.size).toBe(data.length);
    // Ranged reads: the start, the middle, the last 8 bytes (a Parquet footer read), past the end.
    for (const [off, len] of [
      [0, 4],
      [123_456, 10_000],
      [data.length - 8, 8],
      [data.length - 3, 100],
      [data.length, 10],
    ] as const) {
      const got = Buffer.from(await src.read(off, len));
      expect(digest(got)).toBe(digest(data.subarray(off, Math.min(data.length, off + len))));
    }
    await src.close();
  });

  it('abort leaves no trace; a second publish replaces the object', async () => {
    const s = fresh(name);
    const p = await s.begin('a/b.parquet');
    await p.sink.write(randomBytes(1000));
    await p.seal();
    await p.abort();
    expect(await s.stat('a/b.parquet')).toBeNull();
    expect(await listAll(s)).toEqual([]);
    const stagingDir =
      name === 'local' ? join(servers.url('local', `c${n}`), '_staging') : join(servers.tmp, 'staging');
    const left = await readdir(stagingDir).catch(() => []);
    expect(left.filter((f) => f.endsWith('-b.parquet'))).toEqual([]);

    await writeObject(s, 'a/b.parquet', Buffer.from('first version'));
    await writeObject(s, 'a/b.parquet', Buffer.from('second'));
    expect(Buffer.from(await s.readAll('a/b.parquet')).toString()).toBe('second');
    expect((await s.stat('a/b.parquet'))?.size).toBe(6);
  });

  it('list is recursive under a prefix (deep keys, no delimiter), respects the prefix boundary, pages', async () => {
    const s = fresh(name, { s3: { listPageSize: 7 }, gcs: { listPageSize: 7 } });
    const paths = [
      'trades/exchange=binance/type=spot/day=2024-08-01/a.parquet',
      'trades/exchange=binance/type=spot/day=2024-08-02/a.parquet',
      'trades/exchange=deribit/type=option/strike=1/expiry=2/day=2024-08-01/b.parquet',
      'trades2/x.parquet',
      'book/y.parquet',
    ];
    for (let i = 0; i < 20; i++)
      paths.push(`trades/exchange=okex/day=2024-09-${String(i + 1).padStart(2, '0')}/c.parquet`);
    for (const p of paths) await writeObject(s, p, Buffer.from(p));
    expect(await listAll(s)).toEqual([...paths].sort());
    expect(await listAll(s, 'trades')).toEqual(paths.filter((p) => p.startsWith('trades/')).sort());
    expect(await listAll(s, 'trades/')).toEqual(paths.filter((p) => p.startsWith('trades/')).sort());
    expect(await listAll(s, 'trades/exchange=deribit')).toEqual([paths[2]]);
    expect(await listAll(s, 'nothing')).toEqual([]);
    for await (const o of s.list('book')) expect(o.size).toBe('book/y.parquet'.length);
  });

  it('stat / delete / missing objects', async () => {
    const s = fresh(name);
    expect(await s.stat('no/such.parquet')).toBeNull();
    await s.delete('no/such.parquet');
    await writeObject(s, 'x/y.bin', Buffer.from('hello'));
    expect((await s.stat('x/y.bin'))?.size).toBe(5);
    await s.delete('x/y.bin');
    expect(await s.stat('x/y.bin')).toBeNull();
    const err = await s.openRead('x/y.bin').catch((e) => e);
    expect(err).toBeInstanceOf(TicklakeError);
    expect(String(err.message)).toContain('x/y.bin');
  });

  it('cleanupStaging removes staging files of dead processes only', async () => {
    const s = fresh(name);
    const stagingDir =
      name === 'local' ? join(servers.url('local', `c${n}`), '_staging') : join(servers.tmp, 'staging');
    await s.ensureWritable();
    await mkdir(stagingDir, { recursive: true });
    // pid 2^22+1 exceeds Linux's pid_max default: certainly not alive.
    await writeFile(join(stagingDir, '4194305-deadbeef-x.parquet'), 'garbage');
    const live = await s.begin('live.parquet');
    expect(await s.cleanupStaging()).toBeGreaterThanOrEqual(1);
    const left = await readdir(stagingDir);
    expect(left).not.toContain('4194305-deadbeef-x.parquet');
    expect(left.some((f) => f.endsWith('-live.parquet'))).toBe(true);
    await live.abort();
  });
});

describe.each(['s3', 'gcs'] as const)('remote storage failures: %s', (name) => {
  it('a missing bucket is a typed access error naming the bucket', async () => {
    const s =
      name === 's3'
        ? new S3Storage('s3://no-such-bucket/lake', {
            endpoint: servers.s3.endpoint,
            credentials: S3_CREDENTIALS,
            stagingDir: join(servers.tmp, 'staging'),
            env: {},
          })
        : new GcsStorage('gs://no-such-bucket/lake', {
            endpoint: servers.gcs.url,
            stagingDir: join(servers.tmp, 'staging'),
            env: {},
          });
    const err = await s.ensureWritable().catch((e) => e);
    expect(err).toBeInstanceOf(ObjectStoreAccessError);
    expect(err).toBeInstanceOf(StorageAccessError);
    expect(err.code).toBe('STORAGE_ACCESS');
    expect(err.message).toContain('no-such-bucket');
    expect(err.message).toMatch(/bucket does not exist/);
    expect(err.hint).toContain('no-such-bucket');
  });

  it('403 from the server is a typed access error that names the bucket and no credentials', async () => {
    const proxy = name === 's3' ? await servers.s3Proxy() : await servers.gcsProxy();
    const s = fresh(name, { proxy });
    proxy.deny = true;
    const err = await s.ensureWritable().catch((e) => e);
    expect(err).toBeInstanceOf(ObjectStoreAccessError);
    expect(err.message).toContain(BUCKET);
    expect(err.message).toMatch(/access denied.*403/);
    expect(`${err.message} ${err.hint}`).not.toContain(S3_CREDENTIALS.secretAccessKey);
    const readErr = await s.openRead('a.parquet').catch((e) => e);
    expect(readErr).toBeInstanceOf(ObjectStoreAccessError);
  });

  it('5xx answers are retried; persistent 5xx is a typed error and nothing is published', async () => {
    const proxy = name === 's3' ? await servers.s3Proxy() : await servers.gcsProxy();
    const s = fresh(name, { proxy });
    const data = randomBytes(20_000);
    proxy.failNext(2, 500);
    const before = proxy.requests.length;
    await writeObject(s, 'retry/ok.parquet', data);
    expect(proxy.requests.length - before).toBeGreaterThanOrEqual(3); // 2 failures + the success
    expect(digest(await s.readAll('retry/ok.parquet'))).toBe(digest(data));

    proxy.failNext(2, 503, (m) => m === 'GET');
    const src = await s.openRead('retry/ok.parquet').catch(async () => s.openRead('retry/ok.parquet'));
    expect(digest(await src.read(100, 50))).toBe(digest(data.subarray(100, 150)));

    proxy.failNext(1000, 500);
    const p = await s.begin('retry/bad.parquet');
    await p.sink.write(data);
    await p.seal();
    const err = await p.publish().catch((e) => e);
    expect(err).toBeInstanceOf(ObjectStoreError);
    expect(err.code).toBe('STORAGE');
    expect(err.message).toContain('retry/bad.parquet');
    expect(err.message).toContain('500');
    await p.abort();
    proxy.failNext(0, 500);
    expect(await s.stat('retry/bad.parquet')).toBeNull();
  });
});

describe('S3 specifics', () => {
  it('large files go up in parts (ETag of the parts checked) and read back exactly', async () => {
    const s = fresh('s3', { s3: { partSize: 5 << 20, multipartThreshold: 5 << 20 } });
    const proxy = await servers.s3Proxy();
    const sp = fresh('s3', { proxy, s3: { partSize: 5 << 20, multipartThreshold: 5 << 20 } });
    const data = randomBytes(11 * 1024 * 1024 + 17);
    await writeObject(s, 'big/a.parquet', data, 1 << 20);
    expect((await s.stat('big/a.parquet'))?.size).toBe(data.length);
    expect(digest(await s.readAll('big/a.parquet'))).toBe(digest(data));

    await writeObject(sp, 'big/b.parquet', data, 1 << 20);
    const parts = proxy.requests.filter((r) => r.startsWith('PUT') && /partNumber=/.test(r));
    expect(parts.length).toBe(3);
    expect(proxy.requests.some((r) => r.startsWith('POST') && r.includes('uploadId='))).toBe(true);
  });

  it('a failing multipart upload is aborted and leaves nothing visible', async () => {
    const proxy = await servers.s3Proxy();
    const s = fresh('s3', { proxy, s3: { partSize: 5 << 20, multipartThreshold: 5 << 20, maxAttempts: 2 } });
    const data = randomBytes(11 * 1024 * 1024);
    proxy.failNext(100, 500, (m, u) => m === 'PUT' && u.includes('partNumber=2'));
    const p = await s.begin('big/fail.parquet');
    await p.sink.write(data);
    await p.seal();
    const err = await p.publish().catch((e) => e);
    expect(err).toBeInstanceOf(ObjectStoreError);
    expect(err.message).toMatch(/part 2\/3/);
    proxy.failNext(0, 500);
    expect(proxy.requests.some((r) => r.startsWith('DELETE') && r.includes('uploadId='))).toBe(true);
    expect(await s.stat('big/fail.parquet')).toBeNull();
    await p.abort();
  });

  it('cleanupStaging aborts multipart uploads under the prefix older than staleUploadHours', async () => {
    // s3rver has no ListMultipartUploads (NotImplemented: cleanup skips it); a canned reply stands in.
    const proxy = await servers.s3Proxy();
    const s = fresh('s3', { proxy, s3: { staleUploadHours: 2 } }) as S3Storage;
    const old = new Date(Date.now() - 3 * 3600_000).toISOString();
    const recent = new Date().toISOString();
    proxy.intercept = (m, u) =>
      m === 'GET' && /[?&]uploads(=|&|$)/.test(u)
        ? {
            status: 200,
            body: `<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>${BUCKET}</Bucket><IsTruncated>false</IsTruncated><Upload><Key>${s.key('a/old.parquet')}</Key><UploadId>OLD1</UploadId><Initiated>${old}</Initiated></Upload><Upload><Key>${s.key('a/new.parquet')}</Key><UploadId>NEW1</UploadId><Initiated>${recent}</Initiated></Upload></ListMultipartUploadsResult>`,
          }
        : m === 'DELETE' && u.includes('uploadId=')
          ? { status: 204, body: '' }
          : undefined;
    expect(await s.cleanupStaging()).toBeGreaterThanOrEqual(1);
    const aborts = proxy.requests.filter((r) => r.startsWith('DELETE') && r.includes('uploadId='));
    expect(aborts.length).toBe(1);
    expect(aborts[0]).toContain('uploadId=OLD1');
    const list = proxy.requests.find((r) => r.includes('uploads'));
    expect(decodeURIComponent(list!)).toContain(`prefix=${s.prefix}/`);
    proxy.intercept = undefined;
    // Against s3rver itself (NotImplemented) cleanup still succeeds.
    expect(await fresh('s3').cleanupStaging()).toBeGreaterThanOrEqual(0);
  });

  it('lists past 1000 keys with continuation tokens (s3rver pages at 1000)', async () => {
    const s = fresh('s3') as S3Storage;
    const keys = Array.from({ length: 1003 }, (_, i) => `many/k${String(i).padStart(5, '0')}.bin`);
    // Two through the API, the rest straight into s3rver's store (1000 PUTs would take seconds).
    for (const k of keys.slice(0, 2)) {
      await s.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: s.key(k), Body: 'x' }));
    }
    const base = join(servers.s3.dir, BUCKET, s.key('many'));
    await mkdir(base, { recursive: true });
    for (const k of keys.slice(2))
      await writeFile(join(servers.s3.dir, BUCKET, `${s.key(k)}._S3rver_object`), 'x');
    expect(await listAll(s, 'many')).toEqual(keys);
  });

  it('endpoint and path style come from AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL / AWS_S3_FORCE_PATH_STYLE', async () => {
    const a = new S3Storage('s3://bk1/p', { env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:1' } });
    expect(a.endpoint).toBe('http://127.0.0.1:1');
    expect(await a.client.config.forcePathStyle).toBe(true);
    const b = new S3Storage('s3://bk1/p', {
      env: {
        AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
        AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:2',
        AWS_S3_FORCE_PATH_STYLE: 'false',
      },
    });
    expect(b.endpoint).toBe('http://127.0.0.1:2');
    expect(await b.client.config.forcePathStyle).toBe(false);
    const c = new S3Storage('s3://bk1', { env: {} });
    expect(c.endpoint).toBeUndefined();
    expect(c.location).toBe('s3://bk1');
    // Through the env only, against the real server.
    const d = new S3Storage(`s3://${BUCKET}/env-${n}`, {
      env: { AWS_ENDPOINT_URL_S3: servers.s3.endpoint },
      credentials: S3_CREDENTIALS,
      stagingDir: join(servers.tmp, 'staging'),
    });
    await d.ensureWritable();
    expect(() => new S3Storage('s3://', {})).toThrow(/not a s3:\/\/ URL/);
    expect(() => new S3Storage('s3://Bad_Bucket/x', {})).toThrow(/not a valid bucket name/);
  });

  it('missing objects in ranged reads and readAll are NotFoundError', async () => {
    const s = fresh('s3');
    await expect(s.openRead('nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.readAll('nope')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('GCS specifics', () => {
  it('large files use a resumable upload in chunks and read back exactly', async () => {
    const s = fresh('gcs', { gcs: { resumableThreshold: 512 * 1024, chunkSize: 256 * 1024 } });
    const data = randomBytes(1_100_000);
    const before = servers.gcs.requests.length;
    await writeObject(s, 'big/r.parquet', data);
    const reqs = servers.gcs.requests.slice(before);
    expect(reqs.some((r) => r.startsWith('POST') && r.includes('uploadType=resumable'))).toBe(true);
    expect(reqs.filter((r) => r.startsWith('PUT') && r.includes('upload_id=')).length).toBeGreaterThanOrEqual(
      5,
    );
    expect(digest(await s.readAll('big/r.parquet'))).toBe(digest(data));
    const src = await s.openRead('big/r.parquet');
    expect(digest(await src.read(data.length - 8, 8))).toBe(digest(data.subarray(data.length - 8)));
  });

  it('lists past 1000 objects with page tokens', async () => {
    const s = fresh('gcs') as GcsStorage;
    const keys = Array.from({ length: 1003 }, (_, i) => `many/k${String(i).padStart(5, '0')}.bin`);
    const objects = servers.gcs.buckets.get(BUCKET)!;
    for (const k of keys) {
      objects.set(s.key(k), {
        data: Buffer.from('x'),
        generation: 1,
        updated: new Date().toISOString(),
        contentType: 'application/octet-stream',
      });
    }
    const before = servers.gcs.requests.length;
    expect(await listAll(s, 'many')).toEqual(keys);
    expect(servers.gcs.requests.slice(before).filter((r) => r.includes('pageToken=')).length).toBe(1);
  });
});
