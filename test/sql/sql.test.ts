/**
 * SQL over the lake (embedded DuckDB): every view returns what DuckDB reading the lake's files
 * directly returns, `WHERE day = ...` prunes files, and the engine is confined: other files, COPY,
 * ATTACH, INSTALL/LOAD, settings, writes and several statements all fail with SqlForbiddenError.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCandles } from '../../src/candles/build.js';
import { QueryTimeoutError, ResultTooLargeError, SqlError, SqlForbiddenError } from '../../src/errors.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import { realDataMissing } from '../helpers/fixtures.js';
import type { LakeEnv } from '../helpers/lake.js';
import { BTC, buildReadLake, ETH, GEN_DAYS, GEN_ROWS } from '../read/lake-fixture.js';
import { writeAvailability } from './availability.js';

const AV_DAY = '2024-08-01';

describe('lake.sql', () => {
  let env: LakeEnv;
  beforeAll(async () => {
    env = await buildReadLake();
    await writeAvailability(env.lakeDir, AV_DAY, 500, env.lake.catalog);
    await buildCandles(env.lake, {
      from: GEN_DAYS[0]!,
      to: GEN_DAYS[1]!,
      keys: [BTC, ETH],
      timeframes: ['1m', '1h'],
      books: false,
    });
    await writeFile(join(env.root, 'outside.csv'), 'a,b\n1,2\n');
  }, 120_000);
  afterAll(async () => {
    await env?.close();
  });

  const glob = (sub: string) => sqlString(join(env.lakeDir, sub));

  it('views: one per raw data type, plus instruments', async () => {
    const t = await env.lake.sql('SHOW TABLES');
    const names = Array.from({ length: t.numRows }, (_, i) => String(t.getChild('name')!.get(i)));
    for (const v of [
      'trades',
      'quotes',
      'book_snapshot_5',
      'book_snapshot_25',
      'incremental_book_l2',
      'derivative_ticker',
      'options_chain',
      'liquidations',
      'book_ticker',
      'instruments',
    ]) {
      expect(names).toContain(v);
    }
  });

  it('trades per instrument and day equal DuckDB over the files', async () => {
    const t = await env.lake.sql(
      `SELECT instrument_key, CAST(day AS VARCHAR) AS day, count(*) AS n, round(sum(price), 2) AS s, min(epoch_us("timestamp")) AS first
       FROM trades GROUP BY ALL ORDER BY instrument_key, day`,
    );
    const expected = await duckRows(
      `SELECT instrument_key, CAST(day AS VARCHAR) AS day, count(*) AS n, round(sum(price), 2) AS s, min(epoch_us("timestamp")) AS first
       FROM read_parquet(${glob('raw_tick_data/by_date/*/data_type=trades/*.parquet')}, hive_partitioning = true) GROUP BY ALL ORDER BY instrument_key, day`,
    );
    expect(t.numRows).toBe(expected.length);
    const rows = Array.from({ length: t.numRows }, (_, i) => ({
      instrument_key: t.getChild('instrument_key')!.get(i),
      day: t.getChild('day')!.get(i),
      n: Number(t.getChild('n')!.get(i)),
      s: t.getChild('s')!.get(i),
      first: Number(t.getChild('first')!.get(i)),
    }));
    expect(rows).toEqual(expected);
    expect(rows.filter((r) => r.instrument_key === BTC || r.instrument_key === ETH).map((r) => r.n)).toEqual([
      GEN_ROWS,
      GEN_ROWS,
      GEN_ROWS,
      GEN_ROWS,
    ]);
  });

  it.skipIf(realDataMissing !== null)(
    'every real data type’s view equals DuckDB over its files',
    async () => {
      for (const dt of ['quotes', 'book_snapshot_5', 'book_snapshot_25', 'incremental_book_L2', 'trades']) {
        const t = await env.lake.sql(
          `SELECT count(*) AS n, count(DISTINCT instrument_key) AS k, max(epoch_us(local_timestamp)) AS m FROM ${dt.toLowerCase()}`,
        );
        const [e] = await duckRows(
          `SELECT count(*) AS n, count(DISTINCT instrument_key) AS k, max(epoch_us(local_timestamp)) AS m FROM read_parquet(${glob(`raw_tick_data/by_date/*/data_type=${dt}/*.parquet`)})`,
        );
        expect(
          {
            n: Number(t.getChild('n')!.get(0)),
            k: Number(t.getChild('k')!.get(0)),
            m: Number(t.getChild('m')!.get(0)),
          },
          dt,
        ).toEqual(e);
        expect(e!.n as number).toBeGreaterThan(0);
      }
    },
  );

  it('timestamps come back as Arrow timestamps (µs), projected columns in order', async () => {
    const t = await env.lake.sql(
      `SELECT "timestamp", price FROM trades WHERE instrument_key = '${BTC}' AND day = '${GEN_DAYS[0]}' ORDER BY "timestamp" LIMIT 3`,
    );
    expect(t.schema.fields.map((f) => f.name)).toEqual(['timestamp', 'price']);
    expect(String(t.schema.fields[0]!.type)).toMatch(/^Timestamp/);
    const d0 = Date.parse(`${GEN_DAYS[0]}T00:00:00Z`) * 1000;
    expect(Array.from(t.getChild('timestamp')!.toArray() as BigInt64Array, Number)).toEqual([
      d0,
      d0 + 15e6,
      d0 + 30e6,
    ]);
  });

  it('WHERE day = ... prunes: a damaged file of another day is never opened', async () => {
    const bad = join(env.lakeDir, 'raw_tick_data/by_date/day=2099-01-01/data_type=trades');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'BINANCE%3ASPOT_PAIR%3AXXX-USDT.parquet'), 'not parquet at all');
    try {
      const t = await env.lake.sql(`SELECT count(*) AS n FROM trades WHERE day = '${GEN_DAYS[0]}'`);
      expect(Number(t.getChild('n')!.get(0))).toBe(2 * GEN_ROWS);
      await expect(env.lake.sql('SELECT count(*) FROM trades')).rejects.toBeInstanceOf(SqlError);
    } finally {
      await rm(join(env.lakeDir, 'raw_tick_data/by_date/day=2099-01-01'), { recursive: true, force: true });
    }
  });

  it('instruments view reads the availability lists', async () => {
    const t = await env.lake.sql(
      `SELECT instrument_type, count(*) AS n FROM instruments WHERE day = '${AV_DAY}' GROUP BY 1 ORDER BY 1`,
    );
    expect(
      Array.from({ length: t.numRows }, (_, i) => [
        t.getChild('instrument_type')!.get(i),
        Number(t.getChild('n')!.get(i)),
      ]),
    ).toEqual([
      ['FUTURE', 50],
      ['OPTION', 450],
    ]);
  });

  it('candles_1m / candles_1h views equal lake.read of the candles', async () => {
    for (const tf of ['1m', '1h'] as const) {
      const t = await env.lake.sql(
        `SELECT epoch_us("timestamp") AS ts, close FROM candles_${tf} WHERE instrument_key = '${ETH}' AND day = '${GEN_DAYS[1]}' ORDER BY ts`,
      );
      const direct = await env.lake.read({
        dataset: 'candles',
        key: ETH,
        timeframe: tf,
        from: GEN_DAYS[1]!,
        to: '2024-08-03',
      });
      expect(t.numRows, tf).toBe(direct.numRows);
      expect(Array.from(t.getChild('ts')!.toArray() as BigInt64Array, Number)).toEqual(
        Array.from(direct.getChild('timestamp')!.toArray() as BigInt64Array, Number),
      );
      expect(Array.from(t.getChild('close')!.toArray() as Float64Array)).toEqual(
        Array.from(direct.getChild('close')!.toArray() as Float64Array),
      );
    }
  });

  describe('confinement', () => {
    const forbidden: [string, (lake: string, root: string) => string][] = [
      ['a file outside the lake', (_l, r) => `SELECT * FROM read_csv(${sqlString(join(r, 'outside.csv'))})`],
      ['a system file', () => `SELECT * FROM read_csv('/etc/passwd')`],
      ['a glob outside the lake', (_l, r) => `SELECT * FROM glob(${sqlString(join(r, '*'))})`],
      ['COPY TO outside', (_l, r) => `COPY (SELECT 1 AS x) TO ${sqlString(join(r, 'out.csv'))}`],
      ['COPY TO inside the lake', (l) => `COPY (SELECT 1 AS x) TO ${sqlString(join(l, 'out.csv'))}`],
      ['ATTACH a file', (_l, r) => `ATTACH ${sqlString(join(r, 'x.duckdb'))} AS x`],
      ['ATTACH memory', () => `ATTACH ':memory:' AS m`],
      ['INSTALL', () => 'INSTALL httpfs'],
      ['LOAD', () => 'LOAD httpfs'],
      ['the network', () => `SELECT * FROM read_parquet('https://example.com/x.parquet')`],
      ['a setting', () => 'SET enable_external_access = true'],
      ['CREATE TABLE', () => 'CREATE TABLE t AS SELECT 1'],
      ['two statements', () => 'SELECT 1; SELECT 2'],
    ];
    for (const [what, sql] of forbidden) {
      it(`${what} fails with SqlForbiddenError`, async () => {
        const err = await env.lake.sql(sql(env.lakeDir, env.root)).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(SqlForbiddenError);
        expect((err as SqlForbiddenError).code).toBe('SQL_FORBIDDEN');
        expect((err as SqlForbiddenError).hint).toMatch(/read-only SELECT/);
      });
    }
    it('nothing was written', () => {
      expect(existsSync(join(env.root, 'out.csv'))).toBe(false);
      expect(existsSync(join(env.lakeDir, 'out.csv'))).toBe(false);
      expect(existsSync(join(env.root, 'x.duckdb'))).toBe(false);
    });
  });

  it('syntax errors are SqlError (code SQL) naming the problem', async () => {
    const err = await env.lake.sql('SELEC 1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqlError);
    expect((err as SqlError).code).toBe('SQL');
    expect((err as SqlError).message).toMatch(/syntax error/i);
    await expect(env.lake.sql('SELECT nope FROM trades')).rejects.toThrow(/nope/);
    await expect(env.lake.sql('   ')).rejects.toThrow(/empty SQL/);
  });

  it('a query over its time limit is interrupted with QueryTimeoutError', async () => {
    const err = await env.lake
      .sql('SELECT sum(hash(a.range * b.range)) FROM range(100000000) a, range(1000) b', { timeoutMs: 100 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryTimeoutError);
    // The engine keeps working.
    const t = await env.lake.sql('SELECT 42 AS x');
    expect(t.getChild('x')!.get(0)).toBe(42);
  });

  it('a result over maxRows is refused with ResultTooLargeError', async () => {
    await expect(env.lake.sql('SELECT * FROM range(5000)', { maxRows: 100 })).rejects.toBeInstanceOf(
      ResultTooLargeError,
    );
  });
});
