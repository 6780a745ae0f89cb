/**
 * All nine Tardis data types (generated data, labelled generated) through the HTTP path into the
 * lake, checked against DuckDB reading the vendor CSV; grouped files split per instrument/underlying.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTardisDataset } from '../../src/dev/generate.js';
import { tardisKeyForSymbol } from '../../src/keys/tardis.js';
import { DATA_TYPES, type DataType } from '../../src/schema/datasets.js';
import { expectedAndActual } from '../helpers/compare.js';
import { sqlString } from '../helpers/duck.js';
import { putVendorFile, vendorPath } from '../helpers/fixtures.js';
import { type LakeEnv, lakeEnv } from '../helpers/lake.js';

const DAY = '2024-08-08';
const SINGLE: Record<
  Exclude<DataType, 'options_chain'>,
  { exchange: string; symbol: string; key: string }
> = {
  trades: { exchange: 'deribit', symbol: 'BTC-PERPETUAL', key: 'DERIBIT:PERP:BTC-USD' },
  liquidations: { exchange: 'deribit', symbol: 'BTC-PERPETUAL', key: 'DERIBIT:PERP:BTC-USD' },
  incremental_book_L2: { exchange: 'deribit', symbol: 'BTC-PERPETUAL', key: 'DERIBIT:PERP:BTC-USD' },
  book_snapshot_25: { exchange: 'binance-futures', symbol: 'BTCUSDT', key: 'BINANCE:PERP:BTC-USDT' },
  book_snapshot_5: { exchange: 'binance-futures', symbol: 'BTCUSDT', key: 'BINANCE:PERP:BTC-USDT' },
  quotes: { exchange: 'binance-futures', symbol: 'BTCUSDT', key: 'BINANCE:PERP:BTC-USDT' },
  book_ticker: { exchange: 'binance', symbol: 'ETHUSDT', key: 'BINANCE:SPOT_PAIR:ETH-USDT' },
  derivative_ticker: { exchange: 'deribit', symbol: 'ETH-PERPETUAL', key: 'DERIBIT:PERP:ETH-USD' },
};

function csvOf(
  env: LakeEnv,
  exchange: string,
  dataType: string,
  symbol: string,
): { path: string; header: string[] } {
  const gz = vendorPath(env.vendorDir, exchange, dataType, DAY, symbol);
  const text = gunzipSync(readFileSync(gz));
  const path = `${gz}.plain.csv`;
  writeFileSync(path, text);
  return { path, header: text.subarray(0, text.indexOf(10)).toString().trim().split(',') };
}

describe('every data type, generated data → lake → DuckDB', () => {
  let env: LakeEnv;
  beforeAll(async () => {
    env = await lakeEnv(async (dir) => {
      let seed = 100;
      for (const [dataType, s] of Object.entries(SINGLE)) {
        await generateTardisDataset({
          dir,
          exchange: s.exchange,
          dataType: dataType as DataType,
          symbol: s.symbol,
          day: DAY,
          rows: 30_000,
          seed: seed++,
        });
      }
      // options_chain: one grouped OPTIONS file with two underlyings, as Deribit publishes it.
      const parts: string[] = [];
      for (const underlying of ['BTC', 'ETH']) {
        const tmp = join(dir, '_tmp', underlying);
        const r = await generateTardisDataset({
          dir: tmp,
          exchange: 'deribit',
          dataType: 'options_chain',
          symbol: 'OPTIONS',
          day: DAY,
          rows: 20_000,
          seed: seed++,
          underlying,
        });
        parts.push(gunzipSync(readFileSync(r.path)).toString());
      }
      const [h, ...btc] = parts[0]!.trimEnd().split('\n');
      const eth = parts[1]!.trimEnd().split('\n').slice(1);
      await putVendorFile(
        dir,
        'deribit',
        'options_chain',
        DAY,
        'OPTIONS',
        `${[h, ...btc, ...eth].join('\n')}\n`,
      );
    });
    for (const [dataType, s] of Object.entries(SINGLE)) {
      const r = await env.lake.ingest({
        exchange: s.exchange,
        dataTypes: [dataType],
        symbols: [s.symbol],
        from: DAY,
        to: DAY,
      });
      expect(r.failed, JSON.stringify(r.reports[0]?.error)).toBe(0);
    }
    const o = await env.lake.ingest({
      exchange: 'deribit',
      dataTypes: ['options_chain'],
      symbols: ['OPTIONS'],
      from: DAY,
      to: DAY,
    });
    expect(o.failed, JSON.stringify(o.reports[0]?.error)).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await env?.close();
  });

  for (const dataType of DATA_TYPES.filter((d) => d !== 'options_chain') as Exclude<
    DataType,
    'options_chain'
  >[]) {
    it(`${dataType}: every row and column equals the vendor CSV; sorted by timestamp; marked generated`, async () => {
      const s = SINGLE[dataType];
      const [rec] = await env.lake.files({ dataType, instrumentKey: s.key });
      expect(rec).toBeDefined();
      expect(rec!.generated).toBe(true);
      const csv = csvOf(env, s.exchange, dataType, s.symbol);
      const { expected, actual } = await expectedAndActual(
        dataType,
        csv.path,
        csv.header,
        join(env.lakeDir, rec!.path),
        sqlString(s.key),
      );
      expect(actual.length).toBe(30_000);
      expect(actual.length).toBe(expected.length);
      // Compare with a readable first difference rather than a giant diff.
      const firstDiff = actual.findIndex((row, i) => JSON.stringify(row) !== JSON.stringify(expected[i]));
      expect(
        firstDiff,
        firstDiff >= 0
          ? `row ${firstDiff}: ${JSON.stringify(actual[firstDiff])} vs ${JSON.stringify(expected[firstDiff])}`
          : '',
      ).toBe(-1);
      for (let i = 1; i < actual.length; i++) {
        if ((actual[i]!.timestamp as number) < (actual[i - 1]!.timestamp as number))
          throw new Error(`not sorted at row ${i}`);
      }
    });
  }

  it('options_chain: one file per underlying, sorted by (instrument_key, timestamp), equal to the vendor rows', async () => {
    const files = await env.lake.files({ dataType: 'options_chain' });
    expect(files.map((f) => f.instrumentKey).sort()).toEqual([
      'DERIBIT:OPTION:BTC-USD',
      'DERIBIT:OPTION:ETH-USD',
    ]);
    const csv = csvOf(env, 'deribit', 'options_chain', 'OPTIONS');
    const symbols = new Set(
      readFileSync(csv.path, 'utf8')
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[1]!),
    );
    const keyCase = `CASE "symbol" ${[...symbols].map((s) => `WHEN ${sqlString(s)} THEN ${sqlString(tardisKeyForSymbol('deribit', s))}`).join(' ')} END`;
    for (const f of files) {
      const underlying = f.instrumentKey!.split(':')[2]!.split('-')[0]!;
      const { expected, actual } = await expectedAndActual(
        'options_chain',
        csv.path,
        csv.header,
        join(env.lakeDir, f.path),
        keyCase,
        `"symbol" LIKE '${underlying}-%'`,
      );
      expect(actual.length).toBe(20_000);
      expect(actual.length).toBe(expected.length);
      const firstDiff = actual.findIndex((row, i) => JSON.stringify(row) !== JSON.stringify(expected[i]));
      expect(
        firstDiff,
        firstDiff >= 0
          ? `row ${firstDiff}: ${JSON.stringify(actual[firstDiff])} vs ${JSON.stringify(expected[firstDiff])}`
          : '',
      ).toBe(-1);
      expect(
        actual.every((r) => String(r.instrument_key).startsWith(`DERIBIT:OPTION:${underlying}-USD-`)),
      ).toBe(true);
    }
  });
});
