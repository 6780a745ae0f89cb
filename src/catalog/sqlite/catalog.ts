/**
 * The SQLite catalog: one file, WAL journal, synchronous=FULL, so a killed process never loses a
 * committed transaction and never leaves a half-applied one. The catalog logic is the shared
 * `SqlCatalog` (../sql/catalog.ts); this module opens the file and migrates it (synchronously, so
 * `SqliteCatalog.open` stays synchronous).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { CatalogError, StorageAccessError, storageErrorFromFs } from '../../errors.js';
import { SqlCatalog } from '../sql/catalog.js';
import { num } from '../sql/driver.js';
import { migrateSync } from '../sql/migrate.js';
import { LATEST_CATALOG_VERSION } from '../migrations.js';
import { SqliteDriver } from './driver.js';

export class SqliteCatalog extends SqlCatalog {
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
    const driver = new SqliteDriver(db, resolve(path));
    try {
      // Up to date already (the usual case): no write lock needed, so opening never waits on a
      // transaction another connection of this process has in flight.
      if (currentVersion(driver) === LATEST_CATALOG_VERSION)
        return new SqliteCatalog(path, driver, LATEST_CATALOG_VERSION);
      driver.transactionSync(() =>
        migrateSync(
          { query: (s, p) => driver.querySync(s, p), run: (s, p) => driver.runSync(s, p) },
          'sqlite',
          path,
        ),
      );
    } catch (err) {
      driver.closeSync();
      throw err;
    }
    const [r] = driver.querySync('SELECT MAX(version) AS v FROM schema_migrations');
    return new SqliteCatalog(path, driver, num(r!.v));
  }
}

/** Highest applied schema version, or 0 for a new file (read only). */
function currentVersion(driver: SqliteDriver): number {
  const [t] = driver.querySync(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
  );
  if (!t) return 0;
  const [r] = driver.querySync('SELECT MAX(version) AS v FROM schema_migrations');
  return r?.v === null || r?.v === undefined ? 0 : num(r.v);
}
