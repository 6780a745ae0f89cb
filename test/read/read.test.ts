/**
 * Library reads: projection and time filters pushed down to row groups (bytes fetched counted and
 * checked against DuckDB's view of the same file's layout), multi-key reads merged in timestamp order
 * (checked against DuckDB over the same files), and bad requests.
 */
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInstrumentKeyError, UsageError } from '../../src/errors.js';
import { newReadStats } from '../../src/lake/read.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import { realDataMissing } from '../helpers/fixtures.js';
import type { LakeEnv } from '../helpers/lake.js';
import {
  BTC,
  buildReadLake,
  ETH,
  GEN_DAYS,
  GEN_ROWS,
  REAL_TRADES_DAY,
  REAL_TRADES_KEY,
} from './lake-fixture.js';

function epochUs(t: Table, name = 'timestamp'): number[] {
  return Array.from(t.getChild(name)!.toArray() as BigInt64Array, Number);
}

describe('lake.read: pushdown, multi-key merge', () => {
  let env: LakeEnv;
  beforeAll(async () => {
    env = await buildReadLake({ cacheMaxBytes: 0 });
  }, 120_000);
  afterAll(async () => {
    await env?.close();
  });

  async function fileOf(key: string, day: string) {
    const [rec] = await env.lake.files({
      dataset: 'raw_tick_data',
      dataType: 'trades',
      instrumentKey: key,
      fromDay: day,
      toDay: day,
    });
    expect(rec).toBeDefined();
    return { rec: rec!, abs: join(env.lakeDir, rec!.path) };
  }

  /** Bytes our reader must fetch: the footer prefetch + the chunks of `cols` in row groups `rgs` (DuckDB's layout). */
  async function expectedBytes(
    abs: string,
    size: number,
    cols: string[],
    rgs: number[] | null,
  ): Promise<number> {
    const meta = await duckRows(
      `SELECT row_group_id, path_in_schema, total_compressed_size FROM parquet_metadata(${sqlString(abs)})`,
    );
    let n = Math.min(size, 64 * 1024);
    for (const m of meta) {
      if (cols.includes(String(m.path_in_schema)) && (rgs === null || rgs.includes(Number(m.row_group_id)))) {
        n += Number(m.total_compressed_size);
      }
    }
    return n;
  }

  it.skipIf(realDataMissing !== null)(
    'projection: only the requested columns’ chunks are fetched (real trades)',
    async () => {
      const { rec, abs } = await fileOf(REAL_TRADES_KEY, REAL_TRADES_DAY);
      const stats = newReadStats();
      const t = await env.lake.read({
        dataset: 'trades',
        key: REAL_TRADES_KEY,
        from: REAL_TRADES_DAY,
        to: '2020-02-23',
        columns: ['timestamp', 'price'],
        stats,
      });
      expect(t.numRows).toBe(rec.rows);
      expect(t.schema.fields.map((f) => f.name)).toEqual(['timestamp', 'price']);
      const rgCount = (
        await duckRows(`SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata(${sqlString(abs)})`)
      )[0]!.n as number;
      expect(rgCount).toBeGreaterThan(5);
      expect(stats.rowGroupsRead).toBe(rgCount);
      expect(stats.bytesRead).toBe(await expectedBytes(abs, rec.bytes, ['timestamp', 'price'], null));
      const all = newReadStats();
      await env.lake.read({
        dataset: 'trades',
        key: REAL_TRADES_KEY,
        from: REAL_TRADES_DAY,
        to: '2020-02-23',
        stats: all,
      });
      expect(all.bytesRead).toBe(
        await expectedBytes(
          abs,
          rec.bytes,
          ['timestamp', 'local_timestamp', 'id', 'side', 'price', 'amount', 'instrument_key'],
          null,
        ),
      );
      expect(stats.bytesRead).toBeLessThan(all.bytesRead);
      // Values equal DuckDB's.
      const duck = await duckRows(
        `SELECT epoch_us("timestamp") AS ts, price FROM read_parquet(${sqlString(abs)})`,
      );
      expect(epochUs(t)).toEqual(duck.map((r) => r.ts));
      expect(Array.from(t.getChild('price')!.toArray() as Float64Array)).toEqual(duck.map((r) => r.price));
    },
  );

  it('time filter: row groups outside [from, to) are skipped and their bytes never fetched', async () => {
    const day = GEN_DAYS[0]!;
    const { rec, abs } = await fileOf(BTC, day);
    const d0 = Date.parse(`${day}T00:00:00Z`);
    const from = new Date(d0 + 3600_000); // 01:00
    const to = new Date(d0 + 2 * 3600_000); // 02:00
    const stats = newReadStats();
    const t = await env.lake.read({
      dataset: 'trades',
      key: BTC,
      from,
      to,
      columns: ['timestamp', 'id'],
      stats,
    });
    const expected = await duckRows(
      `SELECT epoch_us("timestamp") AS ts, id, file_row_number AS rn FROM read_parquet(${sqlString(abs)}, file_row_number = true)
       WHERE "timestamp" >= make_timestamp(${from.getTime() * 1000}) AND "timestamp" < make_timestamp(${to.getTime() * 1000}) ORDER BY rn`,
    );
    expect(t.numRows).toBe(expected.length);
    expect(epochUs(t)).toEqual(expected.map((r) => r.ts));
    expect(Array.from({ length: t.numRows }, (_, i) => t.getChild('id')!.get(i))).toEqual(
      expected.map((r) => r.id),
    );
    const rgs = [...new Set(expected.map((r) => Math.floor(Number(r.rn) / 1000)))];
    expect(stats.rowGroupsRead).toBe(rgs.length);
    expect(stats.rowGroupsSkipped).toBe(Math.ceil(GEN_ROWS / 1000) - rgs.length);
    expect(stats.bytesRead).toBe(await expectedBytes(abs, rec.bytes, ['timestamp', 'id'], rgs));
  });

  it('a range with no rows reads no row group', async () => {
    const stats = newReadStats();
    const d0 = Date.parse(`${GEN_DAYS[0]}T23:00:00Z`); // BTC rows stop at 12:30
    const t = await env.lake.read({
      dataset: 'trades',
      key: BTC,
      from: new Date(d0),
      to: new Date(d0 + 1800_000),
      stats,
    });
    expect(t.numRows).toBe(0);
    expect(stats.rowGroupsRead).toBe(0);
  });

  it('several keys over two days: merged in timestamp order (ties: key order, then file order), equal to DuckDB', async () => {
    const t = await env.lake.read({
      dataset: 'trades',
      keys: [ETH, BTC],
      from: GEN_DAYS[0]!,
      to: '2024-08-03',
      columns: ['timestamp', 'id', 'price'],
    });
    expect(t.schema.fields.map((f) => f.name)).toEqual(['timestamp', 'id', 'price', 'instrument_key']);
    const files = await env.lake.files({ dataset: 'raw_tick_data', dataType: 'trades' });
    const paths = files
      .filter((f) => f.instrumentKey === BTC || f.instrumentKey === ETH)
      .map((f) => sqlString(join(env.lakeDir, f.path)));
    expect(paths.length).toBe(4);
    const expected = await duckRows(
      `SELECT epoch_us("timestamp") AS ts, id, price, instrument_key AS k FROM read_parquet([${paths.join(', ')}], file_row_number = true)
       ORDER BY ts, CASE instrument_key WHEN ${sqlString(ETH)} THEN 0 ELSE 1 END, "timestamp"::DATE, file_row_number`,
    );
    expect(t.numRows).toBe(4 * GEN_ROWS);
    expect(epochUs(t)).toEqual(expected.map((r) => r.ts));
    const ids = Array.from({ length: t.numRows }, (_, i) => t.getChild('id')!.get(i));
    expect(ids).toEqual(expected.map((r) => r.id));
    const keys = Array.from({ length: t.numRows }, (_, i) => t.getChild('instrument_key')!.get(i));
    expect(keys).toEqual(expected.map((r) => r.k));
    expect(Array.from(t.getChild('price')!.toArray() as Float64Array)).toEqual(expected.map((r) => r.price));
  });

  it('one key read twice is the same as key + keys with a duplicate', async () => {
    const a = await env.lake.read({ dataset: 'trades', key: BTC, from: GEN_DAYS[0]!, to: GEN_DAYS[1]! });
    const b = await env.lake.read({
      dataset: 'trades',
      keys: [BTC, BTC],
      from: GEN_DAYS[0]!,
      to: GEN_DAYS[1]!,
    });
    expect(b.numRows).toBe(a.numRows);
    expect(epochUs(b)).toEqual(epochUs(a));
  });

  it('bad requests get typed errors', async () => {
    await expect(
      env.lake.read({ dataset: 'trades', from: GEN_DAYS[0]!, to: GEN_DAYS[1]! }),
    ).rejects.toBeInstanceOf(UsageError);
    await expect(
      env.lake.read({ dataset: 'trades', keys: [], from: GEN_DAYS[0]!, to: GEN_DAYS[1]! }),
    ).rejects.toThrow(/needs an instrument key/);
    await expect(
      env.lake.read({ dataset: 'trades', keys: [BTC, 'nope'], from: GEN_DAYS[0]!, to: GEN_DAYS[1]! }),
    ).rejects.toBeInstanceOf(InvalidInstrumentKeyError);
    await expect(
      env.lake.read({
        dataset: 'trades',
        key: BTC,
        from: GEN_DAYS[0]!,
        to: GEN_DAYS[1]!,
        columns: ['bid_price'],
      }),
    ).rejects.toThrow(/unknown column "bid_price" for trades/);
  });
});
