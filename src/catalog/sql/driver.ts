/**
 * The small async driver interface the shared SQL catalog (`SqlCatalog`) runs on. A driver executes
 * SQL written once with `?` placeholders in the shared dialect (see dialect.ts) and offers
 * transactions; SQLite (better-sqlite3) and PostgreSQL (pg Pool) implement it.
 */

export type Dialect = 'sqlite' | 'postgres';

export type Row = Record<string, unknown>;

/** Runs statements; inside a transaction, on the transaction's connection. */
export interface SqlExecutor {
  /** Rows of a SELECT (or of an INSERT/UPDATE ... RETURNING). */
  query(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** A statement without rows; resolves to the number of rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

export interface SqlDriver extends SqlExecutor {
  readonly dialect: Dialect;
  /**
   * Run `fn` in one write transaction: committed when it resolves, rolled back when it throws.
   * `fn` may be re-run when the database asks for a retry (deadlock, serialization failure), so it
   * must only touch the database. Inside `fn` use `tx` only: the driver's own methods wait for the
   * transaction to end (SQLite) or run on another connection (PostgreSQL).
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Column value → number (SQLite may hand back bigint, PostgreSQL BIGINT arrives as a string). */
export const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
