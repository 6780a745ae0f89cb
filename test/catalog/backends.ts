/**
 * The catalog backends the contract tests run against: SQLite (always) and PostgreSQL (skipped with
 * a one-line reason when the local server is not reachable). Each yields a fresh, empty catalog per
 * test plus raw SQL access for assertions independent of the catalog code.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PostgresCatalog } from '../../src/catalog/postgres/catalog.js';
import type { SqlCatalog } from '../../src/catalog/sql/catalog.js';
import { SqliteCatalog } from '../../src/catalog/sqlite/catalog.js';
import { tempDir } from '../helpers/fixtures.js';
import { createTestDatabase, pgMissing, type TestDatabase } from './pg.js';

export interface CatalogBackend {
  readonly name: 'sqlite' | 'postgres';
  /** Why this backend's tests are skipped, or null. */
  readonly skip: string | null;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A new empty catalog. */
  fresh(): Promise<SqlCatalog>;
  /** Open another connection to the catalog last made by `fresh` (another process, in effect). */
  reopen(): Promise<SqlCatalog>;
  /** Raw SQL on the catalog last made by `fresh` (rows of a SELECT, [] otherwise). */
  sql(text: string): Promise<Record<string, unknown>[]>;
}

function sqliteBackend(): CatalogBackend {
  let tmp: Awaited<ReturnType<typeof tempDir>> | null = null;
  let n = 0;
  let path = '';
  return {
    name: 'sqlite',
    skip: null,
    async setup() {
      tmp = await tempDir();
    },
    async teardown() {
      await tmp?.cleanup();
    },
    async fresh() {
      path = join(tmp!.path, `catalog-${++n}.sqlite`);
      return SqliteCatalog.open(path);
    },
    async reopen() {
      return SqliteCatalog.open(path);
    },
    async sql(text) {
      const db = new Database(path);
      try {
        const s = db.prepare(text);
        if (s.reader) return s.all() as Record<string, unknown>[];
        s.run();
        return [];
      } finally {
        db.close();
      }
    },
  };
}

function postgresBackend(): CatalogBackend {
  let db: TestDatabase | null = null;
  return {
    name: 'postgres',
    skip: pgMissing,
    async setup() {
      db = await createTestDatabase('contract');
    },
    async teardown() {
      await db?.drop();
    },
    async fresh() {
      await db!.reset();
      return PostgresCatalog.open(db!.url);
    },
    async reopen() {
      return PostgresCatalog.open(db!.url);
    },
    async sql(text) {
      return db!.sql(text);
    },
  };
}

export const BACKENDS: readonly CatalogBackend[] = [sqliteBackend(), postgresBackend()];
