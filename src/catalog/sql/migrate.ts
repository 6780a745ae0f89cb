/**
 * Applying the catalog migrations (migrations.ts) on any backend: one transaction that creates
 * `schema_migrations` if needed, refuses a catalog newer than this code, and applies the missing
 * versions in order. The driver makes the transaction exclusive (SQLite: BEGIN IMMEDIATE;
 * PostgreSQL: an advisory lock taken first), so processes starting at once do not race.
 */
import { CatalogError } from '../../errors.js';
import { LATEST_CATALOG_VERSION, MIGRATIONS } from '../migrations.js';
import { translateDdl } from './dialect.js';
import { type Dialect, num, type Row } from './driver.js';

export const MIGRATIONS_TABLE =
  'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)';

/** What to apply given the versions already applied; throws for a catalog from a newer ticklake. */
export function pendingMigrations(
  appliedRows: readonly Row[],
  dialect: Dialect,
  location: string,
): { version: number; name: string; statements: string[] }[] {
  const applied = new Set(appliedRows.map((r) => num(r.version)));
  const maxApplied = Math.max(0, ...applied);
  if (maxApplied > LATEST_CATALOG_VERSION) {
    throw new CatalogError(
      `catalog ${location} has schema version ${maxApplied}, newer than this ticklake understands (${LATEST_CATALOG_VERSION})`,
      { hint: 'upgrade ticklake' },
    );
  }
  return MIGRATIONS.filter((m) => !applied.has(m.version)).map((m) => ({
    version: m.version,
    name: m.name,
    statements: m.statements.map((s) => translateDdl(s, dialect)),
  }));
}

export const SELECT_APPLIED = 'SELECT version FROM schema_migrations';
export const INSERT_APPLIED = 'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)';

/** Apply missing migrations with an async executor already inside an exclusive transaction. */
export async function migrateAsync(
  tx: {
    query(sql: string, p?: readonly unknown[]): Promise<Row[]>;
    run(sql: string, p?: readonly unknown[]): Promise<unknown>;
  },
  dialect: Dialect,
  location: string,
): Promise<void> {
  await tx.run(translateDdl(MIGRATIONS_TABLE, dialect));
  for (const m of pendingMigrations(await tx.query(SELECT_APPLIED), dialect, location)) {
    for (const s of m.statements) await tx.run(s);
    await tx.run(INSERT_APPLIED, [m.version, m.name, Date.now()]);
  }
}

/** The same, for a synchronous executor (SQLite opens synchronously). */
export function migrateSync(
  tx: {
    query(sql: string, p?: readonly unknown[]): Row[];
    run(sql: string, p?: readonly unknown[]): unknown;
  },
  dialect: Dialect,
  location: string,
): void {
  tx.run(translateDdl(MIGRATIONS_TABLE, dialect));
  for (const m of pendingMigrations(tx.query(SELECT_APPLIED), dialect, location)) {
    for (const s of m.statements) tx.run(s);
    tx.run(INSERT_APPLIED, [m.version, m.name, Date.now()]);
  }
}
