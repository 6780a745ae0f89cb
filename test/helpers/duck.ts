/** DuckDB as the independent reader in tests. */
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

let instance: DuckDBInstance | null = null;

export async function duck(): Promise<DuckDBConnection> {
  instance ??= await DuckDBInstance.create(':memory:');
  return instance.connect();
}

/** Rows of a query as plain objects (BIGINT → number when safe). */
export async function duckRows(sql: string): Promise<Record<string, unknown>[]> {
  const conn = await duck();
  try {
    const reader = await conn.runAndReadAll(sql);
    const cols = reader.columnNames();
    const rows = reader.getRows();
    return rows.map((r) => {
      const o: Record<string, unknown> = {};
      cols.forEach((c, i) => {
        const v = r[i];
        o[c] = typeof v === 'bigint' ? Number(v) : v;
      });
      return o;
    });
  } finally {
    conn.closeSync();
  }
}

export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
