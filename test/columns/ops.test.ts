/** Gather by block copies (nearly-sorted permutations) equals the per-row gather, for every column kind. */
import { describe, expect, it } from 'vitest';
import { takeBatch, takeColumn, valueAt } from '../../src/columns/ops.js';
import type { ColumnBatch } from '../../src/columns/types.js';
import { nearlySortedPermutation } from '../../src/lake/stream-sort.js';

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

function batch(n: number, r: () => number): ColumnBatch {
  const enc = new TextEncoder();
  const offsets = new Int32Array(n + 1);
  const parts: Uint8Array[] = [];
  let p = 0;
  for (let i = 0; i < n; i++) {
    const b = enc.encode(`id-${i}-${'x'.repeat(i % 5)}`);
    parts.push(b);
    p += b.length;
    offsets[i + 1] = p;
  }
  const data = new Uint8Array(p);
  parts.forEach((b, i) => {
    data.set(b, offsets[i]!);
  });
  const validity = Uint8Array.from({ length: n }, () => (r() < 0.1 ? 0 : 1));
  return {
    length: n,
    columns: {
      f: { kind: 'float64', values: Float64Array.from({ length: n }, () => r()), validity },
      t: { kind: 'timestamp', values: Float64Array.from({ length: n }, (_, i) => 1e15 + i), validity: null },
      i: { kind: 'int32', values: Int32Array.from({ length: n }, (_, i) => i), validity: null },
      b: { kind: 'bool', values: Uint8Array.from({ length: n }, (_, i) => i & 1), validity },
      s: { kind: 'utf8', offsets, data, validity },
      d: {
        kind: 'dict',
        indices: Int32Array.from({ length: n }, (_, i) => i % 3),
        dictionary: ['a', 'b', 'c'],
        validity,
      },
    },
  };
}

describe('takeBatch', () => {
  it('block-copy path equals the per-row path on nearly-sorted permutations (generated data)', () => {
    const r = rng(11);
    for (const n of [64, 1000, 65_536]) {
      const b = batch(n, r);
      const idx = Uint32Array.from({ length: n }, (_, i) => i);
      for (let k = 0; k < n / 100; k++) {
        const a = Math.floor(r() * (n - 5));
        const t = idx[a]!;
        idx[a] = idx[a + 3]!;
        idx[a + 3] = t;
      }
      const fast = takeBatch(b, idx);
      for (const [name, col] of Object.entries(b.columns)) {
        const slow = takeColumn(col, idx);
        for (let i = 0; i < n; i++)
          expect(valueAt(fast.columns[name]!, i), `${name}[${i}]`).toEqual(valueAt(slow, i));
      }
    }
  });
});

describe('nearlySortedPermutation', () => {
  it('is the stable sort of nearly-sorted timestamps, null when sorted, and gives up on chaos', () => {
    const r = rng(5);
    const ts = Float64Array.from(
      { length: 10_000 },
      (_, i) => Math.floor(i / 2) - (r() < 0.02 ? Math.floor(r() * 20) : 0),
    );
    const perm = nearlySortedPermutation(ts)!;
    const want = Array.from({ length: ts.length }, (_, i) => i).sort((a, b) => ts[a]! - ts[b]! || a - b);
    expect(Array.from(perm)).toEqual(want);
    expect(nearlySortedPermutation(Float64Array.from([1, 2, 2, 3]))).toBeNull();
    const reversed = Float64Array.from({ length: 10_000 }, (_, i) => -i);
    expect(nearlySortedPermutation(reversed)).toBeNull();
  });
});
