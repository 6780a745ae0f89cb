/**
 * The one small interface the lake writes and reads through. The local filesystem implements it now;
 * S3 and GCS implement the same methods later without touching callers.
 *
 * Paths are relative to the lake root and always use `/`.
 */

/** Sequential writer of one object (a Parquet file being written). */
export interface ByteSink {
  /** Append bytes. The sink may keep a reference to `chunk` until the returned promise settles. */
  write(chunk: Uint8Array): Promise<void>;
  /** Bytes written so far. */
  readonly position: number;
}

/** Random-access reader of one object (Parquet footers and column chunks). */
export interface RandomAccessSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface ObjectInfo {
  /** Path relative to the lake root, `/`-separated. */
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/**
 * An object being written. Nothing is visible at `finalPath` until `publish()` succeeds; `abort()`
 * removes every trace. A crash before publish leaves at most a staging object that `cleanupStaging`
 * removes on the next run.
 */
export interface PendingObject {
  readonly finalPath: string;
  readonly sink: ByteSink;
  /** Flush and close the staged bytes (after this, `openStaged` can read them back for verification). */
  seal(): Promise<void>;
  /** Read back the sealed staged bytes (verification before publish). */
  openStaged(): Promise<RandomAccessSource>;
  /** Atomically make the object visible at `finalPath` (replacing any previous object). */
  publish(): Promise<void>;
  abort(): Promise<void>;
}

export interface Storage {
  /** Human-readable location, e.g. `/home/me/lake` or `s3://bucket/prefix`. */
  readonly location: string;
  /** True for a local directory (catalog defaults next to it). */
  readonly isLocal: boolean;
  /** Check the lake can be written; throws a typed StorageAccessError / StorageFullError otherwise. */
  ensureWritable(): Promise<void>;
  begin(finalPath: string): Promise<PendingObject>;
  openRead(path: string): Promise<RandomAccessSource>;
  stat(path: string): Promise<ObjectInfo | null>;
  /** Every object under `prefix` (recursive), excluding staging objects. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  delete(path: string): Promise<void>;
  /** Remove staging objects left by crashed writers (those whose owner process is gone). */
  cleanupStaging(): Promise<number>;
  /** Read a whole (small) object. */
  readAll(path: string): Promise<Uint8Array>;
}
