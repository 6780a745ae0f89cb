/**
 * lake.write + lake.readPartitioned: round trips read back by DuckDB, partition pruning proven by
 * counting the files opened, every codec, corrupted files, real vendor data through the registry.
 */
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Float64, Int32, Table, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchToArrow } from '../../src/columns/arrow.js';
import { concatBatches } from '../../src/columns/ops.js';
import type { ColumnBatch, Field } from '../../src/columns/types.js';
import { CorruptedFileError, TicklakeError, UsageError } from '../../src/errors.js';
import { type Lake, openLake } from '../../src/lake/lake.js';
import { LocalStorage } from '../../src/lake/local-storage.js';
import type { RandomAccessSource } from '../../src/lake/storage.js';
import { CODECS } from '../../src/lake/write.js';
import { CANONICAL_SCHEMAS } from '../../src/schema/datasets.js';
import { VALIDATION_MODES } from '../../src/schema/validate.js';
import { createTardisCsvParser } from '../../src/sources/tardis/csv.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import { filesUnder, REAL_TARDIS, realDataMissing, tempDir } from '../helpers/fixtures.js';

/** LocalStorage that counts the files opened for reading (a real filesystem, instrumented). */
class CountingStorage extends LocalStorage {
  opened: string[] = [];
  override openRead(path: string): Promise<RandomAccessSource> {
    this.opened.push(path);
    return super.openRead(path);
  }
}

const SIGNAL_FIELDS: Field[] = [
  { name: 'timestamp', kind: 'timestamp', nullable: false },
  { name: 'venue', kind: 'dict', nullable: false },
  { name: 'value', kind: 'float64', nullable: true },
  { name: 'n', kind: 'int32', nullable: false },
];

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 7, 1);

/** 3 days × 2 venues, rows deliberately out of time order. */
function signals(): { table: Table; rows: { ms: number; venue: string; value: number | null; n: number }[] } {
  const rows: { ms: number; venue: string; value: number | null; n: number }[] = [];
  for (let i = 0; i < 60; i++) {
    const day = i % 3;
    rows.push({
      ms: T0 + day * DAY + ((i * 7919) % 1000) * 1000 + i,
      venue: i % 2 === 0 ? 'BINANCE' : 'DERIBIT',
      value: i % 10 === 0 ? null : i * 0.25,
      n: i,
    });
  }
  const table = new Table({
    timestamp: vectorFromArray(
      rows.map((r) => r.ms),
      new TimestampMillisecond(),
    ),
    venue: vectorFromArray(
      rows.map((r) => r.venue),
      new Utf8(),
    ),
    value: vectorFromArray(
      rows.map((r) => r.value),
      new Float64(),
    ),
    n: vectorFromArray(
      rows.map((r) => r.n),
      new Int32(),
    ),
  });
  return { table, rows };
}

describe('lake.write / lake.readPartitioned', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let storage: CountingStorage;
  let lake: Lake;
  const data = signals();

  beforeAll(async () => {
    tmp = await tempDir();
    storage = new CountingStorage(tmp.path);
    lake = await openLake({ root: tmp.path, storage });
    lake.schemas.register({ name: 'signals', fields: SIGNAL_FIELDS });
  });
  afterAll(async () => {
    await lake.close();
    await tmp.cleanup();
  });

  it('writes hive folders per day and venue, sorted by time, recorded in the catalog, read back by DuckDB', async () => {
    const res = await lake.write({ dataset: 'signals', table: data.table, partition: ['day', 'venue'] });
    expect(res).toMatchObject({
      dataset: 'signals',
      version: 1,
      layer: 'user',
      mode: 'STRICT',
      rows: 60,
      warnings: [],
    });
    const paths = res.files.map((f) => f.record.path).sort();
    expect(paths).toEqual([
      'signals/day=2024-08-01/venue=BINANCE/part-0.parquet',
      'signals/day=2024-08-01/venue=DERIBIT/part-0.parquet',
      'signals/day=2024-08-02/venue=BINANCE/part-0.parquet',
      'signals/day=2024-08-02/venue=DERIBIT/part-0.parquet',
      'signals/day=2024-08-03/venue=BINANCE/part-0.parquet',
      'signals/day=2024-08-03/venue=DERIBIT/part-0.parquet',
    ]);
    expect(filesUnder(join(tmp.path, 'signals'), { ext: '.parquet' })).toHaveLength(6);
    const catalogued = await lake.files({ dataset: 'signals' });
    expect(catalogued.map((f) => f.path).sort()).toEqual(paths);
    expect(catalogued.find((f) => f.path === paths[2])!.day).toBe('2024-08-02');
    // DuckDB reads every file, with the partition folders as columns.
    const got = await duckRows(
      `SELECT epoch_us(timestamp) AS us, venue, value, n, day::VARCHAR AS day, venue AS folder_venue FROM read_parquet(${sqlString(
        join(tmp.path, 'signals/**/*.parquet'),
      )}, hive_partitioning = true) ORDER BY n`,
    );
    expect(got).toEqual(
      data.rows.map((r) => ({
        us: r.ms * 1000,
        venue: r.venue,
        value: r.value,
        n: r.n,
        day: new Date(r.ms).toISOString().slice(0, 10),
        folder_venue: r.venue,
      })),
    );
    // Each file is sorted by timestamp.
    const order = await duckRows(
      `SELECT filename, bool_and(ok) AS sorted FROM (SELECT filename, epoch_us(timestamp) >= coalesce(lag(epoch_us(timestamp)) OVER (PARTITION BY filename ORDER BY file_row_number), 0) AS ok FROM read_parquet(${sqlString(
        join(tmp.path, 'signals/**/*.parquet'),
      )}, filename = true, file_row_number = true)) GROUP BY filename`,
    );
    expect(order).toHaveLength(6);
    expect(order.every((r) => r.sorted === true)).toBe(true);
  });

  it('readPartitioned returns every row; partition filters open only the matching files', async () => {
    const all = await lake.readPartitioned({ dataset: 'signals' });
    expect(all.numRows).toBe(60);
    expect(all.schema.fields.map((f) => f.name)).toEqual(['timestamp', 'venue', 'value', 'n']);
    expect([...all.getChild('n')!.toArray()].sort((a, b) => a - b)).toEqual(data.rows.map((r) => r.n));

    const cases: {
      filters: Record<string, unknown>;
      files: number;
      keep: (r: (typeof data.rows)[number]) => boolean;
    }[] = [
      { filters: { day: '2024-08-02' }, files: 2, keep: (r) => r.ms >= T0 + DAY && r.ms < T0 + 2 * DAY },
      { filters: { day: { from: '2024-08-02', to: '2024-08-03' } }, files: 4, keep: (r) => r.ms >= T0 + DAY },
      { filters: { venue: ['DERIBIT'] }, files: 3, keep: (r) => r.venue === 'DERIBIT' },
      {
        filters: { day: { values: ['2024-08-01', '2024-08-03'] }, venue: 'BINANCE' },
        files: 2,
        keep: (r) => r.venue === 'BINANCE' && (r.ms < T0 + DAY || r.ms >= T0 + 2 * DAY),
      },
      { filters: { day: '2023-01-01' }, files: 0, keep: () => false },
    ];
    for (const c of cases) {
      storage.opened = [];
      const t = await lake.readPartitioned({ dataset: 'signals', filters: c.filters as never });
      expect(storage.opened).toHaveLength(c.files);
      const want = data.rows.filter(c.keep).map((r) => r.n);
      expect([...t.getChild('n')!.toArray()].sort((a, b) => a - b)).toEqual(want);
    }
  });

  it('column projection and where (row-group pruning by statistics, then rows)', async () => {
    storage.opened = [];
    const from = T0 + DAY + 300_000;
    const to = T0 + 2 * DAY;
    const t = await lake.readPartitioned({
      dataset: 'signals',
      filters: { day: '2024-08-02' },
      columns: ['n', 'value'],
      where: {
        timestamp: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
        venue: 'BINANCE',
      },
    });
    expect(t.schema.fields.map((f) => f.name)).toEqual(['n', 'value']);
    const want = data.rows.filter((r) => r.ms >= from && r.ms < to && r.venue === 'BINANCE');
    expect(want.length).toBeGreaterThan(0);
    const got = [...t.getChild('n')!.toArray()].sort((a, b) => a - b);
    expect(got).toEqual(want.map((r) => r.n));
    expect(storage.opened).toHaveLength(2);
  });

  it('names a filter on something that is not a partition, and unknown columns', async () => {
    const e = await lake.readPartitioned({ dataset: 'signals', filters: { n: 3 } }).catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe('"n" is not a partition of dataset signals');
    expect(e.hint).toBe('partitions: day, venue; filter row values with where');
    const c = await lake.readPartitioned({ dataset: 'signals', columns: ['nope'] }).catch((x) => x);
    expect(c.message).toBe(
      'signals: no column "nope" in signals/day=2024-08-01/venue=BINANCE/part-0.parquet',
    );
  });

  it('every codec: DuckDB sees the codec and the same rows', async () => {
    for (const codec of CODECS) {
      const res = await lake.write({
        dataset: `codec_${codec}`,
        table: data.table,
        compression: codec,
        partition: [],
      });
      expect(res.files).toHaveLength(1);
      const file = join(tmp.path, res.files[0]!.record.path);
      const meta = await duckRows(`SELECT DISTINCT compression FROM parquet_metadata(${sqlString(file)})`);
      expect(meta).toEqual([{ compression: codec === 'none' ? 'UNCOMPRESSED' : codec.toUpperCase() }]);
      const rows = await duckRows(`SELECT n, value FROM read_parquet(${sqlString(file)}) ORDER BY n`);
      expect(rows).toEqual(data.rows.map((r) => ({ n: r.n, value: r.value })));
      const back = await lake.readPartitioned({ dataset: `codec_${codec}` });
      expect(back.numRows).toBe(60);
    }
  });

  it('a user dataset without a schema gets one inferred (version 1); a changed table is rejected in STRICT', async () => {
    const t = new Table({
      k: vectorFromArray(['a', 'b'], new Utf8()),
      v: vectorFromArray([1, 2], new Int32()),
    });
    const res = await lake.write({ dataset: 'adhoc', table: t });
    expect(res.version).toBe(1);
    expect(res.files.map((f) => f.record.path)).toEqual(['adhoc/part-0.parquet']);
    expect(lake.schemas.get('adhoc').fields.map((f) => `${f.name}:${f.kind}`)).toEqual(['k:utf8', 'v:int32']);
    const bad = new Table({ k: vectorFromArray(['c'], new Utf8()) });
    const e = await lake.write({ dataset: 'adhoc', table: bad }).catch((x) => x);
    expect(e).toBeInstanceOf(TicklakeError);
    expect(e.code).toBe('SCHEMA_MISMATCH');
    expect(e.message).toBe(
      'adhoc: column "v" (int32, nullable) is missing; STRICT requires every schema column',
    );
  });

  it('writing the same table again gives the same bytes and replaces the catalog record', async () => {
    const first = await lake.write({
      dataset: 'again',
      table: data.table,
      partition: ['day'],
      sidecar: true,
    });
    const second = await lake.write({ dataset: 'again', table: data.table, partition: ['day'] });
    expect(second.files.map((f) => f.record.checksum)).toEqual(first.files.map((f) => f.record.checksum));
    expect((await lake.files({ dataset: 'again' })).length).toBe(3);
    // The second write asked for no sidecar: the first one's sidecars are gone, not left stale.
    expect(filesUnder(join(tmp.path, 'again'), { ext: '.json' })).toEqual([]);
  });

  it('partitioning by day needs the timestamp column; floats are not partitions', async () => {
    const t = new Table({
      venue: vectorFromArray(['A'], new Utf8()),
      value: vectorFromArray([1], new Float64()),
    });
    const s = { fields: SIGNAL_FIELDS.filter((f) => f.name === 'venue' || f.name === 'value') };
    const e = await lake.write({ dataset: 'nots', table: t, schema: s, partition: ['day'] }).catch((x) => x);
    expect(e.message).toBe('nots: cannot partition by day: the schema has no timestamp column');
    const f = await lake.write({ dataset: 'nots', table: t, partition: ['value'] }).catch((x) => x);
    expect(f.message).toBe('nots: cannot partition by "value": float64 columns make too many folders');
  });

  it('a new process finds a user schema (and its version) in the lake', async () => {
    const v1 = await lake.write({
      dataset: 'persisted',
      table: data.table,
      schema: { fields: SIGNAL_FIELDS },
    });
    expect(v1.version).toBe(1);
    const other = await openLake({ root: tmp.path });
    try {
      expect(other.schemas.has('persisted')).toBe(false);
      // No schema given: the lake's version 1 applies, so a table without `n` fails in STRICT.
      const noN = new Table({
        timestamp: vectorFromArray([T0], new TimestampMillisecond()),
        venue: vectorFromArray(['X'], new Utf8()),
        value: vectorFromArray([1], new Float64()),
      });
      const e = await other.write({ dataset: 'persisted', table: noN }).catch((x) => x);
      expect(e.code).toBe('MISSING_REQUIRED_COLUMN');
      expect(e.message).toBe('persisted: required column "n" (int32) is missing');
      expect(other.schemas.get('persisted')).toMatchObject({
        version: 1,
        layer: 'user',
        sortKey: ['timestamp'],
      });
      // A changed schema becomes version 2, recorded in the file footers.
      const v2 = await other.write({
        dataset: 'persisted',
        table: noN,
        schema: { fields: SIGNAL_FIELDS.filter((f) => f.name !== 'n') },
        name: 'v2',
      });
      expect(v2.version).toBe(2);
      expect(v2.files[0]!.record.schemaVersion).toBe(2);
    } finally {
      await other.close();
    }
  });

  it('a failed validation publishes nothing', async () => {
    const before = filesUnder(tmp.path, { skip: ['_staging'] }).length;
    const t = new Table({
      timestamp: vectorFromArray([T0], new TimestampMillisecond()),
      venue: vectorFromArray(['X'], new Utf8()),
      value: vectorFromArray(['1.5'], new Utf8()),
      n: vectorFromArray([1], new Int32()),
    });
    const e = await lake.write({ dataset: 'signals', table: t }).catch((x) => x);
    expect(e.code).toBe('DATA_TYPE_VALIDATION');
    expect(filesUnder(tmp.path, { skip: ['_staging'] }).length).toBe(before);
  });

  describe.each(VALIDATION_MODES)('corrupted files written in %s mode → CorruptedFileError', (mode) => {
    it('truncated (size differs from the catalog) and overwritten (bad magic)', async () => {
      const dataset = `corrupt_${mode.toLowerCase()}`;
      const res = await lake.write({ dataset, table: data.table, mode, partition: [] });
      const rel = res.files[0]!.record.path;
      const file = join(tmp.path, rel);
      const size = statSync(file).size;
      const original = readFileSync(file);
      truncateSync(file, size - 100);
      const e = await lake.readPartitioned({ dataset }).catch((x) => x);
      expect(e).toBeInstanceOf(CorruptedFileError);
      expect(e.code).toBe('CORRUPTED_FILE');
      expect(e.message).toBe(`${rel}: file has ${size - 100} bytes, the catalog recorded ${size}`);
      const garbage = Buffer.from(original);
      garbage.fill(0x41, size - 8);
      writeFileSync(file, garbage);
      const g = await lake.readPartitioned({ dataset }).catch((x) => x);
      expect(g).toBeInstanceOf(CorruptedFileError);
      expect(g.message).toBe(`${rel}: not a Parquet file (bad magic)`);
    });
  });

  it('real vendor trades through the built-in schema: same values as DuckDB reading the CSV', async (ctx) => {
    if (realDataMissing) return ctx.skip(realDataMissing);
    const csvPath = join(REAL_TARDIS, 'binance-futures_trades_BTCUSDT_2020-02-22.csv');
    const batches: ColumnBatch[] = [];
    const parser = createTardisCsvParser({
      dataType: 'trades',
      source: csvPath,
      resolveKey: () => 'BINANCE:PERP:BTC-USDT',
      onBatch: (b) => {
        batches.push(b);
      },
    });
    await parser.push(readFileSync(csvPath));
    await parser.end();
    const table = batchToArrow(concatBatches(batches), CANONICAL_SCHEMAS.trades);
    const res = await lake.write({ dataset: 'trades', table, compression: 'zstd' });
    expect(res).toMatchObject({ layer: 'raw', version: 1, rows: 9999 });
    expect(res.files[0]!.record.path).toBe('trades/day=2020-02-22/part-0.parquet');
    expect(res.files[0]!.record.instrumentKey).toBe('BINANCE:PERP:BTC-USDT');
    const diff = await duckRows(
      `SELECT count(*) AS n FROM (
         (SELECT timestamp::BIGINT AS us, id, side, price, amount FROM read_csv(${sqlString(csvPath)}, all_varchar = false)
          EXCEPT ALL
          SELECT epoch_us(timestamp) AS us, id, side, price, amount FROM read_parquet(${sqlString(join(tmp.path, res.files[0]!.record.path))}))
       )`,
    );
    expect(diff).toEqual([{ n: 0 }]);
    const back = await lake.readPartitioned({
      dataset: 'trades',
      filters: { day: '2020-02-22' },
      columns: ['price'],
    });
    const prices = back.getChild('price')!.toArray() as Float64Array;
    const sum = await duckRows(`SELECT sum(price) AS s FROM read_csv(${sqlString(csvPath)})`);
    expect(prices.reduce((s, v) => s + v, 0)).toBeCloseTo(sum[0]!.s as number, 3);
  });
});
