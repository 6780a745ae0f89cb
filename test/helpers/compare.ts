/**
 * The independent check used by end-to-end tests: DuckDB reads the vendor CSV and the lake Parquet,
 * and the canonical columns must match row for row (CSV rows stably sorted the way the lake sorts).
 */
import { CANONICAL_SCHEMAS, type DataType, sortKeyOf } from '../../src/schema/datasets.js';
import { duckRows, sqlString } from './duck.js';

const VARCHAR = new Set(['exchange', 'symbol', 'id', 'side', 'type', 'underlying_index']);
const BIGINT = new Set(['timestamp', 'local_timestamp', 'funding_timestamp', 'expiration']);

/** DuckDB read_csv `columns = {...}` for a Tardis header. */
export function csvColumnTypes(header: readonly string[]): string {
  const t = (c: string) =>
    VARCHAR.has(c) ? 'VARCHAR' : BIGINT.has(c) ? 'BIGINT' : c === 'is_snapshot' ? 'BOOLEAN' : 'DOUBLE';
  return `{${header.map((c) => `${sqlString(c)}: ${sqlString(t(c))}`).join(', ')}}`;
}

/** SQL over the CSV giving a canonical column. `keyOf` maps the vendor symbol column to the key. */
function csvExpr(field: string, keySql: string): string {
  const m = /^(bid|ask)_(price|amount)_(\d+)$/.exec(field);
  if (m) return `"${m[1] === 'bid' ? 'bids' : 'asks'}[${m[3]}].${m[2]}"`;
  switch (field) {
    case 'timestamp':
      return 'coalesce("timestamp", "local_timestamp")';
    case 'instrument_key':
      return keySql;
    case 'option_type':
      return '"type"';
    default:
      return `"${field}"`;
  }
}

/**
 * Expected canonical rows from a CSV (plain or .gz) by DuckDB, and actual rows of a lake Parquet file
 * by DuckDB. `keySql` is a SQL expression over the CSV giving each row's instrument key (a literal
 * for single-instrument files; a CASE over "symbol" for grouped ones); `where` filters CSV rows (a
 * grouped vendor file split into several lake files).
 */
export async function expectedAndActual(
  dataType: DataType,
  csvPath: string,
  header: readonly string[],
  parquetPath: string,
  keySql: string,
  where = 'true',
): Promise<{ expected: Record<string, unknown>[]; actual: Record<string, unknown>[] }> {
  const fields = CANONICAL_SCHEMAS[dataType].fields;
  const order = sortKeyOf(dataType).map((k) =>
    k === 'timestamp' ? 'coalesce("timestamp", "local_timestamp")' : csvExpr(k, keySql),
  );
  const expected = await duckRows(
    `SELECT ${fields.map((f) => `${csvExpr(f.name, keySql)} AS "${f.name}"`).join(', ')}
     FROM (SELECT *, row_number() OVER () AS __rn FROM read_csv(${sqlString(csvPath)}, header = true, columns = ${csvColumnTypes(header)}))
     WHERE ${where}
     ORDER BY ${[...order, '__rn'].join(', ')}`,
  );
  const actual = await duckRows(
    `SELECT ${fields.map((f) => (f.kind === 'timestamp' ? `epoch_us("${f.name}") AS "${f.name}"` : `"${f.name}"`)).join(', ')}
     FROM read_parquet(${sqlString(parquetPath)})`,
  );
  return { expected, actual };
}
