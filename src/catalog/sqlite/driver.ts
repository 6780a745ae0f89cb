/**
 * `SqlDriver` over better-sqlite3: one connection, WAL journal, synchronous=FULL (a killed process
 * never loses a committed transaction), busy timeout for other processes. better-sqlite3 is
 * synchronous, so the async interface only needs a lock: while a transaction awaits between
 * statements, other callers wait for it instead of slipping into it. The lock is shared by every
 * connection of this process to the same file: otherwise a second connection's write would
 * busy-wait (blocking the thread) on a transaction that needs the thread to finish. Other processes
 * are handled by SQLite's busy timeout. Write transactions are BEGIN IMMEDIATE (the write lock is
 * taken up front, no upgrade deadlock).
 */
import type Database from 'better-sqlite3';
import type { Row, SqlDriver, SqlExecutor } from '../sql/driver.js';

/** Prepared statements kept per connection (SQL text is built from a small set of shapes). */
const STATEMENT_CACHE = 256;

/** Transaction lock for one database file, shared by this process's connections to it. */
interface FileLock {
  /** Transactions queue on this chain, one at a time. */
  tail: Promise<void>;
  /** Resolves when the running transaction ends; null when none runs. */
  running: Promise<void> | null;
  refs: number;
}

const locks = new Map<string, FileLock>();

function acquireLock(key: string): FileLock {
  let lock = locks.get(key);
  if (!lock) {
    lock = { tail: Promise.resolve(), running: null, refs: 0 };
    locks.set(key, lock);
  }
  lock.refs++;
  return lock;
}

export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly lock: FileLock;
  private closed = false;
  private readonly direct: SqlExecutor = {
    query: async (sql, params) => this.querySync(sql, params),
    run: async (sql, params) => this.runSync(sql, params),
  };

  /** `key` names the database file (its absolute path); connections with the same key share a lock. */
  constructor(
    readonly db: Database.Database,
    private readonly key: string,
  ) {
    this.lock = acquireLock(key);
  }

  private prepare(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size >= STATEMENT_CACHE) this.statements.clear();
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  querySync(sql: string, params: readonly unknown[] = []): Row[] {
    const s = this.prepare(sql);
    if (!s.reader) {
      s.run(...params);
      return [];
    }
    return s.all(...params) as Row[];
  }

  runSync(sql: string, params: readonly unknown[] = []): number {
    const s = this.prepare(sql);
    if (s.reader) {
      s.all(...params);
      return 0;
    }
    return s.run(...params).changes;
  }

  // The wait loops stay inline: after the last `await` the statement runs in the same tick, so no
  // transaction can begin in between (a helper's returned promise would add a tick).
  async query(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    while (this.lock.running) await this.lock.running;
    return this.querySync(sql, params);
  }

  async run(sql: string, params?: readonly unknown[]): Promise<number> {
    while (this.lock.running) await this.lock.running;
    return this.runSync(sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const lock = this.lock;
    const previous = lock.tail;
    let release!: () => void;
    const done = new Promise<void>((r) => {
      release = r;
    });
    lock.tail = previous.then(() => done);
    await previous;
    lock.running = done;
    try {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(this.direct);
        this.db.exec('COMMIT');
        return out;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    } finally {
      lock.running = null;
      release();
    }
  }

  /** Synchronous transaction (used to migrate while opening; nothing can interleave with it). */
  transactionSync<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.lock.tail;
    this.closeSync();
  }

  /** Close now (only when no transaction of this connection can be in flight, e.g. a failed open). */
  closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    if (this.db.open) this.db.close();
    if (--this.lock.refs === 0 && locks.get(this.key) === this.lock) locks.delete(this.key);
  }
}
