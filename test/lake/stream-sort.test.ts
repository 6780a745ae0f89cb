/**
 * The streaming (sliding-window) sort equals a stable sort whenever it succeeds, refuses late rows,
 * and ingest falls back to the external sort for them — with byte-identical files either way.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnBatch } from '../../src/columns/types.js';
import { generateTardisDataset } from '../../src/dev/generate.js';
import { SpeculationFailedError, StreamingSorter } from '../../src/lake/stream-sort.js';
import { putVendorFile, vendorPath } from '../helpers/fixtures.js';
import { type LakeEnv, lakeEnv } from '../helpers/lake.js';

function batchOf(ts: number[], seq: number[]): ColumnBatch {
  return {
    length: ts.length,
    columns: {
      timestamp: { kind: 'timestamp', values: Float64Array.from(ts), validity: null },
      seq: { kind: 'int64', values: Float64Array.from(seq), validity: null },
    },
  };
}

async function drain(s: StreamingSorter, batches: ColumnBatch[]): Promise<{ ts: number[]; seq: number[] }> {
  const out = { ts: [] as number[], seq: [] as number[] };
  const consume = (async () => {
    for await (const b of s.output()) {
      out.ts.push(...(b.columns.timestamp as { values: Float64Array }).values);
      out.seq.push(...(b.columns.seq as { values: Float64Array }).values);
    }
  })();
  for (const b of batches) await s.push(b);
  s.end();
  await consume;
  return out;
}

describe('StreamingSorter', () => {
  it('equals a stable sort on nearly-sorted input with many ties (seeded, generated)', async () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const rows: { ts: number; seq: number }[] = [];
    for (let i = 0; i < 50_000; i++)
      rows.push({
        ts: Math.floor(i / 3) * 1000 + Math.floor(rnd() * 5) * 1000 - (rnd() < 0.05 ? 20_000 : 0),
        seq: i,
      });
    const batches: ColumnBatch[] = [];
    for (let i = 0; i < rows.length; i += 997) {
      const part = rows.slice(i, i + 997);
      batches.push(
        batchOf(
          part.map((r) => r.ts),
          part.map((r) => r.seq),
        ),
      );
    }
    const got = await drain(new StreamingSorter({ maxQueued: 2 }), batches);
    const want = [...rows].sort((a, b) => a.ts - b.ts || a.seq - b.seq);
    expect(got.seq).toEqual(want.map((r) => r.seq));
  });

  it('refuses a row older than rows already released', async () => {
    const s = new StreamingSorter();
    const consume = (async () => {
      for await (const _ of s.output()) void _;
    })();
    await s.push(batchOf([100, 200, 300], [0, 1, 2]));
    await s.push(batchOf([400, 500], [3, 4]));
    await expect(s.push(batchOf([150], [5]))).rejects.toBeInstanceOf(SpeculationFailedError);
    expect(s.speculationFailed).toBe(true);
    await expect(consume).rejects.toBeInstanceOf(SpeculationFailedError);
  });
});

describe('ingest with the streaming sort', () => {
  let env: LakeEnv;
  const DAY = '2024-08-08';
  beforeAll(async () => {
    env = await lakeEnv(async (dir) => {
      await generateTardisDataset({
        dir,
        exchange: 'binance',
        dataType: 'trades',
        symbol: 'BTCUSDT',
        day: DAY,
        rows: 200_000,
        seed: 3,
      });
      // The same generated day with one row moved to the end: hours late, beyond any window.
      const csv = gunzipSync(readFileSync(vendorPath(dir, 'binance', 'trades', DAY, 'BTCUSDT')))
        .toString()
        .trimEnd()
        .split('\n');
      const [header, first, ...rest] = csv;
      await putVendorFile(
        dir,
        'binance',
        'trades',
        DAY,
        'ETHUSDT',
        `${[header, ...rest, first].join('\n').replace(/BTCUSDT/g, 'ETHUSDT')}\n`,
      );
    });
  }, 120_000);
  afterAll(async () => {
    await env?.close();
  });

  const shaOf = async (key: string) => {
    const [f] = await env.lake.files({ instrumentKey: key });
    return createHash('sha256')
      .update(readFileSync(join(env.lakeDir, f!.path)))
      .digest('hex');
  };

  it('streaming and external sort write the same bytes; a late row falls back and still matches', async () => {
    const sums: Record<string, string[]> = {};
    for (const streamingSort of [true, false]) {
      await env.reopen({ ingest: { streamingSort, runRows: 50_000 } });
      for (const [symbol, key] of [
        ['BTCUSDT', 'BINANCE:SPOT_PAIR:BTC-USDT'],
        ['ETHUSDT', 'BINANCE:SPOT_PAIR:ETH-USDT'],
      ] as const) {
        const s = await env.lake.ingest({
          exchange: 'binance',
          dataTypes: ['trades'],
          symbols: [symbol],
          from: DAY,
          to: DAY,
          force: true,
        });
        expect(s.failed, JSON.stringify(s.reports[0]?.error)).toBe(0);
        (sums[symbol] ??= []).push(await shaOf(key));
      }
      const t = await env.lake.read({
        dataset: 'trades',
        key: 'BINANCE:SPOT_PAIR:ETH-USDT',
        from: DAY,
        to: '2024-08-09',
        columns: ['timestamp'],
      });
      expect(t.numRows).toBe(200_000);
      const ts = t.getChild('timestamp')!.toArray() as BigInt64Array;
      for (let i = 1; i < ts.length; i++) if (ts[i]! < ts[i - 1]!) throw new Error(`not sorted at ${i}`);
      // Force a rewrite next round: forget the tasks.
      await env.lake.catalog.clearForRebuild();
    }
    expect(sums.BTCUSDT![0]).toBe(sums.BTCUSDT![1]);
    expect(sums.ETHUSDT![0]).toBe(sums.ETHUSDT![1]);
  });
});
