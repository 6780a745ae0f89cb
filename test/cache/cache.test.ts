/**
 * The read cache: LRU by bytes (unit), and through lake.read: a warm read fetches no bytes and returns
 * the same table, a smaller projection is served from cached chunks, a republished file (new checksum)
 * is never served stale, and a small budget evicts while reads stay correct.
 */
import type { Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadCache } from '../../src/lake/cache.js';
import { newReadStats } from '../../src/lake/read.js';
import { putVendorFile } from '../helpers/fixtures.js';
import type { LakeEnv } from '../helpers/lake.js';
import { BTC, buildReadLake, ETH, GEN_DAYS, GEN_ROWS, generatedTrades } from '../read/lake-fixture.js';

describe('ReadCache (LRU by bytes)', () => {
  it('evicts least recently used entries to stay within the budget and counts everything', () => {
    const c = new ReadCache(100);
    c.set('a', 'x', '0', 'A', 40);
    c.set('b', 'x', '0', 'B', 40);
    expect(c.get('a', 'x', '0')).toBe('A'); // a is now most recent
    c.set('c', 'x', '0', 'C', 40); // over 100: evicts b (least recent)
    expect(c.get('b', 'x', '0')).toBeUndefined();
    expect(c.get('a', 'x', '0')).toBe('A');
    expect(c.get('c', 'x', '0')).toBe('C');
    expect(c.stats()).toMatchObject({
      hits: 3,
      misses: 1,
      evictions: 1,
      bytes: 80,
      entries: 2,
      maxBytes: 100,
    });
    c.set('d', 'x', '0', 'D', 101); // larger than the whole budget: not kept, nothing evicted
    expect(c.get('d', 'x', '0')).toBeUndefined();
    expect(c.stats().evictions).toBe(1);
  });

  it('a new checksum for a path drops every entry of the old one', () => {
    const c = new ReadCache(1000);
    c.set('p', 'v1', '0:a', 1, 10);
    c.set('p', 'v1', '0:b', 2, 10);
    c.set('q', 'v1', '0:a', 3, 10);
    c.validate('p', 'v2');
    expect(c.get('p', 'v1', '0:a')).toBeUndefined();
    expect(c.get('q', 'v1', '0:a')).toBe(3);
    expect(c.stats()).toMatchObject({ invalidations: 2, bytes: 10, entries: 1 });
  });

  it('budget 0 disables it', () => {
    const c = new ReadCache(0);
    c.set('p', 'v', '0', 1, 1);
    expect(c.get('p', 'v', '0')).toBeUndefined();
    expect(c.stats().bytes).toBe(0);
  });
});

const ids = (t: Table) => Array.from({ length: t.numRows }, (_, i) => t.getChild('id')!.get(i));
const prices = (t: Table) => Array.from(t.getChild('price')!.toArray() as Float64Array);

describe('lake.read through the cache', () => {
  let env: LakeEnv;
  beforeAll(async () => {
    env = await buildReadLake({ real: false, cacheMaxBytes: 64 * 1024 * 1024 });
  }, 120_000);
  afterAll(async () => {
    await env?.close();
  });

  it('warm read: no bytes fetched, every row group from memory, same table', async () => {
    const req = { dataset: 'trades', key: BTC, from: GEN_DAYS[0]!, to: GEN_DAYS[1]! };
    const cold = newReadStats();
    const a = await env.lake.read({ ...req, stats: cold });
    expect(cold.bytesRead).toBeGreaterThan(0);
    expect(cold.rowGroupsRead).toBe(Math.ceil(GEN_ROWS / 1000));
    const hits0 = env.lake.cache.stats().hits;
    const warm = newReadStats();
    const b = await env.lake.read({ ...req, stats: warm });
    expect(warm.bytesRead).toBe(0);
    expect(warm.filesOpened).toBe(0);
    expect(warm.rowGroupsRead).toBe(0);
    expect(warm.rowGroupsCached).toBe(Math.ceil(GEN_ROWS / 1000));
    expect(env.lake.cache.stats().hits).toBeGreaterThan(hits0);
    expect(b.numRows).toBe(a.numRows);
    expect(ids(b)).toEqual(ids(a));
    expect(prices(b)).toEqual(prices(a));
    // A projection of cached columns and a sub-range are served from the same chunks.
    const sub = newReadStats();
    const d0 = Date.parse(`${GEN_DAYS[0]}T00:00:00Z`);
    const c = await env.lake.read({
      ...req,
      from: new Date(d0 + 600_000),
      to: new Date(d0 + 1200_000),
      columns: ['id', 'price'],
      stats: sub,
    });
    expect(sub.bytesRead).toBe(0);
    expect(c.numRows).toBe(40); // every 15 s for 10 minutes
    expect(ids(c)).toEqual(ids(a).slice(40, 80));
  });

  it('a republished file (new checksum) is read again, never served stale', async () => {
    const req = {
      dataset: 'trades',
      key: ETH,
      from: GEN_DAYS[1]!,
      to: '2024-08-03',
      columns: ['id', 'price'],
    };
    const before = await env.lake.read(req);
    await env.lake.read(req); // cached
    const [rec0] = await env.lake.files({
      dataType: 'trades',
      instrumentKey: ETH,
      fromDay: GEN_DAYS[1],
      toDay: GEN_DAYS[1],
    });
    // The vendor corrects the file: every price + 1.
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
    const [rec1] = await env.lake.files({
      dataType: 'trades',
      instrumentKey: ETH,
      fromDay: GEN_DAYS[1],
      toDay: GEN_DAYS[1],
    });
    expect(rec1!.checksum).not.toBe(rec0!.checksum);
    const inv0 = env.lake.cache.stats().invalidations;
    const stats = newReadStats();
    const after = await env.lake.read({ ...req, stats });
    expect(stats.bytesRead).toBeGreaterThan(0);
    expect(env.lake.cache.stats().invalidations).toBeGreaterThan(inv0);
    expect(prices(after)).toEqual(prices(before).map((p) => p + 1));
  });
});

describe('a small cache budget', () => {
  let env: LakeEnv;
  beforeAll(async () => {
    env = await buildReadLake({ real: false, cacheMaxBytes: 40_000 });
  }, 120_000);
  afterAll(async () => {
    await env?.close();
  });

  it('evicts to stay within cache.maxBytes and reads stay correct', async () => {
    const req = { dataset: 'trades', keys: [BTC, ETH], from: GEN_DAYS[0]!, to: '2024-08-03' };
    const a = await env.lake.read(req);
    const st = env.lake.cache.stats();
    expect(st.evictions).toBeGreaterThan(0);
    expect(st.bytes).toBeLessThanOrEqual(40_000);
    const b = await env.lake.read(req);
    expect(ids(b)).toEqual(ids(a));
    expect(prices(b)).toEqual(prices(a));
  });
});
