/**
 * What is specific to the PostgreSQL catalog: migrations racing from many connections at once,
 * credential-free `location`, the password registered as a secret, typed errors when the server or
 * database cannot be reached, and `openCatalog` choosing the backend from the catalog setting.
 * (The shared behaviour runs in contract.test.ts.) Uses its own database, dropped at the end.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/catalog/migrations.js';
import { openCatalog, resolveCatalogSpec } from '../../src/catalog/open.js';
import { PostgresCatalog } from '../../src/catalog/postgres/catalog.js';
import { SqliteCatalog } from '../../src/catalog/sqlite/catalog.js';
import { CatalogUnavailableError, type TicklakeError, UsageError } from '../../src/errors.js';
import { redact } from '../../src/util/redact.js';
import { tempDir } from '../helpers/fixtures.js';
import { createTestDatabase, databaseUrl, pgMissing, type TestDatabase } from './pg.js';

/** A port nothing listens on: bind port 0, note it, close. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

async function caught(p: Promise<unknown>): Promise<TicklakeError> {
  try {
    await p;
  } catch (err) {
    return err as TicklakeError;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(pgMissing !== null)('PostgresCatalog', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pg');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('8 connections opening a fresh database at once apply each migration exactly once', async () => {
    const cats = await Promise.all(
      Array.from({ length: 8 }, () => PostgresCatalog.open(db.url, { poolSize: 2 })),
    );
    try {
      const rows = await db.sql('SELECT version, name FROM schema_migrations ORDER BY version');
      expect(rows.map((r) => [r.version, r.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
      for (const c of cats) expect(c.schemaVersion).toBe(MIGRATIONS.at(-1)!.version);
      // Identity columns from `INTEGER PRIMARY KEY`, byte-wise text from `TEXT`.
      const cols = await db.sql(
        `SELECT table_name, column_name, data_type, is_identity, collation_name FROM information_schema.columns
         WHERE table_schema = 'public' AND column_name IN ('id', 'path')
         AND table_name IN ('files', 'file_intents', 'ingest_tasks', 'jobs', 'plans') ORDER BY table_name, column_name`,
      );
      expect(cols).toEqual([
        {
          table_name: 'file_intents',
          column_name: 'path',
          data_type: 'text',
          is_identity: 'NO',
          collation_name: 'C',
        },
        {
          table_name: 'files',
          column_name: 'path',
          data_type: 'text',
          is_identity: 'NO',
          collation_name: 'C',
        },
        {
          table_name: 'ingest_tasks',
          column_name: 'id',
          data_type: 'bigint',
          is_identity: 'YES',
          collation_name: null,
        },
        {
          table_name: 'jobs',
          column_name: 'id',
          data_type: 'bigint',
          is_identity: 'YES',
          collation_name: null,
        },
        {
          table_name: 'plans',
          column_name: 'id',
          data_type: 'bigint',
          is_identity: 'YES',
          collation_name: null,
        },
      ]);
    } finally {
      await Promise.all(cats.map((c) => c.close()));
    }
  });

  it('location never contains the password, and the password is redacted from output', async () => {
    const password = 'pw-9f3b7c1e%21x';
    const cat = await PostgresCatalog.open(withPassword(`${db.url}?application_name=t`, password));
    try {
      expect(cat.location).toBe(`postgres://postgres@127.0.0.1:5432/${db.name}?application_name=t`);
      expect(cat.location).not.toContain('pw-9f3b7c1e');
      expect(redact(`url ${password} and pw-9f3b7c1e!x`)).toBe('url *** and ***');
    } finally {
      await cat.close();
    }
  });

  it('an unreachable server is CATALOG_UNAVAILABLE, naming the URL without the password', async () => {
    const port = await closedPort();
    const url = `postgres://postgres:hunter2-secret@127.0.0.1:${port}/nope`;
    const err = await caught(PostgresCatalog.open(url, { connectTimeoutMs: 2000 }));
    expect(err).toBeInstanceOf(CatalogUnavailableError);
    expect(err.code).toBe('CATALOG_UNAVAILABLE');
    expect(err.message).toContain(`catalog postgres://postgres@127.0.0.1:${port}/nope: cannot connect`);
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.hint).toMatch(/PostgreSQL server is running/);
    expect(JSON.stringify(err.serialize())).not.toContain('hunter2-secret');
  });

  it('a database that does not exist is CATALOG_UNAVAILABLE too', async () => {
    const url = databaseUrl(`${db.name}_missing`);
    const err = await caught(PostgresCatalog.open(url));
    expect(err).toBeInstanceOf(CatalogUnavailableError);
    expect(err.message).toMatch(new RegExp(`${db.name}_missing" does not exist`));
  });

  it('openCatalog picks the backend from the catalog setting', async () => {
    const tmp = await tempDir();
    try {
      const pgCat = await openCatalog(db.url);
      expect(pgCat).toBeInstanceOf(PostgresCatalog);
      await pgCat.close();
      const pgql = await openCatalog(db.url.replace(/^postgres:/, 'postgresql:'));
      expect(pgql).toBeInstanceOf(PostgresCatalog);
      await pgql.close();
      const file = join(tmp.path, 'c.sqlite');
      const lite = await openCatalog(file);
      expect(lite).toBeInstanceOf(SqliteCatalog);
      expect(lite.location).toBe(file);
      await lite.close();
      expect(resolveCatalogSpec(undefined, join(tmp.path, 'x', '..', 'd.sqlite'))).toBe(
        join(tmp.path, 'd.sqlite'),
      );
      expect(resolveCatalogSpec(db.url, '/unused')).toBe(db.url);
      expect(() => resolveCatalogSpec('mysql://u:p@h/db', '/unused')).toThrow(UsageError);
      expect(() => resolveCatalogSpec('mysql://u:p@h/db', '/unused')).toThrow(
        /unsupported catalog URL scheme/,
      );
      await expect(openCatalog('postgres://[broken')).rejects.toThrow(/not a valid PostgreSQL URL/);
    } finally {
      await tmp.cleanup();
    }
  });
});
