/** `ticklake demo` (offline: generated data + local server) and `--online` (pointed at a local stand-in for Tardis). */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ONLINE_DEMO, ONLINE_DEMO_DAY } from '../../src/cli/commands/demo.js';
import { generateTardisDataset } from '../../src/dev/generate.js';
import { startTardisServer, type TardisServer } from '../../src/dev/tardis-server.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';

describe('ticklake demo', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir('ticklake-demo-test-');
  });
  afterAll(async () => {
    await tmp.cleanup();
  });

  it('offline: generates, serves, ingests two exchanges, prints the lake and a query; then ls/query work on ./lake', async () => {
    const r = await runCli(['demo', '--rows', '20000'], {}, tmp.path);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ingest binance: 4 stored, 0 already there, 0 absent, 0 failed · 80,000 rows/);
    expect(r.stdout).toMatch(/ingest deribit: 4 stored/);
    expect(r.stdout).toMatch(/trades\s+BINANCE:SPOT_PAIR:BTC-USDT\s+2\s+40,000/);
    expect(r.stdout).toMatch(/Sample query — BINANCE:SPOT_PAIR:BTC-USDT trades/);
    expect(r.stdout).toMatch(/^timestamp,local_timestamp,id,side,price,amount,instrument_key$/m);
    const ls = await runCli(['ls', '--json'], {}, tmp.path);
    const groups = JSON.parse(ls.stdout) as { key: string; rows: number; generated: boolean }[];
    expect(groups).toHaveLength(4);
    expect(groups.every((g) => g.generated && g.rows === 40_000)).toBe(true);
    // Running the demo again stores nothing new (idempotent).
    const again = await runCli(['demo', '--rows', '20000'], {}, tmp.path);
    expect(again.stdout).toMatch(/ingest binance: 0 stored, 4 already there/);
  });

  describe('--online', () => {
    let server: TardisServer;
    let vendor: string;
    beforeAll(async () => {
      vendor = join(tmp.path, 'fake-tardis');
      let seed = 1;
      for (const item of ONLINE_DEMO)
        for (const symbol of item.symbols)
          for (const dataType of item.dataTypes)
            await generateTardisDataset({
              dir: vendor,
              exchange: item.exchange,
              dataType,
              symbol,
              day: ONLINE_DEMO_DAY,
              rows: 5000,
              seed: seed++,
            });
      // Like Tardis: a key would be required except on the first day of a month.
      server = await startTardisServer({ dir: vendor, port: 0, apiKeys: ['not-given'] });
    });
    afterAll(async () => {
      await server.close();
    });

    it('downloads the free first-of-month days without an API key', async () => {
      const r = await runCli(
        ['--lake', join(tmp.path, 'online-lake'), 'demo', '--online'],
        { TARDIS_DATASETS_URL: server.url },
        tmp.path,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/ingest deribit: 1 stored/);
      expect(r.stdout).toMatch(/ingest bitmex: 1 stored/);
      expect(r.stdout).toMatch(/DERIBIT:PERP:BTC-USD/);
      expect(server.requests.every((q) => !q.authorized)).toBe(true);
    });
  });
});
