/**
 * The PostgreSQL catalog: the shared `SqlCatalog` logic over a `pg` connection pool, for many
 * ingest processes writing one catalog at once. Migrations apply in one transaction under a
 * transaction-level advisory lock, so N processes opening a fresh database at once apply each
 * version exactly once. `location` is the URL without its password; the password is registered as
 * a secret so it never reaches output.
 */
import { registerSecret } from '../../util/redact.js';
import { SqlCatalog } from '../sql/catalog.js';
import { num } from '../sql/driver.js';
import { migrateAsync } from '../sql/migrate.js';
import { PostgresDriver } from './driver.js';
import { parsePostgresUrl } from './url.js';

/** Advisory lock key for catalog migrations (any fixed 64-bit number; "ticklake" in ASCII). */
const MIGRATION_LOCK_KEY = '8388345093985233765';

export interface PostgresCatalogOptions {
  /** Connections in the pool (default 8). */
  poolSize?: number;
  /** Give up connecting after this long (default 10 s). */
  connectTimeoutMs?: number;
}

export class PostgresCatalog extends SqlCatalog {
  /** Open (and migrate) the catalog at a `postgres://` or `postgresql://` URL. */
  static async open(url: string, options: PostgresCatalogOptions = {}): Promise<PostgresCatalog> {
    const parsed = parsePostgresUrl(url);
    for (const s of parsed.secrets) registerSecret(s);
    const driver = new PostgresDriver({
      url: parsed.url,
      location: parsed.location,
      secrets: parsed.secrets,
      max: options.poolSize,
      connectTimeoutMs: options.connectTimeoutMs,
    });
    try {
      await driver.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(?::bigint)', [MIGRATION_LOCK_KEY]);
        await migrateAsync(tx, 'postgres', parsed.location);
      });
      const [r] = await driver.query('SELECT MAX(version) AS v FROM schema_migrations');
      return new PostgresCatalog(parsed.location, driver, num(r!.v));
    } catch (err) {
      await driver.close().catch(() => {});
      throw err;
    }
  }
}
