/**
 * What the object-store backends (S3, GCS) share: a local staging file per object being written
 * (`<stagingDir>/<pid>-<random>-<name>`, fsynced on seal, read back for verification, uploaded on
 * publish, removed afterwards), cleanup of staging files left by dead processes, lake URL parsing,
 * and a small retry-with-backoff helper for what the SDKs do not retry themselves.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storageErrorFromFs, UsageError } from '../errors.js';
import { FileSource } from './local-storage.js';
import type { ByteSink, ObjectInfo, PendingObject } from './storage.js';

/** ObjectInfo plus the store's version tag (S3 ETag, GCS generation), used by the read cache. */
export interface RemoteObjectInfo extends ObjectInfo {
  readonly etag: string;
}

/** Default local folder for staged uploads of remote lakes. */
export function defaultRemoteStagingDir(): string {
  return join(tmpdir(), 'ticklake-staging');
}

/** `s3://bucket/some/prefix/` → { bucket, prefix: 'some/prefix' } (no leading/trailing slash). */
export function parseBucketUrl(url: string, scheme: 's3' | 'gs'): { bucket: string; prefix: string } {
  const m = new RegExp(`^${scheme}://([^/]+)(/.*)?$`).exec(url);
  const bucket = m?.[1];
  if (!m || !bucket) {
    throw new UsageError(`lake ${url}: not a ${scheme}:// URL with a bucket`, {
      hint: `write it as ${scheme}://bucket or ${scheme}://bucket/prefix`,
    });
  }
  if (!/^[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]$/.test(bucket)) {
    throw new UsageError(`lake ${url}: "${bucket}" is not a valid bucket name`, {
      hint: 'bucket names are 3-63 lowercase letters, digits, dots and hyphens',
    });
  }
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '').replace(/\/{2,}/g, '/');
  return { bucket, prefix };
}

/** Join a lake-relative path onto a key prefix. */
export function joinKey(prefix: string, path: string): string {
  const p = path.replace(/^\/+/, '');
  return prefix === '' ? p : `${prefix}/${p}`;
}

class LocalFileSink implements ByteSink {
  position = 0;
  constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
  ) {}
  async write(chunk: Uint8Array): Promise<void> {
    let off = 0;
    try {
      while (off < chunk.length) {
        const { bytesWritten } = await this.fh.write(chunk, off, chunk.length - off, this.position + off);
        off += bytesWritten;
      }
    } catch (err) {
      throw storageErrorFromFs(this.path, err);
    }
    this.position += chunk.length;
  }
}

/** Digests of a whole local file, computed in one pass (used to check what the store received). */
export async function fileDigests(path: string): Promise<{ md5: Buffer; sha256: Buffer; size: number }> {
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    md5.update(chunk as Buffer);
    sha.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { md5: md5.digest(), sha256: sha.digest(), size };
}

/**
 * A pending object of a remote store. After `publish()`, `published` holds the stored version (its
 * etag/generation). With `keepStagedFile` set before publishing, the staged file is left in place
 * for the caller to take (the read cache adopts it); otherwise publish removes it.
 */
export interface RemotePendingObject extends PendingObject {
  readonly stagedPath: string;
  published: RemoteObjectInfo | null;
  keepStagedFile: boolean;
}

/**
 * A PendingObject whose bytes live in a local staging file until `publish()` hands that file to
 * `upload` (which must make the object visible at its final key in one step, or throw, and returns
 * the version it stored).
 */
export async function beginLocalStaged(
  stagingDir: string,
  finalPath: string,
  upload: (localPath: string, size: number) => Promise<string>,
): Promise<RemotePendingObject> {
  try {
    await mkdir(stagingDir, { recursive: true });
  } catch (err) {
    throw storageErrorFromFs(stagingDir, err);
  }
  const name = finalPath.split('/').pop() ?? 'object';
  const stagedPath = join(stagingDir, `${process.pid}-${randomBytes(6).toString('hex')}-${name}`);
  let fh: FileHandle;
  try {
    fh = await open(stagedPath, 'wx');
  } catch (err) {
    throw storageErrorFromFs(stagedPath, err);
  }
  const sink = new LocalFileSink(fh, stagedPath);
  let closed = false;
  let done = false;
  const close = async () => {
    if (!closed) {
      closed = true;
      await fh.close();
    }
  };
  const pending: RemotePendingObject = {
    finalPath,
    stagedPath,
    published: null,
    keepStagedFile: false,
    sink,
    seal: async () => {
      if (closed) return;
      try {
        await fh.sync();
      } catch (err) {
        await close().catch(() => {});
        throw storageErrorFromFs(stagedPath, err);
      }
      await close();
    },
    openStaged: () => FileSource.open(stagedPath),
    publish: async () => {
      if (done) return;
      await close();
      const etag = await upload(stagedPath, sink.position);
      done = true;
      pending.published = { path: finalPath, size: sink.position, mtimeMs: Date.now(), etag };
      if (!pending.keepStagedFile) await rm(stagedPath, { force: true }).catch(() => {});
    },
    abort: async () => {
      if (done) return;
      done = true;
      await close().catch(() => {});
      await rm(stagedPath, { force: true }).catch(() => {});
    },
  };
  return pending;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove local staging files whose writer process is gone. Returns how many were removed. */
export async function cleanupLocalStaging(stagingDir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(stagingDir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const pid = Number(name.split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) continue;
    const st = await stat(join(stagingDir, name)).catch(() => null);
    if (!st?.isFile()) continue;
    await rm(join(stagingDir, name), { force: true }).catch(() => {});
    removed++;
  }
  return removed;
}

export interface RetryOptions {
  /** Total attempts (1 = no retry). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  retryable(err: unknown): boolean;
}

/** Run `fn`, retrying retryable failures with exponential backoff and full jitter. */
export async function withRetries<T>(o: RetryOptions, fn: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= o.attempts || !o.retryable(err)) throw err;
      const cap = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1));
      await new Promise((r) => setTimeout(r, Math.random() * cap));
    }
  }
}
