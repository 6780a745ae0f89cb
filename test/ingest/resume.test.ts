/**
 * A download cut off in one process resumes in the next: the bytes already received are kept in the
 * lake's staging folder and the next attempt asks the vendor only for the rest (Range).
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { generateTardisDataset } from '../../src/dev/generate.js';
import { faultSequence } from '../../src/dev/tardis-server.js';
import { LocalStorage } from '../../src/lake/local-storage.js';
import { partialDownloadPath } from '../../src/pipeline/ingest.js';
import { expectedAndActual } from '../helpers/compare.js';
import { sqlString } from '../helpers/duck.js';
import { vendorPath } from '../helpers/fixtures.js';
import { type LakeEnv, lakeEnv } from '../helpers/lake.js';

const DAY = '2024-08-08';
const PATH = '/v1/binance/trades/2024/08/08/BTCUSDT.csv.gz';
let env: LakeEnv | null = null;
afterEach(async () => {
  await env?.close();
  env = null;
});

describe('resuming a download across processes', () => {
  it('keeps the received bytes after a network failure and resumes with Range; the file is exact', async () => {
    env = await lakeEnv(
      async (dir) => {
        await generateTardisDataset({
          dir,
          exchange: 'binance',
          dataType: 'trades',
          symbol: 'BTCUSDT',
          day: DAY,
          rows: 60_000,
          seed: 9,
        });
      },
      {
        server: { faults: faultSequence({ [PATH]: [{ dropAfterBytes: 300_000 }] }) },
        config: { tardis: { maxRetries: 0 } },
      },
    );
    const first = await env.lake.ingest({
      exchange: 'binance',
      dataTypes: ['trades'],
      symbols: ['BTCUSDT'],
      from: DAY,
      to: DAY,
    });
    expect(first.reports[0]!.outcome).toBe('failed');
    expect(first.reports[0]!.error!.code).toBe('NETWORK');
    const partial = partialDownloadPath(
      new LocalStorage(env.lakeDir),
      `${env.server.url}/binance/trades/2024/08/08/BTCUSDT.csv.gz`,
    )!;
    expect(statSync(partial).size).toBe(300_000);

    // A new process (a reopened lake) resumes from byte 300,000.
    await env.reopen();
    const second = await env.lake.ingest({
      exchange: 'binance',
      dataTypes: ['trades'],
      symbols: ['BTCUSDT'],
      from: DAY,
      to: DAY,
    });
    expect(second.reports[0]!.outcome, JSON.stringify(second.reports[0]!.error)).toBe('done');
    const ranges = env.server.requests.filter((r) => r.path === PATH).map((r) => r.range ?? null);
    expect(ranges).toEqual([null, 'bytes=299999-']);
    expect(existsSync(partial)).toBe(false);
    expect(readdirSync(join(env.lakeDir, '_staging', 'downloads'))).toEqual([]);

    // Every row and the source checksum are those of the whole vendor file.
    const gz = vendorPath(env.vendorDir, 'binance', 'trades', DAY, 'BTCUSDT');
    const csvPath = `${gz}.plain.csv`;
    const text = gunzipSync(readFileSync(gz));
    writeFileSync(csvPath, text);
    const [rec] = await env.lake.files({ dataType: 'trades' });
    const { expected, actual } = await expectedAndActual(
      'trades',
      csvPath,
      text.subarray(0, text.indexOf(10)).toString().split(','),
      join(env.lakeDir, rec!.path),
      sqlString('BINANCE:SPOT_PAIR:BTC-USDT'),
    );
    expect(actual.length).toBe(60_000);
    const firstDiff = actual.findIndex((row, i) => JSON.stringify(row) !== JSON.stringify(expected[i]));
    expect(firstDiff).toBe(-1);
    const { createHash } = await import('node:crypto');
    expect(rec!.sourceChecksum).toBe(createHash('sha256').update(readFileSync(gz)).digest('hex'));
  });

  it('a partial holding the whole file (killed after the download) still gets the vendor headers', async () => {
    env = await lakeEnv(async (dir) => {
      await generateTardisDataset({
        dir,
        exchange: 'binance',
        dataType: 'trades',
        symbol: 'BTCUSDT',
        day: DAY,
        rows: 5_000,
        seed: 4,
      });
    });
    const url = `${env.server.url}/binance/trades/2024/08/08/BTCUSDT.csv.gz`;
    const partial = partialDownloadPath(new LocalStorage(env.lakeDir), url)!;
    const gz = readFileSync(vendorPath(env.vendorDir, 'binance', 'trades', DAY, 'BTCUSDT'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(partial, '..'), { recursive: true });
    writeFileSync(partial, gz);
    writeFileSync(`${partial}.json`, JSON.stringify({ url }));
    const s = await env.lake.ingest({
      exchange: 'binance',
      dataTypes: ['trades'],
      symbols: ['BTCUSDT'],
      from: DAY,
      to: DAY,
    });
    expect(s.reports[0]!.outcome).toBe('done');
    expect(env.server.requests.map((r) => r.range)).toEqual([`bytes=${gz.length - 1}-`]);
    const [rec] = await env.lake.files({ dataType: 'trades' });
    expect(rec!.generated).toBe(true);
    expect(rec!.rows).toBe(5_000);
  });

  it('a 404 leaves no partial download behind', async () => {
    env = await lakeEnv(async () => {});
    await env.lake.ingest({
      exchange: 'binance',
      dataTypes: ['trades'],
      symbols: ['BTCUSDT'],
      from: DAY,
      to: DAY,
    });
    const dir = join(env.lakeDir, '_staging', 'downloads');
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });
});
