/**
 * Bad inputs: each ends in a typed error whose one line names the file and the fix, loses nothing
 * (no partial file, the catalog says what happened), and leaves the lake consistent.
 */
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { faultSequence } from '../../src/dev/tardis-server.js';
import { UnknownDataTypeError, UnknownExchangeError } from '../../src/errors.js';
import { openLake } from '../../src/lake/lake.js';
import { filesUnder, putRawVendorFile, putVendorFile, tempDir } from '../helpers/fixtures.js';
import { type LakeEnv, lakeEnv } from '../helpers/lake.js';

const HEADER = 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount';
const DAY = '2024-08-08';

/** Generated trades CSV (labelled generated): n rows, one second apart. */
function tradesCsv(n: number, bad: Record<number, string> = {}): string {
  const lines = [HEADER];
  const t0 = Date.UTC(2024, 7, 8) * 1000;
  for (let i = 0; i < n; i++) {
    const ts = t0 + i * 1_000_000;
    lines.push(
      bad[i] ??
        `binance,BTCUSDT,${ts},${ts + 1500},${1000 + i},${i % 2 ? 'buy' : 'sell'},${(60000 + (i % 100) / 10).toFixed(1)},0.0${(i % 9) + 1}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const lakeFiles = (lakeDir: string) => filesUnder(join(lakeDir, 'raw_tick_data'), { ext: '.parquet' });

let env: LakeEnv | null = null;
afterEach(async () => {
  await env?.close();
  env = null;
});

async function ingestOne(e: LakeEnv, symbol = 'BTCUSDT', day = DAY) {
  const s = await e.lake.ingest({
    exchange: 'binance',
    dataTypes: ['trades'],
    symbols: [symbol],
    from: day,
    to: day,
  });
  return { summary: s, report: s.reports[0]! };
}

describe('bad vendor files', () => {
  it('truncated gzip → CORRUPTED_SOURCE naming the URL, nothing stored', async () => {
    env = await lakeEnv(async (dir) => {
      const gz = gzipSync(Buffer.from(tradesCsv(5000)));
      await putRawVendorFile(
        dir,
        'binance',
        'trades',
        DAY,
        'BTCUSDT',
        gz.subarray(0, Math.floor(gz.length / 2)),
      );
    });
    const { report } = await ingestOne(env);
    expect(report.outcome).toBe('failed');
    expect(report.error!.code).toBe('CORRUPTED_SOURCE');
    expect(report.error!.message).toMatch(
      /\/binance\/trades\/2024\/08\/08\/BTCUSDT\.csv\.gz: truncated gzip/,
    );
    expect(report.error!.message).toMatch(/rerun/);
    expect(lakeFiles(env.lakeDir)).toEqual([]);
    const [task] = await env.lake.tasks();
    expect(task!.status).toBe('failed');
    expect(task!.errorCode).toBe('CORRUPTED_SOURCE');
  });

  it('not gzip → CORRUPTED_SOURCE "not a valid gzip file"', async () => {
    env = await lakeEnv(async (dir) => {
      await putRawVendorFile(dir, 'binance', 'trades', DAY, 'BTCUSDT', Buffer.from('<html>oops</html>'));
    });
    const { report } = await ingestOne(env);
    expect(report.outcome).toBe('failed');
    expect(report.error!.code).toBe('CORRUPTED_SOURCE');
    expect(report.error!.message).toMatch(/BTCUSDT\.csv\.gz: not a valid gzip file/);
    expect(lakeFiles(env.lakeDir)).toEqual([]);
  });

  it('wrong header → SCHEMA_MISMATCH naming the file and the missing columns', async () => {
    env = await lakeEnv(async (dir) => {
      await putVendorFile(
        dir,
        'binance',
        'trades',
        DAY,
        'BTCUSDT',
        'exchange,symbol,timestamp,local_timestamp,bid_price\nbinance,BTCUSDT,1,2,3\n',
      );
    });
    const { report } = await ingestOne(env);
    expect(report.outcome).toBe('failed');
    expect(report.error!.code).toBe('SCHEMA_MISMATCH');
    expect(report.error!.message).toMatch(/BTCUSDT\.csv\.gz/);
    expect(report.error!.message).toMatch(/price/);
    expect(lakeFiles(env.lakeDir)).toEqual([]);
  });

  it('one non-numeric price among 10,000 rows → row quarantined with its reason, the rest stored', async () => {
    env = await lakeEnv(async (dir) => {
      const t = Date.UTC(2024, 7, 8) * 1000 + 4242 * 1_000_000;
      await putVendorFile(
        dir,
        'binance',
        'trades',
        DAY,
        'BTCUSDT',
        tradesCsv(10_000, { 4242: `binance,BTCUSDT,${t},${t},x1,buy,abc,0.01` }),
      );
    });
    const { report } = await ingestOne(env);
    expect(report.outcome).toBe('done');
    expect(report.rows).toBe(9_999);
    expect(report.badRows).toBe(1);
    const [task] = await env.lake.tasks();
    expect(task!.badRows).toBe(1);
    expect(task!.badExamples[0]).toMatch(/line 4244: price "abc" is not a number/);
    const q = await env.lake.files({ dataset: 'quarantine' });
    expect(q).toHaveLength(1);
    expect(q[0]!.rows).toBe(1);
    const t = await env.lake.read({
      dataset: 'trades',
      key: 'BINANCE:SPOT_PAIR:BTC-USDT',
      from: DAY,
      to: '2024-08-09',
    });
    expect(t.numRows).toBe(9_999);
  });

  it('too many bad rows → TOO_MANY_BAD_ROWS, nothing stored', async () => {
    env = await lakeEnv(async (dir) => {
      await putVendorFile(
        dir,
        'binance',
        'trades',
        DAY,
        'BTCUSDT',
        tradesCsv(10, { 2: 'binance,BTCUSDT,1,1,1,buy,abc,1', 5: 'binance,BTCUSDT,1,1,1,buy,1,xyz' }),
      );
    });
    const { report } = await ingestOne(env);
    expect(report.outcome).toBe('failed');
    expect(report.error!.code).toBe('TOO_MANY_BAD_ROWS');
    expect(report.error!.message).toMatch(/BTCUSDT\.csv\.gz: 2 of 10 rows could not be parsed/);
    expect(lakeFiles(env.lakeDir)).toEqual([]);
  });
});

describe('vendor HTTP answers', () => {
  it('401 on a non-free day without a key → VENDOR_AUTH "needs an API key"; the 1st of the month works', async () => {
    env = await lakeEnv(async (dir) => {
      await putVendorFile(dir, 'binance', 'trades', DAY, 'BTCUSDT', tradesCsv(10));
      await putVendorFile(dir, 'binance', 'trades', '2024-08-01', 'BTCUSDT', tradesCsv(10));
    });
    await env.reopen({ tardis: { apiKey: undefined } });
    // openLake merges undefined as "not set": make sure no key is configured.
    (env.lake.config.tardis as { apiKey: string | undefined }).apiKey = undefined;
    const { report } = await ingestOne(env);
    expect(report.outcome).toBe('failed');
    expect(report.error!.code).toBe('VENDOR_AUTH');
    expect(report.error!.message).toMatch(/BTCUSDT\.csv\.gz: needs an API key \(HTTP 401\)/);
    expect(report.error!.message).toMatch(/TARDIS_API_KEY/);
    const free = await ingestOne(env, 'BTCUSDT', '2024-08-01');
    expect(free.report.outcome).toBe('done');
  });

  it('404 → absent at vendor (not failed), not retried', async () => {
    env = await lakeEnv(async () => {});
    const { summary, report } = await ingestOne(env, 'NOPEUSDT');
    expect(report.outcome).toBe('absent');
    expect(summary.failed).toBe(0);
    expect(summary.absent).toBe(1);
    expect(env.server.requests.filter((r) => r.path.includes('NOPEUSDT'))).toHaveLength(1);
    const [task] = await env.lake.tasks();
    expect(task!.status).toBe('absent');
  });

  it('429 with Retry-After, then success', async () => {
    const path = `/v1/binance/trades/2024/08/08/BTCUSDT.csv.gz`;
    env = await lakeEnv(
      async (dir) => {
        await putVendorFile(dir, 'binance', 'trades', DAY, 'BTCUSDT', tradesCsv(100));
      },
      {
        server: {
          faults: faultSequence({
            [path]: [
              { status: 429, retryAfter: 1 },
              { status: 429, retryAfter: 1 },
            ],
          }),
        },
      },
    );
    const t0 = Date.now();
    const { report } = await ingestOne(env);
    expect(report.outcome).toBe('done');
    expect(report.rows).toBe(100);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(env.server.requests.filter((r) => r.path === path).map((r) => r.status)).toEqual([429, 429, 200]);
  });

  it('5xx until retries run out → VENDOR_SERVER after maxRetries + 1 requests', async () => {
    const path = `/v1/binance/trades/2024/08/08/BTCUSDT.csv.gz`;
    env = await lakeEnv(
      async (dir) => {
        await putVendorFile(dir, 'binance', 'trades', DAY, 'BTCUSDT', tradesCsv(100));
      },
      { server: { faults: () => ({ status: 503 }) }, config: { tardis: { maxRetries: 3 } } },
    );
    const { report } = await ingestOne(env);
    expect(report.outcome).toBe('failed');
    expect(report.error!.code).toBe('VENDOR_SERVER');
    expect(report.error!.message).toMatch(
      /BTCUSDT\.csv\.gz: vendor server error \(HTTP 503\) after 4 attempts/,
    );
    expect(env.server.requests.filter((r) => r.path === path)).toHaveLength(4);
    expect(lakeFiles(env.lakeDir)).toEqual([]);
  });

  it('a connection dropped mid-body is resumed and the file stored intact', async () => {
    const path = `/v1/binance/trades/2024/08/08/BTCUSDT.csv.gz`;
    env = await lakeEnv(
      async (dir) => {
        await putVendorFile(dir, 'binance', 'trades', DAY, 'BTCUSDT', tradesCsv(50_000));
      },
      { server: { faults: faultSequence({ [path]: [{ dropAfterBytes: 20_000 }] }) } },
    );
    const { report } = await ingestOne(env);
    expect(report.outcome).toBe('done');
    expect(report.rows).toBe(50_000);
    const reqs = env.server.requests.filter((r) => r.path === path);
    expect(reqs[1]!.range).toBe('bytes=20000-');
  });
});

describe('bad requests', () => {
  it('unknown exchange or data type fails before any request, listing the known ones', async () => {
    env = await lakeEnv(async () => {});
    await expect(
      env.lake.ingest({ exchange: 'nasdaq-x', dataTypes: ['trades'], symbols: ['A'], from: DAY, to: DAY }),
    ).rejects.toThrow(UnknownExchangeError);
    const err = await env.lake
      .ingest({ exchange: 'binance', dataTypes: ['tradez'], symbols: ['A'], from: DAY, to: DAY })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownDataTypeError);
    expect((err as UnknownDataTypeError).oneLine()).toMatch(
      /unknown data type "tradez". known data types: trades, incremental_book_L2/,
    );
    const ex = await env.lake
      .ingest({ exchange: 'nasdaq-x', dataTypes: ['trades'], symbols: ['A'], from: DAY, to: DAY })
      .catch((e: unknown) => e);
    expect((ex as UnknownExchangeError).oneLine()).toMatch(
      /^unknown exchange "nasdaq-x". known exchanges: (?=.*binance-futures)(?=.*deribit)/,
    );
    expect(env.server.requests).toHaveLength(0);
  });
});

const canMount = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!canMount)('storage failures (real tmpfs mounts)', () => {
  it('disk full (ENOSPC) → STORAGE_FULL, no partial file visible', async () => {
    const tmp = await tempDir();
    const mnt = join(tmp.path, 'small');
    await mkdir(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=600k', 'tmpfs', mnt]);
    try {
      env = await lakeEnv(async (dir) => {
        await putVendorFile(dir, 'binance', 'trades', DAY, 'BTCUSDT', tradesCsv(200_000));
      });
      const lake = await openLake({
        root: join(mnt, 'lake'),
        catalog: join(tmp.path, 'catalog.sqlite'),
        config: {
          tardis: { datasetsUrl: env.server.url, apiKey: 'tl-test-key-3f9a1c', retryBaseDelayMs: 5 },
          ingest: { runRows: 50_000 },
        },
      });
      try {
        const s = await lake.ingest({
          exchange: 'binance',
          dataTypes: ['trades'],
          symbols: ['BTCUSDT'],
          from: DAY,
          to: DAY,
        });
        const r = s.reports[0]!;
        expect(r.outcome).toBe('failed');
        expect(r.error!.code).toBe('STORAGE_FULL');
        expect(r.error!.message).toMatch(/no space left on device/);
        expect(r.error!.message).toMatch(/free some space/);
        expect(lakeFiles(join(mnt, 'lake'))).toEqual([]);
        expect(await lake.files()).toEqual([]);
      } finally {
        await lake.close();
      }
    } finally {
      execFileSync('umount', [mnt]);
      await tmp.cleanup();
    }
  });

  it('read-only lake directory → STORAGE_ACCESS naming the lake and the fix', async () => {
    const tmp = await tempDir();
    const mnt = join(tmp.path, 'ro');
    await mkdir(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', mnt]);
    try {
      env = await lakeEnv(async (dir) => {
        await putVendorFile(dir, 'binance', 'trades', DAY, 'BTCUSDT', tradesCsv(10));
      });
      const lake = await openLake({
        root: mnt,
        catalog: join(tmp.path, 'catalog.sqlite'),
        config: { tardis: { datasetsUrl: env.server.url, apiKey: 'tl-test-key-3f9a1c' } },
      });
      try {
        const err = await lake
          .ingest({ exchange: 'binance', dataTypes: ['trades'], symbols: ['BTCUSDT'], from: DAY, to: DAY })
          .then(
            () => null,
            (e: unknown) => e as { code: string; oneLine(): string },
          );
        expect(err?.code).toBe('STORAGE_ACCESS');
        expect(err!.oneLine()).toMatch(new RegExp(`${mnt}: .*read-only|not writable`));
        expect(err!.oneLine()).toMatch(/--lake/);
      } finally {
        await lake.close();
      }
    } finally {
      execFileSync('umount', [mnt]);
      await tmp.cleanup();
    }
  });
});
