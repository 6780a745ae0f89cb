/**
 * S3 storage (`--lake s3://bucket/prefix`), through @aws-sdk/client-s3 v3.
 *
 * Writes stage into a local file (fsynced on seal, read back for verification) and `publish()`
 * uploads it to the final key in one visible step: PutObject below `multipartThreshold`, else a
 * multipart upload (aborted on failure, so nothing partial is ever visible). Every body is sent with
 * Content-MD5 and an SDK-computed SHA-256 (`ChecksumAlgorithm: 'SHA256'`); the answer is checked: a
 * returned ChecksumSHA256 must match ours, and an MD5-style ETag must match the MD5 (or the
 * multipart MD5-of-MD5s). Servers that ignore the flexible checksums (s3rver) return no
 * ChecksumSHA256 and are checked by ETag alone.
 *
 * Reads are ranged GETs with explicit `bytes=a-b` (never suffix ranges, which some servers answer
 * with the file start), offsets computed from HeadObject's size. Listing pages with
 * ContinuationToken over the whole prefix (no delimiter listings). Retries: the SDK's standard
 * strategy (5xx, throttling, transient network) with `maxAttempts`, plus ours around ranged body
 * reads, which the SDK cannot retry once headers arrived.
 *
 * Endpoint: `endpoint` option, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL (read here explicitly
 * so path-style can default on for custom endpoints). Credentials: the SDK's default chain; they are
 * never logged or put into errors.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
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
  withRetries,
} from './remote-staging.js';
import type { RandomAccessSource, Storage } from './storage.js';

const MiB = 1 << 20;

export interface S3StorageOptions {
  /** Endpoint URL of an S3-compatible server (default: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL / AWS). */
  endpoint?: string;
  /** Region (default AWS_REGION / AWS_DEFAULT_REGION, else us-east-1). */
  region?: string;
  /** Path-style addressing (default: AWS_S3_FORCE_PATH_STYLE, else on when an endpoint is set). */
  forcePathStyle?: boolean;
  /** Local folder for staged uploads (default `<os tmp>/ticklake-staging`). */
  stagingDir?: string;
  /** Multipart part size in bytes (default 8 MiB, minimum 5 MiB). */
  partSize?: number;
  /** Files at least this big use multipart upload (default 16 MiB). */
  multipartThreshold?: number;
  /** Parts uploaded at once (default 4). */
  uploadConcurrency?: number;
  /** Attempts per request, SDK retry included (default 5). */
  maxAttempts?: number;
  /** MaxKeys per list page (default 1000). */
  listPageSize?: number;
  /** Multipart uploads under the prefix older than this are aborted by cleanupStaging (default 24). */
  staleUploadHours?: number;
  /** Send the SDK's SHA-256 flexible checksum with uploads (default true). */
  checksumSha256?: boolean;
  /** Socket idle timeout per request in ms (default 120 000). */
  requestTimeoutMs?: number;
  /** Explicit credentials (tests); default: the SDK's default provider chain. */
  credentials?: S3ClientConfig['credentials'];
  env?: NodeJS.ProcessEnv;
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function errName(err: unknown): string {
  const e = err as { name?: string; Code?: string } | undefined;
  return e?.Code ?? e?.name ?? 'Error';
}

/** Errors worth another try: 5xx, throttling, timeouts and connection resets. */
export function isRetryableS3(err: unknown): boolean {
  if (err instanceof TicklakeError) return false;
  const status = statusOf(err);
  if (status !== undefined) return status >= 500 || status === 429 || status === 408;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const name = errName(err);
  return (
    code === 'ECONNRESET' ||
    code === 'ECONNREFUSED' ||
    code === 'EPIPE' ||
    code === 'ETIMEDOUT' ||
    name === 'TimeoutError' ||
    name === 'RequestTimeout' ||
    /socket hang up|premature close|aborted/i.test((err as Error | undefined)?.message ?? '')
  );
}

function parseBool(v: string | undefined): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  return /^(1|true|yes|on)$/i.test(v);
}

export class S3Storage implements Storage {
  readonly isLocal = false;
  readonly location: string;
  readonly bucket: string;
  /** Key prefix of the lake root, no leading/trailing slash ('' = bucket root). */
  readonly prefix: string;
  readonly client: S3Client;
  readonly endpoint: string | undefined;
  readonly stagingDir: string;
  private readonly partSize: number;
  private readonly multipartThreshold: number;
  private readonly uploadConcurrency: number;
  private readonly listPageSize: number;
  private readonly staleUploadMs: number;
  private readonly checksumSha256: boolean;
  private readonly maxAttempts: number;

  constructor(url: string, o: S3StorageOptions = {}) {
    const env = o.env ?? process.env;
    const { bucket, prefix } = parseBucketUrl(url, 's3');
    this.bucket = bucket;
    this.prefix = prefix;
    this.location = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
    this.endpoint =
      o.endpoint ?? (env.AWS_ENDPOINT_URL_S3 || undefined) ?? (env.AWS_ENDPOINT_URL || undefined);
    const forcePathStyle =
      o.forcePathStyle ?? parseBool(env.AWS_S3_FORCE_PATH_STYLE) ?? this.endpoint !== undefined;
    this.maxAttempts = o.maxAttempts ?? 5;
    this.client = new S3Client({
      region:
        o.region ?? (env.AWS_REGION || undefined) ?? (env.AWS_DEFAULT_REGION || undefined) ?? 'us-east-1',
      ...(this.endpoint ? { endpoint: this.endpoint } : {}),
      forcePathStyle,
      maxAttempts: this.maxAttempts,
      // A silent server fails the request (and is retried) instead of hanging the ingest.
      requestHandler: { connectionTimeout: 10_000, requestTimeout: o.requestTimeoutMs ?? 120_000 },
      // Checksums only where we ask for them (uploads): not every S3-compatible server takes the
      // SDK's default CRC32 trailers on every request.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(o.credentials ? { credentials: o.credentials } : {}),
    });
    this.stagingDir = o.stagingDir ?? defaultRemoteStagingDir();
    this.partSize = Math.max(5 * MiB, o.partSize ?? 8 * MiB);
    this.multipartThreshold = Math.max(this.partSize, o.multipartThreshold ?? 16 * MiB);
    this.uploadConcurrency = Math.max(1, o.uploadConcurrency ?? 4);
    this.listPageSize = Math.min(1000, Math.max(1, o.listPageSize ?? 1000));
    this.staleUploadMs = (o.staleUploadHours ?? 24) * 3600_000;
    this.checksumSha256 = o.checksumSha256 ?? true;
  }

  key(path: string): string {
    return joinKey(this.prefix, path);
  }

  private where(key?: string): string {
    return key === undefined ? `s3://${this.bucket}` : `s3://${this.bucket}/${key}`;
  }

  /** Map an SDK error to a typed error naming the bucket/key (never credentials). */
  mapError(err: unknown, key?: string, doing = 'request'): TicklakeError {
    if (err instanceof TicklakeError) return err;
    const name = errName(err);
    const status = statusOf(err);
    if (name === 'NoSuchBucket') {
      return new ObjectStoreAccessError(
        this.where(),
        'the bucket does not exist',
        `create bucket "${this.bucket}" or fix --lake${this.endpoint ? ` (endpoint ${this.endpoint})` : ''}`,
        err,
      );
    }
    if (
      status === 403 ||
      status === 401 ||
      name === 'AccessDenied' ||
      name === 'InvalidAccessKeyId' ||
      name === 'SignatureDoesNotMatch'
    ) {
      return new ObjectStoreAccessError(
        this.where(key),
        `access denied (${name}${status ? `, HTTP ${status}` : ''}) on ${doing}`,
        `check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...) and that they may read and write bucket "${this.bucket}"`,
        err,
      );
    }
    if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(String(err))) {
      return new ObjectStoreAccessError(
        this.where(),
        'no AWS credentials found',
        'set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (any source of the SDK default chain)',
        err,
      );
    }
    if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
      return new NotFoundError(`${this.where(key)}: no such object`, { cause: err, details: { key } });
    }
    const msg = (err as Error | undefined)?.message?.split('\n')[0] ?? '';
    return new ObjectStoreError(
      this.where(key),
      `${doing} failed: ${name}${status ? ` (HTTP ${status})` : ''}${msg && msg !== name ? `: ${msg}` : ''}`,
      { cause: err, details: status ? { status } : {} },
    );
  }

  async ensureWritable(): Promise<void> {
    const key = this.key(`_staging/.probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: 'ok' }));
    } catch (err) {
      throw this.mapError(err, key, 'probe write');
    }
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      throw this.mapError(err, key, 'probe delete');
    }
  }

  begin(finalPath: string): Promise<RemotePendingObject> {
    return beginLocalStaged(this.stagingDir, finalPath, (local, size) =>
      this.upload(local, size, this.key(finalPath)),
    );
  }

  /**
   * Upload a local file to `key` (single PUT or multipart), checking what the server received.
   * Returns the stored object's ETag (unquoted), as HeadObject will report it.
   */
  async upload(localPath: string, size: number, key: string): Promise<string> {
    if (size >= this.multipartThreshold) return this.uploadMultipart(localPath, size, key);
    const fh = await open(localPath, 'r');
    let body: Buffer;
    try {
      body = await fh.readFile();
    } finally {
      await fh.close();
    }
    if (body.length !== size) {
      throw new ObjectStoreError(this.where(key), `staged file has ${body.length} bytes, expected ${size}`);
    }
    const md5 = createHash('md5').update(body).digest();
    const sha = createHash('sha256').update(body).digest();
    let res: { ETag?: string; ChecksumSHA256?: string; SSEKMSKeyId?: string };
    try {
      res = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentLength: size,
          ContentMD5: md5.toString('base64'),
          ContentType: 'application/vnd.apache.parquet',
          ...(this.checksumSha256 ? { ChecksumAlgorithm: 'SHA256' as const } : {}),
        }),
      );
    } catch (err) {
      throw this.mapError(err, key, 'upload');
    }
    this.checkAnswer(key, res, md5.toString('hex'), sha.toString('base64'));
    return (res.ETag ?? '').replace(/"/g, '');
  }

  private checkAnswer(
    key: string,
    res: { ETag?: string; ChecksumSHA256?: string; SSEKMSKeyId?: string },
    expectEtagHex: string,
    expectSha256: string | undefined,
  ): void {
    if (expectSha256 !== undefined && res.ChecksumSHA256 && !res.ChecksumSHA256.includes('-')) {
      if (res.ChecksumSHA256 !== expectSha256) {
        throw new ObjectStoreError(this.where(key), 'the server stored different bytes (SHA-256 mismatch)');
      }
    }
    const etag = (res.ETag ?? '').replace(/"/g, '');
    const m = /^([0-9a-f]{32})(-\d+)?$/i.exec(etag);
    // An MD5-style ETag (no SSE-KMS) must be the MD5 we computed; other ETags cannot be checked.
    if (m && !res.SSEKMSKeyId && m[1]!.toLowerCase() !== expectEtagHex) {
      throw new ObjectStoreError(this.where(key), 'the server stored different bytes (ETag/MD5 mismatch)');
    }
  }

  private async uploadMultipart(localPath: string, size: number, key: string): Promise<string> {
    let uploadId: string | undefined;
    try {
      const created = await this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          ContentType: 'application/vnd.apache.parquet',
          ...(this.checksumSha256 ? { ChecksumAlgorithm: 'SHA256' as const } : {}),
        }),
      );
      uploadId = created.UploadId;
      if (!uploadId) throw new ObjectStoreError(this.where(key), 'the server returned no multipart UploadId');
    } catch (err) {
      throw this.mapError(err, key, 'multipart upload start');
    }
    const nParts = Math.ceil(size / this.partSize);
    const parts: { PartNumber: number; ETag: string; ChecksumSHA256?: string }[] = new Array(nParts);
    const md5s: Buffer[] = new Array(nParts);
    const fh = await open(localPath, 'r');
    try {
      let next = 0;
      const worker = async () => {
        while (next < nParts) {
          const i = next++;
          const start = i * this.partSize;
          const len = Math.min(this.partSize, size - start);
          const buf = Buffer.allocUnsafe(len);
          let got = 0;
          while (got < len) {
            const { bytesRead } = await fh.read(buf, got, len - got, start + got);
            if (bytesRead === 0)
              throw new ObjectStoreError(this.where(key), 'staged file shrank during upload');
            got += bytesRead;
          }
          const md5 = createHash('md5').update(buf).digest();
          const sha = this.checksumSha256 ? createHash('sha256').update(buf).digest('base64') : undefined;
          let res: { ETag?: string; ChecksumSHA256?: string; SSEKMSKeyId?: string };
          try {
            res = await this.client.send(
              new UploadPartCommand({
                Bucket: this.bucket,
                Key: key,
                UploadId: uploadId,
                PartNumber: i + 1,
                Body: buf,
                ContentLength: len,
                ContentMD5: md5.toString('base64'),
                ...(sha ? { ChecksumAlgorithm: 'SHA256' as const } : {}),
              }),
            );
          } catch (err) {
            throw this.mapError(err, key, `upload of part ${i + 1}/${nParts}`);
          }
          this.checkAnswer(key, res, md5.toString('hex'), sha);
          md5s[i] = md5;
          parts[i] = {
            PartNumber: i + 1,
            ETag: res.ETag ?? `"${md5.toString('hex')}"`,
            ...(sha ? { ChecksumSHA256: res.ChecksumSHA256 ?? sha } : {}),
          };
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.uploadConcurrency, nParts) }, worker));
      let done: { ETag?: string; SSEKMSKeyId?: string };
      try {
        done = await this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
          }),
        );
      } catch (err) {
        throw this.mapError(err, key, 'multipart upload completion');
      }
      // S3's multipart ETag is MD5(part MD5s)-N; some S3-compatible servers (s3rver) give the whole
      // object's MD5 instead. Check whichever form came back.
      const etag = /^([0-9a-f]{32})(-\d+)?$/i.exec((done.ETag ?? '').replace(/"/g, ''));
      if (etag && !done.SSEKMSKeyId) {
        const expect = etag[2]
          ? createHash('md5').update(Buffer.concat(md5s)).digest('hex')
          : (await fileDigests(localPath)).md5.toString('hex');
        this.checkAnswer(key, done, expect, undefined);
      }
      return (done.ETag ?? '').replace(/"/g, '');
    } catch (err) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
        .catch(() => {});
      throw this.mapError(err, key, 'multipart upload');
    } finally {
      await fh.close();
    }
  }

  async stat(path: string): Promise<RemoteObjectInfo | null> {
    const key = this.key(path);
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        path,
        size: Number(h.ContentLength ?? 0),
        mtimeMs: h.LastModified ? h.LastModified.getTime() : 0,
        etag: (h.ETag ?? '').replace(/"/g, ''),
      };
    } catch (err) {
      const e = this.mapError(err, key, 'stat');
      // HEAD has no body, so a missing bucket also answers a bare 404: tell them apart only on writes.
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

  /** A source reading `key` by ranged GETs (`bytes=a-b`, never suffix ranges). */
  rangedSource(key: string, size: number, etag: string): RandomAccessSource {
    return {
      size,
      read: async (offset, length) => {
        const end = Math.min(size, offset + length);
        if (offset >= end) return new Uint8Array(0);
        return withRetries(
          { attempts: this.maxAttempts, baseDelayMs: 50, maxDelayMs: 2000, retryable: isRetryableS3 },
          async () => {
            let bytes: Uint8Array;
            try {
              const r = await this.client.send(
                new GetObjectCommand({
                  Bucket: this.bucket,
                  Key: key,
                  Range: `bytes=${offset}-${end - 1}`,
                  ...(etag ? { IfMatch: `"${etag}"` } : {}),
                }),
              );
              bytes = await r.Body!.transformToByteArray();
            } catch (err) {
              if (statusOf(err) === 412) {
                throw new ObjectStoreError(this.where(key), 'the object changed while it was being read', {
                  hint: 'retry the read',
                });
              }
              if (isRetryableS3(err)) throw err;
              throw this.mapError(err, key, 'ranged read');
            }
            if (bytes.length !== end - offset) {
              throw new ObjectStoreError(
                this.where(key),
                `ranged read of bytes ${offset}-${end - 1} returned ${bytes.length} bytes`,
              );
            }
            return bytes;
          },
        ).catch((err) => {
          throw this.mapError(err, key, 'ranged read');
        });
      },
      close: async () => {},
    };
  }

  async readAll(path: string): Promise<Uint8Array> {
    const key = this.key(path);
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await r.Body!.transformToByteArray();
    } catch (err) {
      throw this.mapError(err, key, 'read');
    }
  }

  async *list(prefix: string): AsyncIterable<RemoteObjectInfo> {
    const root = this.prefix === '' ? '' : `${this.prefix}/`;
    const sub = prefix.replace(/^\/+|\/+$/g, '');
    const search = sub === '' ? root : `${root}${sub}/`;
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: search,
            MaxKeys: this.listPageSize,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
      } catch (err) {
        throw this.mapError(err, search, 'list');
      }
      for (const o of page.Contents ?? []) {
        if (!o.Key?.startsWith(root)) continue;
        const rel = o.Key.slice(root.length);
        if (rel === '' || rel.endsWith('/') || rel.startsWith('_staging/')) continue;
        yield {
          path: rel,
          size: Number(o.Size ?? 0),
          mtimeMs: o.LastModified ? o.LastModified.getTime() : 0,
          etag: (o.ETag ?? '').replace(/"/g, ''),
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(path: string): Promise<void> {
    const key = this.key(path);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      const e = this.mapError(err, key, 'delete');
      if (e instanceof NotFoundError) return;
      throw e;
    }
  }

  /**
   * Remove local staging files of dead processes, then abort multipart uploads under the lake prefix
   * older than `staleUploadHours` (skipped where the server does not implement ListMultipartUploads).
   */
  async cleanupStaging(): Promise<number> {
    let removed = await cleanupLocalStaging(this.stagingDir);
    const root = this.prefix === '' ? '' : `${this.prefix}/`;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    const cutoff = Date.now() - this.staleUploadMs;
    try {
      do {
        const page = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: root,
            ...(keyMarker ? { KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker } : {}),
          }),
        );
        for (const u of page.Uploads ?? []) {
          if (!u.Key || !u.UploadId || !u.Initiated || u.Initiated.getTime() > cutoff) continue;
          await this.client.send(
            new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }),
          );
          removed++;
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        uploadIdMarker = page.NextUploadIdMarker;
      } while (keyMarker);
    } catch (err) {
      const name = errName(err);
      if (name === 'NotImplemented' || statusOf(err) === 501) return removed;
      throw this.mapError(err, root, 'stale multipart upload cleanup');
    }
    return removed;
  }
}
