/**
 * feedOrder restores the vendor's arrival order (local_timestamp, then position) from a file sorted by
 * exchange timestamp, in bounded windows, whatever the batch boundaries.
 */
import { describe, expect, it } from 'vitest';
import { feedLag, feedOrder, gatherOrdered } from '../../src/book/feed-order.js';
import { sliceBatch } from '../../src/columns/ops.js';
import type { ColumnBatch, Float64Column, TimestampColumn } from '../../src/columns/types.js';

async function* inBatches(b: ColumnBatch, size: number): AsyncGenerator<ColumnBatch> {
  for (let i = 0; i < b.length; i += size) yield sliceBatch(b, i, Math.min(b.length, i + size));
}

describe('feedOrder', () => {
  it('turns a timestamp-sorted file back into arrival order for any batch size', async () => {
    // Arrival order: local ts strictly increasing by 10 µs, with "messages" of 1–3 rows sharing both
    // timestamps; exchange ts = local − latency (latency 5..500 µs, jittered) → out of order.
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const arrival: { ts: number; lts: number; id: number }[] = [];
    let lts = 1_000_000;
    while (arrival.length < 20_000) {
      lts += 10;
      const ts = lts - 5 - Math.floor(rnd() * 495);
      const k = 1 + Math.floor(rnd() * 3);
      for (let j = 0; j < k; j++) arrival.push({ ts, lts, id: arrival.length });
    }
    const file = [...arrival].sort((a, b) => a.ts - b.ts); // the lake's stable timestamp sort
    const batch: ColumnBatch = {
      length: file.length,
      columns: {
        timestamp: { kind: 'timestamp', values: Float64Array.from(file, (r) => r.ts), validity: null },
        local_timestamp: { kind: 'timestamp', values: Float64Array.from(file, (r) => r.lts), validity: null },
        id: { kind: 'float64', values: Float64Array.from(file, (r) => r.id), validity: null },
      },
    };
    const lag = await feedLag(inBatches(batch, 4096));
    expect(lag.ordered).toBe(false);
    expect(lag.minLag).toBeGreaterThanOrEqual(5);
    for (const size of [1, 7, 1000, 50_000]) {
      const ids: number[] = [];
      let maxBuffered = 0;
      for await (const o of feedOrder(inBatches(batch, size), lag.minLag)) {
        const out = gatherOrdered(o);
        maxBuffered = Math.max(maxBuffered, out.length);
        ids.push(...(out.columns.id as Float64Column).values);
        expect((out.columns.local_timestamp as TimestampColumn).values.length).toBe(out.length);
      }
      expect(ids, `batch size ${size}`).toEqual(arrival.map((r) => r.id));
      if (size === 1) expect(maxBuffered).toBeLessThan(200); // about one latency window
    }
  });
});
