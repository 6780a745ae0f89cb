/**
 * The cleaned layer (issue #6): on the real binance-futures trades and quotes samples, the rules
 * remove nothing from the untouched files, and exactly the injected bad rows from copies (duplicates,
 * non-positive prices/amounts, crossed quotes, price outliers) — checked by DuckDB: the cleaned copy
 * equals the untouched raw file row for row. Also: the version folder, footer lineage and per-rule
 * counts, incremental reruns, `lake.read({ layer: 'cleaned' })`, the rules' agreement with the quality
 * metric, and typed errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRules, CLEANING_RULES_VERSION, outlierMask } from '../../src/cleaning/rules.js';
import type { Float64Column } from '../../src/columns/types.js';
import { UsageError } from '../../src/errors.js';
import { tardisKeyForSymbol } from '../../src/keys/tardis.js';
import { decodeFooter } from '../../src/lake/footer.js';
import { cleanedPath, rawTickPath } from '../../src/lake/layout.js';
import { ParquetReader } from '../../src/parquet/reader.js';
import { countOutliers } from '../../src/quality/metrics.js';
import { runCli } from '../helpers/cli.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import { putVendorFile, REAL_TARDIS, realDataMissing } from '../helpers/fixtures.js';
import { type LakeEnv, lakeEnv } from '../helpers/lake.js';

const EX = 'binance-futures';
const SYM = 'BTCUSDT';
const DAY = '2020-02-22';
const KEY = tardisKeyForSymbol(EX, SYM);
const real = (dt: string) => join(REAL_TARDIS, `${EX}_${dt}_${SYM}_${DAY}.csv`);

/** Insert `extra` lines after data line `at` (1-based, header is line 0). */
function inject(csv: string, at: number, extra: string[]): string {
  const lines = csv.trim().split('\n');
  lines.splice(at + 1, 0, ...extra);
  return `${lines.join('\n')}\n`;
}

/** Trades copy: 1 duplicate, 3 non-positive (price 0, price < 0, amount 0), 1 outlier (price × 20). */
function badTrades(csv: string): string {
  const lines = csv.trim().split('\n');
  const c = lines[4000]!.split(',');
  const row = (id: string, price: string, amount: string) =>
    [c[0], c[1], c[2], c[3], id, c[5], price, amount].join(',');
  return inject(csv, 4000, [
    lines[4000]!,
    row('900000001', '0', c[7]!),
    row('900000002', '-5', c[7]!),
    row('900000003', c[6]!, '0'),
    row('900000004', String(Number(c[6]) * 20), c[7]!),
  ]);
}

/** Quotes copy: 1 duplicate, 2 non-positive (bid 0, ask < 0), 1 crossed, 1 outlier (mid × 20). */
function badQuotes(csv: string): string {
  const lines = csv.trim().split('\n');
  const c = lines[6000]!.split(',');
  // exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount
  const row = (ask: number, bid: number, localShift: number) =>
    [c[0], c[1], c[2], String(Number(c[3]) + localShift), c[4], String(ask), String(bid), c[7]].join(',');
  const ask = Number(c[5]);
  const bid = Number(c[6]);
  return inject(csv, 6000, [
    lines[6000]!,
    row(ask, 0, 1),
    row(-1, bid, 2),
    row(ask, ask + 5, 3),
    row(ask * 20, bid * 20, 4),
  ]);
}

const ingest = (lake: LakeEnv['lake']) =>
  lake.ingest({ exchange: EX, dataTypes: ['trades', 'quotes'], symbols: [SYM], from: DAY });

const TRADE_COLS = 'timestamp, local_timestamp, id, side, price, amount';
const QUOTE_COLS = 'timestamp, local_timestamp, ask_amount, ask_price, bid_price, bid_amount';

async function footerOf(lakeDir: string, path: string) {
  const { LocalStorage } = await import('../../src/lake/local-storage.js');
  const src = await new LocalStorage(lakeDir).openRead(path);
  try {
    return decodeFooter((await ParquetReader.open(src, path)).metadata.keyValueMetadata)!;
  } finally {
    await src.close();
  }
}

describe.skipIf(realDataMissing !== null)('cleaned layer on real samples', () => {
  let clean: LakeEnv;
  let dirty: LakeEnv;
  beforeAll(async () => {
    const trades = readFileSync(real('trades'), 'utf8');
    const quotes = readFileSync(real('quotes'), 'utf8');
    clean = await lakeEnv(async (dir) => {
      await putVendorFile(dir, EX, 'trades', DAY, SYM, trades);
      await putVendorFile(dir, EX, 'quotes', DAY, SYM, quotes);
    });
    dirty = await lakeEnv(async (dir) => {
      await putVendorFile(dir, EX, 'trades', DAY, SYM, badTrades(trades));
      await putVendorFile(dir, EX, 'quotes', DAY, SYM, badQuotes(quotes));
    });
    expect((await ingest(clean.lake)).done).toBe(2);
    expect((await ingest(dirty.lake)).done).toBe(2);
  });
  afterAll(async () => {
    await clean?.close();
    await dirty?.close();
  });

  it('removes nothing from the untouched real files', async () => {
    const s = await clean.lake.clean({ from: DAY });
    expect(s.files.map((f) => [f.dataType, f.outcome, f.rows === f.kept])).toEqual([
      ['quotes', 'written', true],
      ['trades', 'written', true],
    ]);
    expect(s.removed).toEqual({ dedupe: 0, non_positive: 0, crossed_quotes: 0, outliers: 0 });
    for (const dt of ['trades', 'quotes'] as const) {
      const cols = dt === 'trades' ? TRADE_COLS : QUOTE_COLS;
      const raw = join(clean.lakeDir, rawTickPath(DAY, dt, KEY));
      const out = join(clean.lakeDir, cleanedPath(1, DAY, dt, KEY));
      const diff = await duckRows(
        `SELECT count(*) AS n FROM ((SELECT ${cols} FROM read_parquet(${sqlString(raw)}) EXCEPT ALL SELECT ${cols} FROM read_parquet(${sqlString(out)})) UNION ALL (SELECT ${cols} FROM read_parquet(${sqlString(out)}) EXCEPT ALL SELECT ${cols} FROM read_parquet(${sqlString(raw)})))`,
      );
      expect(diff).toEqual([{ n: 0 }]);
    }
  });

  it('each rule removes exactly the injected rows; the cleaned copy equals the untouched raw file', async () => {
    const s = await dirty.lake.clean({ from: DAY });
    const by = Object.fromEntries(s.files.map((f) => [f.dataType, f]));
    expect(by.trades!.removed).toEqual({ dedupe: 1, non_positive: 3, crossed_quotes: 0, outliers: 1 });
    expect(by.quotes!.removed).toEqual({ dedupe: 1, non_positive: 2, crossed_quotes: 1, outliers: 1 });
    expect(by.trades!.rows - by.trades!.kept).toBe(5);
    for (const dt of ['trades', 'quotes'] as const) {
      const cols = dt === 'trades' ? TRADE_COLS : QUOTE_COLS;
      const untouched = join(clean.lakeDir, rawTickPath(DAY, dt, KEY));
      const out = join(dirty.lakeDir, cleanedPath(1, DAY, dt, KEY));
      // Same rows in the same order (row numbers included).
      const q = (p: string) =>
        `SELECT row_number() OVER () AS rn, ${cols} FROM read_parquet(${sqlString(p)})`;
      const diff = await duckRows(
        `SELECT count(*) AS n FROM ((${q(untouched)} EXCEPT ${q(out)}) UNION ALL (${q(out)} EXCEPT ${q(untouched)}))`,
      );
      expect(diff).toEqual([{ n: 0 }]);
      // Footer: lineage to the raw file, rules version, per-rule counts.
      const raw = (await dirty.lake.catalog.getFile(rawTickPath(DAY, dt, KEY)))!;
      const footer = await footerOf(dirty.lakeDir, cleanedPath(1, DAY, dt, KEY));
      expect(footer.dataset).toBe('cleaned');
      expect(footer.lineage).toEqual([{ url: raw.path, sha256: raw.checksum, bytes: raw.bytes }]);
      expect(footer.extra?.cleaning_rules_version).toBe(CLEANING_RULES_VERSION);
      expect(JSON.parse(footer.extra!.cleaning_removed!)).toEqual(by[dt]!.removed);
      const rec = (await dirty.lake.catalog.getFile(cleanedPath(1, DAY, dt, KEY)))!;
      expect(rec).toMatchObject({ dataset: 'cleaned', sourceUrl: raw.path, sourceChecksum: raw.checksum });
    }
  });

  it('lake.read({ layer: "cleaned" }) reads the cleaned rows; version selects the folder', async () => {
    const req = { dataset: 'trades', key: KEY, from: DAY, to: '2020-02-23', columns: ['id', 'price'] };
    const rawT = await dirty.lake.read(req);
    const cleaned = await dirty.lake.read({ ...req, layer: 'cleaned' });
    const untouched = await clean.lake.read(req);
    expect(rawT.numRows - cleaned.numRows).toBe(5);
    expect(cleaned.getChild('id')!.toArray()).toEqual(untouched.getChild('id')!.toArray());
    expect(Array.from(cleaned.getChild('price')!.toArray() as Float64Array)).toEqual(
      Array.from(untouched.getChild('price')!.toArray() as Float64Array),
    );
    for (const version of [1, 'v1', '1.0.0']) {
      expect((await dirty.lake.read({ ...req, layer: 'cleaned', version })).numRows).toBe(cleaned.numRows);
    }
    expect((await dirty.lake.read({ ...req, layer: 'cleaned', version: 2 })).numRows).toBe(0);
    await expect(dirty.lake.read({ ...req, layer: 'cleaned', version: 'latest!' })).rejects.toBeInstanceOf(
      UsageError,
    );
    await expect(dirty.lake.read({ ...req, layer: 'cleaned', asOf: new Date() })).rejects.toBeInstanceOf(
      UsageError,
    );
    await expect(dirty.lake.read({ ...req, version: 1 })).rejects.toBeInstanceOf(UsageError);
  });

  it('an incremental rerun writes nothing; force rewrites; a changed raw file is cleaned again', async () => {
    const before = await dirty.lake.files({ dataset: 'cleaned' });
    const again = await dirty.lake.clean({ from: DAY });
    expect(again.written).toBe(0);
    expect(again.unchanged).toBe(2);
    expect(again.removed).toEqual({ dedupe: 2, non_positive: 5, crossed_quotes: 1, outliers: 2 });
    expect(await dirty.lake.files({ dataset: 'cleaned' })).toEqual(before);
    const forced = await dirty.lake.clean({ from: DAY, dataTypes: ['trades'], keys: [KEY], force: true });
    expect(forced.files.map((f) => [f.dataType, f.outcome])).toEqual([['trades', 'written']]);
    // The vendor republishes the trades file without the bad rows: raw changes (a snapshot keeps the
    // old one), so its cleaned file no longer matches the lineage and is rebuilt; quotes are not.
    await putVendorFile(dirty.vendorDir, EX, 'trades', DAY, SYM, readFileSync(real('trades'), 'utf8'));
    const re = await dirty.lake.ingest({
      exchange: EX,
      dataTypes: ['trades'],
      symbols: [SYM],
      from: DAY,
      force: true,
    });
    expect(re.done).toBe(1);
    const after = await dirty.lake.clean({ from: DAY });
    expect(after.files.map((f) => [f.dataType, f.outcome, f.rows - f.kept])).toEqual([
      ['quotes', 'unchanged', 5],
      ['trades', 'written', 0],
    ]);
    const [v] = await dirty.lake.snapshots({ dataType: 'trades' });
    expect(v!.versions).toHaveLength(2);
  });

  it('ticklake clean and ticklake snapshots print per-file results', async () => {
    const c = await runCli([
      '--lake',
      dirty.lakeDir,
      'clean',
      '--from',
      DAY,
      '--data-types',
      'quotes',
      '--force',
    ]);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    const line = c.stdout.split('\n').find((l) => l.startsWith(cleanedPath(1, DAY, 'quotes', KEY)))!;
    // file, outcome, rows, kept, dedupe, non_positive, crossed_quotes, outliers
    expect(line.trim().split(/\s+/).slice(1)).toEqual(['written', '10,004', '9,999', '1', '2', '1', '1']);
    const j = await runCli(['--lake', dirty.lakeDir, 'clean', '--from', DAY, '--json']);
    expect(JSON.parse(j.stdout)).toMatchObject({
      written: 0,
      unchanged: 2,
      rulesVersion: CLEANING_RULES_VERSION,
    });
    const sn = await runCli(['--lake', dirty.lakeDir, 'snapshots', KEY, '--json']);
    expect(sn.code).toBe(0);
    const listed = JSON.parse(sn.stdout) as { path: string; versions: { current: boolean }[] }[];
    expect(listed.map((x) => [x.path, x.versions.map((v) => v.current)])).toEqual([
      [rawTickPath(DAY, 'trades', KEY), [false, true]],
    ]);
    const bad = await runCli([
      '--lake',
      dirty.lakeDir,
      'clean',
      '--from',
      DAY,
      '--data-types',
      'options_chain',
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/data type "options_chain" has no cleaning rules/);
  });

  it('bad requests are typed errors', async () => {
    await expect(dirty.lake.clean({ from: DAY, dataTypes: ['incremental_book_L2'] })).rejects.toBeInstanceOf(
      UsageError,
    );
    await expect(dirty.lake.clean({ from: '2020-13-01' })).rejects.toBeInstanceOf(UsageError);
    await expect(dirty.lake.clean({ from: DAY, to: '2020-02-01' })).rejects.toBeInstanceOf(UsageError);
  });
});

describe('cleaning rules on generated rows (labelled generated)', () => {
  it('outlierMask marks exactly the rows countOutliers counts', () => {
    const n = 5000;
    const prices = new Float64Array(n);
    for (let i = 0; i < n; i++) prices[i] = 100 + Math.sin(i / 50) + (i % 997 === 0 ? 900 : 0);
    prices[10] = 0;
    const q = { outlierMadThreshold: 10, outlierWindow: 1001 };
    const mask = outlierMask(prices, null, q);
    const marked = mask.reduce((s, v) => s + v, 0);
    expect(marked).toBe(countOutliers(prices, null, { ...q } as never));
    expect(marked).toBe(6); // i = 0, 997, 1994, 2991, 3988, 4985
  });

  it('a row failing several rules is charged to the first; counts add up', () => {
    const ts = Float64Array.from([1, 1, 2, 3]);
    const batch = {
      length: 4,
      columns: {
        timestamp: { kind: 'timestamp' as const, values: ts, validity: null },
        bid_price: { kind: 'float64' as const, values: Float64Array.from([5, 5, 0, 7]), validity: null },
        ask_price: { kind: 'float64' as const, values: Float64Array.from([6, 6, 6, 6]), validity: null },
      },
    };
    const r = applyRules(batch, 'quotes', { outlierMadThreshold: 10, outlierWindow: 1001 });
    expect(Array.from(r.keep)).toEqual([1, 0, 0, 0]);
    expect(r.removed).toEqual({ dedupe: 1, non_positive: 1, crossed_quotes: 1, outliers: 0 });
    expect((batch.columns.bid_price as Float64Column).values[2]).toBe(0);
  });
});
