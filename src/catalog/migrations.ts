/**
 * Versioned catalog migrations. Each entry runs once, in order, inside a transaction; the applied
 * versions are kept in `schema_migrations`. The SQL is written to run on SQLite and PostgreSQL alike
 * (BIGINT for µs timestamps and byte counts, TEXT for JSON).
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'files, intents, ingestion jobs and tasks',
    statements: [
      `CREATE TABLE files (
        path TEXT PRIMARY KEY,
        dataset TEXT NOT NULL,
        data_type TEXT,
        instrument_key TEXT,
        day TEXT,
        rows BIGINT NOT NULL,
        bytes BIGINT NOT NULL,
        min_ts BIGINT,
        max_ts BIGINT,
        checksum TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        codec TEXT NOT NULL,
        vendor TEXT,
        vendor_exchange TEXT,
        vendor_symbol TEXT,
        source_url TEXT,
        source_checksum TEXT,
        source_bytes BIGINT,
        generated INTEGER NOT NULL DEFAULT 0,
        code_version TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      'CREATE INDEX files_by_key_day ON files (dataset, instrument_key, data_type, day)',
      'CREATE INDEX files_by_day ON files (day)',
      `CREATE TABLE file_intents (
        path TEXT NOT NULL,
        checksum TEXT NOT NULL,
        record TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (path, checksum)
      )`,
      `CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        params TEXT NOT NULL,
        summary TEXT,
        created_at BIGINT NOT NULL,
        finished_at BIGINT
      )`,
      `CREATE TABLE ingest_tasks (
        id INTEGER PRIMARY KEY,
        vendor TEXT NOT NULL,
        exchange TEXT NOT NULL,
        data_type TEXT NOT NULL,
        symbol TEXT NOT NULL,
        day TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        error_code TEXT,
        error TEXT,
        source_url TEXT,
        source_checksum TEXT,
        source_bytes BIGINT,
        rows BIGINT,
        bad_rows BIGINT,
        bad_examples TEXT,
        outputs TEXT,
        job_id INTEGER,
        updated_at BIGINT NOT NULL,
        UNIQUE (vendor, exchange, data_type, symbol, day)
      )`,
      'CREATE INDEX ingest_tasks_by_status ON ingest_tasks (status)',
    ],
  },
  {
    version: 2,
    name: 'download plans and their tasks',
    statements: [
      `CREATE TABLE plans (
        id INTEGER PRIMARY KEY,
        params TEXT NOT NULL,
        summary TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE plan_tasks (
        plan_id BIGINT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        vendor TEXT NOT NULL,
        exchange TEXT NOT NULL,
        data_type TEXT NOT NULL,
        symbol TEXT NOT NULL,
        day TEXT NOT NULL,
        instrument_key TEXT,
        PRIMARY KEY (plan_id, seq)
      )`,
    ],
  },
  {
    version: 3,
    name: 'quality metrics per file',
    statements: [
      `CREATE TABLE quality_metrics (
        path TEXT PRIMARY KEY,
        checksum TEXT NOT NULL,
        data_type TEXT,
        instrument_key TEXT,
        day TEXT,
        metrics TEXT NOT NULL,
        computed_at BIGINT NOT NULL
      )`,
      'CREATE INDEX quality_metrics_by_day ON quality_metrics (day)',
    ],
  },
  {
    version: 4,
    name: 'file snapshots (earlier contents of replaced lake files)',
    statements: [
      `CREATE TABLE file_snapshots (
        path TEXT NOT NULL,
        snapshot_id TEXT NOT NULL,
        snapshot_path TEXT NOT NULL,
        checksum TEXT NOT NULL,
        source_checksum TEXT,
        rows BIGINT NOT NULL,
        bytes BIGINT NOT NULL,
        valid_from BIGINT NOT NULL,
        valid_to BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (path, snapshot_id)
      )`,
      'CREATE INDEX file_snapshots_by_valid_to ON file_snapshots (valid_to)',
    ],
  },
  {
    // Version 4 is the raw snapshots migration (src/lake/snapshots*.ts); versions are applied by number.
    version: 5,
    name: 'managed jobs (progress, owner, heartbeat, cancel flag) and pending gc deletions',
    statements: [
      'ALTER TABLE jobs ADD COLUMN progress TEXT',
      // 0, or the time (ms) a cancel was requested.
      'ALTER TABLE jobs ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0',
      'ALTER TABLE jobs ADD COLUMN owner_pid INTEGER',
      'ALTER TABLE jobs ADD COLUMN owner_host TEXT',
      'ALTER TABLE jobs ADD COLUMN heartbeat_at BIGINT',
      'ALTER TABLE jobs ADD COLUMN started_at BIGINT',
      'CREATE INDEX jobs_by_kind ON jobs (kind, status)',
      `CREATE TABLE gc_deletes (
        path TEXT PRIMARY KEY,
        checksum TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
    ],
  },
];

export const LATEST_CATALOG_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
