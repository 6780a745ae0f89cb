/**
 * `SqlDriver` over node-postgres (`pg` Pool). Statements are translated once per SQL text (`?` →
 * `$n`); BIGINT columns come back as numbers (every catalog BIGINT — µs timestamps, byte and row
 * counts — is within 2^53). Transactions run on one pooled connection and are retried when
 * PostgreSQL reports a deadlock or serialization failure. Connection failures become
 * `CatalogUnavailableError` naming the credential-free URL.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { CatalogUnavailableError } from '../../errors.js';
import { toDollarPlaceholders } from '../sql/dialect.js';
import type { Row, SqlDriver, SqlExecutor } from '../sql/driver.js';
import { scrub } from './url.js';

const INT8_OID = 20;
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** SQLSTATEs worth re-running a whole transaction for. */
const RETRY_STATES = new Set(['40001', '40P01']);
const MAX_TX_ATTEMPTS = 8;
/** Statements with at least this many parameters are prepared once per connection. */
const NAMED_MIN_PARAMS = 256;

const NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** True for errors meaning "cannot reach / log in to / use the server", not a bad statement. */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (NET_CODES.has(code)) return true;
    // 08: connection exception; 28: invalid authorization; 3D000: no such database;
    // 57P01-57P03: server shutting down / starting; 53300: too many connections.
    if (/^(08|28)/.test(code) || code === '3D000' || /^57P0[123]$/.test(code) || code === '53300')
      return true;
  }
  const msg = err instanceof Error ? err.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED/i.test(msg);
}

export interface PostgresDriverOptions {
  /** Connection string with credentials. */
  url: string;
  /** Credential-free URL for messages. */
  location: string;
  /** Password forms never to show. */
  secrets: readonly string[];
  /** Pool size (default 8). */
  max?: number;
  /** Give up connecting after this long (default 10 s). */
  connectTimeoutMs?: number;
}

export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly sqlCache = new Map<string, string>();
  private closed = false;

  constructor(private readonly opts: PostgresDriverOptions) {
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.max ?? 8,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
      types: TYPES,
      application_name: 'ticklake',
    });
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    this.pool.on('error', () => {});
  }

  /**
   * The statement for `text` with `$n` placeholders. Statements with many parameters (batch inserts)
   * are named, so each connection parses them once; the rest stay unnamed so a schema migrated by a
   * newer process never meets a stale cached plan here.
   */
  private sql(text: string, params: readonly unknown[]): pg.QueryConfig {
    let s = this.sqlCache.get(text);
    if (s === undefined) {
      if (this.sqlCache.size >= 512) this.sqlCache.clear();
      s = toDollarPlaceholders(text);
      this.sqlCache.set(text, s);
    }
    const values = params as unknown[];
    if (params.length < NAMED_MIN_PARAMS) return { text: s, values };
    return { name: `tl_${createHash('sha1').update(text).digest('hex')}`, text: s, values };
  }

  /** Map a pg error: connection problems → CatalogUnavailableError, the rest unchanged. */
  private mapError(err: unknown): unknown {
    if (!isConnectionError(err)) return err;
    const e = err as Error & { code?: string };
    const problem = scrub(e.message || e.code || 'connection failed', this.opts.secrets);
    return new CatalogUnavailableError(this.opts.location, problem, err);
  }

  private executor(client: pg.Pool | pg.PoolClient): SqlExecutor {
    return {
      query: async (sql, params = []) => (await client.query(this.sql(sql, params))).rows as Row[],
      run: async (sql, params = []) => (await client.query(this.sql(sql, params))).rowCount ?? 0,
    };
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    try {
      return (await this.pool.query(this.sql(sql, params))).rows as Row[];
    } catch (err) {
      throw this.mapError(err);
    }
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    try {
      return (await this.pool.query(this.sql(sql, params))).rowCount ?? 0;
    } catch (err) {
      throw this.mapError(err);
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw this.mapError(err);
      }
      let broken = false;
      try {
        await client.query('BEGIN');
        const out = await fn(this.executor(client));
        await client.query('COMMIT');
        return out;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        const state = (err as { code?: string }).code;
        if (state && RETRY_STATES.has(state) && attempt < MAX_TX_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
          continue;
        }
        throw this.mapError(err);
      } finally {
        client.release(broken);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
