import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUnits, generateTardisDataset, generateTardisSample } from '../../src/dev/generate.js';
import { startTardisServer } from '../../src/dev/tardis-server.js';
import { DATA_TYPES, type DataType, tardisCsvColumns } from '../../src/schema/datasets.js';
import { downloadDataset, tardisDatasetUrl } from '../../src/sources/tardis/datasets.js';
import { tempDir } from '../tardis-http/fixtures.js';

const DAY = '2024-03-02';
const DAY_START = Date.parse(`${DAY}T00:00:00Z`) * 1000;
const DAY_END = DAY_START + 86_400_000_000;
const ROWS = 5000;

const SYMBOL: Record<DataType, [string, string]> = {
  trades: ['binance-futures', 'BTCUSDT'],
  liquidations: ['binance-futures', 'BTCUSDT'],
  incremental_book_L2: ['deribit', 'BTC-PERPETUAL'],
  book_snapshot_25: ['binance-futures', 'BTCUSDT'],
  book_snapshot_5: ['bitmex', 'XBTUSD'],
  quotes: ['coinbase', 'BTC-USD'],
  book_ticker: ['binance', 'ETHUSDT'],
  derivative_ticker: ['bitmex', 'XBTUSD'],
  options_chain: ['deribit', 'OPTIONS'],
};

interface Parsed {
  header: string;
  rows: string[][];
  col: (row: string[], name: string) => string;
}

function parse(gz: Buffer, dataType: DataType): Parsed {
  const text = gunzipSync(gz).toString('latin1');
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  const header = lines[0] ?? '';
  const cols = tardisCsvColumns(dataType);
  const index = new Map(cols.map((c, i) => [c, i]));
  return {
    header,
    rows: lines.slice(1).map((l) => l.split(',')),
    col: (row, name) => row[index.get(name) ?? -1] ?? '<missing>',
  };
}

const NUMBER = /^-?\d+(\.\d*[1-9])?$/; // no trailing zeros, no exponent, no float noise
const isNum = (s: string): boolean => NUMBER.test(s) && s.replace(/^-?\d+\.?/, '').length <= 8;

describe('generateTardisDataset', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const files = new Map<DataType, { gz: Buffer; path: string; sidecar: string }>();

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('gen'));
    for (const dataType of DATA_TYPES) {
      const [exchange, symbol] = SYMBOL[dataType];
      const res = await generateTardisDataset({
        dir,
        exchange,
        dataType,
        symbol,
        day: DAY,
        rows: ROWS,
        seed: 42,
      });
      expect(res.rows).toBe(ROWS);
      files.set(dataType, { gz: await readFile(res.path), path: res.path, sidecar: res.sidecarPath });
    }
  });
  afterAll(async () => cleanup?.());

  it.each(DATA_TYPES)('%s: exact header, column count, row count, times within the day', async (dataType) => {
    const f = files.get(dataType);
    if (!f) throw new Error('not generated');
    const [exchange, symbol] = SYMBOL[dataType];
    expect(f.path).toBe(`${dir}/${exchange}/${dataType}/2024/03/02/${symbol}.csv.gz`);
    const { header, rows, col } = parse(f.gz, dataType);
    const cols = tardisCsvColumns(dataType);
    expect(header).toBe(cols.join(','));
    expect(rows).toHaveLength(ROWS);
    let prevLocal = 0;
    let outOfOrder = 0;
    let prevTs = 0;
    const problems: string[] = [];
    for (const row of rows) {
      if (row.length !== cols.length) problems.push(`${row.length} columns: ${row.join(',')}`);
      if (row[0] !== exchange) problems.push(`exchange ${row[0]}`);
      if (dataType !== 'options_chain' && row[1] !== symbol) problems.push(`symbol ${row[1]}`);
      const ts = Number(col(row, 'timestamp'));
      const local = Number(col(row, 'local_timestamp'));
      if (!Number.isSafeInteger(ts) || !Number.isSafeInteger(local)) problems.push(`times ${ts} ${local}`);
      if (ts < DAY_START || local >= DAY_END) problems.push(`outside the day: ${ts} ${local}`);
      if (local < ts) problems.push(`local ${local} before exchange time ${ts}`);
      if (local < prevLocal) problems.push(`not ordered by local_timestamp at ${local}`);
      if (ts < prevTs) outOfOrder++;
      prevLocal = local;
      prevTs = ts;
      for (let i = 4; i < row.length; i++) {
        const v = row[i] ?? '';
        if (v === '' || !/^[-\d.]+$/.test(v)) continue;
        if (!isNum(v)) problems.push(`badly formatted number "${v}" in column ${cols[i]}`);
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
    // spread over the day
    expect(Number(col(rows[0] ?? [], 'local_timestamp'))).toBeLessThan(DAY_START + 3_600_000_000);
    expect(Number(col(rows.at(-1) ?? [], 'local_timestamp'))).toBeGreaterThan(DAY_END - 3_600_000_000);
    expect(outOfOrder).toBeLessThan(rows.length * 0.1);

    const sidecar = JSON.parse(await readFile(f.sidecar, 'utf8'));
    expect(sidecar).toMatchObject({
      generator: 'ticklake',
      seed: 42,
      rows: ROWS,
      dataType,
      exchange,
      symbol,
      day: DAY,
    });
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const { dir: d2, cleanup: c2 } = await tempDir('gen2');
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    for (const dataType of DATA_TYPES) {
      const [exchange, symbol] = SYMBOL[dataType];
      const again = await generateTardisDataset({
        dir: d2,
        exchange,
        dataType,
        symbol,
        day: DAY,
        rows: ROWS,
        seed: 42,
      });
      expect(sha(await readFile(again.path))).toBe(sha(files.get(dataType)?.gz ?? Buffer.alloc(0)));
    }
    const other = await generateTardisDataset({
      dir: d2,
      exchange: 'binance-futures',
      dataType: 'trades',
      symbol: 'BTCUSDT',
      day: DAY,
      rows: ROWS,
      seed: 43,
    });
    expect(sha(await readFile(other.path))).not.toBe(sha(files.get('trades')?.gz ?? Buffer.alloc(0)));
    await c2();
  });

  it('trades: sequential ids, buy/sell, prices on the tick grid, some exchange-time disorder', async () => {
    const big = await generateTardisDataset({
      dir,
      exchange: 'binance-futures',
      dataType: 'trades',
      symbol: 'BTCUSDT',
      day: DAY,
      rows: 200_000,
      seed: 9,
    });
    const { rows, col } = parse(await readFile(big.path), 'trades');
    let prevId = Number(col(rows[0] ?? [], 'id')) - 1;
    let outOfOrder = 0;
    let prevTs = 0;
    const sides = new Set<string>();
    const problems: string[] = [];
    for (const row of rows) {
      const id = Number(col(row, 'id'));
      if (id !== prevId + 1) problems.push(`id ${id} after ${prevId}`);
      prevId = id;
      sides.add(col(row, 'side'));
      const price = col(row, 'price');
      if (Math.round(Number(price) * 10) / 10 !== Number(price))
        problems.push(`price ${price} off the 0.1 grid`);
      if (!(Number(col(row, 'amount')) > 0)) problems.push(`amount ${col(row, 'amount')}`);
      const ts = Number(col(row, 'timestamp'));
      if (ts % 1000 !== 0) problems.push(`timestamp ${ts} not on the ms clock`);
      if (ts < prevTs) outOfOrder++;
      prevTs = ts;
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect([...sides].sort()).toEqual(['buy', 'sell']);
    expect(outOfOrder).toBeGreaterThan(0);
    expect(outOfOrder / rows.length).toBeLessThan(0.05);
  });

  it('incremental_book_L2: a snapshot run, then updates with removals, never a crossed book', () => {
    const { rows, col } = parse(
      files.get('incremental_book_L2')?.gz ?? Buffer.alloc(0),
      'incremental_book_L2',
    );
    const firstUpdate = rows.findIndex((r) => col(r, 'is_snapshot') === 'false');
    expect(firstUpdate).toBeGreaterThan(10);
    expect(rows.slice(firstUpdate).every((r) => col(r, 'is_snapshot') === 'false')).toBe(true);
    expect(new Set(rows.slice(0, firstUpdate).map((r) => col(r, 'local_timestamp'))).size).toBe(1);
    expect(rows.some((r) => col(r, 'amount') === '0')).toBe(true);
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    let prevLocal = '';
    const check = (): void => {
      const bestBid = Math.max(...bids.keys());
      const bestAsk = Math.min(...asks.keys());
      expect(bestBid).toBeLessThan(bestAsk);
    };
    for (const r of rows) {
      if (col(r, 'local_timestamp') !== prevLocal && prevLocal !== '' && bids.size > 0) check();
      prevLocal = col(r, 'local_timestamp');
      const side = col(r, 'side') === 'bid' ? bids : asks;
      expect(['bid', 'ask']).toContain(col(r, 'side'));
      const price = Number(col(r, 'price'));
      expect(price * 2).toBe(Math.round(price * 2)); // deribit 0.5 tick
      const amount = Number(col(r, 'amount'));
      if (amount === 0) {
        expect(side.has(price)).toBe(true); // removes an existing level
        side.delete(price);
      } else side.set(price, amount);
    }
    check();
  });

  it.each(['book_snapshot_25', 'book_snapshot_5'] as const)('%s: monotone levels, bid < ask', (dataType) => {
    const levels = dataType === 'book_snapshot_25' ? 25 : 5;
    const { rows, col } = parse(files.get(dataType)?.gz ?? Buffer.alloc(0), dataType);
    const problems: string[] = [];
    for (const r of rows) {
      const asks: number[] = [];
      const bids: number[] = [];
      for (let i = 0; i < levels; i++) {
        const a = col(r, `asks[${i}].price`);
        const b = col(r, `bids[${i}].price`);
        if (a !== '') asks.push(Number(a));
        if (b !== '') bids.push(Number(b));
        if (a !== '' && !(Number(col(r, `asks[${i}].amount`)) > 0)) problems.push('ask amount');
        if (b !== '' && !(Number(col(r, `bids[${i}].amount`)) > 0)) problems.push('bid amount');
      }
      if (asks.length !== levels || bids.length !== levels)
        problems.push(`thin book ${asks.length}/${bids.length}`);
      for (let i = 1; i < levels; i++) {
        if (!((asks[i] ?? 0) > (asks[i - 1] ?? 0))) problems.push(`asks not ascending: ${asks}`);
        if (!((bids[i] ?? 0) < (bids[i - 1] ?? 0))) problems.push(`bids not descending: ${bids}`);
      }
      if (!((bids[0] ?? 0) < (asks[0] ?? 0))) problems.push(`crossed ${bids[0]} >= ${asks[0]}`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it.each(['quotes', 'book_ticker'] as const)(
    '%s: bid < ask, positive sizes, top changes each row',
    (dataType) => {
      const { rows, col } = parse(files.get(dataType)?.gz ?? Buffer.alloc(0), dataType);
      let prev = '';
      for (const r of rows) {
        expect(Number(col(r, 'bid_price'))).toBeLessThan(Number(col(r, 'ask_price')));
        expect(Number(col(r, 'bid_amount'))).toBeGreaterThan(0);
        expect(Number(col(r, 'ask_amount'))).toBeGreaterThan(0);
        const top = r.slice(4).join(',');
        expect(top).not.toBe(prev);
        prev = top;
      }
    },
  );

  it('derivative_ticker: funding every 8 h, rates and some empty fields', () => {
    const { rows, col } = parse(files.get('derivative_ticker')?.gz ?? Buffer.alloc(0), 'derivative_ticker');
    const fundings = new Set(rows.map((r) => col(r, 'funding_timestamp')));
    expect([...fundings].sort()).toEqual([8, 16, 24].map((h) => String(DAY_START + h * 3_600_000_000)));
    for (const r of rows) {
      expect(Number(col(r, 'funding_timestamp'))).toBeGreaterThan(Number(col(r, 'timestamp')));
      expect(Math.abs(Number(col(r, 'funding_rate')))).toBeLessThan(0.01);
      expect(Number(col(r, 'index_price'))).toBeGreaterThan(0);
      expect(Number(col(r, 'mark_price'))).toBeGreaterThan(0);
    }
    expect(rows.some((r) => col(r, 'open_interest') === '')).toBe(true);
    expect(rows.some((r) => col(r, 'last_price') === '')).toBe(true);
  });

  it('options_chain: Deribit-style symbols with consistent strike/type/expiry and greeks', () => {
    const { rows, col } = parse(files.get('options_chain')?.gz ?? Buffer.alloc(0), 'options_chain');
    const symbols = new Set<string>();
    const months = 'JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC';
    const re = new RegExp(`^BTC-([1-9]\\d?)(${months})(\\d\\d)-(\\d+)-([CP])$`);
    for (const r of rows) {
      const symbol = r[1] ?? '';
      symbols.add(symbol);
      const m = re.exec(symbol);
      expect(m, symbol).not.toBeNull();
      expect(col(r, 'type')).toBe(m?.[5] === 'C' ? 'call' : 'put');
      expect(col(r, 'strike_price')).toBe(m?.[4]);
      const exp = new Date(Number(col(r, 'expiration')) / 1000);
      expect(exp.getUTCHours()).toBe(8);
      expect(`${exp.getUTCDate()}`).toBe(m?.[1]);
      expect(Number(col(r, 'expiration'))).toBeGreaterThan(Number(col(r, 'timestamp')));
      const delta = Number(col(r, 'delta'));
      if (m?.[5] === 'C') expect(delta).toBeGreaterThanOrEqual(0);
      else expect(delta).toBeLessThanOrEqual(0);
      expect(Number(col(r, 'mark_iv'))).toBeGreaterThan(10);
      expect(col(r, 'underlying_index')).toMatch(/^(SYN\.)?BTC-/);
      const bid = col(r, 'bid_price');
      const ask = col(r, 'ask_price');
      if (bid !== '' && ask !== '') expect(Number(bid)).toBeLessThan(Number(ask));
    }
    expect(symbols.size).toBeGreaterThan(50);
    expect(rows.some((r) => col(r, 'bid_price') === '')).toBe(true);
  });

  it('liquidations: sparse, clustered sides, no ids on binance', () => {
    const { rows, col } = parse(files.get('liquidations')?.gz ?? Buffer.alloc(0), 'liquidations');
    expect(rows.every((r) => col(r, 'id') === '')).toBe(true);
    expect(rows.every((r) => ['buy', 'sell'].includes(col(r, 'side')))).toBe(true);
  });

  it('files are served marked as generated and download intact', async () => {
    const server = await startTardisServer({ dir, apiKeys: ['k'] });
    try {
      const url = tardisDatasetUrl(server.url, 'binance-futures', 'trades', DAY, 'BTCUSDT');
      const parts: Buffer[] = [];
      const res = await downloadDataset(url, {
        apiKey: 'k',
        onChunk: (c) => void parts.push(Buffer.from(c)),
      });
      expect(res.generated).toBe(true);
      const text = gunzipSync(Buffer.concat(parts)).toString();
      expect(text.startsWith('exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n')).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('generateTardisDataset edge sizes', () => {
  it.each([0, 1, 7])('writes exactly %i rows for every data type', async (rows) => {
    const { dir, cleanup } = await tempDir('edge');
    for (const dataType of DATA_TYPES) {
      const [exchange, symbol] = SYMBOL[dataType];
      const res = await generateTardisDataset({ dir, exchange, dataType, symbol, day: DAY, rows, seed: 1 });
      const lines = gunzipSync(await readFile(res.path))
        .toString()
        .split('\n');
      expect(lines.at(-1)).toBe('');
      expect(lines.length - 2).toBe(rows);
      expect(lines[0]).toBe(tardisCsvColumns(dataType).join(','));
    }
    await cleanup();
  });
});

describe('generateTardisSample', () => {
  it('writes each exchange’s files and an exchange info document', async () => {
    const { dir, cleanup } = await tempDir('sample');
    const files = await generateTardisSample({ dir, exchanges: ['binance-futures', 'deribit'], rows: 500 });
    const rel = files.map((f) => f.path.slice(dir.length + 1)).sort();
    expect(rel).toContain('deribit/options_chain/2024/03/01/OPTIONS.csv.gz');
    expect(rel).toContain('binance-futures/derivative_ticker/2024/03/01/BTCUSDT.csv.gz');
    expect(rel).toContain('deribit/incremental_book_L2/2024/03/01/BTC-PERPETUAL.csv.gz');
    expect(files.find((f) => f.path.includes('liquidations'))?.rows).toBe(50);
    const info = JSON.parse(await readFile(`${dir}/_api/exchanges/deribit.json`, 'utf8'));
    expect(info.id).toBe('deribit');
    expect(info.datasets.symbols.map((s: { id: string }) => s.id)).toEqual(['BTC-PERPETUAL', 'OPTIONS']);
    await cleanup();
  });
});

describe('formatUnits', () => {
  it('prints integer units without float noise or trailing zeros', () => {
    expect(formatUnits(96825, 1)).toBe('9682.5');
    expect(formatUnits(968200, 2)).toBe('9682');
    expect(formatUnits(1, 8)).toBe('0.00000001');
    expect(formatUnits(-12340, 4)).toBe('-1.234');
    expect(formatUnits(0, 3)).toBe('0');
    expect(formatUnits(1709337600312000, 0)).toBe('1709337600312000');
  });
});
