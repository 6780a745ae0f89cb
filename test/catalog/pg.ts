/**
 * PostgreSQL for catalog tests: the local server (TICKLAKE_TEST_PG_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres, trust auth), a reachability check with a one-line
 * skip reason, and a uniquely named database per test file, dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.TICKLAKE_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

async function check(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    const where = new URL(PG_ADMIN_URL);
    where.password = '';
    return `PostgreSQL not reachable at ${where.toString()} (${(err as Error).message || (err as { code?: string }).code}): skipping PostgreSQL catalog tests`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Why PostgreSQL tests are skipped (one line), or null when the server answers. */
export const pgMissing: string | null = await check();
if (pgMissing) console.warn(pgMissing);

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** URL of database `name` on the test server. */
export function databaseUrl(name: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Run SQL directly on this database (outside the catalog). */
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Empty the database (drop and recreate the public schema). */
  reset(): Promise<void>;
  drop(): Promise<void>;
}

/** Create a fresh, uniquely named database (`ticklake_test_<tag>_<random>`). */
export async function createTestDatabase(tag: string): Promise<TestDatabase> {
  const name = `ticklake_test_${tag}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = databaseUrl(name);
  const sql = async (text: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  return {
    name,
    url,
    sql,
    async reset() {
      await sql('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    },
    async drop() {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
