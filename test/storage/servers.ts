/**
 * Real object-store servers for the storage tests: s3rver (S3 protocol) in a child process, the GCS
 * JSON-API stand-in (test/helpers/gcs-server.ts), and a fault-injecting HTTP proxy that sits in front
 * of either (answers the next n requests with 5xx, or everything with 403). Plus `backends()`, which
 * builds a Storage for each of local / S3 / GCS so one suite can run over all three.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { GcsStorage, type GcsStorageOptions } from '../../src/lake/gcs-storage.js';
import { LocalStorage } from '../../src/lake/local-storage.js';
import { CachedStorage, type RemoteCacheOptions } from '../../src/lake/remote-cache.js';
import { S3Storage, type S3StorageOptions } from '../../src/lake/s3-storage.js';
import type { Storage } from '../../src/lake/storage.js';
import { type GcsStandIn, startGcsStandIn } from '../helpers/gcs-server.js';

export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3Server {
  endpoint: string;
  /** s3rver's data folder: `<dir>/<bucket>/<key>._S3rver_object` holds each object's bytes. */
  dir: string;
  close(): Promise<void>;
}

/** s3rver in a child process (with the OpenSSL legacy provider it needs for paged listings). */
export async function startS3rver(buckets: string[]): Promise<S3Server> {
  const dir = await mkdtemp(join(tmpdir(), 'ticklake-s3rver-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [join(import.meta.dirname, 's3rver-child.mjs'), dir, ...buckets],
    {
      cwd: join(import.meta.dirname, '..', '..'),
      env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`s3rver exited early (${code})`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    dir,
    async close() {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin?.end();
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface FaultProxy {
  url: string;
  /** `METHOD path?query` of every request seen. */
  requests: string[];
  /** Answer the next `n` requests (matching `match`, if given) with `status`. */
  failNext(n: number, status: number, match?: (method: string, url: string) => boolean): void;
  /** Answer every request with 403. */
  deny: boolean;
  /** Answer requests this function returns a response for (a canned server reply). */
  intercept: ((method: string, url: string) => { status: number; body: string } | undefined) | undefined;
  close(): Promise<void>;
}

function s3ErrorXml(status: number): string {
  const code = status === 403 ? 'AccessDenied' : status === 503 ? 'SlowDown' : 'InternalError';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected ${status}</Message></Error>`;
}

/** An HTTP proxy to `target` that can inject failures (S3-style XML or GCS-style JSON errors). */
export async function startFaultProxy(target: string, style: 's3' | 'gcs'): Promise<FaultProxy> {
  const t = new URL(target);
  let fail = 0;
  let failStatus = 503;
  let failMatch: ((method: string, url: string) => boolean) | undefined;
  const state = { deny: false };
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    requests.push(`${method} ${url}`);
    const reject = (status: number) => {
      req.resume();
      req.on('end', () => {
        const body =
          style === 's3'
            ? s3ErrorXml(status)
            : JSON.stringify({ error: { code: status, message: `injected ${status}` } });
        res.writeHead(status, { 'content-type': style === 's3' ? 'application/xml' : 'application/json' });
        res.end(body);
      });
    };
    if (state.deny) return reject(403);
    const canned = proxy.intercept?.(method, url);
    if (canned) {
      req.resume();
      req.on('end', () => {
        res.writeHead(canned.status, {
          'content-type': style === 's3' ? 'application/xml' : 'application/json',
        });
        res.end(canned.body);
      });
      return;
    }
    if (fail > 0 && (!failMatch || failMatch(method, url))) {
      fail--;
      return reject(failStatus);
    }
    const up = httpRequest(
      { host: t.hostname, port: t.port, method, path: url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const proxy: FaultProxy = {
    url: `http://127.0.0.1:${port}`,
    requests,
    intercept: undefined,
    failNext(n, status, match) {
      fail = n;
      failStatus = status;
      failMatch = match;
    },
    get deny() {
      return state.deny;
    },
    set deny(v: boolean) {
      state.deny = v;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return proxy;
}

export type BackendName = 'local' | 's3' | 'gcs';
export const BACKENDS: BackendName[] = ['local', 's3', 'gcs'];

export interface BackendOptions {
  /** Route requests through a fault proxy (remote backends). */
  proxy?: FaultProxy;
  s3?: S3StorageOptions;
  gcs?: GcsStorageOptions;
  /** Wrap remote storages in the read cache (as openStorage does). */
  cache?: RemoteCacheOptions;
}

/** Servers for every backend, started once; `storage(name, prefix)` makes a fresh lake root. */
export interface Backends {
  s3: S3Server;
  gcs: GcsStandIn;
  tmp: string;
  s3Proxy(): Promise<FaultProxy>;
  gcsProxy(): Promise<FaultProxy>;
  url(name: BackendName, prefix: string): string;
  storage(name: BackendName, prefix: string, o?: BackendOptions): Storage;
  close(): Promise<void>;
}

export const BUCKET = 'lake-bucket';

export async function backends(): Promise<Backends> {
  const [s3, gcs, tmp] = await Promise.all([
    startS3rver([BUCKET]),
    startGcsStandIn({ buckets: [BUCKET] }),
    mkdtemp(join(tmpdir(), 'ticklake-storage-')),
  ]);
  const proxies: FaultProxy[] = [];
  const b: Backends = {
    s3,
    gcs,
    tmp,
    async s3Proxy() {
      const p = await startFaultProxy(s3.endpoint, 's3');
      proxies.push(p);
      return p;
    },
    async gcsProxy() {
      const p = await startFaultProxy(gcs.url, 'gcs');
      proxies.push(p);
      return p;
    },
    url(name, prefix) {
      if (name === 'local') return join(tmp, 'local', prefix);
      return `${name === 's3' ? 's3' : 'gs'}://${BUCKET}/${prefix}`;
    },
    storage(name, prefix, o = {}) {
      const stagingDir = join(tmp, 'staging');
      if (name === 'local') return new LocalStorage(join(tmp, 'local', prefix));
      if (name === 's3') {
        const inner = new S3Storage(b.url('s3', prefix), {
          endpoint: o.proxy?.url ?? s3.endpoint,
          credentials: S3_CREDENTIALS,
          stagingDir,
          maxAttempts: 4,
          env: {},
          ...o.s3,
        });
        return o.cache ? new CachedStorage(inner, o.cache) : inner;
      }
      const inner = new GcsStorage(b.url('gcs', prefix), {
        endpoint: o.proxy?.url ?? gcs.url,
        projectId: 'test-project',
        stagingDir,
        maxAttempts: 4,
        retryBaseDelayMs: 5,
        retryMaxDelayMs: 50,
        env: {},
        ...o.gcs,
      });
      return o.cache ? new CachedStorage(inner, o.cache) : inner;
    },
    async close() {
      for (const p of proxies) await p.close();
      await Promise.all([s3.close(), gcs.close()]);
      await rm(tmp, { recursive: true, force: true });
    },
  };
  return b;
}
