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
];

export const LATEST_CATALOG_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
