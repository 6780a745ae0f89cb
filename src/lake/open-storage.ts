/**
 * `openStorage(spec, config)`: the one place a lake location becomes a Storage. A plain path is a
 * local directory; `s3://bucket/prefix` and `gs://bucket/prefix` are object stores, wrapped in the
 * on-disk read cache (remote-cache.ts). Also: where the SQLite catalog of a remote lake lives by
 * default (it cannot live in the bucket: SQLite needs a local file).
 */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TicklakeConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { registerSecret } from '../util/redact.js';
import { LocalStorage } from './local-storage.js';
import type { Storage } from './storage.js';

/** True for `scheme://...` lake locations (object stores), false for local paths. */
export function isRemoteLake(spec: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(spec);
}

type StorageConfig = Pick<TicklakeConfig, 's3' | 'gcs' | 'remote'>;

/** Storage for a lake location. The cloud SDKs are imported only when a remote lake is opened. */
export async function openStorage(
  spec: string,
  config: Partial<StorageConfig> = {},
  env = process.env,
): Promise<Storage> {
  if (!isRemoteLake(spec)) return new LocalStorage(resolve(spec));
  const scheme = spec.slice(0, spec.indexOf(':')).toLowerCase();
  const remote = config.remote ?? {};
  const cache = {
    ...(remote.cacheDir ? { dir: remote.cacheDir } : {}),
    ...(remote.cacheMaxBytes ? { maxBytes: remote.cacheMaxBytes } : {}),
  };
  const stagingDir = remote.stagingDir;
  const { CachedStorage } = await import('./remote-cache.js');
  if (scheme === 's3') {
    // Never printed anyway; registered so the CLI's redaction would catch one in a stray message.
    registerSecret(env.AWS_SECRET_ACCESS_KEY);
    registerSecret(env.AWS_SESSION_TOKEN);
    const { S3Storage } = await import('./s3-storage.js');
    const s3 = config.s3 ?? {};
    const inner = new S3Storage(spec, {
      env,
      ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
      ...(s3.region ? { region: s3.region } : {}),
      ...(s3.forcePathStyle !== undefined ? { forcePathStyle: s3.forcePathStyle } : {}),
      ...(s3.partSize ? { partSize: s3.partSize } : {}),
      ...(s3.multipartThreshold ? { multipartThreshold: s3.multipartThreshold } : {}),
      ...(s3.maxAttempts ? { maxAttempts: s3.maxAttempts } : {}),
      ...(stagingDir ? { stagingDir } : {}),
    });
    return new CachedStorage(inner, cache);
  }
  if (scheme === 'gs' || scheme === 'gcs') {
    const { GcsStorage } = await import('./gcs-storage.js');
    const gcs = config.gcs ?? {};
    const inner = new GcsStorage(scheme === 'gcs' ? `gs${spec.slice(3)}` : spec, {
      env,
      ...(gcs.endpoint ? { endpoint: gcs.endpoint } : {}),
      ...(gcs.projectId ? { projectId: gcs.projectId } : {}),
      ...(gcs.resumableThreshold ? { resumableThreshold: gcs.resumableThreshold } : {}),
      ...(gcs.maxAttempts ? { maxAttempts: gcs.maxAttempts } : {}),
      ...(stagingDir ? { stagingDir } : {}),
    });
    return new CachedStorage(inner, cache);
  }
  throw new UsageError(`lake ${spec}: unsupported storage scheme "${scheme}://"`, {
    hint: 'use a local directory, s3://bucket/prefix or gs://bucket/prefix',
  });
}

/**
 * Default SQLite catalog of a remote lake: one file per lake location under the user's data folder,
 * `$XDG_DATA_HOME/ticklake/catalogs/` (default `~/.local/share/ticklake/catalogs/`), named after the
 * bucket and prefix, e.g. `s3-my-bucket-lake-1a2b3c4d.sqlite`. Pass --catalog to choose another
 * (or a postgres:// URL to share it); `ticklake catalog rebuild` recreates it from the footers.
 */
export function defaultRemoteCatalogPath(location: string, env = process.env): string {
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  const slug = location
    .replace(/^([a-z0-9]+):\/\//i, '$1-')
    .replace(/[^a-zA-Z0-9._-]+/g, '-')
    .slice(0, 80);
  const h = createHash('sha256').update(location).digest('hex').slice(0, 8);
  return join(base, 'ticklake', 'catalogs', `${slug}-${h}.sqlite`);
}
