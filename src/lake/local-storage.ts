/**
 * Local filesystem storage. Writes go to `<root>/_staging/<pid>-<random>-<name>`, are fsynced, read
 * back for verification and then renamed into place (atomic on one filesystem) with the directory
 * fsynced, so a reader never sees a half-written file and a crash leaves only staging garbage that
 * `cleanupStaging` removes.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { StorageAccessError, storageErrorFromFs } from '../errors.js';
import type { ByteSink, ObjectInfo, PendingObject, RandomAccessSource, Storage } from './storage.js';

export const STAGING_DIR = '_staging';
/** Partial vendor downloads kept across processes (resumed, not cleaned as crash garbage). */
export const DOWNLOADS_DIR = 'downloads';

function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

class FileSink implements ByteSink {
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

export class FileSource implements RandomAccessSource {
  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    private readonly path: string,
  ) {}

  static async open(path: string): Promise<FileSource> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw storageErrorFromFs(path, err);
    }
    const st = await fh.stat();
    return new FileSource(fh, st.size, path);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    try {
      while (got < length) {
        const { bytesRead } = await this.fh.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } catch (err) {
      throw storageErrorFromFs(this.path, err);
    }
    return got === length ? buf : buf.subarray(0, got);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/**
 * `mkdir -p` that reports the real cause: Node's recursive mkdir answers ENOENT on a read-only file
 * system, so on ENOENT retry one level at a time to surface EROFS / EACCES.
 */
async function mkdirp(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const parent = dirname(dir);
    if (parent !== dir) await mkdirp(parent);
    try {
      await mkdir(dir);
    } catch (inner) {
      if ((inner as NodeJS.ErrnoException).code !== 'EEXIST') throw inner;
    }
  }
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

async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, fsConstants.O_RDONLY);
    await fh.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    await fh?.close();
  }
}

export class LocalStorage implements Storage {
  readonly isLocal = true;
  readonly location: string;

  constructor(readonly root: string) {
    this.location = root;
  }

  abs(path: string): string {
    return join(this.root, ...path.split('/'));
  }

  async ensureWritable(): Promise<void> {
    const staging = join(this.root, STAGING_DIR);
    try {
      await mkdirp(staging);
    } catch (err) {
      throw storageErrorFromFs(this.root, err);
    }
    const probe = join(staging, `.probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      const fh = await open(probe, 'w');
      await fh.write('ok');
      await fh.close();
      await unlink(probe);
    } catch (err) {
      await rm(probe, { force: true }).catch(() => {});
      const e = storageErrorFromFs(this.root, err);
      if (e instanceof StorageAccessError)
        throw new StorageAccessError(this.root, 'the lake directory is not writable', err);
      throw e;
    }
  }

  async begin(finalPath: string): Promise<PendingObject> {
    const staging = join(this.root, STAGING_DIR);
    try {
      await mkdirp(staging);
    } catch (err) {
      throw storageErrorFromFs(this.root, err);
    }
    const stagedPath = join(
      staging,
      `${process.pid}-${randomBytes(6).toString('hex')}-${basename(finalPath)}`,
    );
    let fh: FileHandle;
    try {
      fh = await open(stagedPath, 'wx');
    } catch (err) {
      throw storageErrorFromFs(stagedPath, err);
    }
    const sink = new FileSink(fh, stagedPath);
    const target = this.abs(finalPath);
    let sealed = false;
    let done = false;
    const closeHandle = async () => {
      if (!sealed) {
        sealed = true;
        await fh.close();
      }
    };
    return {
      finalPath,
      sink,
      seal: async () => {
        if (sealed) return;
        try {
          await fh.sync();
        } catch (err) {
          await closeHandle().catch(() => {});
          throw storageErrorFromFs(stagedPath, err);
        }
        await closeHandle();
      },
      openStaged: () => FileSource.open(stagedPath),
      publish: async () => {
        if (done) return;
        try {
          await mkdirp(dirname(target));
          await rename(stagedPath, target);
        } catch (err) {
          throw storageErrorFromFs(target, err);
        }
        done = true;
        await fsyncDir(dirname(target));
      },
      abort: async () => {
        if (done) return;
        done = true;
        await closeHandle().catch(() => {});
        await rm(stagedPath, { force: true }).catch(() => {});
      },
    };
  }

  openRead(path: string): Promise<RandomAccessSource> {
    return FileSource.open(this.abs(path));
  }

  async stat(path: string): Promise<ObjectInfo | null> {
    try {
      const st = await stat(this.abs(path));
      if (!st.isFile()) return null;
      return { path, size: st.size, mtimeMs: st.mtimeMs };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw storageErrorFromFs(this.abs(path), err);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const start = prefix === '' ? this.root : this.abs(prefix.replace(/\/+$/, ''));
    const stack = [start];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') continue;
        throw storageErrorFromFs(dir, err);
      }
      entries.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) {
          if (dir === this.root && e.name === STAGING_DIR) continue;
          stack.push(full);
        } else if (e.isFile()) {
          const st = await stat(full).catch(() => null);
          if (st) yield { path: toPosix(relative(this.root, full)), size: st.size, mtimeMs: st.mtimeMs };
        }
      }
    }
  }

  async delete(path: string): Promise<void> {
    try {
      await rm(this.abs(path), { force: true });
    } catch (err) {
      throw storageErrorFromFs(this.abs(path), err);
    }
  }

  async cleanupStaging(): Promise<number> {
    const staging = join(this.root, STAGING_DIR);
    let names: string[];
    try {
      names = await readdir(staging);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      if (name === DOWNLOADS_DIR) continue;
      const pid = Number(name.split('-')[0]);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) continue;
      await rm(join(staging, name), { force: true, recursive: true }).catch(() => {});
      removed++;
    }
    return removed;
  }

  async readAll(path: string): Promise<Uint8Array> {
    try {
      return await readFile(this.abs(path));
    } catch (err) {
      throw storageErrorFromFs(this.abs(path), err);
    }
  }
}
