/**
 * Every real Tardis sample goes through the HTTP path (local Tardis-compatible server) into the lake,
 * and DuckDB reading the lake's Parquet returns exactly what DuckDB reading the source CSV returns.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANONICAL_SCHEMAS, type DataType } from '../../src/schema/datasets.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import { realDataMissing, realTardisFiles, stageRealTardis, vendorPath } from '../helpers/fixtures.js';
import { type LakeEnv, lakeEnv } from '../helpers/lake.js';

const EXPECTED_KEYS: Record<string, string> = {
  'binance-futures/BTCUSDT': 'BINANCE:PERP:BTC-USDT',
  'bitmex/XBTUSD': 'BITMEX:PERP:BTC-USD',
  'deribit/BTC-PERPETUAL': 'DERIBIT:PERP:BTC-USD',
  'huobi-dm-swap/BTC-USD': 'HUOBI:PERP:BTC-USD',
};

/** DuckDB read_csv column types for a data type's Tardis CSV. */
function csvColumnTypes(dataType: DataType, header: string[]): string {
  const types: Record<string, string> = {};
  for (const c of header) {
    if (
      c === 'exchange' ||
      c === 'symbol' ||
      c === 'id' ||
      c === 'side' ||
      c === 'type' ||
      c === 'underlying_index'
    )
      types[c] = 'VARCHAR';
    else if (c === 'timestamp' || c === 'local_timestamp' || c === 'funding_timestamp' || c === 'expiration')
      types[c] = 'BIGINT';
    else if (c === 'is_snapshot') types[c] = 'BOOLEAN';
    else types[c] = 'DOUBLE';
  }
  void dataType;
  return `{${Object.entries(types)
    .map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`)
    .join(', ')}}`;
}

/** SQL expression over the CSV giving each canonical column. */
function csvExpr(field: string, key: string): string {
  const m = /^(bid|ask)_(price|amount)_(\d+)$/.exec(field);
  if (m) return `"${m[1] === 'bid' ? 'bids' : 'asks'}[${m[3]}].${m[2]}"`;
  switch (field) {
    case 'timestamp':
      return 'coalesce("timestamp", "local_timestamp")';
    case 'instrument_key':
      return sqlString(key);
    default:
      return `"${field}"`;
  }
}

function lakeExpr(field: string, kind: string): string {
  return kind === 'timestamp' ? `epoch_us("${field}")` : `"${field}"`;
}

describe.skipIf(realDataMissing !== null)('real Tardis samples → lake → DuckDB', () => {
  let env: LakeEnv;
  const files = realTardisFiles();

  beforeAll(async () => {
    env = await lakeEnv(async (dir) => {
      await stageRealTardis(dir);
    });
    for (const f of files) {
      const s = await env.lake.ingest({
        exchange: f.exchange,
        dataTypes: [f.dataType],
        symbols: [f.symbol],
        from: f.day,
        to: f.day,
      });
      expect(s.failed, JSON.stringify(s.reports.map((r) => r.error))).toBe(0);
      expect(s.done).toBe(1);
    }
  }, 120_000);

  afterAll(async () => {
    await env?.close();
  });

  it('has every real sample', () => {
    expect(files.map((f) => f.dataType).sort()).toEqual(
      [
        'book_snapshot_25',
        'book_snapshot_5',
        'incremental_book_L2',
        'quotes',
        'quotes',
        'trades',
        'trades',
      ].sort(),
    );
  });

  for (const f of files) {
    it(`${f.name}: lake Parquet equals the source CSV (every column, every row)`, async () => {
      const key = EXPECTED_KEYS[`${f.exchange}/${f.symbol}`]!;
      expect(key).toBeDefined();
      const [rec] = await env.lake.files({
        dataset: 'raw_tick_data',
        dataType: f.dataType,
        instrumentKey: key,
        fromDay: f.day,
        toDay: f.day,
      });
      expect(rec, 'catalog has the file').toBeDefined();
      const lakeFile = join(env.lakeDir, rec!.path);
      const header = readFileSync(f.path, 'utf8').split('\n', 1)[0]!.trim().split(',');
      const fields = CANONICAL_SCHEMAS[f.dataType].fields;
      const expected = await duckRows(
        `SELECT ${fields.map((fl) => `${csvExpr(fl.name, key)} AS "${fl.name}"`).join(', ')}
         FROM (SELECT *, row_number() OVER () AS __rn FROM read_csv(${sqlString(f.path)}, header = true, columns = ${csvColumnTypes(f.dataType, header)}))
         ORDER BY coalesce("timestamp", "local_timestamp"), __rn`,
      );
      const actual = await duckRows(
        `SELECT ${fields.map((fl) => `${lakeExpr(fl.name, fl.kind)} AS "${fl.name}"`).join(', ')} FROM read_parquet(${sqlString(lakeFile)})`,
      );
      expect(actual.length).toBe(expected.length);
      expect(rec!.rows).toBe(expected.length);
      expect(actual).toEqual(expected);
      if (fields.some((fl) => fl.name === 'id')) {
        expect(new Set(actual.map((r) => r.id))).toEqual(new Set(expected.map((r) => r.id)));
      }
      // Footer: lineage points at the vendor file with the checksum of the bytes served.
      const gz = readFileSync(vendorPath(env.vendorDir, f.exchange, f.dataType, f.day, f.symbol));
      const sha = createHash('sha256').update(gz).digest('hex');
      expect(rec!.sourceChecksum).toBe(sha);
      const kv = await duckRows(
        `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${sqlString(lakeFile)})`,
      );
      const meta = Object.fromEntries(kv.map((r) => [r.k, r.v]));
      expect(meta['ticklake.source_sha256']).toBe(sha);
      expect(meta['ticklake.instrument_key']).toBe(key);
      expect(meta['ticklake.data_type']).toBe(f.dataType);
      expect(meta['ticklake.rows']).toBe(String(expected.length));
      expect(meta['ticklake.generated']).toBe('false');
      expect(meta['ticklake.source_url']).toContain(`/${f.exchange}/${f.dataType}/`);
      void gzipSync;
    });
  }

  it('reads back through lake.read in timestamp order with the same rows', async () => {
    const f = files.find((x) => x.dataType === 'trades' && x.exchange === 'binance-futures')!;
    const key = EXPECTED_KEYS[`${f.exchange}/${f.symbol}`]!;
    const table = await env.lake.read({
      dataset: 'trades',
      key,
      from: f.day,
      to: `${f.day}T23:59:59.999999Z`,
    });
    const expected = await duckRows(
      `SELECT count(*) AS n, min(price) AS lo, max(price) AS hi, sum(amount) AS vol FROM read_csv(${sqlString(f.path)}, header = true)`,
    );
    expect(table.numRows).toBe(expected[0]!.n);
    const ts = table.getChild('timestamp')!.toArray() as BigInt64Array;
    for (let i = 1; i < ts.length; i++) expect(ts[i]! >= ts[i - 1]!).toBe(true);
  });
});
