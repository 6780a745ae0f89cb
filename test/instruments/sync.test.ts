/**
 * `instruments sync` end to end over HTTP: the local Tardis server serves `/v1/exchanges` and
 * `/v1/instruments` (real instrument objects + hand-written exchange details, see api-fixtures.ts), the
 * exchange API server serves the real Binance and Deribit captures; availability files are read back
 * with DuckDB and compared value by value.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeepPartial, TicklakeConfig } from '../../src/config.js';
import { startExchangeApiServer } from '../../src/dev/exchange-api-server.js';
import { startTardisServer, type TardisServer } from '../../src/dev/tardis-server.js';
import { isTicklakeError } from '../../src/errors.js';
import { type Lake, openLake } from '../../src/lake/lake.js';
import { instrumentAvailabilityPath } from '../../src/lake/layout.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import { tempDir } from '../helpers/fixtures.js';
import { TEST_API_KEY } from '../helpers/lake.js';
import { stageNativeApis, stageTardisApi } from './api-fixtures.js';
import { HAVE_REAL, readReal, SKIP_REASON } from './real.js';

const US = (iso: string) => Date.parse(iso) * 1000;

interface Env {
  lake: Lake;
  lakeDir: string;
  vendorDir: string;
  server: TardisServer;
  close(): Promise<void>;
}

const open: Env[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

async function tardisEnv(
  config: DeepPartial<TicklakeConfig>['tardis'] = {},
  prepare = stageTardisApi,
): Promise<Env> {
  const tmp = await tempDir();
  const vendorDir = join(tmp.path, 'vendor');
  await prepare(vendorDir);
  const server = await startTardisServer({ dir: vendorDir, apiKeys: [TEST_API_KEY] });
  const lakeDir = join(tmp.path, 'lake');
  const lake = await openLake({
    root: lakeDir,
    config: {
      tardis: {
        apiUrl: server.apiUrl,
        datasetsUrl: server.url,
        apiKey: TEST_API_KEY,
        retryBaseDelayMs: 1,
        retryMaxDelayMs: 5,
        maxRetries: 2,
        ...config,
      },
    },
  });
  const env: Env = {
    lake,
    lakeDir,
    vendorDir,
    server,
    async close() {
      await env.lake.close();
      await server.close();
      await tmp.cleanup();
    },
  };
  open.push(env);
  return env;
}

async function dayRows(env: Env, day: string): Promise<Record<string, unknown>[]> {
  const file = join(env.lakeDir, instrumentAvailabilityPath(day));
  return duckRows(`SELECT * FROM read_parquet(${sqlString(file)}) ORDER BY instrument_key`);
}

const keysOf = (rows: Record<string, unknown>[]) => rows.map((r) => r.instrument_key);
/** DuckDB TIMESTAMPTZ value → µs. */
const ts = (v: unknown) => (v === null ? null : Number((v as { micros: bigint }).micros));

describe.skipIf(!HAVE_REAL)(`instruments sync from Tardis ${HAVE_REAL ? '' : SKIP_REASON}`, () => {
  it('writes each day with exactly the instruments available that day and their attributes', async () => {
    const env = await tardisEnv();
    const s = await env.lake.syncInstruments({
      exchanges: ['deribit'],
      from: '2025-02-06',
      to: '2025-02-15',
    });
    expect(s.days).toHaveLength(10);
    expect(s.written).toBe(10);
    expect(s.definitions).toBe(5); // option, future, spot, USDC perp, expired option (combo skipped)
    expect(s.skipped).toBe(1);
    expect(s.skippedExamples[0]).toMatch(/BTC-FS-28MAR25_PERP/);

    const d10 = await dayRows(env, '2025-02-10');
    expect(keysOf(d10)).toEqual([
      'DERIBIT:FUTURE:BTC-USD-250214',
      'DERIBIT:OPTION:BTC-USD-200000-250425-PUT',
      'DERIBIT:PERP:BTC-USDC',
      'DERIBIT:SPOT_PAIR:BTC-USDC',
    ]);
    // The expired call exists until 2025-02-07 08:00, the future until its expiry 2025-02-14 08:00.
    expect(keysOf(await dayRows(env, '2025-02-07'))).toContain('DERIBIT:OPTION:BTC-USD-100000-250207-CALL');
    expect(keysOf(await dayRows(env, '2025-02-08'))).not.toContain(
      'DERIBIT:OPTION:BTC-USD-100000-250207-CALL',
    );
    expect(keysOf(await dayRows(env, '2025-02-14'))).toContain('DERIBIT:FUTURE:BTC-USD-250214');
    expect(keysOf(await dayRows(env, '2025-02-15'))).not.toContain('DERIBIT:FUTURE:BTC-USD-250214');

    const by = (k: string) => d10.find((r) => r.instrument_key === k)!;
    // Inverse BTC option: quoteCurrency BTC → key BTC-USD, settled in BTC.
    const put = by('DERIBIT:OPTION:BTC-USD-200000-250425-PUT');
    expect(put).toMatchObject({
      venue: 'DERIBIT',
      instrument_type: 'OPTION',
      base_asset: 'BTC',
      quote_asset: 'USD',
      settle_asset: 'BTC',
      strike: 200000,
      option_type: 'put',
      inverse: true,
      contract_multiplier: 1,
      tick_size: 0.0001,
      lot_size: 0.1,
      min_size: 0.1,
      maker_fee: 0.0003,
      taker_fee: 0.0003,
      available_to: null,
      active: true,
      data_types: 'book_snapshot_5,quotes,trades',
      vendor: 'tardis',
      vendor_exchange: 'deribit',
      vendor_symbol: 'BTC-25APR25-200000-P',
      vendor_dataset_symbol: 'BTC-25APR25-200000-P',
    });
    expect(ts(put.expiry)).toBe(US('2025-04-25T08:00:00Z'));
    expect(ts(put.available_from)).toBe(US('2025-01-31T00:00:00Z'));
    expect(ts(put.listing)).toBe(US('2025-01-31T20:38:40Z'));
    // Dated inverse future.
    const fut = by('DERIBIT:FUTURE:BTC-USD-250214');
    expect(fut).toMatchObject({
      settle_asset: 'BTC',
      inverse: true,
      tick_size: 2.5,
      lot_size: 10,
      strike: null,
    });
    expect(ts(fut.expiry)).toBe(US('2025-02-14T08:00:00Z'));
    expect(ts(fut.available_to)).toBe(US('2025-02-14T08:00:00Z'));
    expect(fut.data_types).toBe(
      'book_snapshot_25,book_snapshot_5,derivative_ticker,incremental_book_L2,quotes,trades',
    );
    // Linear USDC perpetual (hand-written: no capture has one).
    expect(by('DERIBIT:PERP:BTC-USDC')).toMatchObject({
      quote_asset: 'USDC',
      settle_asset: 'USDC',
      inverse: false,
      expiry: null,
      lot_size: 0.001,
    });
    // Spot: no settlement, no inverse flag.
    expect(by('DERIBIT:SPOT_PAIR:BTC-USDC')).toMatchObject({
      settle_asset: null,
      inverse: null,
      tick_size: 1,
    });
  });

  it('applies changes[]: the tick size in force at the start of each day', async () => {
    const env = await tardisEnv();
    await env.lake.syncInstruments({ exchanges: ['deribit'], from: '2025-02-11', to: '2025-02-13' });
    const tick = async (day: string) =>
      (await dayRows(env, day)).find((r) => r.instrument_key === 'DERIBIT:PERP:BTC-USDC')!.tick_size;
    // priceIncrement was 1 until 2025-02-12 10:00, 0.5 since.
    expect(await tick('2025-02-11')).toBe(1);
    expect(await tick('2025-02-12')).toBe(1);
    expect(await tick('2025-02-13')).toBe(0.5);
    // BitMEX XBTUSD (real): 0.5 until 2024-07-31 04:00, 0.1 since; fees changed 2024-10-22.
    await env.lake.syncInstruments({ exchanges: ['bitmex'], from: '2024-07-30', to: '2024-08-01' });
    await env.lake.syncInstruments({ exchanges: ['bitmex'], from: '2024-10-21', to: '2024-10-22' });
    const xbt = async (day: string) =>
      (await dayRows(env, day)).find((r) => r.instrument_key === 'BITMEX:PERP:BTC-USD')!;
    expect((await xbt('2024-07-30')).tick_size).toBe(0.5);
    expect((await xbt('2024-07-31')).tick_size).toBe(0.5);
    expect((await xbt('2024-08-01')).tick_size).toBe(0.1);
    expect(await xbt('2024-10-21')).toMatchObject({ maker_fee: 0.0002, taker_fee: 0.00075, lot_size: 100 });
    expect(await xbt('2024-10-22')).toMatchObject({ maker_fee: 0.0005, taker_fee: 0.0005 });

    const h = await env.lake.instrumentHistory('BITMEX:PERP:BTC-USD');
    expect(h.daysAvailable).toBe(5);
    expect(h.firstDay).toBe('2024-07-30');
    expect(h.latestDay).toBe('2024-10-22');
    expect(h.changes).toEqual([
      { day: '2024-08-01', field: 'tick_size', from: 0.5, to: 0.1 },
      { day: '2024-10-22', field: 'maker_fee', from: 0.0002, to: 0.0005 },
      { day: '2024-10-22', field: 'taker_fee', from: 0.00075, to: 0.0005 },
    ]);
  });

  it('re-syncing unchanged days rewrites nothing; a changed vendor list rewrites only what changed', async () => {
    const env = await tardisEnv();
    await env.lake.syncInstruments({ exchanges: ['deribit'], from: '2025-02-10', to: '2025-02-12' });
    const before = await env.lake.files({ dataset: 'instrument_availability' });
    const again = await env.lake.syncInstruments({
      exchanges: ['deribit'],
      from: '2025-02-10',
      to: '2025-02-12',
    });
    expect(again.written).toBe(0);
    expect(again.unchanged).toBe(3);
    expect(await env.lake.files({ dataset: 'instrument_availability' })).toEqual(before);
    // The vendor reports an incident on 2025-02-11: that day changes, the others do not.
    const path = join(env.vendorDir, '_api', 'exchanges', 'deribit.json');
    const details = JSON.parse(await readFile(path, 'utf8'));
    details.incidentReports.push({
      from: '2025-02-11T01:00:00.000Z',
      to: '2025-02-11T02:00:00.000Z',
      status: 'resolved',
      details: 'late addition',
    });
    await writeFile(path, JSON.stringify(details));
    const third = await env.lake.syncInstruments({
      exchanges: ['deribit'],
      from: '2025-02-10',
      to: '2025-02-12',
    });
    expect(third.days.map((d) => d.status)).toEqual(['unchanged', 'written', 'unchanged']);
    // The vendor ends the spot pair's data on 2025-02-11: its row changes (available_to) on every day.
    details.datasets.symbols.find((x: { id: string }) => x.id === 'BTC_USDC').availableTo =
      '2025-02-11T00:00:00.000Z';
    await writeFile(path, JSON.stringify(details));
    const fourth = await env.lake.syncInstruments({
      exchanges: ['deribit'],
      from: '2025-02-10',
      to: '2025-02-12',
    });
    expect(fourth.written).toBe(3);
    expect(keysOf(await dayRows(env, '2025-02-10'))).toContain('DERIBIT:SPOT_PAIR:BTC-USDC');
    expect(keysOf(await dayRows(env, '2025-02-11'))).not.toContain('DERIBIT:SPOT_PAIR:BTC-USDC');
  });

  it('keeps other exchanges when syncing one; incidents and grouped symbols travel in the footer', async () => {
    const env = await tardisEnv();
    await env.lake.syncInstruments({
      exchanges: ['deribit', 'bitmex'],
      from: '2025-02-12',
      to: '2025-02-12',
    });
    expect(keysOf(await dayRows(env, '2025-02-12'))).toContain('BITMEX:PERP:BTC-USD');
    await env.lake.syncInstruments({ exchanges: ['deribit'], from: '2025-02-12', to: '2025-02-12' });
    const rows = await dayRows(env, '2025-02-12');
    expect(rows.filter((r) => r.vendor_exchange === 'bitmex')).toHaveLength(1);
    expect(rows.filter((r) => r.vendor_exchange === 'deribit')).toHaveLength(4);
    const kv = await duckRows(
      `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${sqlString(join(env.lakeDir, instrumentAvailabilityPath('2025-02-12')))})`,
    );
    const meta = Object.fromEntries(kv.map((r) => [r.k, r.v]));
    expect(JSON.parse(meta['ticklake.incidents'] as string)).toEqual([
      {
        exchange: 'deribit',
        from: Date.parse('2025-02-12T14:00:00Z'),
        to: Date.parse('2025-02-12T15:30:00Z'),
        status: 'resolved',
        details: 'Deribit WebSocket API outage: partial data',
      },
    ]);
    const groups = JSON.parse(meta['ticklake.groups'] as string) as { exchange: string; symbol: string }[];
    expect(groups.map((g) => `${g.exchange}:${g.symbol}`)).toEqual(['deribit:OPTIONS', 'deribit:PERPETUALS']);
    expect(meta['ticklake.content_sha256']).toMatch(/^[0-9a-f]{64}$/);
    // The day after the incident carries none.
    await env.lake.syncInstruments({ exchanges: ['deribit'], from: '2025-02-13', to: '2025-02-13' });
    const kv13 = await duckRows(
      `SELECT decode(value) AS v FROM parquet_kv_metadata(${sqlString(join(env.lakeDir, instrumentAvailabilityPath('2025-02-13')))}) WHERE decode(key) = 'ticklake.incidents'`,
    );
    expect(JSON.parse(kv13[0]!.v as string)).toEqual([]);
  });

  it('without a key: definitions from exchange details alone, with a notice naming what is missing', async () => {
    const env = await tardisEnv({ apiKey: undefined });
    const notices: string[] = [];
    await env.lake.syncInstruments({
      exchanges: ['deribit'],
      from: '2025-02-10',
      to: '2025-02-10',
      onNotice: (n) => notices.push(n),
    });
    expect(notices[0]).toMatch(/no Tardis API key.*missing: tick_size, lot_size/);
    expect(env.server.requests.some((r) => r.path.startsWith('/v1/instruments'))).toBe(false);
    const rows = await dayRows(env, '2025-02-10');
    expect(keysOf(rows)).toEqual([
      'DERIBIT:FUTURE:BTC-USD-250214',
      'DERIBIT:OPTION:BTC-USD-200000-250425-PUT',
      'DERIBIT:PERP:BTC-USDC',
      'DERIBIT:SPOT_PAIR:BTC-USDC',
    ]);
    const put = rows.find((r) => r.instrument_key === 'DERIBIT:OPTION:BTC-USD-200000-250425-PUT')!;
    expect(put).toMatchObject({ strike: 200000, option_type: 'put', tick_size: null, inverse: null });
    expect(put.data_types).toBe('book_snapshot_5,quotes,trades');
  });

  it('a refused key (401 on /instruments) falls back to exchange details, with a notice', async () => {
    const env = await tardisEnv({ apiKey: 'wrong-key' });
    const s = await env.lake.syncInstruments({
      exchanges: ['deribit'],
      from: '2025-02-10',
      to: '2025-02-10',
    });
    expect(s.notices[0]).toMatch(/refused the key for \/instruments \(HTTP 401\)/);
    expect(s.notices.join('\n')).not.toContain('wrong-key');
    expect(env.server.requests.find((r) => r.path === '/v1/instruments/deribit')?.status).toBe(401);
    expect((await dayRows(env, '2025-02-10')).every((r) => r.tick_size === null)).toBe(true);
  });

  it('bad inputs: unknown exchange, malformed JSON, 5xx, missing expiry, key collision', async () => {
    const env = await tardisEnv();
    const err = (p: Promise<unknown>) =>
      p.then(
        () => {
          throw new Error('expected an error');
        },
        (e: unknown) => e as Error & { code: string },
      );
    const unknown = await err(
      env.lake.syncInstruments({ exchanges: ['nosuchex'], from: '2025-02-10' } as never),
    );
    expect(unknown.code).toBe('UNKNOWN_EXCHANGE');
    expect(unknown.message).toMatch(/nosuchex/);
    expect(String((unknown as { hint?: string }).hint ?? unknown.message)).toMatch(/deribit/);

    const instrumentsPath = join(env.vendorDir, '_api', 'instruments', 'deribit.json');
    const good = await readFile(instrumentsPath, 'utf8');
    await writeFile(instrumentsPath, good.slice(0, good.length / 2));
    const malformed = await err(
      env.lake.syncInstruments({ exchanges: ['deribit'], from: '2025-02-10', to: '2025-02-10' }),
    );
    expect(malformed.code).toBe('CORRUPTED_SOURCE');
    expect(malformed.message).toMatch(/\/v1\/instruments\/deribit: .*not valid JSON/);

    // An option without an expiry cannot be keyed: skipped with its reason, the rest is synced.
    const list = JSON.parse(good) as Record<string, unknown>[];
    const noExpiry = { ...list[0], id: 'BTC-XXX-1-P', datasetId: 'BTC-XXX-1-P', expiry: undefined };
    await writeFile(instrumentsPath, JSON.stringify([...list, noExpiry]));
    const s = await env.lake.syncInstruments({
      exchanges: ['deribit'],
      from: '2025-02-10',
      to: '2025-02-10',
    });
    expect(s.skippedExamples.join('\n')).toMatch(/BTC-XXX-1-P: .*expiry/);

    // Two vendor instruments that map to one key stop the sync, naming both.
    const dup = { ...list[1], id: 'BTC-14FEB25-BIS', datasetId: 'BTC-14FEB25-BIS' };
    await writeFile(instrumentsPath, JSON.stringify([...list, dup]));
    const clash = await err(
      env.lake.syncInstruments({ exchanges: ['deribit'], from: '2025-02-10', to: '2025-02-10' }),
    );
    expect(clash.code).toBe('DUPLICATE_INSTRUMENT_KEY');
    expect(clash.message).toContain('"BTC-14FEB25"');
    expect(clash.message).toContain('"BTC-14FEB25-BIS"');
    expect(isTicklakeError(clash)).toBe(true);
  });

  it('retries a 5xx on exchange details, then fails with a typed error when it persists', async () => {
    const tmp = await tempDir();
    await stageTardisApi(tmp.path);
    let calls = 0;
    const server = await startTardisServer({
      dir: tmp.path,
      faults: (r) => (r.path === '/v1/exchanges/deribit' && ++calls <= 2 ? { status: 503 } : undefined),
    });
    const lake = await openLake({
      root: join(tmp.path, 'lake'),
      config: { tardis: { apiUrl: server.apiUrl, retryBaseDelayMs: 1, retryMaxDelayMs: 2, maxRetries: 3 } },
    });
    try {
      const s = await lake.syncInstruments({ exchanges: ['deribit'], from: '2025-02-10', to: '2025-02-10' });
      expect(s.written).toBe(1);
      expect(calls).toBe(3);
      calls = -100;
      const e = await lake
        .syncInstruments({ exchanges: ['deribit'], from: '2025-02-11', to: '2025-02-11' })
        .catch((x) => x);
      expect(e.code).toBe('VENDOR_SERVER');
    } finally {
      await lake.close();
      await server.close();
      await tmp.cleanup();
    }
  });
});

describe.skipIf(!HAVE_REAL)(
  `instruments sync from native exchange lists ${HAVE_REAL ? '' : SKIP_REASON}`,
  () => {
    async function nativeLake() {
      const tmp = await tempDir();
      await stageNativeApis(join(tmp.path, 'api'));
      const api = await startExchangeApiServer({ dir: join(tmp.path, 'api') });
      const lake = await openLake({
        root: join(tmp.path, 'lake'),
        config: {
          binance: { spotApiUrl: api.binanceUrl, usdmApiUrl: api.binanceUrl, coinmApiUrl: api.binanceUrl },
          deribit: { apiUrl: api.deribitUrl },
          tardis: { maxRetries: 0 },
        },
      });
      open.push({
        lake,
        lakeDir: join(tmp.path, 'lake'),
        vendorDir: tmp.path,
        server: undefined as never,
        async close() {
          await lake.close();
          await api.close();
          await tmp.cleanup();
        },
      });
      return { lake, lakeDir: join(tmp.path, 'lake'), api };
    }

    it('Deribit get_instruments (398 real instruments): every live instrument on the capture day', async () => {
      const { lake, lakeDir, api } = await nativeLake();
      const s = await lake.syncInstruments({
        exchanges: ['deribit'],
        source: 'deribit',
        from: '2021-07-22',
        to: '2021-07-22',
      });
      expect(api.requests.map((r) => r.path)).toEqual([
        '/api/v2/public/get_instruments?currency=any&expired=false',
        '/api/v2/public/get_instruments?currency=any&expired=true',
      ]);
      // Independent count from the raw JSON: created before the day ends, expiring after it starts.
      const raw = (
        readReal('deribit/cryptofeed_get_instruments_BTC_2021-07-22.json') as {
          result: Record<string, number>[];
        }
      ).result;
      const start = Date.parse('2021-07-22T00:00:00Z');
      const expected = raw.filter(
        (r) => r.creation_timestamp! < start + 86_400_000 && r.expiration_timestamp! > start,
      ).length;
      expect(s.days[0]!.rows).toBe(expected);
      const rows = await duckRows(
        `SELECT instrument_type, count(*)::INT AS n FROM read_parquet(${sqlString(join(lakeDir, instrumentAvailabilityPath('2021-07-22')))}) GROUP BY 1 ORDER BY 1`,
      );
      const byKind = (k: string) => raw.filter((r) => (r as unknown as { kind: string }).kind === k).length;
      const perp = rows.find((r) => r.instrument_type === 'PERP')!.n as number;
      expect(perp).toBe(1);
      expect(rows.find((r) => r.instrument_type === 'OPTION')!.n).toBe(byKind('option'));
      expect(rows.find((r) => r.instrument_type === 'FUTURE')!.n).toBe(byKind('future') - perp);
    });

    it('Binance spot exchangeInfo (1,695 real symbols): trading symbols only, with a notice', async () => {
      const { lake } = await nativeLake();
      const s = await lake.syncInstruments({
        exchanges: ['binance'],
        source: 'binance',
        from: '2021-10-12',
        to: '2021-10-12',
      });
      const raw = (
        readReal('binance/rest/cryptofeed_binance_spot_exchangeInfo_2021-10-12.json') as {
          symbols: { status: string }[];
        }
      ).symbols;
      const trading = raw.filter((x) => x.status === 'TRADING').length;
      expect(s.days[0]!.rows).toBe(trading);
      expect(s.notices.join('\n')).toMatch(
        new RegExp(`${raw.length - trading} instrument\\(s\\) not trading now`),
      );
      const t = await lake.instruments({ date: '2021-10-12', base: 'BTC', quote: 'USDT' });
      expect(t.numRows).toBe(1);
      expect(t.getChild('instrument_key')!.get(0)).toBe('BINANCE:SPOT_PAIR:BTC-USDT');
      expect(t.getChild('tick_size')!.get(0)).toBe(0.01);
    });

    it('a native source for the wrong exchange is a usage error', async () => {
      const { lake } = await nativeLake();
      await expect(
        lake.syncInstruments({
          exchanges: ['okex'],
          source: 'binance',
          from: '2021-10-12',
          to: '2021-10-12',
        }),
      ).rejects.toMatchObject({ code: 'USAGE' });
      await expect(
        lake.syncInstruments({
          exchanges: ['deribit'],
          source: 'bloomberg',
          from: '2021-10-12',
          to: '2021-10-12',
        }),
      ).rejects.toMatchObject({ code: 'USAGE' });
    });
  },
);
