/**
 * Local read cache for a remote lake (S3, GCS). Whole objects are downloaded once into a cache folder,
 * named by a hash of (lake location, path, size, etag/generation), and read from local disk after
 * that; the folder is kept under `maxBytes` by evicting the least recently used files. `CachedStorage`
 * wraps a remote Storage so `openRead` goes through the cache (objects bigger than the cache are read
 * with ranged requests instead); `localPathFor(path)` gives a local file for tools that cannot read
 * object storage themselves (DuckDB here).
 *
 * The (size, etag) of a path is remembered for `statTtlMs` (default 60 s) and forgotten when this
 * process deletes that path, so a repeated read makes no request at all; after the TTL one
 * HEAD/metadata request revalidates. Files this process publishes are moved from staging into the
 * cache with the version the store returned (write-through), so reading them back downloads nothing. The cache folder may be shared by processes: files are
 * written to a temporary name and renamed, and LRU order is the files' mtime (touched on each use).
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError, ObjectStoreError, storageErrorFromFs } from '../errors.js';
import { FileSource } from './local-storage.js';
import type { RemoteObjectInfo, RemotePendingObject } from './remote-staging.js';
import type { ObjectInfo, PendingObject, RandomAccessSource, Storage } from './storage.js';

/** A remote storage: `stat` reports a version tag (S3 ETag, GCS generation). */
export interface RemoteStorage extends Storage {
  stat(path: string): Promise<RemoteObjectInfo | null>;
}

export interface RemoteCacheOptions {
  /** Cache folder (default `<os tmp>/ticklake-cache`). */
  dir?: string;
  /** Size limit of the cache folder in bytes (default 2 GiB). */
  maxBytes?: number;
  /** How long a path's (size, etag) is trusted without asking the store again (default 60 s). */
  statTtlMs?: number;
}

export const DEFAULT_CACHE_BYTES = 2 * 1024 ** 3;

export function defaultCacheDir(): string {
  return join(tmpdir(), 'ticklake-cache');
}

interface Entry {
  size: number;
  lastUse: number;
}

const SLICE = 8 << 20;

export class RemoteReadCache {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly statTtlMs: number;
  private entries: Map<string, Entry> | null = null;
  private total = 0;
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly known = new Map<string, { info: RemoteObjectInfo; at: number }>();
  /** Counters for tests and `--verbose`: downloads made, reads served from disk, files evicted. */
  readonly stats = { downloads: 0, hits: 0, evictions: 0, bypassed: 0 };

  constructor(
    readonly storage: RemoteStorage,
    o: RemoteCacheOptions = {},
  ) {
    this.dir = o.dir ?? defaultCacheDir();
    this.maxBytes = o.maxBytes ?? DEFAULT_CACHE_BYTES;
    this.statTtlMs = o.statTtlMs ?? 60_000;
  }

  /** Forget what is known about `path` (after this process rewrote or deleted it). */
  invalidate(path: string): void {
    this.known.delete(path);
  }

  private async info(path: string): Promise<RemoteObjectInfo> {
    const k = this.known.get(path);
    if (k && Date.now() - k.at < this.statTtlMs) return k.info;
    const info = await this.storage.stat(path);
    if (!info) {
      this.known.delete(path);
      throw new NotFoundError(`${this.storage.location}/${path}: no such object`, { details: { path } });
    }
    this.known.set(path, { info, at: Date.now() });
    return info;
  }

  private fileName(path: string, info: RemoteObjectInfo): string {
    const h = createHash('sha256')
      .update(`${this.storage.location}\n${path}\n${info.size}\n${info.etag}`)
      .digest('hex')
      .slice(0, 40);
    const base = path.split('/').pop() ?? 'object';
    const ext = /\.[a-z0-9]{1,10}$/i.exec(base)?.[0] ?? '';
    return `${h}${ext}`;
  }

  private loading: Promise<Map<string, Entry>> | null = null;

  /** The cache folder's index, scanned once (concurrent callers share the one scan). */
  private load(): Promise<Map<string, Entry>> {
    this.loading ??= this.scan().catch((err) => {
      this.loading = null;
      throw err;
    });
    return this.loading;
  }

  private async scan(): Promise<Map<string, Entry>> {
    if (this.entries) return this.entries;
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (err) {
      throw storageErrorFromFs(this.dir, err);
    }
    const entries = new Map<string, Entry>();
    let total = 0;
    for (const name of await readdir(this.dir)) {
      const st = await stat(join(this.dir, name)).catch(() => null);
      if (!st?.isFile()) continue;
      if (name.endsWith('.tmp')) {
        // A download in progress elsewhere, or left by a crash: remove when clearly abandoned.
        if (Date.now() - st.mtimeMs > 3600_000) await rm(join(this.dir, name), { force: true });
        continue;
      }
      entries.set(name, { size: st.size, lastUse: st.mtimeMs });
      total += st.size;
    }
    this.entries = entries;
    this.total = total;
    return entries;
  }

  /** Bytes currently held in the cache folder (as this process knows it). */
  async size(): Promise<number> {
    await this.load();
    return this.total;
  }

  /**
   * Local path of the whole object at `path`, downloading it into the cache when it is not there.
   * Throws NotFoundError for a missing object; an object bigger than the cache is still downloaded
   * (and becomes the only file in it).
   */
  async localPathFor(path: string): Promise<string> {
    const info = await this.info(path);
    return this.fetch(path, info);
  }

  private async fetch(path: string, info: RemoteObjectInfo): Promise<string> {
    const entries = await this.load();
    const name = this.fileName(path, info);
    const full = join(this.dir, name);
    const have = entries.get(name);
    if (have) {
      const st = await stat(full).catch(() => null);
      if (st && st.size === info.size) {
        this.stats.hits++;
        have.lastUse = Date.now();
        await utimes(full, new Date(), new Date()).catch(() => {});
        return full;
      }
      entries.delete(name);
      this.total -= have.size;
    }
    let p = this.inflight.get(name);
    if (!p) {
      p = this.download(path, info, name).finally(() => this.inflight.delete(name));
      this.inflight.set(name, p);
    }
    return p;
  }

  private async download(path: string, info: RemoteObjectInfo, name: string): Promise<string> {
    const full = join(this.dir, name);
    const tmp = join(this.dir, `${name}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    const src = await this.sourceFor(path, info);
    try {
      const fh = await open(tmp, 'w').catch((err) => {
        throw storageErrorFromFs(tmp, err);
      });
      try {
        for (let off = 0; off < info.size; off += SLICE) {
          const bytes = await src.read(off, Math.min(SLICE, info.size - off));
          if (bytes.length !== Math.min(SLICE, info.size - off)) {
            throw new ObjectStoreError(`${this.storage.location}/${path}`, 'object shorter than its size');
          }
          await fh.write(bytes, 0, bytes.length, off).catch((err) => {
            throw storageErrorFromFs(tmp, err);
          });
        }
      } finally {
        await fh.close();
      }
      await rename(tmp, full);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => {});
      throw err;
    } finally {
      await src.close();
    }
    this.stats.downloads++;
    const entries = await this.load();
    const prev = entries.get(name);
    if (prev) this.total -= prev.size;
    entries.set(name, { size: info.size, lastUse: Date.now() });
    this.total += info.size;
    await this.evict(name);
    return full;
  }

  /** The store's own ranged source for one version when it offers one, else its `openRead`. */
  private sourceFor(path: string, info: RemoteObjectInfo): Promise<RandomAccessSource> {
    const s = this.storage as RemoteStorage & {
      rangedSource?: (key: string, size: number, etag: string) => RandomAccessSource;
      key?: (path: string) => string;
    };
    if (s.rangedSource && s.key) return Promise.resolve(s.rangedSource(s.key(path), info.size, info.etag));
    return this.storage.openRead(path);
  }

  /**
   * Take a just-published local file into the cache as `path` at version `info` (so reading back what
   * this process wrote needs no download). Moves the file; returns false (leaving it) when it is
   * bigger than the whole cache.
   */
  async adopt(path: string, info: RemoteObjectInfo, localPath: string): Promise<boolean> {
    if (info.size > this.maxBytes || !info.etag) return false;
    const entries = await this.load();
    const name = this.fileName(path, info);
    const full = join(this.dir, name);
    try {
      await rename(localPath, full);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw storageErrorFromFs(full, err);
      const tmp = `${full}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
      await copyFile(localPath, tmp);
      await rename(tmp, full);
      await rm(localPath, { force: true });
    }
    const prev = entries.get(name);
    if (prev) this.total -= prev.size;
    entries.set(name, { size: info.size, lastUse: Date.now() });
    this.total += info.size;
    this.known.set(path, { info, at: Date.now() });
    await this.evict(name);
    return true;
  }

  /** Remove least recently used files until the cache fits (never `keep`, just fetched). */
  private async evict(keep: string): Promise<void> {
    const entries = await this.load();
    if (this.total <= this.maxBytes) return;
    const order = [...entries.entries()]
      .filter(([n]) => n !== keep)
      .sort((a, b) => a[1].lastUse - b[1].lastUse);
    for (const [n, e] of order) {
      if (this.total <= this.maxBytes) break;
      // Update the index before awaiting, so a concurrent eviction does not count this file twice.
      if (!entries.delete(n)) continue;
      this.total -= e.size;
      this.stats.evictions++;
      await rm(join(this.dir, n), { force: true }).catch(() => {});
    }
  }

  /** Read through the cache; objects bigger than the whole cache are read remotely by ranges. */
  async openRead(path: string): Promise<RandomAccessSource> {
    const info = await this.info(path);
    if (info.size > this.maxBytes) {
      this.stats.bypassed++;
      return this.sourceFor(path, info);
    }
    return FileSource.open(await this.fetch(path, info));
  }
}

/** A remote Storage whose reads go through a RemoteReadCache; everything else is delegated. */
export class CachedStorage implements Storage {
  readonly isLocal = false;
  readonly location: string;
  readonly cache: RemoteReadCache;

  constructor(
    readonly inner: RemoteStorage,
    o: RemoteCacheOptions = {},
  ) {
    this.location = inner.location;
    this.cache = new RemoteReadCache(inner, o);
  }

  ensureWritable(): Promise<void> {
    return this.inner.ensureWritable();
  }

  /** Writes are the inner storage's; a published staged file is moved into the cache (write-through). */
  async begin(finalPath: string): Promise<PendingObject> {
    const p = await this.inner.begin(finalPath);
    const remote = 'keepStagedFile' in p ? (p as RemotePendingObject) : null;
    if (remote) remote.keepStagedFile = true;
    return {
      finalPath: p.finalPath,
      sink: p.sink,
      seal: () => p.seal(),
      openStaged: () => p.openStaged(),
      publish: async () => {
        this.cache.invalidate(finalPath);
        await p.publish();
        this.cache.invalidate(finalPath);
        if (remote?.published) {
          const kept = await this.cache
            .adopt(finalPath, remote.published, remote.stagedPath)
            .catch(() => false);
          if (!kept) await rm(remote.stagedPath, { force: true }).catch(() => {});
        }
      },
      abort: () => p.abort(),
    };
  }

  openRead(path: string): Promise<RandomAccessSource> {
    return this.cache.openRead(path);
  }

  /** Local file holding the whole object (downloaded into the cache if needed). */
  localPathFor(path: string): Promise<string> {
    return this.cache.localPathFor(path);
  }

  stat(path: string): Promise<ObjectInfo | null> {
    return this.inner.stat(path);
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }

  async delete(path: string): Promise<void> {
    this.cache.invalidate(path);
    await this.inner.delete(path);
  }

  cleanupStaging(): Promise<number> {
    return this.inner.cleanupStaging();
  }

  readAll(path: string): Promise<Uint8Array> {
    return this.inner.readAll(path);
  }
}
