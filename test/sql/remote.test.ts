/**
 * SQL over a remote lake (S3 via s3rver): the views read the storage's local file cache through a
 * folder of symlinks in the lake's layout, so results, `day` pruning and the candle key column are the
 * same as for a local lake; confinement still holds; a republished file is seen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlForbiddenError } from '../../src/errors.js';
import { putVendorFile } from '../helpers/fixtures.js';
import type { LakeEnv } from '../helpers/lake.js';
import { BTC, ETH, GEN_DAYS, GEN_ROWS, generatedTrades } from '../read/lake-fixture.js';
import { lakeEnvOn } from '../storage/lake-env.js';

describe('lake.sql over S3', () => {
  let env: LakeEnv;
  beforeAll(async () => {
    env = await lakeEnvOn('s3', async (dir) => {
      for (const day of GEN_DAYS) {
        await putVendorFile(dir, 'binance', 'trades', day, 'BTCUSDT', generatedTrades('BTCUSDT', day));
        await putVendorFile(dir, 'binance', 'trades', day, 'ETHUSDT', generatedTrades('ETHUSDT', day));
      }
    });
    const s = await env.lake.ingest({
      exchange: 'binance',
      dataTypes: ['trades'],
      symbols: ['BTCUSDT', 'ETHUSDT'],
      from: GEN_DAYS[0]!,
      to: GEN_DAYS[1]!,
    });
    expect(s.failed).toBe(0);
    expect(env.lake.storage.isLocal).toBe(false);
  }, 120_000);
  afterAll(async () => {
    await env?.close();
  });

  it('views over the remote files: counts per key and day, and lake.read agrees', async () => {
    const t = await env.lake.sql(
      `SELECT instrument_key, CAST(day AS VARCHAR) AS day, count(*) AS n, max(id) AS last FROM trades GROUP BY ALL ORDER BY 1, 2`,
    );
    const rows = Array.from({ length: t.numRows }, (_, i) => [
      t.getChild('instrument_key')!.get(i),
      t.getChild('day')!.get(i),
      Number(t.getChild('n')!.get(i)),
    ]);
    expect(rows).toEqual([
      [BTC, GEN_DAYS[0], GEN_ROWS],
      [BTC, GEN_DAYS[1], GEN_ROWS],
      [ETH, GEN_DAYS[0], GEN_ROWS],
      [ETH, GEN_DAYS[1], GEN_ROWS],
    ]);
    const one = await env.lake.sql(
      `SELECT count(*) AS n FROM trades WHERE day = '${GEN_DAYS[1]}' AND instrument_key = '${ETH}'`,
    );
    const read = await env.lake.read({ dataset: 'trades', key: ETH, from: GEN_DAYS[1]!, to: '2024-08-03' });
    expect(Number(one.getChild('n')!.get(0))).toBe(read.numRows);
  });

  it('a republished file is seen (new object version → new cached file)', async () => {
    const q = `SELECT round(sum(price), 2) AS s FROM trades WHERE day = '${GEN_DAYS[1]}' AND instrument_key = '${ETH}'`;
    const before = Number((await env.lake.sql(q)).getChild('s')!.get(0));
    const csv = generatedTrades('ETHUSDT', GEN_DAYS[1]!)
      .split('\n')
      .map((l, i) => {
        if (i === 0 || l === '') return l;
        const c = l.split(',');
        c[6] = String(Number(c[6]) + 1);
        return c.join(',');
      })
      .join('\n');
    await putVendorFile(env.vendorDir, 'binance', 'trades', GEN_DAYS[1]!, 'ETHUSDT', csv);
    const s = await env.lake.ingest({
      exchange: 'binance',
      dataTypes: ['trades'],
      symbols: ['ETHUSDT'],
      from: GEN_DAYS[1]!,
      to: GEN_DAYS[1]!,
      force: true,
    });
    expect(s.failed).toBe(0);
    await new Promise((r) => setTimeout(r, 1100)); // views are re-derived from the catalog at most once a second
    const after = Number((await env.lake.sql(q)).getChild('s')!.get(0));
    expect(after).toBeCloseTo(before + GEN_ROWS, 2);
  });

  it('still confined: the local cache folder is readable only through the views', async () => {
    await expect(env.lake.sql(`SELECT * FROM read_csv('/etc/passwd')`)).rejects.toBeInstanceOf(
      SqlForbiddenError,
    );
    await expect(env.lake.sql(`COPY (SELECT 1) TO '${env.root}/x.csv'`)).rejects.toBeInstanceOf(
      SqlForbiddenError,
    );
  });
});
