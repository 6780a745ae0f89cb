/**
 * What the catalog records. Every backend (SQLite now, PostgreSQL later) stores exactly these shapes.
 */

/** A published file of the lake. */
export interface FileRecord {
  /** Path relative to the lake root, `/`-separated. */
  readonly path: string;
  /** Top-level dataset folder: `raw_tick_data`, `quarantine`, ... */
  readonly dataset: string;
  readonly dataType: string | null;
  readonly instrumentKey: string | null;
  readonly day: string | null;
  readonly rows: number;
  readonly bytes: number;
  /** µs, or null for an empty file. */
  readonly minTs: number | null;
  readonly maxTs: number | null;
  /** sha256 (hex) of the file bytes. */
  readonly checksum: string;
  readonly schemaVersion: number;
  readonly codec: string;
  readonly vendor: string | null;
  readonly vendorExchange: string | null;
  readonly vendorSymbol: string | null;
  /** URL of the vendor file (never contains credentials). */
  readonly sourceUrl: string | null;
  /** sha256 (hex) of the vendor file as downloaded. */
  readonly sourceChecksum: string | null;
  readonly sourceBytes: number | null;
  /** True when built from generated (not real) vendor data. */
  readonly generated: boolean;
  readonly codeVersion: string;
  readonly createdAt: number;
}

export type TaskStatus = 'pending' | 'running' | 'done' | 'absent' | 'failed';

/** Identity of an ingestion task: one vendor file. */
export interface TaskKey {
  readonly vendor: string;
  readonly exchange: string;
  readonly dataType: string;
  readonly symbol: string;
  readonly day: string;
}

export interface TaskRecord extends TaskKey {
  readonly id: number;
  readonly status: TaskStatus;
  readonly attempts: number;
  readonly errorCode: string | null;
  readonly error: string | null;
  readonly sourceUrl: string | null;
  readonly sourceChecksum: string | null;
  readonly sourceBytes: number | null;
  readonly rows: number | null;
  readonly badRows: number | null;
  /** First quarantined rows, "line N: reason: raw". */
  readonly badExamples: readonly string[];
  /** Lake paths this task produced. */
  readonly outputs: readonly string[];
  readonly jobId: number | null;
  readonly updatedAt: number;
}

export interface TaskResult {
  readonly status: Exclude<TaskStatus, 'pending' | 'running'>;
  readonly errorCode?: string | null;
  readonly error?: string | null;
  readonly sourceUrl?: string | null;
  readonly sourceChecksum?: string | null;
  readonly sourceBytes?: number | null;
  readonly rows?: number | null;
  readonly badRows?: number | null;
  readonly badExamples?: readonly string[];
  readonly outputs?: readonly string[];
}

export interface JobRecord {
  readonly id: number;
  readonly kind: string;
  /** `created` and `cancelling` are used by managed jobs (src/jobs/) only. */
  readonly status: 'created' | 'running' | 'cancelling' | 'done' | 'failed' | 'cancelled';
  readonly params: Record<string, unknown>;
  readonly summary: Record<string, unknown> | null;
  readonly createdAt: number;
  readonly finishedAt: number | null;
  /** Managed jobs: progress counters (JSON), updated as tasks finish. */
  readonly progress?: Record<string, unknown> | null;
  /** Managed jobs: set by `jobs cancel` (any process); the running process polls it. */
  readonly cancelRequested?: boolean;
  /** When the cancel was requested (ms), or null. */
  readonly cancelRequestedAt?: number | null;
  /** Managed jobs: the process running it, and when it last said it was alive (ms). */
  readonly ownerPid?: number | null;
  readonly ownerHost?: string | null;
  readonly heartbeatAt?: number | null;
  readonly startedAt?: number | null;
}

/** Columns of a job a managed-job runner may change (src/jobs/); undefined = unchanged. */
export interface JobPatch {
  status?: JobRecord['status'];
  summary?: Record<string, unknown> | null;
  progress?: Record<string, unknown> | null;
  cancelRequested?: boolean;
  ownerPid?: number | null;
  ownerHost?: string | null;
  heartbeatAt?: number | null;
  startedAt?: number | null;
  finishedAt?: number | null;
}

/** A file about to be published: recorded before the rename, committed after. */
export interface FileIntent {
  readonly record: FileRecord;
  /** Task to mark done in the same transaction as the commit (if any). */
  readonly createdAt: number;
}

export interface FileQuery {
  dataset?: string;
  dataType?: string;
  instrumentKey?: string;
  /** Inclusive day range. */
  fromDay?: string;
  toDay?: string;
}

/** One task of a download plan: a vendor file, and the instrument it is for (null for grouped files). */
export interface PlanTask extends TaskKey {
  /** Canonical instrument key; null for a grouped vendor file (`OPTIONS`, ...) covering many. */
  readonly instrumentKey: string | null;
}

/** A saved download plan (`ticklake plan`), run later with `ticklake ingest --plan ID`. */
export interface PlanRecord {
  readonly id: number;
  /** The selection that produced it (flags), for display and re-planning. */
  readonly params: Record<string, unknown>;
  /** Counts for display (tasks, instruments, days, data types, ...). */
  readonly summary: Record<string, unknown>;
  readonly createdAt: number;
}

/** Quality metrics of one file (`ticklake check quality`), valid while the file has `checksum`. */
export interface QualityRecord {
  readonly path: string;
  readonly checksum: string;
  readonly dataType: string | null;
  readonly instrumentKey: string | null;
  readonly day: string | null;
  readonly metrics: Readonly<Record<string, number | null>>;
  readonly computedAt: number;
}

/**
 * An earlier content of a lake file, kept when the file was replaced by different bytes
 * (src/lake/snapshots.ts). The live file at `path` is the current version; each snapshot is a
 * verbatim copy at `snapshotPath` (itself a committed file record) and was what `path` held during
 * `[validFrom, validTo)` (ms since the epoch).
 */
export interface FileSnapshot {
  /** The live lake path this was a version of. */
  readonly path: string;
  /** Id of the version, unique per path (the compact UTC time of `validFrom`, e.g. `20240801T120000.123Z`). */
  readonly snapshotId: string;
  /** Where the preserved bytes live (`snapshots/<live path without .parquet>/snapshot=<id>.parquet`). */
  readonly snapshotPath: string;
  /** sha256 (hex) of the preserved bytes (= the live file's checksum while it was current). */
  readonly checksum: string;
  /** sha256 of the vendor file it was built from, when known. */
  readonly sourceChecksum: string | null;
  readonly rows: number;
  readonly bytes: number;
  /** ms: when this content was published at `path`. */
  readonly validFrom: number;
  /** ms: when it was replaced (the replacing content's publication time). */
  readonly validTo: number;
  /** ms: when the snapshot was taken. */
  readonly createdAt: number;
}

export interface Catalog {
  /** Where the catalog lives (path or URL without credentials). */
  readonly location: string;
  close(): Promise<void>;

  /** Record that `record.path` is about to be published (before the rename/PUT). */
  recordIntent(record: FileRecord): Promise<void>;
  /** Pending intents (crash leftovers are repaired from these). */
  listIntents(): Promise<FileRecord[]>;
  dropIntent(path: string, checksum: string): Promise<void>;
  /**
   * In one transaction: make the intents of `paths` the committed file records (replacing older
   * records of those paths) and, when given, store the task result.
   */
  commitFiles(paths: readonly string[], task?: { key: TaskKey; result: TaskResult }): Promise<void>;
  /** Insert/replace committed file records directly (catalog rebuild). */
  putFiles(records: readonly FileRecord[]): Promise<void>;
  getFile(path: string): Promise<FileRecord | null>;
  listFiles(query?: FileQuery): Promise<FileRecord[]>;
  deleteFile(path: string): Promise<void>;

  getTask(key: TaskKey): Promise<TaskRecord | null>;
  /** Create the task if needed and mark it running (attempts + 1). */
  startTask(key: TaskKey, jobId: number | null): Promise<TaskRecord>;
  finishTask(key: TaskKey, result: TaskResult): Promise<void>;
  listTasks(query?: { status?: TaskStatus; jobId?: number }): Promise<TaskRecord[]>;

  createJob(kind: string, params: Record<string, unknown>): Promise<number>;
  finishJob(id: number, status: JobRecord['status'], summary: Record<string, unknown>): Promise<void>;
  getJob(id: number): Promise<JobRecord | null>;
  /** Managed jobs (src/jobs/): insert a job with an explicit status (e.g. `created`); returns its id. */
  insertJob(kind: string, status: JobRecord['status'], params: Record<string, unknown>): Promise<number>;
  /**
   * Managed jobs: apply `patch`; when `expect` is given, only if the job's status is one of
   * `expect.statuses` and (when given) its heartbeat equals `expect.heartbeatAt` (compare-and-set).
   * Returns whether the row was changed.
   */
  updateJob(
    id: number,
    patch: JobPatch,
    expect?: { statuses?: readonly JobRecord['status'][]; heartbeatAt?: number | null },
  ): Promise<boolean>;
  /** Jobs, newest first, optionally of some kinds / statuses / finished before a time (ms). */
  listJobs(q?: { kinds?: readonly string[]; statuses?: readonly JobRecord['status'][]; finishedBefore?: number }): Promise<JobRecord[]>;
  /** Delete job rows; ingest tasks of those jobs are kept (they back files) with job_id set to NULL. */
  deleteJobs(ids: readonly number[]): Promise<number>;

  /**
   * gc (src/lake/gc.ts): in one transaction remove the file records (only where the checksum still
   * matches) and their quality rows, and remember each object as a pending deletion. Returns the
   * paths actually removed from the catalog.
   */
  beginDeletes(files: readonly { path: string; checksum: string }[]): Promise<string[]>;
  /** Pending deletions (objects whose record is gone but whose delete may not have happened). */
  listPendingDeletes(): Promise<{ path: string; checksum: string }[]>;
  finishDelete(path: string): Promise<void>;

  /** Save a plan and its tasks in one transaction; returns the new plan id. */
  savePlan(
    params: Record<string, unknown>,
    summary: Record<string, unknown>,
    tasks: readonly PlanTask[],
  ): Promise<number>;
  getPlan(id: number): Promise<PlanRecord | null>;
  /** The tasks of a plan, in the order they were saved. */
  planTasks(id: number): Promise<PlanTask[]>;
  listPlans(): Promise<PlanRecord[]>;

  /** Store (replace) the quality metrics of files. */
  putQualityMetrics(records: readonly QualityRecord[]): Promise<void>;
  /** Quality metrics of files whose day is in the inclusive range (all when omitted). */
  listQualityMetrics(q?: { fromDay?: string; toDay?: string }): Promise<QualityRecord[]>;

  /**
   * Snapshots (migration 4, src/lake/snapshots.ts). In one transaction: commit the pending intent of
   * `snapshot.snapshotPath` as a file record and upsert the snapshot row.
   */
  commitSnapshot(snapshot: FileSnapshot): Promise<void>;
  /** Snapshot rows, of one live path or all; ordered by path then validFrom. */
  listSnapshots(q?: { path?: string }): Promise<FileSnapshot[]>;
  /** In one transaction: delete a snapshot row and the file record of its snapshot path (retention). */
  deleteSnapshot(path: string, snapshotId: string): Promise<void>;

  /** Delete every file record, intent and task (before a rebuild). */
  clearForRebuild(): Promise<void>;
}
