/**
 * Google Cloud Storage (`--lake gs://bucket/prefix`), through @google-cloud/storage.
 *
 * Same write protocol as S3: writes stage into a local file (fsynced, read back for verification),
 * `publish()` uploads it to the final object in one visible step — a simple (multipart/related)
 * upload below `resumableThreshold`, else a resumable upload in `chunkSize` pieces — sending the
 * MD5 so the server checks the bytes, and the returned size and md5Hash are compared with ours.
 * Reads are ranged (`createReadStream({start, end})`) on the generation seen by `stat`; listing pages
 * with pageToken over the whole prefix.
 *
 * Retries: the library's own auto-retry is off (it skips uploads without preconditions); every call
 * goes through our backoff for 408/429/5xx and connection errors instead (a whole-object upload of a
 * local file is safe to redo). Credentials: application default credentials. Endpoint: `endpoint`
 * option / `gcs.endpoint`, else STORAGE_EMULATOR_HOST (read by the library itself); a custom
 * endpoint is used without auth unless `useAuthWithCustomEndpoint`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Bucket, Storage as GcsClient, type StorageOptions } from '@google-cloud/storage';
import { NotFoundError, ObjectStoreAccessError, ObjectStoreError, TicklakeError } from '../errors.js';
import {
  beginLocalStaged,
  cleanupLocalStaging,
  defaultRemoteStagingDir,
  fileDigests,
  joinKey,
  parseBucketUrl,
  type RemoteObjectInfo,
  type RemotePendingObject,
  type RetryOptions,
  withRetries,
} from './remote-staging.js';
import type { RandomAccessSource, Storage } from './storage.js';

const MiB = 1 << 20;

export interface GcsStorageOptions {
  /** API endpoint, e.g. `http://127.0.0.1:4443` (default: STORAGE_EMULATOR_HOST, else Google). */
  endpoint?: string;
  /** Send credentials to a custom endpoint too (default false, as the library does). */
  useAuthWithCustomEndpoint?: boolean;
  projectId?: string;
  /** Local folder for staged uploads (default `<os tmp>/ticklake-staging`). */
  stagingDir?: string;
  /** Files at least this big use a resumable upload (default 16 MiB). */
  resumableThreshold?: number;
  /** Resumable upload chunk size, a multiple of 256 KiB (default 16 MiB). */
  chunkSize?: number;
  /** Attempts per call (default 5). */
  maxAttempts?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** maxResults per list page (default 1000). */
  listPageSize?: number;
  /** Extra options for the client (tests). */
  clientOptions?: StorageOptions;
  env?: NodeJS.ProcessEnv;
}

interface GcsApiError {
  code?: number | string;
  message?: string;
  errors?: { reason?: string }[];
}

function httpCode(err: unknown): number | undefined {
  const c = (err as GcsApiError | undefined)?.code;
  const n = typeof c === 'string' ? Number(c) : c;
  return typeof n === 'number' && Number.isInteger(n) && n >= 100 && n < 600 ? n : undefined;
}

/** 408/429/5xx and connection problems are retried. */
export function isRetryableGcs(err: unknown): boolean {
  if (err instanceof TicklakeError) return false;
  const code = httpCode(err);
  if (code !== undefined) return code === 408 || code === 429 || code >= 500;
  const c = String((err as GcsApiError | undefined)?.code ?? '').toLowerCase();
  return (
    ['econnreset', 'econnrefused', 'epipe', 'etimedout', 'eai_again'].includes(c) ||
    /socket hang up|econnreset|premature close|unexpected connection closure/i.test(
      (err as Error | undefined)?.message ?? '',
    )
  );
}

interface GcsObjectMeta {
  name?: string;
  size?: string | number;
  generation?: string | number;
  updated?: string;
  md5Hash?: string;
}

export class GcsStorage implements Storage {
  readonly isLocal = false;
  readonly location: string;
  readonly bucketName: string;
  readonly prefix: string;
  readonly client: GcsClient;
  readonly bucket: Bucket;
  readonly endpoint: string | undefined;
  readonly stagingDir: string;
  private readonly resumableThreshold: number;
  private readonly chunkSize: number;
  private readonly listPageSize: number;
  private readonly retry: RetryOptions;

  constructor(url: string, o: GcsStorageOptions = {}) {
    const env = o.env ?? process.env;
    const { bucket, prefix } = parseBucketUrl(url, 'gs');
    this.bucketName = bucket;
    this.prefix = prefix;
    this.location = `gs://${bucket}${prefix ? `/${prefix}` : ''}`;
    this.endpoint = o.endpoint ?? (env.STORAGE_EMULATOR_HOST || undefined);
    this.client = new GcsClient({
      ...(o.endpoint ? { apiEndpoint: o.endpoint.replace(/\/+$/, '') } : {}),
      ...(o.useAuthWithCustomEndpoint ? { useAuthWithCustomEndpoint: true } : {}),
      ...(o.projectId ? { projectId: o.projectId } : {}),
      retryOptions: { autoRetry: false },
      ...o.clientOptions,
    });
    this.bucket = this.client.bucket(bucket);
    this.stagingDir = o.stagingDir ?? defaultRemoteStagingDir();
    this.resumableThreshold = o.resumableThreshold ?? 16 * MiB;
    const chunk = o.chunkSize ?? 16 * MiB;
    this.chunkSize = Math.max(256 * 1024, Math.floor(chunk / (256 * 1024)) * 256 * 1024);
    this.listPageSize = Math.min(1000, Math.max(1, o.listPageSize ?? 1000));
    this.retry = {
      attempts: o.maxAttempts ?? 5,
      baseDelayMs: o.retryBaseDelayMs ?? 200,
      maxDelayMs: o.retryMaxDelayMs ?? 10_000,
      retryable: isRetryableGcs,
    };
  }

  key(path: string): string {
    return joinKey(this.prefix, path);
  }

  private where(key?: string): string {
    return key === undefined ? `gs://${this.bucketName}` : `gs://${this.bucketName}/${key}`;
  }

  private call<T>(key: string | undefined, doing: string, fn: () => Promise<T>): Promise<T> {
    return withRetries(this.retry, fn).catch((err) => {
      throw this.mapError(err, key, doing);
    });
  }

  /** Map a library error to a typed error naming the bucket/object (never credentials). */
  mapError(err: unknown, key: string | undefined, doing: string): TicklakeError {
    if (err instanceof TicklakeError) return err;
    const code = httpCode(err);
    const msg = ((err as Error | undefined)?.message ?? String(err)).split('\n')[0]!;
    if (code === 404 && /specified bucket|bucket does not exist|bucket not found/i.test(msg)) {
      return new ObjectStoreAccessError(
        this.where(),
        'the bucket does not exist',
        `create bucket "${this.bucketName}" or fix --lake${this.endpoint ? ` (endpoint ${this.endpoint})` : ''}`,
        err,
      );
    }
    if (code === 401 || code === 403) {
      return new ObjectStoreAccessError(
        this.where(key),
        `access denied (HTTP ${code}) on ${doing}`,
        `check the application default credentials (GOOGLE_APPLICATION_CREDENTIALS or gcloud auth application-default login) and that they may read and write bucket "${this.bucketName}"`,
        err,
      );
    }
    if (/default credentials|Could not load the default/i.test(msg)) {
      return new ObjectStoreAccessError(
        this.where(),
        'no Google credentials found',
        'set GOOGLE_APPLICATION_CREDENTIALS or run `gcloud auth application-default login`',
        err,
      );
    }
    if (code === 404) {
      return new NotFoundError(`${this.where(key)}: no such object`, { cause: err, details: { key } });
    }
    return new ObjectStoreError(this.where(key), `${doing} failed${code ? ` (HTTP ${code})` : ''}: ${msg}`, {
      cause: err,
      details: code ? { status: code } : {},
    });
  }

  async ensureWritable(): Promise<void> {
    const key = this.key(`_staging/.probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    const file = this.bucket.file(key);
    await this.call(key, 'probe write', () => file.save('ok', { resumable: false, validation: false }));
    await this.call(key, 'probe delete', () => file.delete({ ignoreNotFound: true }).then(() => {}));
  }

  begin(finalPath: string): Promise<RemotePendingObject> {
    return beginLocalStaged(this.stagingDir, finalPath, (local, size) =>
      this.upload(local, size, this.key(finalPath)),
    );
  }

  /**
   * Upload a local file to `key` (simple or resumable) and check size + MD5 of what was stored.
   * Returns the stored generation.
   */
  async upload(localPath: string, size: number, key: string): Promise<string> {
    const d = await fileDigests(localPath);
    if (d.size !== size) {
      throw new ObjectStoreError(this.where(key), `staged file has ${d.size} bytes, expected ${size}`);
    }
    const md5 = d.md5.toString('base64');
    const resumable = size >= this.resumableThreshold;
    const meta = await this.call(key, 'upload', async () => {
      const [file] = await this.bucket.upload(localPath, {
        destination: key,
        resumable,
        ...(resumable ? { chunkSize: this.chunkSize } : {}),
        validation: 'md5',
        metadata: { contentType: 'application/vnd.apache.parquet', md5Hash: md5 },
      });
      return file.metadata as GcsObjectMeta;
    });
    if (Number(meta.size) !== size || (meta.md5Hash !== undefined && meta.md5Hash !== md5)) {
      throw new ObjectStoreError(
        this.where(key),
        `the server stored different bytes (${meta.size} bytes, md5 ${meta.md5Hash}; expected ${size}, ${md5})`,
      );
    }
    return String(meta.generation ?? '');
  }

  private info(path: string, m: GcsObjectMeta): RemoteObjectInfo {
    return {
      path,
      size: Number(m.size ?? 0),
      mtimeMs: m.updated ? Date.parse(m.updated) : 0,
      etag: String(m.generation ?? ''),
    };
  }

  async stat(path: string): Promise<RemoteObjectInfo | null> {
    const key = this.key(path);
    try {
      const [m] = await withRetries(this.retry, () => this.bucket.file(key).getMetadata());
      return this.info(path, m as GcsObjectMeta);
    } catch (err) {
      const e = this.mapError(err, key, 'stat');
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  }

  async openRead(path: string): Promise<RandomAccessSource> {
    const key = this.key(path);
    const info = await this.stat(path);
    if (!info) throw new NotFoundError(`${this.where(key)}: no such object`, { details: { key } });
    return this.rangedSource(key, info.size, info.etag);
  }

  /** A source reading one generation of `key` by ranged downloads. */
  rangedSource(key: string, size: number, generation: string): RandomAccessSource {
    const file = this.bucket.file(key, generation ? { generation: Number(generation) } : {});
    return {
      size,
      read: async (offset, length) => {
        const end = Math.min(size, offset + length);
        if (offset >= end) return new Uint8Array(0);
        const bytes = await this.call(key, 'ranged read', async () => {
          const chunks: Buffer[] = [];
          await new Promise<void>((resolve, reject) => {
            file
              .createReadStream({ start: offset, end: end - 1, validation: false, decompress: false })
              .on('data', (c: Buffer) => chunks.push(c))
              .on('error', reject)
              .on('end', resolve);
          });
          return Buffer.concat(chunks);
        });
        if (bytes.length !== end - offset) {
          throw new ObjectStoreError(
            this.where(key),
            `ranged read of bytes ${offset}-${end - 1} returned ${bytes.length} bytes`,
          );
        }
        return bytes;
      },
      close: async () => {},
    };
  }

  async readAll(path: string): Promise<Uint8Array> {
    const key = this.key(path);
    const [buf] = await this.call(key, 'read', () => this.bucket.file(key).download({ validation: 'md5' }));
    return buf;
  }

  async *list(prefix: string): AsyncIterable<RemoteObjectInfo> {
    const root = this.prefix === '' ? '' : `${this.prefix}/`;
    const sub = prefix.replace(/^\/+|\/+$/g, '');
    const search = sub === '' ? root : `${root}${sub}/`;
    let pageToken: string | undefined;
    do {
      const [files, next] = await this.call(search, 'list', () =>
        this.bucket.getFiles({
          prefix: search,
          maxResults: this.listPageSize,
          autoPaginate: false,
          ...(pageToken ? { pageToken } : {}),
        }),
      );
      for (const f of files) {
        if (!f.name.startsWith(root)) continue;
        const rel = f.name.slice(root.length);
        if (rel === '' || rel.endsWith('/') || rel.startsWith('_staging/')) continue;
        yield this.info(rel, f.metadata as GcsObjectMeta);
      }
      pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
    } while (pageToken);
  }

  async delete(path: string): Promise<void> {
    const key = this.key(path);
    await this.call(key, 'delete', () =>
      this.bucket
        .file(key)
        .delete({ ignoreNotFound: true })
        .then(() => {}),
    );
  }

  /** Local staging files of dead processes (unfinished resumable sessions expire on the server). */
  cleanupStaging(): Promise<number> {
    return cleanupLocalStaging(this.stagingDir);
  }
}

/** MD5 (base64) of bytes, as GCS reports `md5Hash`. */
export function gcsMd5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('base64');
}
