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
  readonly status: 'running' | 'done' | 'failed' | 'cancelled';
  readonly params: Record<string, unknown>;
  readonly summary: Record<string, unknown> | null;
  readonly createdAt: number;
  readonly finishedAt: number | null;
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

  /** Delete every file record, intent and task (before a rebuild). */
  clearForRebuild(): Promise<void>;
}
