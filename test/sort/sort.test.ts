import { readdir, rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DictBuilder, Float64Builder } from '../../src/columns/builders.js';
import type { ColumnBatch, Schema } from '../../src/columns/types.js';
import { ExternalSorter, type ExternalSorterOptions } from '../../src/lake/sort.js';
import { sortKeyOf } from '../../src/schema/datasets.js';
import {
  collect,
  firstDifference,
  MIXED_SCHEMA,
  mixedRows,
  recut,
  referenceSort,
  rng,
  tempDir,
  toRows,
  type Value,
} from './helpers.js';

const T0 = 1_700_000_000_000_000;
const ODD_SIZES = [1, 997, 13, 2048, 333, 0, 4096, 7];

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  // Every test leaves tmpDir empty: the sorter removes its spill directory.
  try {
    expect(await readdir(dir)).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function sortAll(
  batches: readonly ColumnBatch[],
  options: Partial<ExternalSorterOptions> & { sortKey?: readonly string[] } = {},
  schema: Schema = MIXED_SCHEMA,
): Promise<{ out: ColumnBatch[]; sorter: ExternalSorter }> {
  const sorter = new ExternalSorter({ schema, sortKey: ['timestamp'], tmpDir: dir, ...options });
  for (const b of batches) await sorter.push(b);
  return { out: await collect(sorter.finish()), sorter };
}

async function checkAgainstReference(
  batches: readonly ColumnBatch[],
  options: Partial<ExternalSorterOptions> = {},
): Promise<ExternalSorter> {
  const sortKey = options.sortKey ?? ['timestamp'];
  const { out, sorter } = await sortAll(batches, options);
  const expected = referenceSort(MIXED_SCHEMA, sortKey, toRows(MIXED_SCHEMA, batches));
  const actual = toRows(MIXED_SCHEMA, out);
  expect(actual.length).toBe(expected.length);
  expect(firstDifference(actual, expected)).toBeNull();
  const outRows = options.outputBatchRows ?? 65_536;
  out.forEach((b, i) => {
    if (i < out.length - 1) expect(b.length).toBe(outRows);
    expect(Object.keys(b.columns)).toEqual(MIXED_SCHEMA.fields.map((f) => f.name));
  });
  return sorter;
}

const cases: Array<[string, (i: number, r: () => number) => number]> = [
  ['already sorted', (i) => T0 + i * 3],
  ['nearly sorted (local jitter)', (i, r) => T0 + i * 10 - Math.floor(r() * 500)],
  ['reversed', (i) => T0 - i * 7],
  ['many equal timestamps', (_i, r) => T0 + Math.floor(r() * 5)],
  ['random', (_i, r) => T0 + Math.floor(r() * 1e9)],
];

describe('ExternalSorter against a reference sort', () => {
  for (const [name, gen] of cases) {
    it(`${name}: one run in memory`, async () => {
      const r = rng(11);
      const sorter = await checkAgainstReference(
        mixedRows(5_000, (i) => gen(i, r), 1, ODD_SIZES),
        { outputBatchRows: 777 },
      );
      expect(sorter.stats.runs).toBe(1);
      expect(sorter.stats.spilledBytes).toBe(0);
      expect(sorter.stats.rows).toBe(5_000);
      expect(sorter.stats.alreadySorted).toBe(name === 'already sorted');
    });

    it(`${name}: many spilled runs, odd batch sizes, small merge blocks`, async () => {
      const r = rng(12);
      const sorter = await checkAgainstReference(
        mixedRows(12_345, (i) => gen(i, r), 2, ODD_SIZES),
        { runRows: 1_000, outputBatchRows: 1_500, mergeBlockRows: 37 },
      );
      expect(sorter.stats.runs).toBe(13);
      expect(sorter.stats.spilledBytes).toBeGreaterThan(0);
      expect(sorter.stats.alreadySorted).toBe(name === 'already sorted');
    });
  }

  it('is stable: equal keys keep push order (checked through seq)', async () => {
    const r = rng(5);
    const batches = mixedRows(20_000, () => T0 + Math.floor(r() * 3), 3, [4_000, 1, 999]);
    const { out } = await sortAll(batches, { runRows: 2_500, mergeBlockRows: 100 });
    const rows = toRows(MIXED_SCHEMA, out);
    for (let i = 1; i < rows.length; i++) {
      const [t0, s0] = rows[i - 1]!;
      const [t1, s1] = rows[i]!;
      expect((t0 as number) < (t1 as number) || (t0 === t1 && (s0 as number) < (s1 as number))).toBe(true);
    }
  });

  it('runs that are sorted inside but overlap are not reported as already sorted', async () => {
    // Each run ascending, but the second run starts before the first ends.
    const batches = mixedRows(2_000, (i) => T0 + (i % 1_000) * 2 + (i >= 1_000 ? 1 : 0), 4, [1_000]);
    const sorter = await checkAgainstReference(batches, { runRows: 1_000 });
    expect(sorter.stats.runs).toBe(2);
    expect(sorter.stats.alreadySorted).toBe(false);
  });

  it('options_chain-style key [instrument_key, timestamp], one run and spilled runs', async () => {
    const sortKey = sortKeyOf('options_chain');
    expect(sortKey).toEqual(['instrument_key', 'timestamp']);
    const r = rng(8);
    const batches = mixedRows(9_000, (i) => T0 + i * 5 - Math.floor(r() * 100), 9, ODD_SIZES);
    await checkAgainstReference(batches, { sortKey });
    await checkAgainstReference(batches, {
      sortKey,
      runRows: 700,
      mergeBlockRows: 50,
      outputBatchRows: 4_000,
    });
  });

  it('timestamp span too large for the packed key: fallback sort is still right', async () => {
    const r = rng(21);
    // Runs of 5 000 rows leave 64 - 13 = 51 bits for the key; this span needs 52.
    const batches = mixedRows(15_000, () => Math.floor(r() * 2 ** 52), 22, ODD_SIZES);
    await checkAgainstReference(batches, { runRows: 5_000 });
    // Negative timestamps (before 1970) too.
    const neg = mixedRows(3_000, () => -Math.floor(r() * 1e6), 23, [3_000]);
    await checkAgainstReference(neg);
  });

  it('non-integer and null/NaN keys sort with nulls last', async () => {
    const r = rng(31);
    const schema: Schema = {
      fields: [
        { name: 'k', kind: 'float64', nullable: true },
        { name: 'seq', kind: 'int64', nullable: false },
      ],
    };
    const batches: ColumnBatch[] = [];
    let g = 0;
    for (const size of [1_200, 800, 1_500]) {
      const k = new Float64Builder('float64', size);
      const seq = new Float64Builder('int64', size);
      for (let i = 0; i < size; i++) {
        const x = r();
        if (x < 0.05) k.appendNull();
        else if (x < 0.1) k.append(Number.NaN);
        else k.append(Math.floor(r() * 50) / 4);
        seq.append(g++);
      }
      batches.push({ length: size, columns: { k: k.finish(), seq: seq.finish() } });
    }
    for (const runRows of [10_000, 600]) {
      const { out } = await sortAll(batches, { sortKey: ['k'], runRows, mergeBlockRows: 64 }, schema);
      const normalise = (rows: ReturnType<typeof toRows>) =>
        rows.map(([k, s]): Value[] => [k === null || Number.isNaN(k) ? 'null' : k!, s!]);
      const expected = referenceSort(schema, ['k'], toRows(schema, batches));
      expect(firstDifference(normalise(toRows(schema, out)), normalise(expected))).toBeNull();
    }
  });

  it('dictionaries: output uses one dictionary; strings, not ids, decide the order', async () => {
    const schema: Schema = {
      fields: [
        { name: 'instrument_key', kind: 'dict', nullable: false },
        { name: 'timestamp', kind: 'timestamp', nullable: false },
      ],
    };
    const mk = (dict: string[], ids: number[], ts: number[]): ColumnBatch => ({
      length: ids.length,
      columns: {
        instrument_key: { kind: 'dict', indices: Int32Array.from(ids), dictionary: dict, validity: null },
        timestamp: { kind: 'timestamp', values: Float64Array.from(ts), validity: null },
      },
    });
    const batches = [mk(['b', 'a'], [0, 1, 0], [3, 2, 1]), mk(['a', 'c', 'b'], [2, 1, 0], [0, 0, 0])];
    for (const runRows of [100, 3]) {
      const { out } = await sortAll(batches, { sortKey: ['instrument_key', 'timestamp'], runRows }, schema);
      expect(toRows(schema, out)).toEqual([
        ['a', 0],
        ['a', 2],
        ['b', 0],
        ['b', 1],
        ['b', 3],
        ['c', 0],
      ]);
    }
  });

  it('pushes cut into odd pieces (including empty batches) give the same result', async () => {
    const r = rng(41);
    const base = mixedRows(6_000, (i) => T0 + i - Math.floor(r() * 50), 42, [6_000]);
    await checkAgainstReference(recut(base, [1, 2, 3, 0, 1_111, 5]), { runRows: 800, mergeBlockRows: 256 });
  });

  it('empty input yields nothing', async () => {
    const { out, sorter } = await sortAll([]);
    expect(out).toEqual([]);
    expect(sorter.stats).toEqual({ rows: 0, runs: 0, spilledBytes: 0, alreadySorted: true });
  });
});

describe('ExternalSorter lifecycle and errors', () => {
  it('keeps a single run in memory without creating tmpDir', async () => {
    const sorter = new ExternalSorter({
      schema: MIXED_SCHEMA,
      sortKey: ['timestamp'],
      tmpDir: `${dir}/never`,
    });
    await sorter.push(mixedRows(100, (i) => T0 - i, 1, [100])[0]!);
    expect((await collect(sorter.finish())).length).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });

  it('spill files exist while merging and are gone after an early break', async () => {
    const sorter = new ExternalSorter({
      schema: MIXED_SCHEMA,
      sortKey: ['timestamp'],
      tmpDir: dir,
      runRows: 500,
      outputBatchRows: 100,
    });
    for (const b of mixedRows(3_000, (i) => T0 - i, 1, [700])) await sorter.push(b);
    let seen = 0;
    for await (const b of sorter.finish()) {
      seen += b.length;
      const [spillDir] = await readdir(dir);
      expect(spillDir).toMatch(/^ticklake-sort-/);
      expect((await readdir(`${dir}/${spillDir}`)).length).toBe(6);
      break;
    }
    expect(seen).toBe(100);
    // afterEach checks the directory is empty again
  });

  it('close() without finish removes spill files; push after close fails', async () => {
    const sorter = new ExternalSorter({
      schema: MIXED_SCHEMA,
      sortKey: ['timestamp'],
      tmpDir: dir,
      runRows: 100,
    });
    for (const b of mixedRows(1_000, (i) => T0 + i, 1, [333])) await sorter.push(b);
    expect((await readdir(dir)).length).toBe(1);
    await sorter.close();
    await sorter.close();
    await expect(sorter.push(mixedRows(1, () => 0, 1, [1])[0]!)).rejects.toThrow(/push after close/);
  });

  it('rejects batches that do not match the schema', async () => {
    const sorter = new ExternalSorter({ schema: MIXED_SCHEMA, sortKey: ['timestamp'], tmpDir: dir });
    const [b] = mixedRows(10, (i) => i, 1, [10]);
    const { seq: _seq, ...rest } = b!.columns;
    await expect(sorter.push({ length: 10, columns: rest })).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
    });
    expect(() => new ExternalSorter({ schema: MIXED_SCHEMA, sortKey: ['id'], tmpDir: dir })).toThrow(/utf8/);
    expect(() => new ExternalSorter({ schema: MIXED_SCHEMA, sortKey: ['nope'], tmpDir: dir })).toThrow(
      /not in the schema/,
    );
  });

  it('a tmpDir under a regular file gives a typed storage error', async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${dir}/file`, 'x');
    const sorter = new ExternalSorter({
      schema: MIXED_SCHEMA,
      sortKey: ['timestamp'],
      tmpDir: `${dir}/file/spill`,
      runRows: 100,
    });
    const batches = mixedRows(300, (i) => i, 1, [300]);
    await expect(sorter.push(batches[0]!)).rejects.toMatchObject({ code: 'STORAGE_ACCESS' });
    await rm(`${dir}/file`);
  });
});

describe('ExternalSorter on a full disk', () => {
  it('ENOSPC while spilling → StorageFullError, nothing left behind', async (ctx) => {
    const { execFileSync } = await import('node:child_process');
    const mnt = `${dir}/mnt`;
    const { mkdir, rmdir } = await import('node:fs/promises');
    await mkdir(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      await rmdir(mnt);
      ctx.skip();
      return;
    }
    try {
      const sorter = new ExternalSorter({
        schema: MIXED_SCHEMA,
        sortKey: ['timestamp'],
        tmpDir: mnt,
        runRows: 2_000,
      });
      let err: unknown;
      try {
        for (const b of mixedRows(40_000, (i) => T0 - i, 1, [2_000])) await sorter.push(b);
        await collect(sorter.finish());
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'STORAGE_FULL' });
      await sorter.close();
      expect(await readdir(mnt)).toEqual([]);
    } finally {
      execFileSync('umount', [mnt]);
      await rmdir(mnt);
    }
  });
});

describe('ExternalSorter with trades-like columns', () => {
  it('sorts builder-made batches by timestamp', async () => {
    const schema: Schema = {
      fields: [
        { name: 'timestamp', kind: 'timestamp', nullable: false },
        { name: 'side', kind: 'dict', nullable: false },
      ],
    };
    const side = new DictBuilder(['buy', 'sell']);
    const ts = new Float64Builder('timestamp');
    for (const t of [5, 3, 4, 1, 2]) {
      ts.append(t);
      side.append(t % 2 ? 'buy' : 'sell');
    }
    const { out } = await sortAll(
      [{ length: 5, columns: { timestamp: ts.finish(), side: side.finish() } }],
      {},
      schema,
    );
    expect(toRows(schema, out)).toEqual([
      [1, 'buy'],
      [2, 'sell'],
      [3, 'buy'],
      [4, 'sell'],
      [5, 'buy'],
    ]);
  });
});
