/**
 * The SQLite catalog (better-sqlite3): one file, WAL journal, synchronous=FULL, so a killed process
 * never loses a committed transaction and never leaves a half-applied one.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CatalogError, StorageAccessError, storageErrorFromFs } from '../../errors.js';
import { LATEST_CATALOG_VERSION, MIGRATIONS } from '../migrations.js';
import type {
  Catalog,
  FileQuery,
  FileRecord,
  JobRecord,
  TaskKey,
  TaskRecord,
  TaskResult,
  TaskStatus,
} from '../types.js';

type Row = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

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

const TASK_WHERE = 'vendor = ? AND exchange = ? AND data_type = ? AND symbol = ? AND day = ?';
const taskKeyParams = (k: TaskKey) => [k.vendor, k.exchange, k.dataType, k.symbol, k.day];

export class SqliteCatalog implements Catalog {
  private readonly db: Database.Database;

  private constructor(
    readonly location: string,
    db: Database.Database,
  ) {
    this.db = db;
  }

  static open(path: string): SqliteCatalog {
    let db: Database.Database;
    try {
      mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 10000');
      db.pragma('foreign_keys = ON');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (
        code === 'EACCES' ||
        code === 'EPERM' ||
        code === 'EROFS' ||
        code === 'ENOSPC' ||
        code === 'ENOTDIR'
      ) {
        throw storageErrorFromFs(path, err);
      }
      if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY') {
        throw new StorageAccessError(
          path,
          'cannot create or open the catalog file (is the lake directory writable?)',
          err,
        );
      }
      throw new CatalogError(`cannot open the catalog ${path}: ${(err as Error).message}`, {
        hint: 'check the path is writable, or run `ticklake catalog rebuild` if the file is damaged',
        cause: err,
      });
    }
    const cat = new SqliteCatalog(path, db);
    cat.migrate();
    return cat;
  }

  private migrate(): void {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    const applied = new Set(
      (this.db.prepare('SELECT version FROM schema_migrations').all() as Row[]).map((r) => num(r.version)),
    );
    const maxApplied = Math.max(0, ...applied);
    if (maxApplied > LATEST_CATALOG_VERSION) {
      throw new CatalogError(
        `catalog ${this.location} has schema version ${maxApplied}, newer than this ticklake understands (${LATEST_CATALOG_VERSION})`,
        { hint: 'upgrade ticklake' },
      );
    }
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      this.db
        .transaction(() => {
          for (const s of m.statements) this.db.exec(s);
          this.db
            .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
            .run(m.version, m.name, Date.now());
        })
        .immediate();
    }
  }

  get schemaVersion(): number {
    const r = this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as Row;
    return num(r.v);
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async recordIntent(record: FileRecord): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO file_intents (path, checksum, record, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (path, checksum) DO UPDATE SET record = excluded.record',
      )
      .run(record.path, record.checksum, JSON.stringify(record), Date.now());
  }

  async listIntents(): Promise<FileRecord[]> {
    return (this.db.prepare('SELECT record FROM file_intents ORDER BY created_at').all() as Row[]).map(
      (r) => JSON.parse(String(r.record)) as FileRecord,
    );
  }

  async dropIntent(path: string, checksum: string): Promise<void> {
    this.db.prepare('DELETE FROM file_intents WHERE path = ? AND checksum = ?').run(path, checksum);
  }

  async commitFiles(paths: readonly string[], task?: { key: TaskKey; result: TaskResult }): Promise<void> {
    const getIntent = this.db.prepare(
      'SELECT record, checksum FROM file_intents WHERE path = ? ORDER BY created_at DESC',
    );
    const upsert = this.db.prepare(UPSERT_FILE);
    const dropAll = this.db.prepare('DELETE FROM file_intents WHERE path = ?');
    this.db
      .transaction(() => {
        for (const p of paths) {
          const row = getIntent.get(p) as Row | undefined;
          if (!row) throw new CatalogError(`no pending intent for ${p}`);
          upsert.run(...fileParams(JSON.parse(String(row.record)) as FileRecord));
          dropAll.run(p);
        }
        if (task) this.finishTaskSync(task.key, task.result);
      })
      .immediate();
  }

  async putFiles(records: readonly FileRecord[]): Promise<void> {
    const upsert = this.db.prepare(UPSERT_FILE);
    this.db
      .transaction(() => {
        for (const r of records) upsert.run(...fileParams(r));
      })
      .immediate();
  }

  async getFile(path: string): Promise<FileRecord | null> {
    const r = this.db.prepare('SELECT * FROM files WHERE path = ?').get(path) as Row | undefined;
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
    const sql = `SELECT * FROM files${where} ORDER BY dataset, data_type, instrument_key, day, path`;
    return (this.db.prepare(sql).all(...used.map(([, v]) => v)) as Row[]).map(fileFromRow);
  }

  async deleteFile(path: string): Promise<void> {
    this.db.prepare('DELETE FROM files WHERE path = ?').run(path);
  }

  async getTask(key: TaskKey): Promise<TaskRecord | null> {
    const r = this.db.prepare(`SELECT * FROM ingest_tasks WHERE ${TASK_WHERE}`).get(...taskKeyParams(key)) as
      | Row
      | undefined;
    return r ? taskFromRow(r) : null;
  }

  async startTask(key: TaskKey, jobId: number | null): Promise<TaskRecord> {
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO ingest_tasks (vendor, exchange, data_type, symbol, day, status, attempts, job_id, updated_at)
         VALUES (?, ?, ?, ?, ?, 'running', 1, ?, ?)
         ON CONFLICT (vendor, exchange, data_type, symbol, day) DO UPDATE SET status = 'running',
         attempts = ingest_tasks.attempts + 1, job_id = excluded.job_id, updated_at = excluded.updated_at`,
      )
      .run(...taskKeyParams(key), jobId, now);
    return (await this.getTask(key))!;
  }

  /** Store a task's result: one upsert (a task finished without being started, e.g. by a rebuild, has 0 attempts). */
  private finishTaskSync(key: TaskKey, r: TaskResult): void {
    this.db
      .prepare(
        `INSERT INTO ingest_tasks (vendor, exchange, data_type, symbol, day, status, attempts, error_code, error, source_url,
         source_checksum, source_bytes, rows, bad_rows, bad_examples, outputs, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (vendor, exchange, data_type, symbol, day) DO UPDATE SET status = excluded.status,
         error_code = excluded.error_code, error = excluded.error,
         source_url = COALESCE(excluded.source_url, ingest_tasks.source_url),
         source_checksum = COALESCE(excluded.source_checksum, ingest_tasks.source_checksum),
         source_bytes = COALESCE(excluded.source_bytes, ingest_tasks.source_bytes), rows = excluded.rows,
         bad_rows = excluded.bad_rows, bad_examples = excluded.bad_examples, outputs = excluded.outputs,
         updated_at = excluded.updated_at`,
      )
      .run(
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
      );
  }

  async finishTask(key: TaskKey, result: TaskResult): Promise<void> {
    this.db.transaction(() => this.finishTaskSync(key, result)).immediate();
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
    return (this.db.prepare(sql).all(...params) as Row[]).map(taskFromRow);
  }

  async createJob(kind: string, params: Record<string, unknown>): Promise<number> {
    const r = this.db
      .prepare("INSERT INTO jobs (kind, status, params, created_at) VALUES (?, 'running', ?, ?)")
      .run(kind, JSON.stringify(params), Date.now());
    return num(r.lastInsertRowid);
  }

  async finishJob(id: number, status: JobRecord['status'], summary: Record<string, unknown>): Promise<void> {
    this.db
      .prepare('UPDATE jobs SET status = ?, summary = ?, finished_at = ? WHERE id = ?')
      .run(status, JSON.stringify(summary), Date.now(), id);
  }

  async getJob(id: number): Promise<JobRecord | null> {
    const r = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    if (!r) return null;
    return {
      id: num(r.id),
      kind: String(r.kind),
      status: String(r.status) as JobRecord['status'],
      params: JSON.parse(String(r.params)) as Record<string, unknown>,
      summary: r.summary ? (JSON.parse(String(r.summary)) as Record<string, unknown>) : null,
      createdAt: num(r.created_at),
      finishedAt: numOrNull(r.finished_at),
    };
  }

  async clearForRebuild(): Promise<void> {
    this.db
      .transaction(() => {
        this.db.exec('DELETE FROM files');
        this.db.exec('DELETE FROM file_intents');
        this.db.exec('DELETE FROM ingest_tasks');
      })
      .immediate();
  }
}
