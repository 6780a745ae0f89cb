/**
 * Queries over synced days (`lake.instruments`, `instruments ls/show`), download plans (`ticklake plan`)
 * saved in the catalog, and `ingest --plan` running one against the local Tardis server with the real
 * BitMEX trades file.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTardisServer, type TardisServer } from '../../src/dev/tardis-server.js';
import { type Lake, openLake } from '../../src/lake/lake.js';
import { runCli } from '../helpers/cli.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import { REAL_TARDIS, realDataMissing, stageRealTardis, tempDir } from '../helpers/fixtures.js';
import { TEST_API_KEY } from '../helpers/lake.js';
import { stageTardisApi } from './api-fixtures.js';

const SKIP = realDataMissing ?? '';

describe.skipIf(realDataMissing !== null)(`instrument queries and plans ${SKIP}`, () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  let server: TardisServer;
  let lake: Lake;
  let lakeDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    tmp = await tempDir();
    const vendorDir = join(tmp.path, 'vendor');
    await stageTardisApi(vendorDir);
    await stageRealTardis(vendorDir);
    server = await startTardisServer({ dir: vendorDir, apiKeys: [TEST_API_KEY] });
    lakeDir = join(tmp.path, 'lake');
    const tardis = {
      apiUrl: server.apiUrl,
      datasetsUrl: server.url,
      apiKey: TEST_API_KEY,
      retryBaseDelayMs: 1,
    };
    lake = await openLake({ root: lakeDir, config: { tardis } });
    env = { TARDIS_API_URL: server.apiUrl, TARDIS_DATASETS_URL: server.url, TARDIS_API_KEY: TEST_API_KEY };
    await lake.syncInstruments({ exchanges: ['deribit', 'bitmex'], from: '2025-02-06', to: '2025-02-15' });
  });

  afterAll(async () => {
    await lake?.close();
    await server?.close();
    await tmp?.cleanup();
  });

  const keys = (t: { numRows: number; getChild(n: string): { get(i: number): unknown } | null }) =>
    Array.from({ length: t.numRows }, (_, i) => t.getChild('instrument_key')!.get(i));

  it('lake.instruments filters by venue, type, base, quote and expiry window', async () => {
    const all = await lake.instruments({ date: '2025-02-10' });
    expect(keys(all)).toEqual([
      'BITMEX:PERP:BTC-USD',
      'DERIBIT:FUTURE:BTC-USD-250214',
      'DERIBIT:OPTION:BTC-USD-200000-250425-PUT',
      'DERIBIT:PERP:BTC-USDC',
      'DERIBIT:SPOT_PAIR:BTC-USDC',
    ]);
    expect(keys(await lake.instruments({ date: '2025-02-10', venue: 'DERIBIT', type: 'perpetual' }))).toEqual(
      ['DERIBIT:PERP:BTC-USDC'],
    );
    expect(
      keys(await lake.instruments({ date: '2025-02-10', type: ['perpetual', 'future'], quote: 'USD' })),
    ).toEqual(['BITMEX:PERP:BTC-USD', 'DERIBIT:FUTURE:BTC-USD-250214']);
    expect(keys(await lake.instruments({ date: '2025-02-10', expiringWithin: '10d' }))).toEqual([
      'DERIBIT:FUTURE:BTC-USD-250214',
    ]);
    expect(keys(await lake.instruments({ date: '2025-02-10', expiringWithin: 90 }))).toEqual([
      'DERIBIT:FUTURE:BTC-USD-250214',
      'DERIBIT:OPTION:BTC-USD-200000-250425-PUT',
    ]);
    expect((await lake.instruments({ date: '2025-02-10', base: 'ETH' })).numRows).toBe(0);
    // The expired call only on its last days.
    expect(keys(await lake.instruments({ date: '2025-02-07', type: 'option' }))).toContain(
      'DERIBIT:OPTION:BTC-USD-100000-250207-CALL',
    );
    // Warm: the same query object comes back from memory, and equals DuckDB over the file.
    expect(await lake.instruments({ date: '2025-02-10', type: 'perpetual' })).toBe(
      await lake.instruments({ date: '2025-02-10', type: 'perpetual' }),
    );
    const duck = await duckRows(
      `SELECT instrument_key FROM read_parquet(${sqlString(join(lakeDir, 'instrument_availability/by_date/day=2025-02-10/instruments.parquet'))}) WHERE instrument_type = 'PERP' ORDER BY 1`,
    );
    expect(duck.map((r) => r.instrument_key)).toEqual(
      keys(await lake.instruments({ date: '2025-02-10', type: 'PERP' })),
    );
  });

  it('an unsynced day and an unknown type are clear errors', async () => {
    await expect(lake.instruments({ date: '2024-01-01' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('no instrument availability for 2024-01-01'),
    });
    await expect(lake.instruments({ date: '2025-02-10', type: 'warrant' })).rejects.toMatchObject({
      code: 'USAGE',
    });
  });

  it('plan: only days on which the instrument exists and the vendor has the data type', async () => {
    const p = await lake.plan({
      exchanges: ['deribit'],
      types: ['perpetual', 'future', 'option'],
      bases: ['BTC'],
      dataTypes: ['trades', 'book_snapshot_5'],
      from: '2025-02-06',
      to: '2025-02-15',
    });
    const t = p.tasks.map((x) => `${x.day} ${x.dataType} ${x.symbol} ${x.instrumentKey}`);
    // The expired call (trades, quotes only) on 02-06 and 02-07; the future through 02-14; the put and
    // the USDC perpetual every day; book_snapshot_5 only where listed (not the expired call).
    const expected: string[] = [];
    for (let d = 6; d <= 15; d++) {
      const day = `2025-02-${String(d).padStart(2, '0')}`;
      if (d <= 14) expected.push(`${day} book_snapshot_5 BTC-14FEB25 DERIBIT:FUTURE:BTC-USD-250214`);
      expected.push(`${day} book_snapshot_5 BTC-25APR25-200000-P DERIBIT:OPTION:BTC-USD-200000-250425-PUT`);
      if (d <= 14) expected.push(`${day} trades BTC-14FEB25 DERIBIT:FUTURE:BTC-USD-250214`);
      expected.push(`${day} trades BTC-25APR25-200000-P DERIBIT:OPTION:BTC-USD-200000-250425-PUT`);
      if (d <= 7)
        expected.push(`${day} trades BTC-7FEB25-100000-C DERIBIT:OPTION:BTC-USD-100000-250207-CALL`);
      expected.push(`${day} trades BTC_USDC-PERPETUAL DERIBIT:PERP:BTC-USDC`);
      expected.push(`${day} book_snapshot_5 BTC_USDC-PERPETUAL DERIBIT:PERP:BTC-USDC`);
    }
    expect(t.sort()).toEqual(expected.sort());
    expect(p.summary).toMatchObject({ tasks: expected.length, groupedTasks: 0, instruments: 4, days: 10 });
    // Saved in the catalog with its tasks, in order.
    expect(await lake.catalog.planTasks(p.id)).toEqual(p.tasks);
    expect((await lake.catalog.getPlan(p.id))?.summary).toMatchObject({ tasks: expected.length });
  });

  it('plan: grouped files where they save requests; options_chain only as OPTIONS; expiry window', async () => {
    const grouped = await lake.plan({
      exchanges: ['deribit'],
      types: ['option', 'perpetual'],
      dataTypes: ['trades', 'options_chain', 'derivative_ticker'],
      from: '2025-02-07',
      to: '2025-02-07',
      groupMin: 2,
    });
    expect(grouped.tasks.map((x) => `${x.dataType} ${x.symbol} ${x.instrumentKey}`)).toEqual([
      // derivative_ticker: only the USDC perpetual lists it; one instrument does not make a group.
      'derivative_ticker BTC_USDC-PERPETUAL DERIBIT:PERP:BTC-USDC',
      'options_chain OPTIONS null',
      // Two options need trades and OPTIONS offers trades: one grouped request.
      'trades BTC_USDC-PERPETUAL DERIBIT:PERP:BTC-USDC',
      'trades OPTIONS null',
    ]);
    const soon = await lake.plan({
      exchanges: ['deribit'],
      dataTypes: ['trades'],
      from: '2025-02-10',
      to: '2025-02-12',
      expiringWithin: '5d',
    });
    expect(soon.tasks.map((x) => `${x.day} ${x.symbol}`)).toEqual([
      '2025-02-10 BTC-14FEB25',
      '2025-02-11 BTC-14FEB25',
      '2025-02-12 BTC-14FEB25',
    ]);
    const bySymbol = await lake.plan({
      exchanges: ['deribit', 'bitmex'],
      dataTypes: ['trades'],
      from: '2025-02-10',
      symbols: ['XBTUSD', 'DERIBIT:SPOT_PAIR:BTC-USDC'],
    });
    expect(bySymbol.tasks.map((x) => `${x.exchange} ${x.symbol}`)).toEqual([
      'bitmex XBTUSD',
      'deribit BTC_USDC',
    ]);
  });

  it('plan: unsynced days are an error (all) or a notice (some); bad data types are usage errors', async () => {
    await expect(
      lake.plan({ exchanges: ['deribit'], dataTypes: ['trades'], from: '2023-01-01', to: '2023-01-02' }),
    ).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('no instrument availability synced'),
    });
    const some = await lake.plan({
      exchanges: ['deribit'],
      dataTypes: ['trades'],
      from: '2025-02-15',
      to: '2025-02-16',
    });
    expect(some.notices[0]).toMatch(/1 day\(s\) have no synced availability.*2025-02-16/);
    await expect(
      lake.plan({ exchanges: ['deribit'], dataTypes: ['tradez'], from: '2025-02-15' }),
    ).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('CLI: instruments sync / ls / show, plan, then ingest --plan stores the real BitMEX trades', async () => {
    const cliLake = join(tmp.path, 'cli-lake');
    const run = (args: string[]) => runCli(['--lake', cliLake, ...args], env);
    const sync = await run([
      'instruments',
      'sync',
      '--exchange',
      'bitmex',
      '--from',
      '2020-03-01',
      '--to',
      '2020-03-02',
    ]);
    expect(sync.stderr).toBe('');
    expect(sync.code).toBe(0);
    expect(sync.stdout).toMatch(/1 definitions .* 2 day\(s\): 2 written, 0 unchanged/);
    const again = await run([
      'instruments',
      'sync',
      '--exchange',
      'bitmex',
      '--from',
      '2020-03-01',
      '--to',
      '2020-03-02',
    ]);
    expect(again.stdout).toMatch(/0 written, 2 unchanged/);

    const ls = await run(['instruments', 'ls', '--date', '2020-03-01', '--format', 'csv']);
    expect(ls.code).toBe(0);
    const [header, row] = ls.stdout.trim().split('\n');
    expect(header!.split(',').slice(0, 3)).toEqual(['instrument_key', 'venue', 'instrument_type']);
    expect(row).toMatch(/^BITMEX:PERP:BTC-USD,BITMEX,PERP,BTC,USD,BTC,/);
    const table = await run(['instruments', 'ls', '--date', '2020-03-01']);
    expect(table.stdout).toMatch(/BITMEX:PERP:BTC-USD\s+XBTUSD/);
    expect(table.stdout).toMatch(/1 instrument\(s\) on 2020-03-01/);

    const show = await run(['instruments', 'show', 'BITMEX:PERP:BTC-USD']);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/available on 2 of 2 synced day\(s\): 2020-03-01 … 2020-03-02/);
    expect(show.stdout).toMatch(/tick_size\s+0\.5/);
    expect(show.stdout).toMatch(/lot_size\s+1\b/); // amountIncrement 1 until 2021-06-08 (changes[])

    const plan = await run([
      'plan',
      '--exchange',
      'bitmex',
      '--types',
      'perpetual',
      '--data-types',
      'trades',
      '--from',
      '2020-03-01',
      '--json',
    ]);
    expect(plan.code).toBe(0);
    const saved = JSON.parse(plan.stdout) as { id: number; tasks: { symbol: string }[] };
    expect(saved.tasks.map((t) => t.symbol)).toEqual(['XBTUSD']);
    const shown = await run(['plan', 'show', String(saved.id)]);
    expect(shown.stdout).toMatch(/2020-03-01\s+bitmex\s+trades\s+XBTUSD\s+BITMEX:PERP:BTC-USD/);
    const ls2 = await run(['plan', 'ls']);
    expect(ls2.stdout).toMatch(new RegExp(`^${saved.id}\\s`, 'm'));

    const ingest = await run(['ingest', '--plan', String(saved.id)]);
    expect(ingest.stderr).toBe('');
    expect(ingest.code).toBe(0);
    expect(ingest.stdout).toMatch(/ingest: 1 tasks — 1 done/);
    const [stored] = await duckRows(
      `SELECT count(*)::INT AS n FROM read_parquet(${sqlString(join(cliLake, 'raw_tick_data/by_date/day=2020-03-01/data_type=trades/BITMEX:PERP:BTC-USD.parquet'))})`,
    );
    const [vendor] = await duckRows(
      `SELECT count(*)::INT AS n FROM read_csv(${sqlString(join(REAL_TARDIS, 'bitmex_trades_XBTUSD_2020-03-01.csv'))}, header = true)`,
    );
    expect(stored!.n).toBe(vendor!.n);
    const missing = await run(['ingest', '--plan', '999']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no plan 999/);
    const none = await run(['ingest']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--plan ID/);
  });

  it('catalog rebuild brings the availability files back from their footers', async () => {
    const before = (await lake.files({ dataset: 'instrument_availability' })).map((f) => [
      f.path,
      f.checksum,
      f.rows,
    ]);
    expect(before).toHaveLength(10);
    const r = await lake.rebuildCatalog();
    expect(r.skipped).toEqual([]);
    const after = (await lake.files({ dataset: 'instrument_availability' })).map((f) => [
      f.path,
      f.checksum,
      f.rows,
    ]);
    expect(after).toEqual(before);
    expect(keys(await lake.instruments({ date: '2025-02-10', venue: 'BITMEX' }))).toEqual([
      'BITMEX:PERP:BTC-USD',
    ]);
  });
});
