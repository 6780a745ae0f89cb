/**
 * Retention and garbage collection (`ticklake gc`, `lake.gc`).
 *
 * What goes:
 * - per-day tick data (`raw_tick_data`, `quarantine`, raw snapshots, the `cleaned` layer) of days
 *   older than `retention.rawDays` (0 = keep forever);
 * - old versions beyond `retention.keepVersions`: feature sets (`features/{set}/v{N}/...`, the N
 *   highest versions of each set stay), the cleaned layer (`cleaned/v{N}/...`) and raw snapshots (per live path, the live file counts as one
 *   version, so `keepVersions - 1` snapshots stay);
 * - staging garbage of dead processes;
 * - orphans (`.parquet` files the catalog does not know): reported, deleted only with `orphans`.
 *
 * Safety rule: nothing a current file depends on is deleted. Every file that stays is "current"; the
 * footer lineage of current derived files (candles, book snapshots, features, written datasets) names
 * the lake paths (and sha256) they were built from. A candidate that is such an input (by path, or
 * for a snapshot by live path + checksum: the only copy of that content) is kept and reported as
 * "kept: needed by ...", and its own lineage protects further inputs (fixpoint). If a current
 * file's lineage cannot be read, nothing that could be an input is deleted.
 *
 * Order of a deletion: catalog first, then the object. `beginDeletes` removes the file record (only
 * if its checksum is still the one gc saw) and records a pending deletion in one transaction; then the
 * object is deleted and the pending row dropped. A crash in between leaves an object no reader can
 * reach (reads go through the catalog), never a catalog row without its file; the next gc finishes
 * the pending deletion (unless the path was published again meanwhile, then it only drops the row).
 */
import type { Catalog, FileRecord, FileSnapshot } from '../catalog/types.js';
import type { TicklakeConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { ParquetReader } from '../parquet/reader.js';
import { addDays, dayOfMs } from '../util/time.js';
import { decodeFooter } from './footer.js';
import { CLEANED, FEATURES, QUARANTINE, RAW_TICK_DATA, SNAPSHOTS } from './layout.js';
import type { Storage } from './storage.js';

export interface GcOptions {
  /** Report what would be deleted, delete nothing. */
  dryRun?: boolean;
  /** Also delete orphan `.parquet` files (default: report only). */
  orphans?: boolean;
  /** Override `retention.rawDays` / `retention.keepVersions`. */
  rawDays?: number;
  keepVersions?: number;
  /** "Now" in ms (tests); default Date.now(). */
  now?: number;
}

export type GcReason = 'retention' | 'old-version' | 'orphan' | 'pending';

export interface GcDeletion {
  path: string;
  reason: GcReason;
  bytes: number;
}

export interface GcKept {
  path: string;
  /** Why it was a candidate. */
  reason: GcReason;
  /** Current files whose lineage lists it (or a note when lineage could not be read). */
  neededBy: string[];
}

export interface GcReport {
  dryRun: boolean;
  /** First day kept by raw retention (null when rawDays is 0). */
  rawCutoffDay: string | null;
  keepVersions: number;
  /** Deleted (or, with dryRun, would be deleted). */
  deleted: GcDeletion[];
  kept: GcKept[];
  /** Orphan files found (deleted only with `orphans`, and then also listed in `deleted`). */
  orphans: { path: string; bytes: number }[];
  /** Staging entries of dead processes removed. */
  staging: number;
  bytesFreed: number;
  /** Current files whose lineage could not be read (their inputs were all kept). */
  warnings: string[];
}

export interface GcContext {
  storage: Storage;
  catalog: Catalog;
  config: TicklakeConfig;
}

const RAW_DATASETS = new Set([RAW_TICK_DATA, QUARANTINE]);
/** Per-day tick data under raw retention: raw, quarantine, raw snapshots and the cleaned layer. */
const RETAINED_DATASETS = new Set([RAW_TICK_DATA, QUARANTINE, SNAPSHOTS, CLEANED]);
/** Datasets whose files carry lineage naming lake paths (everything derived). */
const hasLakeLineage = (f: FileRecord) => !RAW_DATASETS.has(f.dataset) && f.dataset !== SNAPSHOTS;
/** Versioned derived datasets: the group (a feature set, or the cleaned layer) and the version. */
function versionOf(f: FileRecord): { group: string; version: number } | null {
  let m: RegExpExecArray | null = null;
  if (f.dataset === FEATURES) m = /^features\/([^/]+)\/v(\d+)\//.exec(f.path);
  else if (f.dataset === CLEANED) m = /^cleaned\/()v(\d+)\//.exec(f.path);
  return m ? { group: `${f.dataset}/${m[1]}`, version: Number(m[2]) } : null;
}

function nonNegInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0) throw new UsageError(`${what} must be an integer >= 0, got ${v}`);
  return v;
}

interface Candidate {
  file: FileRecord;
  reason: GcReason;
  /** For a snapshot: its row (live path + checksum identify the content). */
  snapshot?: FileSnapshot;
}

export async function runGc(ctx: GcContext, opts: GcOptions = {}): Promise<GcReport> {
  const { catalog, storage } = ctx;
  const dryRun = opts.dryRun ?? false;
  const rawDays = nonNegInt(opts.rawDays ?? ctx.config.retention?.rawDays ?? 0, 'retention.rawDays');
  const keepVersions = nonNegInt(
    opts.keepVersions ?? ctx.config.retention?.keepVersions ?? 3,
    'retention.keepVersions',
  );
  const now = opts.now ?? Date.now();
  const rawCutoffDay = rawDays > 0 ? addDays(dayOfMs(now), -rawDays) : null;
  const report: GcReport = {
    dryRun,
    rawCutoffDay,
    keepVersions,
    deleted: [],
    kept: [],
    orphans: [],
    staging: 0,
    bytesFreed: 0,
    warnings: [],
  };

  // 1. Finish deletions a crash interrupted.
  for (const p of await catalog.listPendingDeletes()) {
    if (dryRun) {
      report.deleted.push({
        path: p.path,
        reason: 'pending',
        bytes: (await storage.stat(p.path))?.size ?? 0,
      });
      continue;
    }
    if (!(await catalog.getFile(p.path))) {
      const size = (await storage.stat(p.path))?.size ?? 0;
      await dropSnapshotRowsOf(catalog, p.path);
      await storage.delete(p.path);
      report.deleted.push({ path: p.path, reason: 'pending', bytes: size });
      report.bytesFreed += size;
    }
    await catalog.finishDelete(p.path);
  }

  // 2. Candidates.
  const files = await catalog.listFiles();
  const byPath = new Map(files.map((f) => [f.path, f]));
  const snapshots = typeof catalog.listSnapshots === 'function' ? await catalog.listSnapshots() : [];
  const snapshotByPath = new Map(snapshots.map((s) => [s.snapshotPath, s]));
  const candidates = new Map<string, Candidate>();
  if (rawCutoffDay !== null) {
    for (const f of files) {
      if (RETAINED_DATASETS.has(f.dataset) && f.day !== null && f.day < rawCutoffDay)
        candidates.set(f.path, { file: f, reason: 'retention', snapshot: snapshotByPath.get(f.path) });
    }
  }
  if (keepVersions > 0) {
    const versions = new Map<string, Set<number>>();
    for (const f of files) {
      const v = versionOf(f);
      if (!v) continue;
      if (!versions.has(v.group)) versions.set(v.group, new Set());
      versions.get(v.group)!.add(v.version);
    }
    const keep = new Map<string, Set<number>>();
    for (const [group, vs] of versions)
      keep.set(group, new Set([...vs].sort((a, b) => b - a).slice(0, keepVersions)));
    for (const f of files) {
      const v = versionOf(f);
      if (v && !keep.get(v.group)!.has(v.version) && !candidates.has(f.path))
        candidates.set(f.path, { file: f, reason: 'old-version' });
    }
    // Raw snapshots: the live file is the newest version, so keepVersions - 1 snapshots stay.
    const perLive = new Map<string, FileSnapshot[]>();
    for (const s of snapshots) {
      if (!perLive.has(s.path)) perLive.set(s.path, []);
      perLive.get(s.path)!.push(s);
    }
    for (const list of perLive.values()) {
      const newestFirst = [...list].sort((a, b) => b.validFrom - a.validFrom);
      for (const s of newestFirst.slice(Math.max(0, keepVersions - 1))) {
        const f = byPath.get(s.snapshotPath);
        if (f && !candidates.has(f.path))
          candidates.set(f.path, { file: f, reason: 'old-version', snapshot: s });
      }
    }
  }

  // 3. Protect inputs of current files (fixpoint: a kept candidate's inputs are protected too).
  const neededBy = new Map<string, { sha256: string; by: string }[]>();
  let lineageUnknown = false;
  const addLineage = async (f: FileRecord) => {
    if (!hasLakeLineage(f)) return;
    try {
      const src = await storage.openRead(f.path);
      try {
        const meta = decodeFooter((await ParquetReader.open(src, f.path)).metadata.keyValueMetadata);
        for (const l of meta?.lineage ?? []) {
          if (l.url.includes('://') || l.url.startsWith('ticklake:')) continue;
          if (!neededBy.has(l.url)) neededBy.set(l.url, []);
          neededBy.get(l.url)!.push({ sha256: l.sha256, by: f.path });
        }
      } finally {
        await src.close();
      }
    } catch (err) {
      lineageUnknown = true;
      report.warnings.push(`${f.path}: lineage unreadable (${(err as Error).message.split('\n')[0]})`);
    }
  };
  for (const f of files) if (!candidates.has(f.path)) await addLineage(f);
  const keptReasons = new Map<string, string[]>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const [path, c] of candidates) {
      const by = dependents(c, neededBy);
      if (by.length === 0 && !lineageUnknown) continue;
      candidates.delete(path);
      keptReasons.set(
        path,
        by.length > 0 ? by : ['(lineage of some current files unreadable: see warnings)'],
      );
      report.kept.push({ path, reason: c.reason, neededBy: keptReasons.get(path)! });
      await addLineage(c.file);
      changed = true;
    }
  }

  // 4. Delete: catalog first (records gone + pending rows, one transaction), then the objects.
  const ordered = [...candidates.values()].sort((a, b) => (a.file.path < b.file.path ? -1 : 1));
  if (dryRun) {
    for (const c of ordered)
      report.deleted.push({ path: c.file.path, reason: c.reason, bytes: c.file.bytes });
  } else {
    for (let i = 0; i < ordered.length; i += 500) {
      const batch = ordered.slice(i, i + 500);
      const removed = new Set(
        await catalog.beginDeletes(batch.map((c) => ({ path: c.file.path, checksum: c.file.checksum }))),
      );
      for (const c of batch) {
        if (!removed.has(c.file.path)) continue; // replaced meanwhile: not ours to delete
        if (c.snapshot) await catalog.deleteSnapshot(c.snapshot.path, c.snapshot.snapshotId);
        if (!(await catalog.getFile(c.file.path))) await storage.delete(c.file.path);
        await catalog.finishDelete(c.file.path);
        report.deleted.push({ path: c.file.path, reason: c.reason, bytes: c.file.bytes });
        report.bytesFreed += c.file.bytes;
      }
    }
    report.staging = await storage.cleanupStaging();
  }

  // 5. Orphans: list the objects first, then read the catalog, so a file published meanwhile is known.
  const objects: { path: string; size: number }[] = [];
  for await (const o of storage.list(''))
    if (o.path.endsWith('.parquet')) objects.push({ path: o.path, size: o.size });
  const known = new Set((await catalog.listFiles()).map((f) => f.path));
  for (const r of await catalog.listIntents()) known.add(r.path);
  for (const p of await catalog.listPendingDeletes()) known.add(p.path);
  for (const o of objects.sort((a, b) => (a.path < b.path ? -1 : 1))) {
    if (known.has(o.path)) continue;
    report.orphans.push({ path: o.path, bytes: o.size });
    if (opts.orphans && !dryRun) {
      await storage.delete(o.path);
      report.bytesFreed += o.size;
    }
    if (opts.orphans) report.deleted.push({ path: o.path, reason: 'orphan', bytes: o.size });
  }
  return report;
}

/** Current files that list this candidate as an input. */
function dependents(c: Candidate, neededBy: Map<string, { sha256: string; by: string }[]>): string[] {
  if (c.snapshot) {
    // A snapshot holds the only copy of an earlier content of its live path.
    return (neededBy.get(c.snapshot.path) ?? [])
      .filter((n) => n.sha256 === c.snapshot!.checksum)
      .map((n) => n.by);
  }
  return (neededBy.get(c.file.path) ?? []).map((n) => n.by);
}

async function dropSnapshotRowsOf(catalog: Catalog, snapshotPath: string): Promise<void> {
  if (!snapshotPath.startsWith(`${SNAPSHOTS}/`) || typeof catalog.listSnapshots !== 'function') return;
  for (const s of await catalog.listSnapshots()) {
    if (s.snapshotPath === snapshotPath) await catalog.deleteSnapshot(s.path, s.snapshotId);
  }
}
