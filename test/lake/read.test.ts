/**
 * lake.read: [from, to) across day files, merged in timestamp order — including rows that a vendor
 * file of one day holds for the previous day (late arrivals across midnight) — with projection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnknownDataTypeError, UsageError } from '../../src/errors.js';
import { putVendorFile } from '../helpers/fixtures.js';
import type { LakeEnv } from '../helpers/lake.js';
import { lakeEnvOn } from '../storage/lake-env.js';
import { BACKENDS } from '../storage/servers.js';

const H = 'exchange,symbol,timestamp,local_timestamp,id,side,price,amount';
const D1 = Date.UTC(2024, 7, 1) * 1000;
const D2 = Date.UTC(2024, 7, 2) * 1000;
const KEY = 'BINANCE:SPOT_PAIR:BTC-USDT';

interface Row {
  ts: number;
  id: number;
}

// Generated rows (labelled generated): day 1 every 10 s; day 2 every 10 s plus 5 late arrivals
// stamped before midnight (they arrived after midnight, so the vendor put them in day 2's file).
const day1: Row[] = [];
const day2: Row[] = [];
for (let i = 0; i < 8640; i++) day1.push({ ts: D1 + i * 10_000_000, id: i });
for (let i = 0; i < 5; i++) day2.push({ ts: D2 - 1_000_000 + i * 100_000, id: 100_000 + i });
for (let i = 0; i < 8640; i++) day2.push({ ts: D2 + i * 10_000_000, id: 200_000 + i });

const csv = (rows: Row[]) =>
  `${[H, ...rows.map((r) => `binance,BTCUSDT,${r.ts},${r.ts + 2_000_000},${r.id},buy,${60000 + (r.id % 7)},0.5`)].join('\n')}\n`;

// Runs over every storage backend: local directory, S3 (s3rver) and GCS (the JSON-API stand-in).
describe.each(BACKENDS)('lake.read on %s', (backend) => {
  let env: LakeEnv;
  beforeAll(async () => {
    env = await lakeEnvOn(
      backend,
      async (dir) => {
        await putVendorFile(dir, 'binance', 'trades', '2024-08-01', 'BTCUSDT', csv(day1));
        await putVendorFile(dir, 'binance', 'trades', '2024-08-02', 'BTCUSDT', csv(day2));
      },
      { config: { ingest: { rowGroupRows: 1000 } } },
    );
    const s = await env.lake.ingest({
      exchange: 'binance',
      dataTypes: ['trades'],
      symbols: ['BTCUSDT'],
      from: '2024-08-01',
      to: '2024-08-02',
    });
    expect(s.failed).toBe(0);
  });
  afterAll(async () => {
    await env?.close();
  });

  const ids = (t: Awaited<ReturnType<LakeEnv['lake']['read']>>) =>
    (t.getChild('id')!.toArray() as string[]).map(Number);
  const expectIds = (from: number, to: number) =>
    [...day1, ...day2]
      .filter((r) => r.ts >= from && r.ts < to)
      .sort((a, b) => a.ts - b.ts || a.id - b.id)
      .map((r) => r.id);

  it('two days: every row once, in timestamp order, late arrivals merged before midnight', async () => {
    const t = await env.lake.read({ dataset: 'trades', key: KEY, from: '2024-08-01', to: '2024-08-03' });
    expect(t.numRows).toBe(day1.length + day2.length);
    expect(ids(t)).toEqual(expectIds(D1, D2 + 86_400_000_000));
  });

  it('day 1 alone includes the late arrivals stored in day 2’s file; day 2 alone excludes them', async () => {
    const t1 = await env.lake.read({ dataset: 'trades', key: KEY, from: '2024-08-01', to: '2024-08-02' });
    expect(ids(t1)).toEqual(expectIds(D1, D2));
    expect(ids(t1).slice(-5)).toEqual([100_000, 100_001, 100_002, 100_003, 100_004]);
    const t2 = await env.lake.read({ dataset: 'trades', key: KEY, from: '2024-08-02', to: '2024-08-03' });
    expect(ids(t2)).toEqual(expectIds(D2, D2 + 86_400_000_000));
  });

  it('[from, to) is half-open at microsecond precision', async () => {
    const from = new Date((D1 + 100 * 10_000_000) / 1000); // exactly row 100
    const to = new Date((D1 + 200 * 10_000_000) / 1000); // exactly row 200 (excluded)
    const t = await env.lake.read({ dataset: 'trades', key: KEY, from, to });
    expect(ids(t)).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i));
    const empty = await env.lake.read({ dataset: 'trades', key: KEY, from: '2024-08-05', to: '2024-08-06' });
    expect(empty.numRows).toBe(0);
    expect(empty.schema.fields.map((f) => f.name)).toEqual([
      'timestamp',
      'local_timestamp',
      'id',
      'side',
      'price',
      'amount',
      'instrument_key',
    ]);
  });

  it('returns only the requested columns, typed as documented', async () => {
    const t = await env.lake.read({
      dataset: 'trades',
      key: KEY,
      from: '2024-08-01',
      to: '2024-08-02',
      columns: ['price', 'side'],
    });
    expect(t.schema.fields.map((f) => f.name)).toEqual(['price', 'side']);
    expect(String(t.schema.fields[0]!.type)).toBe('Float64');
    expect(String(t.schema.fields[1]!.type)).toMatch(/^Dictionary/);
    const full = await env.lake.read({ dataset: 'trades', key: KEY, from: '2024-08-01', to: '2024-08-02' });
    expect(String(full.schema.fields[0]!.type)).toMatch(/Timestamp.*MICROSECOND|Timestamp<MICROSECOND/);
  });

  it('bad requests are typed errors', async () => {
    await expect(
      env.lake.read({ dataset: 'tradez', key: KEY, from: '2024-08-01', to: '2024-08-02' }),
    ).rejects.toBeInstanceOf(UnknownDataTypeError);
    await expect(
      env.lake.read({ dataset: 'trades', key: KEY, from: '2024-08-01', to: '2024-08-02', columns: ['nope'] }),
    ).rejects.toBeInstanceOf(UsageError);
    await expect(
      env.lake.read({ dataset: 'trades', key: 'not a key', from: '2024-08-01', to: '2024-08-02' }),
    ).rejects.toThrow(/invalid instrument key/);
  });
});
