/**
 * `SqlCatalog` — the catalog logic, written once for every SQL backend over a small async driver
 * (driver.ts). SQL here uses `?` placeholders and syntax both SQLite and PostgreSQL accept
 * (upserts with ON CONFLICT, RETURNING, NULLS FIRST); dialect.ts translates what differs.
 * Concurrency: every read-modify-write is one statement (startTask's attempts + 1 is an atomic
 * upsert) or runs in a driver transaction (commitFiles, savePlan), so concurrent writers never lose
 * an update. Adding a catalog method means adding it here only.
 */
import { CatalogError } from '../../errors.js';
import type {
  Catalog,
  FileQuery,
  FileSnapshot,
  FileRecord,
  JobPatch,
  JobRecord,
  PlanRecord,
  PlanTask,
  QualityRecord,
  TaskKey,
  TaskRecord,
  TaskResult,
  TaskStatus,
} from '../types.js';
import { num, numOrNull, type Row, type SqlDriver, type SqlExecutor, strOrNull } from './driver.js';

function fileFromRow(r: Row): FileRecord {
  return {
    path: String(r.path),
    dataset: String(r.dataset),
    dataType: strOrNull(r.data_type),
    instrumentKey: strOrNull(r.instrument_key),
    day: strOrNull(r.day),
    rows: num(r.rows),
    bytes: num(r.bytes),
    minTs: numOrNull(r.min_ts),
    maxTs: numOrNull(r.max_ts),
    checksum: String(r.checksum),
    schemaVersion: num(r.schema_version),
    codec: String(r.codec),
    vendor: strOrNull(r.vendor),
    vendorExchange: strOrNull(r.vendor_exchange),
    vendorSymbol: strOrNull(r.vendor_symbol),
    sourceUrl: strOrNull(r.source_url),
    sourceChecksum: strOrNull(r.source_checksum),
    sourceBytes: numOrNull(r.source_bytes),
    generated: num(r.generated) === 1,
    codeVersion: String(r.code_version),
    createdAt: num(r.created_at),
  };
}

function fileParams(f: FileRecord): unknown[] {
  return [
    f.path,
    f.dataset,
    f.dataType,
    f.instrumentKey,
    f.day,
    f.rows,
    f.bytes,
    f.minTs,
    f.maxTs,
    f.checksum,
    f.schemaVersion,
    f.codec,
    f.vendor,
    f.vendorExchange,
    f.vendorSymbol,
    f.sourceUrl,
    f.sourceChecksum,
    f.sourceBytes,
    f.generated ? 1 : 0,
    f.codeVersion,
    f.createdAt,
  ];
}

const UPSERT_FILE = `INSERT INTO files (path, dataset, data_type, instrument_key, day, rows, bytes, min_ts, max_ts, checksum,
  schema_version, codec, vendor, vendor_exchange, vendor_symbol, source_url, source_checksum, source_bytes, generated,
  code_version, created_at) VALUES (${new Array(21).fill('?').join(', ')})
  ON CONFLICT (path) DO UPDATE SET dataset = excluded.dataset, data_type = excluded.data_type,
  instrument_key = excluded.instrument_key, day = excluded.day, rows = excluded.rows, bytes = excluded.bytes,
  min_ts = excluded.min_ts, max_ts = excluded.max_ts, checksum = excluded.checksum,
  schema_version = excluded.schema_version, codec = excluded.codec, vendor = excluded.vendor,
  vendor_exchange = excluded.vendor_exchange, vendor_symbol = excluded.vendor_symbol, source_url = excluded.source_url,
  source_checksum = excluded.source_checksum, source_bytes = excluded.source_bytes, generated = excluded.generated,
  code_version = excluded.code_version, created_at = excluded.created_at`;

function taskFromRow(r: Row): TaskRecord {
  return {
    id: num(r.id),
    vendor: String(r.vendor),
    exchange: String(r.exchange),
    dataType: String(r.data_type),
    symbol: String(r.symbol),
    day: String(r.day),
    status: String(r.status) as TaskStatus,
    attempts: num(r.attempts),
    errorCode: strOrNull(r.error_code),
    error: strOrNull(r.error),
    sourceUrl: strOrNull(r.source_url),
    sourceChecksum: strOrNull(r.source_checksum),
    sourceBytes: numOrNull(r.source_bytes),
    rows: numOrNull(r.rows),
    badRows: numOrNull(r.bad_rows),
    badExamples: r.bad_examples ? (JSON.parse(String(r.bad_examples)) as string[]) : [],
    outputs: r.outputs ? (JSON.parse(String(r.outputs)) as string[]) : [],
    jobId: numOrNull(r.job_id),
    updatedAt: num(r.updated_at),
  };
}

function jobFromRow(r: Row): JobRecord {
  return {
    id: num(r.id),
    kind: String(r.kind),
    status: String(r.status) as JobRecord['status'],
    params: JSON.parse(String(r.params)) as Record<string, unknown>,
    summary: r.summary ? (JSON.parse(String(r.summary)) as Record<string, unknown>) : null,
    createdAt: num(r.created_at),
    finishedAt: numOrNull(r.finished_at),
    progress: r.progress ? (JSON.parse(String(r.progress)) as Record<string, unknown>) : null,
    cancelRequested: r.cancel_requested != null && num(r.cancel_requested) !== 0,
    cancelRequestedAt: r.cancel_requested != null && num(r.cancel_requested) !== 0 ? num(r.cancel_requested) : null,
    ownerPid: numOrNull(r.owner_pid),
    ownerHost: strOrNull(r.owner_host),
    heartbeatAt: numOrNull(r.heartbeat_at),
    startedAt: numOrNull(r.started_at),
  };
}

function planFromRow(r: Row): PlanRecord {
  return {
    id: num(r.id),
    params: JSON.parse(String(r.params)) as Record<string, unknown>,
    summary: JSON.parse(String(r.summary)) as Record<string, unknown>,
    createdAt: num(r.created_at),
  };
}

const TASK_WHERE = 'vendor = ? AND exchange = ? AND data_type = ? AND symbol = ? AND day = ?';
const taskKeyParams = (k: TaskKey) => [k.vendor, k.exchange, k.dataType, k.symbol, k.day];

const START_TASK = `INSERT INTO ingest_tasks (vendor, exchange, data_type, symbol, day, status, attempts, job_id, updated_at)
  VALUES (?, ?, ?, ?, ?, 'running', 1, ?, ?)
  ON CONFLICT (vendor, exchange, data_type, symbol, day) DO UPDATE SET status = 'running',
  attempts = ingest_tasks.attempts + 1, job_id = excluded.job_id, updated_at = excluded.updated_at
  RETURNING *`;

/** A task finished without being started (e.g. by a rebuild) has 0 attempts. */
const FINISH_TASK = `INSERT INTO ingest_tasks (vendor, exchange, data_type, symbol, day, status, attempts, error_code, error,
  source_url, source_checksum, source_bytes, rows, bad_rows, bad_examples, outputs, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (vendor, exchange, data_type, symbol, day) DO UPDATE SET status = excluded.status,
  error_code = excluded.error_code, error = excluded.error,
  source_url = COALESCE(excluded.source_url, ingest_tasks.source_url),
  source_checksum = COALESCE(excluded.source_checksum, ingest_tasks.source_checksum),
  source_bytes = COALESCE(excluded.source_bytes, ingest_tasks.source_bytes), rows = excluded.rows,
  bad_rows = excluded.bad_rows, bad_examples = excluded.bad_examples, outputs = excluded.outputs,
  updated_at = excluded.updated_at`;

function finishTaskParams(key: TaskKey, r: TaskResult): unknown[] {
  return [
    ...taskKeyParams(key),
    r.status,
    r.errorCode ?? null,
    r.error ?? null,
    r.sourceUrl ?? null,
    r.sourceChecksum ?? null,
    r.sourceBytes ?? null,
    r.rows ?? null,
    r.badRows ?? null,
    JSON.stringify(r.badExamples ?? []),
    JSON.stringify(r.outputs ?? []),
    Date.now(),
  ];
}

/** Plan tasks per INSERT (8 parameters each: well under SQLite's and PostgreSQL's limits). */
const PLAN_BATCH = 1000;
const PLAN_ROW = '(?, ?, ?, ?, ?, ?, ?, ?)';
const insertPlanTasks = (n: number) =>
  `INSERT INTO plan_tasks (plan_id, seq, vendor, exchange, data_type, symbol, day, instrument_key) VALUES ${new Array(n).fill(PLAN_ROW).join(', ')}`;
const INSERT_PLAN_TASKS_FULL = insertPlanTasks(PLAN_BATCH);

export class SqlCatalog implements Catalog {
  constructor(
    /** Where the catalog lives (path, or URL without credentials). */
    readonly location: string,
    protected readonly db: SqlDriver,
    /** Highest schema version applied (set when opened). */
    readonly schemaVersion: number,
  ) {}

  async close(): Promise<void> {
    await this.db.close();
  }

  async recordIntent(record: FileRecord): Promise<void> {
    await this.db.run(
      'INSERT INTO file_intents (path, checksum, record, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (path, checksum) DO UPDATE SET record = excluded.record',
      [record.path, record.checksum, JSON.stringify(record), Date.now()],
    );
  }

  async listIntents(): Promise<FileRecord[]> {
    return (await this.db.query('SELECT record FROM file_intents ORDER BY created_at, path, checksum')).map(
      (r) => JSON.parse(String(r.record)) as FileRecord,
    );
  }

  async dropIntent(path: string, checksum: string): Promise<void> {
    await this.db.run('DELETE FROM file_intents WHERE path = ? AND checksum = ?', [path, checksum]);
  }

  async commitFiles(paths: readonly string[], task?: { key: TaskKey; result: TaskResult }): Promise<void> {
    // Sorted, so concurrent commits of overlapping paths lock rows in the same order (no deadlock).
    const ordered = [...new Set(paths)].sort();
    await this.db.transaction(async (tx) => {
      for (const p of ordered) {
        const [row] = await tx.query(
          'SELECT record FROM file_intents WHERE path = ? ORDER BY created_at DESC LIMIT 1',
          [p],
        );
        if (!row) {
          // Settled already (a recovering process committed this writer's intent): nothing to do.
          const [done] = await tx.query('SELECT path FROM files WHERE path = ?', [p]);
          if (done) continue;
          throw new CatalogError(`no pending intent for ${p}`);
        }
        await tx.run(UPSERT_FILE, fileParams(JSON.parse(String(row.record)) as FileRecord));
        await tx.run('DELETE FROM file_intents WHERE path = ?', [p]);
      }
      if (task) await tx.run(FINISH_TASK, finishTaskParams(task.key, task.result));
    });
  }

  async putFiles(records: readonly FileRecord[]): Promise<void> {
    // Last record per path wins; sorted by path so concurrent writers lock rows in one order.
    const byPath = new Map(records.map((r) => [r.path, r]));
    const ordered = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    await this.db.transaction(async (tx) => {
      for (const r of ordered) await tx.run(UPSERT_FILE, fileParams(r));
    });
  }

  async getFile(path: string): Promise<FileRecord | null> {
    const [r] = await this.db.query('SELECT * FROM files WHERE path = ?', [path]);
    return r ? fileFromRow(r) : null;
  }

  async listFiles(q: FileQuery = {}): Promise<FileRecord[]> {
    const filters: [string, string | undefined][] = [
      ['dataset = ?', q.dataset],
      ['data_type = ?', q.dataType],
      ['instrument_key = ?', q.instrumentKey],
      ['day >= ?', q.fromDay],
      ['day <= ?', q.toDay],
    ];
    const used = filters.filter(([, v]) => v !== undefined);
    const where = used.length ? ` WHERE ${used.map(([c]) => c).join(' AND ')}` : '';
    const sql = `SELECT * FROM files${where} ORDER BY dataset, data_type NULLS FIRST, instrument_key NULLS FIRST, day NULLS FIRST, path`;
    return (
      await this.db.query(
        sql,
        used.map(([, v]) => v),
      )
    ).map(fileFromRow);
  }

  async deleteFile(path: string): Promise<void> {
    await this.db.run('DELETE FROM files WHERE path = ?', [path]);
  }

  async getTask(key: TaskKey): Promise<TaskRecord | null> {
    const [r] = await this.db.query(`SELECT * FROM ingest_tasks WHERE ${TASK_WHERE}`, taskKeyParams(key));
    return r ? taskFromRow(r) : null;
  }

  async startTask(key: TaskKey, jobId: number | null): Promise<TaskRecord> {
    const [r] = await this.db.query(START_TASK, [...taskKeyParams(key), jobId, Date.now()]);
    return taskFromRow(r!);
  }

  async finishTask(key: TaskKey, result: TaskResult): Promise<void> {
    await this.db.run(FINISH_TASK, finishTaskParams(key, result));
  }

  async listTasks(q: { status?: TaskStatus; jobId?: number } = {}): Promise<TaskRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.status) {
      where.push('status = ?');
      params.push(q.status);
    }
    if (q.jobId !== undefined) {
      where.push('job_id = ?');
      params.push(q.jobId);
    }
    const sql = `SELECT * FROM ingest_tasks${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY day, exchange, data_type, symbol`;
    return (await this.db.query(sql, params)).map(taskFromRow);
  }

  async createJob(kind: string, params: Record<string, unknown>): Promise<number> {
    const [r] = await this.db.query(
      "INSERT INTO jobs (kind, status, params, created_at) VALUES (?, 'running', ?, ?) RETURNING id",
      [kind, JSON.stringify(params), Date.now()],
    );
    return num(r!.id);
  }

  async finishJob(id: number, status: JobRecord['status'], summary: Record<string, unknown>): Promise<void> {
    await this.db.run('UPDATE jobs SET status = ?, summary = ?, finished_at = ? WHERE id = ?', [
      status,
      JSON.stringify(summary),
      Date.now(),
      id,
    ]);
  }

  async getJob(id: number): Promise<JobRecord | null> {
    const [r] = await this.db.query('SELECT * FROM jobs WHERE id = ?', [id]);
    return r ? jobFromRow(r) : null;
  }

  async insertJob(kind: string, status: JobRecord['status'], params: Record<string, unknown>): Promise<number> {
    const [r] = await this.db.query(
      'INSERT INTO jobs (kind, status, params, created_at) VALUES (?, ?, ?, ?) RETURNING id',
      [kind, status, JSON.stringify(params), Date.now()],
    );
    return num(r!.id);
  }

  async updateJob(
    id: number,
    patch: JobPatch,
    expect?: { statuses?: readonly JobRecord['status'][]; heartbeatAt?: number | null },
  ): Promise<boolean> {
    const sets: string[] = [];
    const params: unknown[] = [];
    const set = (col: string, v: unknown) => {
      sets.push(`${col} = ?`);
      params.push(v);
    };
    if (patch.status !== undefined) set('status', patch.status);
    if (patch.summary !== undefined) set('summary', patch.summary === null ? null : JSON.stringify(patch.summary));
    if (patch.progress !== undefined)
      set('progress', patch.progress === null ? null : JSON.stringify(patch.progress));
    // Stored as the request time (ms), 0 when none.
    if (patch.cancelRequested !== undefined) set('cancel_requested', patch.cancelRequested ? Date.now() : 0);
    if (patch.ownerPid !== undefined) set('owner_pid', patch.ownerPid);
    if (patch.ownerHost !== undefined) set('owner_host', patch.ownerHost);
    if (patch.heartbeatAt !== undefined) set('heartbeat_at', patch.heartbeatAt);
    if (patch.startedAt !== undefined) set('started_at', patch.startedAt);
    if (patch.finishedAt !== undefined) set('finished_at', patch.finishedAt);
    if (sets.length === 0) return true;
    let where = 'id = ?';
    params.push(id);
    if (expect?.statuses) {
      if (expect.statuses.length === 0) return false;
      where += ` AND status IN (${expect.statuses.map(() => '?').join(', ')})`;
      params.push(...expect.statuses);
    }
    if (expect && 'heartbeatAt' in expect) {
      if (expect.heartbeatAt === null || expect.heartbeatAt === undefined) where += ' AND heartbeat_at IS NULL';
      else {
        where += ' AND heartbeat_at = ?';
        params.push(expect.heartbeatAt);
      }
    }
    return (await this.db.run(`UPDATE jobs SET ${sets.join(', ')} WHERE ${where}`, params)) > 0;
  }

  async listJobs(
    q: { kinds?: readonly string[]; statuses?: readonly JobRecord['status'][]; finishedBefore?: number } = {},
  ): Promise<JobRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.kinds) {
      if (q.kinds.length === 0) return [];
      where.push(`kind IN (${q.kinds.map(() => '?').join(', ')})`);
      params.push(...q.kinds);
    }
    if (q.statuses) {
      if (q.statuses.length === 0) return [];
      where.push(`status IN (${q.statuses.map(() => '?').join(', ')})`);
      params.push(...q.statuses);
    }
    if (q.finishedBefore !== undefined) {
      where.push('finished_at IS NOT NULL AND finished_at < ?');
      params.push(q.finishedBefore);
    }
    const rows = await this.db.query(
      `SELECT * FROM jobs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC`,
      params,
    );
    return rows.map(jobFromRow);
  }

  async deleteJobs(ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const sorted = [...new Set(ids)].sort((a, b) => a - b);
    return this.db.transaction(async (tx) => {
      let n = 0;
      for (const id of sorted) {
        await tx.run('UPDATE ingest_tasks SET job_id = NULL WHERE job_id = ?', [id]);
        n += await tx.run('DELETE FROM jobs WHERE id = ?', [id]);
      }
      return n;
    });
  }

  async beginDeletes(files: readonly { path: string; checksum: string }[]): Promise<string[]> {
    const ordered = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return this.db.transaction(async (tx) => {
      const removed: string[] = [];
      for (const f of ordered) {
        const n = await tx.run('DELETE FROM files WHERE path = ? AND checksum = ?', [f.path, f.checksum]);
        if (n === 0) continue;
        await tx.run('DELETE FROM quality_metrics WHERE path = ?', [f.path]);
        await tx.run(
          'INSERT INTO gc_deletes (path, checksum, created_at) VALUES (?, ?, ?) ON CONFLICT (path) DO UPDATE SET checksum = excluded.checksum, created_at = excluded.created_at',
          [f.path, f.checksum, Date.now()],
        );
        removed.push(f.path);
      }
      return removed;
    });
  }

  async listPendingDeletes(): Promise<{ path: string; checksum: string }[]> {
    return (await this.db.query('SELECT path, checksum FROM gc_deletes ORDER BY path')).map((r) => ({
      path: String(r.path),
      checksum: String(r.checksum),
    }));
  }

  async finishDelete(path: string): Promise<void> {
    await this.db.run('DELETE FROM gc_deletes WHERE path = ?', [path]);
  }

  async savePlan(
    params: Record<string, unknown>,
    summary: Record<string, unknown>,
    tasks: readonly PlanTask[],
  ): Promise<number> {
    return this.db.transaction(async (tx) => {
      const [r] = await tx.query(
        'INSERT INTO plans (params, summary, created_at) VALUES (?, ?, ?) RETURNING id',
        [JSON.stringify(params), JSON.stringify(summary), Date.now()],
      );
      const id = num(r!.id);
      await insertPlanBatches(tx, id, tasks);
      return id;
    });
  }

  async getPlan(id: number): Promise<PlanRecord | null> {
    const [r] = await this.db.query('SELECT * FROM plans WHERE id = ?', [id]);
    return r ? planFromRow(r) : null;
  }

  async planTasks(id: number): Promise<PlanTask[]> {
    const rows = await this.db.query(
      'SELECT vendor, exchange, data_type, symbol, day, instrument_key FROM plan_tasks WHERE plan_id = ? ORDER BY seq',
      [id],
    );
    return rows.map((r) => ({
      vendor: String(r.vendor),
      exchange: String(r.exchange),
      dataType: String(r.data_type),
      symbol: String(r.symbol),
      day: String(r.day),
      instrumentKey: strOrNull(r.instrument_key),
    }));
  }

  async listPlans(): Promise<PlanRecord[]> {
    return (await this.db.query('SELECT * FROM plans ORDER BY id')).map(planFromRow);
  }

  async putQualityMetrics(records: readonly QualityRecord[]): Promise<void> {
    if (records.length === 0) return;
    const sorted = [...records].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    await this.db.transaction(async (tx) => {
      for (const r of sorted) {
        await tx.run(
          `INSERT INTO quality_metrics (path, checksum, data_type, instrument_key, day, metrics, computed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (path) DO UPDATE SET checksum = excluded.checksum, data_type = excluded.data_type,
             instrument_key = excluded.instrument_key, day = excluded.day, metrics = excluded.metrics,
             computed_at = excluded.computed_at`,
          [r.path, r.checksum, r.dataType, r.instrumentKey, r.day, JSON.stringify(r.metrics), r.computedAt],
        );
      }
    });
  }

  async listQualityMetrics(q: { fromDay?: string; toDay?: string } = {}): Promise<QualityRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.fromDay !== undefined) {
      where.push('day >= ?');
      params.push(q.fromDay);
    }
    if (q.toDay !== undefined) {
      where.push('day <= ?');
      params.push(q.toDay);
    }
    const rows = await this.db.query(
      `SELECT * FROM quality_metrics${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY path`,
      params,
    );
    return rows.map((r) => ({
      path: String(r.path),
      checksum: String(r.checksum),
      dataType: strOrNull(r.data_type),
      instrumentKey: strOrNull(r.instrument_key),
      day: strOrNull(r.day),
      metrics: JSON.parse(String(r.metrics)) as Record<string, number | null>,
      computedAt: num(r.computed_at),
    }));
  }

  async commitSnapshot(snap: FileSnapshot): Promise<void> {
    await this.db.transaction(async (tx) => {
      const [row] = await tx.query(
        'SELECT record FROM file_intents WHERE path = ? ORDER BY created_at DESC LIMIT 1',
        [snap.snapshotPath],
      );
      if (row) {
        await tx.run(UPSERT_FILE, fileParams(JSON.parse(String(row.record)) as FileRecord));
        await tx.run('DELETE FROM file_intents WHERE path = ?', [snap.snapshotPath]);
      } else {
        const [f] = await tx.query('SELECT checksum FROM files WHERE path = ?', [snap.snapshotPath]);
        if (!f || String(f.checksum) !== snap.checksum) {
          throw new CatalogError(`no pending intent or file record for snapshot ${snap.snapshotPath}`);
        }
      }
      await tx.run(
        `INSERT INTO file_snapshots (path, snapshot_id, snapshot_path, checksum, source_checksum, rows, bytes,
           valid_from, valid_to, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (path, snapshot_id) DO UPDATE SET snapshot_path = excluded.snapshot_path,
           checksum = excluded.checksum, source_checksum = excluded.source_checksum, rows = excluded.rows,
           bytes = excluded.bytes, valid_from = excluded.valid_from, valid_to = excluded.valid_to,
           created_at = excluded.created_at`,
        [
          snap.path,
          snap.snapshotId,
          snap.snapshotPath,
          snap.checksum,
          snap.sourceChecksum,
          snap.rows,
          snap.bytes,
          snap.validFrom,
          snap.validTo,
          snap.createdAt,
        ],
      );
    });
  }

  async listSnapshots(q: { path?: string } = {}): Promise<FileSnapshot[]> {
    const rows = await this.db.query(
      `SELECT * FROM file_snapshots${q.path !== undefined ? ' WHERE path = ?' : ''} ORDER BY path, valid_from, snapshot_id`,
      q.path !== undefined ? [q.path] : [],
    );
    return rows.map((r) => ({
      path: String(r.path),
      snapshotId: String(r.snapshot_id),
      snapshotPath: String(r.snapshot_path),
      checksum: String(r.checksum),
      sourceChecksum: strOrNull(r.source_checksum),
      rows: num(r.rows),
      bytes: num(r.bytes),
      validFrom: num(r.valid_from),
      validTo: num(r.valid_to),
      createdAt: num(r.created_at),
    }));
  }

  async deleteSnapshot(path: string, snapshotId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const [r] = await tx.query(
        'SELECT snapshot_path FROM file_snapshots WHERE path = ? AND snapshot_id = ?',
        [path, snapshotId],
      );
      if (!r) return;
      await tx.run('DELETE FROM file_snapshots WHERE path = ? AND snapshot_id = ?', [path, snapshotId]);
      await tx.run('DELETE FROM files WHERE path = ?', [String(r.snapshot_path)]);
    });
  }

  async clearForRebuild(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM files');
      await tx.run('DELETE FROM file_intents');
      await tx.run('DELETE FROM ingest_tasks');
    });
  }
}

async function insertPlanBatches(tx: SqlExecutor, planId: number, tasks: readonly PlanTask[]): Promise<void> {
  for (let start = 0; start < tasks.length; start += PLAN_BATCH) {
    const n = Math.min(PLAN_BATCH, tasks.length - start);
    const values: unknown[] = new Array(n * 8);
    for (let i = 0; i < n; i++) {
      const t = tasks[start + i]!;
      const o = i * 8;
      values[o] = planId;
      values[o + 1] = start + i;
      values[o + 2] = t.vendor;
      values[o + 3] = t.exchange;
      values[o + 4] = t.dataType;
      values[o + 5] = t.symbol;
      values[o + 6] = t.day;
      values[o + 7] = t.instrumentKey ?? null;
    }
    await tx.run(n === PLAN_BATCH ? INSERT_PLAN_TASKS_FULL : insertPlanTasks(n), values);
  }
}
