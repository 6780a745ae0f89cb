/** What is specific to the SQLite catalog (the shared behaviour is in contract.test.ts). */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LATEST_CATALOG_VERSION, MIGRATIONS } from '../../src/catalog/migrations.js';
import { SqliteCatalog } from '../../src/catalog/sqlite/catalog.js';
import { CatalogError } from '../../src/errors.js';
import { tempDir } from '../helpers/fixtures.js';

describe('SqliteCatalog', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let path: string;
  let cat: SqliteCatalog;
  beforeEach(async () => {
    tmp = await tempDir();
    path = join(tmp.path, 'catalog.sqlite');
    cat = SqliteCatalog.open(path);
  });
  afterEach(async () => {
    await cat.close().catch(() => {});
    await tmp.cleanup();
  });

  it('opens synchronously in WAL mode with synchronous=FULL', async () => {
    expect(cat.schemaVersion).toBe(LATEST_CATALOG_VERSION);
    expect(cat.location).toBe(path);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('refuses a catalog from a newer ticklake, synchronously', async () => {
    await cat.close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('future');
    db.close();
    expect(() => SqliteCatalog.open(path)).toThrow(CatalogError);
    cat = SqliteCatalog.open(join(tmp.path, 'other.sqlite'));
  });

  it('upgrades a version-1 catalog in place, keeping its rows', async () => {
    await cat.close();
    // A catalog exactly as version 1 left it, built from migration 1 alone.
    const v1 = join(tmp.path, 'v1.sqlite');
    const db = new Database(v1);
    db.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    for (const s of MIGRATIONS[0]!.statements) db.exec(s);
    db.prepare('INSERT INTO schema_migrations VALUES (1, ?, 0)').run(MIGRATIONS[0]!.name);
    db.prepare(
      "INSERT INTO jobs (kind, status, params, created_at) VALUES ('ingest', 'done', '{}', 5)",
    ).run();
    db.close();
    cat = SqliteCatalog.open(v1);
    expect(cat.schemaVersion).toBe(LATEST_CATALOG_VERSION);
    expect(await cat.getJob(1)).toMatchObject({ kind: 'ingest', createdAt: 5 });
    expect(await cat.listPlans()).toEqual([]);
    const check = new Database(v1, { readonly: true });
    expect(check.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual(
      MIGRATIONS.map((m) => m.version),
    );
    check.close();
  });

  it('a transaction in flight holds back other callers of the same connection', async () => {
    // Interleaved async callers: the transaction commits atomically and nobody writes inside it.
    const key = { vendor: 'tardis', exchange: 'binance', dataType: 'trades', symbol: 'X', day: '2024-08-01' };
    await Promise.all([
      cat.savePlan(
        {},
        {},
        Array.from({ length: 2500 }, () => ({ ...key, instrumentKey: null })),
      ),
      ...Array.from({ length: 20 }, () => cat.startTask(key, null)),
      cat.savePlan({}, {}, [{ ...key, instrumentKey: null }]),
    ]);
    expect((await cat.getTask(key))!.attempts).toBe(20);
    expect((await cat.planTasks(1)).length).toBe(2500);
    expect((await cat.planTasks(2)).length).toBe(1);
  });
});
