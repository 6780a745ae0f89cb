/**
 * Snapshots: the raw layer is immutable. When a lake file is about to be replaced by different bytes
 * (a vendor republished a file with other content, or a forced re-ingest produced other bytes), the
 * current content is first preserved, verbatim, as a snapshot; the new content then becomes the live
 * file. Every version stays readable until retention deletes its snapshot.
 *
 * Layout and catalog (API for readers, gc and retention):
 * - The live path (`raw_tick_data/by_date/day=D/data_type=T/KEY.parquet`) always holds the LATEST
 *   version, so every existing reader (lake.read, SQL views, DuckDB globs, HTTP) is unchanged.
 * - An earlier version lives at `snapshots/<live path without .parquet>/snapshot=<ID>.parquet`
 *   (layout.ts `snapshotPath`), a byte-for-byte copy (its footer still says dataset `raw_tick_data`).
 *   It is a committed `files` record with dataset `snapshots` (same data type, key, day, rows,
 *   min/max timestamp and checksum as the live file had).
 * - `file_snapshots` (migration 4; `Catalog.listSnapshots / commitSnapshot / deleteSnapshot`) has one
 *   row per earlier version: live `path`, `snapshotId`, `snapshotPath`, `checksum`, `sourceChecksum`,
 *   rows, bytes and `[validFrom, validTo)` in ms. The live file's own validity is
 *   `[files.created_at, ∞)`. `snapshotId` is the compact UTC time of `validFrom`
 *   (`20240801T120000.123Z`), so re-running an interrupted replacement reuses the same id and path.
 * - Retention / gc: delete a version with `catalog.deleteSnapshot(path, id)` (row + file record in
 *   one transaction) and then `storage.delete(snapshotPath)`. A file under `snapshots/` with no
 *   `file_snapshots` row is a crash leftover duplicating the live file: safe to delete.
 *
 * Crash safety (`preserveReplaced`, called by ingest before it publishes): copy the live bytes to the
 * snapshot path through the write protocol (stage → verify the copy hashes to the live checksum →
 * intent → publish), then `commitSnapshot` (file record + snapshot row in one transaction), and only
 * then does the caller publish the new live file. So at every instant the old content exists at the
 * live path, the snapshot path, or both; a crash before the new file is published leaves the old one
 * live (plus a snapshot row describing it, which `versionsOf` folds into the live version).
 *
 * Reads: `resolveVersions(ctx, liveRecords, { asOf })` maps each live record to the version that was
 * current at `asOf` (validFrom ≤ asOf < validTo; files published after `asOf` drop out), and
 * `{ snapshot: id }` to a named version; `lake.read({ ..., asOf | snapshot })` uses it.
 */
import { createHash } from 'node:crypto';
import type { Catalog, FileRecord, FileSnapshot } from '../catalog/types.js';
import { CorruptedFileError, NotFoundError, UsageError } from '../errors.js';
import { ParquetReader } from '../parquet/reader.js';
import { decodeFooter, fileRecordFromFooter } from './footer.js';
import { RAW_TICK_DATA, SNAPSHOTS, snapshotPath } from './layout.js';
import { hashSource, publishStaged } from './publish.js';
import type { Storage } from './storage.js';

/** Datasets whose replaced files are preserved as snapshots. */
export const SNAPSHOTTED_DATASETS: readonly string[] = [RAW_TICK_DATA];

/** Compact UTC id of a ms time: `20240801T120000.123Z` (file-name safe, sorts by time). */
export function snapshotIdOf(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2024-08-01T12:00:00.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17)}`;
}

/** One version of a live file: an earlier snapshot or the current content. */
export interface FileVersion {
  /** Snapshot id; the current version's id is derived from its own publication time. */
  readonly snapshotId: string;
  /** Where its bytes are (the live path for the current version). */
  readonly storedAt: string;
  readonly checksum: string;
  readonly sourceChecksum: string | null;
  readonly rows: number;
  readonly bytes: number;
  readonly validFrom: number;
  /** null for the current version. */
  readonly validTo: number | null;
  readonly current: boolean;
}

/**
 * Every version of one live file, oldest first, the current one last. A snapshot row left by a crash
 * between `commitSnapshot` and the publication of the new content describes the live content itself
 * (same checksum, same validFrom): it is folded into the current version.
 */
export async function versionsOf(catalog: Catalog, live: FileRecord): Promise<FileVersion[]> {
  const snaps = (await catalog.listSnapshots({ path: live.path })).filter(
    (s) => !(s.checksum === live.checksum && s.validFrom >= live.createdAt),
  );
  const out: FileVersion[] = snaps.map((s) => ({
    snapshotId: s.snapshotId,
    storedAt: s.snapshotPath,
    checksum: s.checksum,
    sourceChecksum: s.sourceChecksum,
    rows: s.rows,
    bytes: s.bytes,
    validFrom: s.validFrom,
    validTo: s.validTo,
    current: false,
  }));
  out.push({
    snapshotId: snapshotIdOf(live.createdAt),
    storedAt: live.path,
    checksum: live.checksum,
    sourceChecksum: live.sourceChecksum,
    rows: live.rows,
    bytes: live.bytes,
    validFrom: live.createdAt,
    validTo: null,
    current: true,
  });
  return out;
}

export interface SnapshotContext {
  storage: Storage;
  catalog: Catalog;
}

/**
 * Before `files` replace their live paths: preserve each committed live file whose checksum differs
 * from the replacement (datasets in SNAPSHOTTED_DATASETS only). Returns the snapshots taken. A live
 * file whose bytes no longer match its catalog checksum is not preserved (it is not a version the
 * lake vouched for); the replacement then repairs it.
 */
export async function preserveReplaced(
  ctx: SnapshotContext,
  files: readonly { path: string; record: FileRecord }[],
): Promise<FileSnapshot[]> {
  const taken: FileSnapshot[] = [];
  for (const f of files) {
    if (!SNAPSHOTTED_DATASETS.includes(f.record.dataset)) continue;
    const live = await ctx.catalog.getFile(f.path);
    if (!live || live.checksum === f.record.checksum) continue;
    const snap = await preserveLive(ctx, live, f.record.createdAt);
    if (snap) taken.push(snap);
  }
  return taken;
}

/** Copy one live file to its snapshot path (verified) and commit the snapshot; null when its bytes do not match. */
export async function preserveLive(
  ctx: SnapshotContext,
  live: FileRecord,
  replacedAt: number,
): Promise<FileSnapshot | null> {
  const id = snapshotIdOf(live.createdAt);
  const target = snapshotPath(live.path, id);
  const info = await ctx.storage.stat(live.path);
  if (!info || info.size !== live.bytes) return null;
  const pending = await ctx.storage.begin(target);
  try {
    const h = createHash('sha256');
    const src = await ctx.storage.openRead(live.path);
    try {
      const step = 4 << 20;
      for (let off = 0; off < src.size; off += step) {
        const chunk = await src.read(off, Math.min(step, src.size - off));
        h.update(chunk);
        await pending.sink.write(chunk);
      }
    } finally {
      await src.close();
    }
    if (h.digest('hex') !== live.checksum) {
      await pending.abort();
      return null;
    }
    await pending.seal();
    const staged = await pending.openStaged();
    try {
      if ((await hashSource(staged)) !== live.checksum) {
        throw new CorruptedFileError(target, 'snapshot copy differs from the live file (checksum mismatch)');
      }
    } finally {
      await staged.close();
    }
    const now = Date.now();
    // Intent (naming this writer, so a concurrent recovery leaves it alone) → publish.
    await publishStaged(ctx.catalog, {
      path: target,
      record: { ...live, path: target, dataset: SNAPSHOTS, createdAt: now },
      pending,
    });
    const snap: FileSnapshot = {
      path: live.path,
      snapshotId: id,
      snapshotPath: target,
      checksum: live.checksum,
      sourceChecksum: live.sourceChecksum,
      rows: live.rows,
      bytes: live.bytes,
      validFrom: live.createdAt,
      validTo: Math.max(replacedAt, live.createdAt + 1),
      createdAt: now,
    };
    await ctx.catalog.commitSnapshot(snap);
    return snap;
  } catch (err) {
    await pending.abort().catch(() => {});
    throw err;
  }
}

/** Which version reads pick: what the lake held at `asOf` (ms), or a named snapshot id. */
export interface VersionSelector {
  asOf?: number;
  snapshot?: string;
}

/** The file record of a stored snapshot (catalog record, else rebuilt from its footer after a catalog rebuild). */
async function snapshotRecord(ctx: SnapshotContext, v: FileVersion, live: FileRecord): Promise<FileRecord> {
  const rec = await ctx.catalog.getFile(v.storedAt);
  if (rec && rec.checksum === v.checksum) return { ...rec, dataset: live.dataset };
  const src = await ctx.storage.openRead(v.storedAt).catch((err: unknown) => {
    throw new NotFoundError(
      `snapshot ${v.snapshotId} of ${live.path} is recorded but ${v.storedAt} is missing`,
      {
        hint: 'it may have been removed by retention; list versions with: ticklake snapshots',
        cause: err,
      },
    );
  });
  try {
    const reader = await ParquetReader.open(src, v.storedAt);
    const footer = decodeFooter(reader.metadata.keyValueMetadata);
    if (!footer) throw new CorruptedFileError(v.storedAt, 'snapshot has no ticklake footer');
    return fileRecordFromFooter(v.storedAt, footer, {
      bytes: src.size,
      checksum: v.checksum,
      codec: reader.metadata.codec ?? 'unknown',
      createdAt: v.validFrom,
    });
  } finally {
    await src.close();
  }
}

/**
 * Map live records to the records of the versions selected (same order; files that did not exist at
 * `asOf` are left out). With `snapshot`, every file must have a version of that id.
 */
export async function resolveVersions(
  ctx: SnapshotContext,
  live: readonly FileRecord[],
  sel: VersionSelector,
): Promise<FileRecord[]> {
  if (sel.asOf === undefined && sel.snapshot === undefined) return [...live];
  if (sel.asOf !== undefined && sel.snapshot !== undefined) {
    throw new UsageError('asOf and snapshot cannot be combined', { hint: 'pass one of them' });
  }
  const out: FileRecord[] = [];
  for (const f of live) {
    const versions = await versionsOf(ctx.catalog, f);
    let v: FileVersion | undefined;
    if (sel.snapshot !== undefined) {
      v = versions.find((x) => x.snapshotId === sel.snapshot);
      if (!v) {
        throw new NotFoundError(`${f.path} has no snapshot "${sel.snapshot}"`, {
          hint: `its snapshots: ${versions.map((x) => x.snapshotId).join(', ')} (list with: ticklake snapshots)`,
        });
      }
    } else {
      const t = sel.asOf!;
      v = versions.find((x) => x.validFrom <= t && (x.validTo === null || t < x.validTo));
      if (!v) continue;
    }
    out.push(v.current ? f : await snapshotRecord(ctx, v, f));
  }
  return out;
}

/** Every version of the live files matching `query` (for `ticklake snapshots`). */
export async function listVersions(
  ctx: SnapshotContext,
  query: { dataType?: string; instrumentKey?: string; fromDay?: string; toDay?: string } = {},
): Promise<{ file: FileRecord; versions: FileVersion[] }[]> {
  const files = await ctx.catalog.listFiles({ ...query, dataset: RAW_TICK_DATA });
  const out: { file: FileRecord; versions: FileVersion[] }[] = [];
  for (const file of files) out.push({ file, versions: await versionsOf(ctx.catalog, file) });
  return out;
}
