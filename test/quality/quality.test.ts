/**
 * Quality metrics on the real Tardis samples (no false alarms) and on copies with injected faults
 * (duplicated rows, a price spike, 40 minutes cut out, a crossed quote), each compared with what the
 * fault must produce, counted independently from the CSV text.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lake } from '../../src/lake/lake.js';
import type { FileQuality } from '../../src/quality/check.js';
import { runCli } from '../helpers/cli.js';
import { putVendorFile, realDataMissing, realTardisFiles, stageRealTardis } from '../helpers/fixtures.js';
import { type LakeEnv, lakeEnv, TEST_API_KEY } from '../helpers/lake.js';

const REAL = realTardisFiles();
const csvRows = async (path: string) => (await readFile(path, 'utf8')).trim().split('\n').length - 1;

/** Copies of real files under other symbols, with one fault each. */
async function stageFaults(dir: string): Promise<void> {
  const trades = REAL.find((f) => f.name.startsWith('binance-futures_trades'))!;
  const quotes = REAL.find((f) => f.name.startsWith('binance-futures_quotes'))!;
  const [header, ...rows] = (await readFile(trades.path, 'utf8')).trim().split('\n');
  const put = (symbol: string, dataType: string, lines: string[]) =>
    putVendorFile(dir, 'binance-futures', dataType, trades.day, symbol, `${[header, ...lines].join('\n')}\n`);
  const bySymbol = (sym: string, ls: string[]) => ls.map((l) => l.replace(',BTCUSDT,', `,${sym},`));
  // 1. Five rows duplicated (replayed with the same id and timestamp).
  await put('DUPUSDT', 'trades', bySymbol('DUPUSDT', [...rows, ...rows.slice(100, 105)]));
  // 2. One price spike: ×1.5.
  const spiked = rows.map((l, i) => {
    if (i !== 5000) return l;
    const c = l.split(',');
    c[6] = String(Number(c[6]) * 1.5);
    return c.join(',');
  });
  await put('SPIKEUSDT', 'trades', bySymbol('SPIKEUSDT', spiked));
  // 3. 40 minutes cut out of the middle of the two hours.
  const t0 = Number(rows[0]!.split(',')[2]);
  const cut = rows.filter((l) => {
    const t = Number(l.split(',')[2]);
    return t < t0 + 40 * 60e6 || t >= t0 + 80 * 60e6;
  });
  await put('GAPUSDT', 'trades', bySymbol('GAPUSDT', cut));
  // 4. One crossed quote: bid above ask.
  const [qh, ...qrows] = (await readFile(quotes.path, 'utf8')).trim().split('\n');
  const crossed = qrows.map((l, i) => {
    if (i !== 10) return l;
    const c = l.split(',');
    // exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount
    c[6] = String(Number(c[5]) + 1);
    return c.join(',');
  });
  await putVendorFile(
    dir,
    'binance-futures',
    'quotes',
    quotes.day,
    'CROSSUSDT',
    `${[qh, ...crossed.map((l) => l.replace(',BTCUSDT,', ',CROSSUSDT,'))].join('\n')}\n`,
  );
}

describe.skipIf(realDataMissing !== null)(`quality checks ${realDataMissing ?? ''}`, () => {
  let env: LakeEnv;
  let lake: Lake;
  let all: FileQuality[];

  beforeAll(async () => {
    env = await lakeEnv(async (dir) => {
      await stageRealTardis(dir);
      await stageFaults(dir);
    });
    lake = env.lake;
    for (const f of REAL) {
      await lake.ingest({
        exchange: f.exchange,
        dataTypes: [f.dataType],
        symbols: [f.symbol],
        from: f.day,
        to: f.day,
      });
    }
    await lake.ingest({
      exchange: 'binance-futures',
      dataTypes: ['trades'],
      symbols: ['DUPUSDT', 'SPIKEUSDT', 'GAPUSDT'],
      from: '2020-02-22',
    });
    await lake.ingest({
      exchange: 'binance-futures',
      dataTypes: ['quotes'],
      symbols: ['CROSSUSDT'],
      from: '2020-02-22',
    });
    all = await lake.checkQuality({ from: '2020-01-01', to: '2020-12-31' });
  }, 120_000);

  afterAll(async () => {
    await env?.close();
  });

  const of = (sym: string, dt = 'trades') =>
    all.find((f) => f.instrumentKey.endsWith(sym) && f.dataType === dt)!;

  it('the untouched real samples raise no alarm, and their row counts match the CSVs', async () => {
    const real = all.filter((f) => !/DUP|SPIKE|GAP|CROSS/.test(f.instrumentKey));
    expect(real).toHaveLength(REAL.length);
    for (const f of real) {
      expect(f.issues, `${f.instrumentKey} ${f.dataType}`).toEqual([]);
      const src = REAL.find((r) => r.dataType === f.dataType && r.day === f.day)!;
      expect(f.metrics.rows).toBe(await csvRows(src.path));
    }
    const trades = of('BTC-USDT');
    expect(trades.metrics).toMatchObject({ duplicate_ids: 0, non_positive: 0, price_outliers: 0, gaps: 0 });
    const quotes = of('BTC-USDT', 'quotes');
    expect(quotes.metrics).toMatchObject({ crossed: 0, locked: 0 });
  });

  it('duplicated rows, a price spike, a cut hour and a crossed quote are each found exactly', () => {
    expect(of('DUP-USDT').metrics.duplicate_ids).toBe(5);
    expect(of('DUP-USDT').issues).toEqual(['5 duplicate trade ids']);
    expect(of('SPIKE-USDT').metrics.price_outliers).toBe(1);
    expect(of('SPIKE-USDT').issues).toEqual(['1 price outlier(s)']);
    const gap = of('GAP-USDT');
    expect(gap.metrics.gaps).toBe(1);
    expect(gap.metrics.max_gap_s).toBeGreaterThan(40 * 60);
    expect(gap.issues[0]).toMatch(/^1 gap\(s\) > \d+ s \(longest \d+ s\)$/);
    const cross = of('CROSS-USDT', 'quotes');
    expect(cross.metrics.crossed).toBe(1);
    expect(cross.issues).toEqual(['1 crossed, 0 locked book row(s)']);
    // Worst first.
    expect(all.slice(0, 4).every((f) => f.issues.length > 0)).toBe(true);
  });

  it('metrics are stored in the catalog per file and checksum (computed at ingest)', async () => {
    const stored = await lake.catalog.listQualityMetrics({ fromDay: '2020-02-22', toDay: '2020-02-22' });
    const files = await lake.files({ dataset: 'raw_tick_data', fromDay: '2020-02-22', toDay: '2020-02-22' });
    expect(stored.map((r) => r.path).sort()).toEqual(files.map((f) => f.path).sort());
    for (const r of stored) expect(r.checksum).toBe(files.find((f) => f.path === r.path)!.checksum);
  });

  it('CLI: check quality prints every file with its issues', async () => {
    const r = await runCli(
      ['--lake', env.lakeDir, 'check', 'quality', '--from', '2020-02-22', '--format', 'table'],
      {
        TARDIS_API_KEY: TEST_API_KEY,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /BINANCE:PERP:DUP-USDT\s+trades\s+2020-02-22\s+10,004\s+.*5 duplicate trade ids/,
    );
    expect(r.stdout).toMatch(/6 file\(s\), 4 with issues/);
  });
});
