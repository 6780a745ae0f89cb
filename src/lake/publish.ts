/**
 * The write protocol (DESIGN.md): stage → verify → record intent → publish → commit.
 *
 * 1. Stream batches into a Parquet file at a staging location, hashing the bytes as they are written.
 * 2. Seal it and verify it by reading it back: the footer must parse, hold the expected row count and
 *    timestamps, and the bytes on disk must hash to what was written.
 * 3. Record an *intent* (path + checksum + full record) in the catalog.
 * 4. Publish: atomic rename (local) / final PUT (object stores).
 * 5. The caller commits the intents (with the task result) in one catalog transaction.
 *
 * A crash before 4 leaves only staging garbage (removed on the next run); a crash between 4 and 5
 * leaves a visible file that *is* recorded — as an intent — and `repairIntents` settles it by
 * checksum. So no partial file is ever visible and no visible file is ever unrecorded.
 *
 * This refines DESIGN.md's "publish → catalog" order by one step (the intent), which is what makes
 * "never an unrecorded file" hold at every instant rather than only after a successful run.
 */

import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Catalog, FileRecord } from '../catalog/types.js';
import type { ColumnBatch, Schema, TimestampColumn } from '../columns/types.js';
import type { Codec } from '../config.js';
import { CorruptedFileError, TicklakeError } from '../errors.js';
import { ParquetReader } from '../parquet/reader.js';
import { ParquetWriter } from '../parquet/writer.js';
import { VERSION } from '../version.js';
import { encodeFooter, type FooterMetadata, fileRecordFromFooter } from './footer.js';
import type { ByteSink, PendingObject, RandomAccessSource, Storage } from './storage.js';

class HashingSink implements ByteSink {
  readonly hash = createHash('sha256');
  constructor(private readonly inner: ByteSink) {}
  get position(): number {
    return this.inner.position;
  }
  async write(chunk: Uint8Array): Promise<void> {
    this.hash.update(chunk);
    await this.inner.write(chunk);
  }
}

/** sha256 (hex) of a whole object, read in 4 MiB slices. */
export async function hashSource(src: RandomAccessSource): Promise<string> {
  const h = createHash('sha256');
  const step = 4 << 20;
  for (let off = 0; off < src.size; off += step) {
    h.update(await src.read(off, Math.min(step, src.size - off)));
  }
  return h.digest('hex');
}

export type FooterInput = Omit<FooterMetadata, 'rows' | 'minTimestamp' | 'maxTimestamp' | 'codeVersion'>;

export interface StagedFile {
  readonly path: string;
  readonly record: FileRecord;
  readonly pending: PendingObject;
}

export interface WriteLakeFileOptions {
  storage: Storage;
  path: string;
  schema: Schema;
  codec: Codec;
  zstdLevel?: number;
  rowGroupRows?: number;
  /**
   * Footer metadata except rows and min/max timestamp, which are measured while writing. A function is
   * called once the batches are exhausted (for metadata known only at the end, like a source checksum
   * while the source is still streaming in).
   */
  footer: FooterInput | (() => FooterInput);
  /** Name of the timestamp column whose min/max go into the footer (default `timestamp`). */
  timestampColumn?: string;
  sortingColumns?: string[];
  /** Sees every batch, in order, before it is written (e.g. quality metrics computed in passing). */
  observe?: (batch: ColumnBatch) => void;
}

/**
 * Stage and verify one Parquet file from a stream of batches. Returns the staged (not yet visible)
 * file; call `publishStaged` to make it visible, or `pending.abort()` to drop it.
 */
export async function stageLakeFile(
  batches: AsyncIterable<ColumnBatch> | Iterable<ColumnBatch>,
  o: WriteLakeFileOptions,
): Promise<StagedFile> {
  const pending = await o.storage.begin(o.path);
  try {
    const sink = new HashingSink(pending.sink);
    const tsName = o.timestampColumn ?? 'timestamp';
    const writer = new ParquetWriter(sink, {
      schema: o.schema,
      codec: o.codec,
      zstdLevel: o.zstdLevel,
      rowGroupRows: o.rowGroupRows,
      sortingColumns: o.sortingColumns,
      createdBy: `ticklake version ${VERSION}`,
    });
    let rows = 0;
    let minTs = Number.POSITIVE_INFINITY;
    let maxTs = Number.NEGATIVE_INFINITY;
    for await (const batch of batches) {
      if (batch.length === 0) continue;
      const ts = batch.columns[tsName] as TimestampColumn | undefined;
      if (ts) {
        const v = ts.values;
        for (let i = 0; i < v.length; i++) {
          const t = v[i]!;
          if (t < minTs) minTs = t;
          if (t > maxTs) maxTs = t;
        }
      }
      rows += batch.length;
      o.observe?.(batch);
      await writer.write(batch);
    }
    const footer: FooterMetadata = {
      ...(typeof o.footer === 'function' ? o.footer() : o.footer),
      rows,
      minTimestamp: rows > 0 && Number.isFinite(minTs) ? minTs : null,
      maxTimestamp: rows > 0 && Number.isFinite(maxTs) ? maxTs : null,
      codeVersion: VERSION,
    };
    for (const [k, v] of Object.entries(encodeFooter(footer))) writer.setMetadata(k, v);
    await writer.close();
    await pending.seal();
    const checksum = sink.hash.digest('hex');
    const bytes = sink.position;
    await verifyStaged(pending, o.path, { rows, checksum, bytes });
    // footer.rows and codeVersion are what was written (rows counted here, VERSION set above).
    const record = fileRecordFromFooter(o.path, footer, {
      bytes,
      checksum,
      codec: o.codec,
      createdAt: Date.now(),
    });
    return { path: o.path, record, pending };
  } catch (err) {
    await pending.abort();
    throw err;
  }
}

async function verifyStaged(
  pending: PendingObject,
  path: string,
  expect: { rows: number; checksum: string; bytes: number },
): Promise<void> {
  const src = await pending.openStaged();
  try {
    if (src.size !== expect.bytes) {
      throw new CorruptedFileError(path, `staged file has ${src.size} bytes, ${expect.bytes} were written`);
    }
    const reader = await ParquetReader.open(src, path);
    if (reader.metadata.numRows !== expect.rows) {
      throw new CorruptedFileError(
        path,
        `staged file footer says ${reader.metadata.numRows} rows, ${expect.rows} were written`,
      );
    }
    const onDisk = await hashSource(src);
    if (onDisk !== expect.checksum) {
      throw new CorruptedFileError(
        path,
        'staged file bytes differ from the bytes written (checksum mismatch)',
      );
    }
  } catch (err) {
    if (err instanceof TicklakeError) throw err;
    throw new CorruptedFileError(path, `verification failed: ${(err as Error).message}`, { cause: err });
  } finally {
    await src.close();
  }
}

/** Record the intent, then make the staged file visible. The caller commits the intents afterwards. */
export async function publishStaged(catalog: Catalog, staged: StagedFile): Promise<void> {
  // The intent names its writer, so recovery elsewhere can tell an in-flight intent from a crash's.
  const writer: IntentWriter = { host: hostname(), pid: process.pid, at: Date.now() };
  await catalog.recordIntent({ ...staged.record, writer } as FileRecord);
  await staged.pending.publish();
}

/** Who recorded an intent (kept in the intent's JSON record). */
export interface IntentWriter {
  host: string;
  pid: number;
  /** ms since the epoch. */
  at: number;
}

/** Intents of writers on other machines are left alone for this long (their liveness is unknown). */
export const REMOTE_INTENT_GRACE_MS = 30 * 60_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether an intent may still be completed by its writer: recorded within the grace period by a live
 * process on this machine (this one included) or by a writer on another machine (whose liveness is
 * unknown). Those are left alone by repair; a dead writer's intent is settled at once.
 */
export function intentInFlight(
  record: FileRecord,
  graceMs = REMOTE_INTENT_GRACE_MS,
  now = Date.now(),
): boolean {
  const w = (record as FileRecord & { writer?: IntentWriter }).writer;
  if (!w || now - w.at >= graceMs) return false; // publish → commit takes seconds, not half an hour
  if (w.host === hostname()) return w.pid === process.pid || pidAlive(w.pid);
  return true;
}

/**
 * Settle intents left by a crash between publish and commit: an intent whose file exists with the
 * intent's checksum is committed; any other intent is dropped. Returns what was done.
 */
export async function repairIntents(
  storage: Storage,
  catalog: Catalog,
  options: { graceMs?: number } = {},
): Promise<{ committed: number; dropped: number }> {
  let committed = 0;
  let dropped = 0;
  for (const intent of await catalog.listIntents()) {
    // Another live writer's intent (same catalog, e.g. sharded workers): not a crash leftover.
    if (intentInFlight(intent, options.graceMs)) continue;
    const info = await storage.stat(intent.path);
    let matches = false;
    if (info && info.size === intent.bytes) {
      const src = await storage.openRead(intent.path);
      try {
        matches = (await hashSource(src)) === intent.checksum;
      } finally {
        await src.close();
      }
    }
    if (matches) {
      await catalog.commitFiles([intent.path]);
      committed++;
    } else {
      await catalog.dropIntent(intent.path, intent.checksum);
      dropped++;
    }
  }
  return { committed, dropped };
}
