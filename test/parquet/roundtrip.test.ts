import { describe, expect, it } from 'vitest';
import { valueAt } from '../../src/columns/ops.js';
import type { ColumnBatch, Schema } from '../../src/columns/types.js';
import {
  type CodecName,
  ParquetReader,
  ParquetWriter,
  readParquetMetadata,
} from '../../src/parquet/index.js';
import { allKindsSchema, memorySource, randomBatch, rng } from './helpers.js';

/** Write batches into memory; returns the file bytes and the close() summary. */
async function writeToMemory(
  batches: ColumnBatch[],
  options: ConstructorParameters<typeof ParquetWriter>[1],
): Promise<{ bytes: Uint8Array; summary: Awaited<ReturnType<ParquetWriter['close']>> }> {
  const chunks: Uint8Array[] = [];
  const sink = {
    position: 0,
    async write(c: Uint8Array) {
      chunks.push(c.slice());
      this.position += c.length;
    },
  };
  const w = new ParquetWriter(sink, options);
  for (const b of batches) await w.write(b);
  const summary = await w.close();
  return { bytes: Buffer.concat(chunks), summary };
}

function expectSameRows(schema: Schema, expected: ColumnBatch, actual: ColumnBatch): void {
  expect(actual.length).toBe(expected.length);
  for (const f of schema.fields) {
    const e = expected.columns[f.name]!;
    const a = actual.columns[f.name]!;
    expect(a.kind, f.name).toBe(f.kind);
    for (let i = 0; i < expected.length; i++) {
      const ev = valueAt(e, i);
      const av = valueAt(a, i);
      if (!Object.is(av, ev) && av !== ev)
        throw new Error(`${f.name}[${i}]: expected ${String(ev)}, got ${String(av)}`);
    }
  }
}

/** Arrow value → the JS value `valueAt` gives for our columns. */
function arrowValue(kind: string, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (kind === 'timestamp' || kind === 'int64') return Number(v as bigint);
  return v;
}

const CODECS: CodecName[] = ['zstd', 'snappy', 'gzip', 'none'];

describe('Parquet round trip', () => {
  for (const codec of CODECS) {
    it(`every kind, required and nullable, ${codec}, several row groups and pages`, async () => {
      const schema = allKindsSchema();
      const next = rng(42);
      // Uneven batch sizes across row-group boundaries.
      const batches = [
        randomBatch(schema, 1000, next),
        randomBatch(schema, 7, next),
        randomBatch(schema, 2500, next),
      ];
      const { bytes, summary } = await writeToMemory(batches, {
        schema,
        codec,
        rowGroupRows: 1200,
        pageRows: 333,
        keyValueMetadata: { a: '1' },
      });
      expect(summary.rows).toBe(3507);
      expect(summary.rowGroups).toBe(3);
      expect(summary.bytes).toBe(bytes.length);

      const reader = await ParquetReader.open(memorySource(bytes), 'mem.parquet');
      expect(reader.metadata.numRows).toBe(3507);
      expect(reader.metadata.rowGroups.map((g) => g.numRows)).toEqual([1200, 1200, 1107]);
      expect(reader.metadata.fields).toEqual(schema.fields);
      expect(reader.metadata.keyValueMetadata).toEqual({ a: '1' });
      expect(reader.metadata.codec).toBe(codec);

      const { concatBatches } = await import('../../src/columns/ops.js');
      const expected = concatBatches(batches);
      expectSameRows(schema, expected, await reader.readBatch());

      // Arrow: same values, typed as promised.
      const table = await reader.readArrow();
      expect(table.numRows).toBe(3507);
      expect(String(table.schema.fields.find((f) => f.name === 'timestamp_req')!.type)).toBe(
        'Timestamp<MICROSECOND, UTC>',
      );
      expect(String(table.schema.fields.find((f) => f.name === 'dict_opt')!.type)).toBe(
        'Dictionary<Int32, Utf8>',
      );
      for (const f of schema.fields) {
        const vec = table.getChild(f.name)!;
        const col = expected.columns[f.name]!;
        // Arrow's get() turns timestamps into ms doubles: compare the raw µs BigInt64 values instead.
        const raw = f.kind === 'timestamp' ? (vec.toArray() as BigInt64Array) : null;
        for (let i = 0; i < expected.length; i++) {
          const ev = valueAt(col, i);
          let av = arrowValue(f.kind, raw !== null && vec.isValid(i) ? raw[i] : vec.get(i));
          if (f.kind === 'bool' && av !== null) av = Boolean(av);
          if (!Object.is(av, ev) && av !== ev)
            throw new Error(`arrow ${f.name}[${i}]: ${String(ev)} != ${String(av)}`);
        }
      }
      // Timestamps are BigInt64Array µs.
      const tsData = table.getChild('timestamp_req')!.data[0]!;
      expect(tsData.values).toBeInstanceOf(BigInt64Array);
      expect(Number((tsData.values as BigInt64Array)[0])).toBe(valueAt(expected.columns.timestamp_req!, 0));
    });
  }

  it('row-group statistics match the data and the close() summary', async () => {
    const schema = allKindsSchema();
    const batch = randomBatch(schema, 5000, rng(7));
    const { bytes, summary } = await writeToMemory([batch], { schema, rowGroupRows: 2000 });
    const md = await readParquetMetadata(memorySource(bytes));
    expect(md.rowGroups).toHaveLength(3);
    for (const f of schema.fields) {
      const col = batch.columns[f.name]!;
      let nulls = 0;
      for (let i = 0; i < 5000; i++) if (valueAt(col, i) === null) nulls++;
      expect(summary.columns[f.name]!.nullCount, f.name).toBe(nulls);
      expect(md.rowGroups.reduce((s, g) => s + g.columns[f.name]!.nullCount, 0)).toBe(nulls);
      for (const [g, rg] of md.rowGroups.entries()) {
        const vals: (string | number)[] = [];
        for (let i = g * 2000; i < Math.min(5000, (g + 1) * 2000); i++) {
          const v = valueAt(col, i);
          if (v !== null) vals.push(typeof v === 'boolean' ? Number(v) : v);
        }
        const cmp = (a: string | number, b: string | number) =>
          typeof a === 'number'
            ? (a as number) - (b as number)
            : Buffer.compare(Buffer.from(a), Buffer.from(b as string));
        vals.sort(cmp);
        const s = rg.columns[f.name]!;
        const min = vals[0]!;
        const max = vals[vals.length - 1]!;
        // Strings over 64 bytes are left out of the footer statistics.
        expect(s.min, `${f.name} rg${g} min`).toEqual(
          typeof min === 'string' && min.length > 64 ? null : min,
        );
        expect(s.max, `${f.name} rg${g} max`).toEqual(
          typeof max === 'string' && Buffer.byteLength(max) > 64 ? null : max,
        );
      }
    }
    expect(summary.columns.timestamp_req!.min).toBe(valueAt(batch.columns.timestamp_req!, 0));
    expect(summary.columns.timestamp_req!.max).toBe(valueAt(batch.columns.timestamp_req!, 4999));
  });

  it('projection and row-group selection', async () => {
    const schema = allKindsSchema();
    const batch = randomBatch(schema, 3000, rng(9));
    const { bytes } = await writeToMemory([batch], { schema, rowGroupRows: 1000 });
    const reader = await ParquetReader.open(memorySource(bytes));
    const out = await reader.readBatch({ columns: ['utf8_opt', 'timestamp_req'], rowGroups: [2, 0] });
    expect(Object.keys(out.columns)).toEqual(['utf8_opt', 'timestamp_req']);
    expect(out.length).toBe(2000);
    expect(valueAt(out.columns.timestamp_req!, 0)).toBe(valueAt(batch.columns.timestamp_req!, 2000));
    expect(valueAt(out.columns.utf8_opt!, 1000)).toBe(valueAt(batch.columns.utf8_opt!, 0));
    await expect(reader.readBatch({ columns: ['nope'] })).rejects.toThrow(/no column "nope"/);
    await expect(reader.readBatch({ rowGroups: [3] })).rejects.toThrow(/no row group 3/);
  });

  it('empty file, setMetadata, sorting columns, all-null columns', async () => {
    const schema: Schema = {
      fields: [
        { name: 'ts', kind: 'timestamp', nullable: false },
        { name: 's', kind: 'utf8', nullable: true },
      ],
    };
    const chunks: Uint8Array[] = [];
    const sink = {
      position: 0,
      async write(c: Uint8Array) {
        chunks.push(c.slice());
        this.position += c.length;
      },
    };
    const w = new ParquetWriter(sink, { schema, sortingColumns: ['ts'], createdBy: 'test' });
    w.setMetadata('k', 'v');
    const summary = await w.close();
    expect(summary).toMatchObject({ rows: 0, rowGroups: 0 });
    const r = await ParquetReader.open(memorySource(Buffer.concat(chunks)));
    expect(r.metadata).toMatchObject({ numRows: 0, keyValueMetadata: { k: 'v' }, createdBy: 'test' });
    expect((await r.readBatch()).length).toBe(0);
    expect((await r.readArrow()).numRows).toBe(0);

    const s = {
      kind: 'utf8' as const,
      offsets: new Int32Array(4),
      data: new Uint8Array(0),
      validity: new Uint8Array(3),
    };
    const { bytes, summary: s2 } = await writeToMemory(
      [
        {
          length: 3,
          columns: { ts: { kind: 'timestamp', values: Float64Array.of(1, 2, 3), validity: null }, s },
        },
      ],
      { schema, sortingColumns: ['ts'] },
    );
    expect(s2.columns.s).toEqual({ min: null, max: null, nullCount: 3 });
    const r2 = await ParquetReader.open(memorySource(bytes));
    expect(r2.fileMetaData.row_groups[0]!.sorting_columns).toEqual([
      { column_idx: 0, descending: false, nulls_first: false },
    ]);
    const out = await r2.readBatch();
    expect([0, 1, 2].map((i) => valueAt(out.columns.s!, i))).toEqual([null, null, null]);
  });

  it('rejects batches that do not match the schema', async () => {
    const schema: Schema = { fields: [{ name: 'x', kind: 'int32', nullable: false }] };
    const w = new ParquetWriter({ position: 0, write: async () => undefined }, { schema });
    expect(() => w.write({ length: 1, columns: {} })).toThrow(/no column "x"/);
    expect(() =>
      w.write({
        length: 1,
        columns: { x: { kind: 'float64', values: new Float64Array(1), validity: null } },
      }),
    ).toThrow(/is float64/);
    expect(() =>
      w.write({
        length: 1,
        columns: { x: { kind: 'int32', values: new Int32Array(1), validity: Uint8Array.of(0) } },
      }),
    ).toThrow(/not nullable/);
  });

  it('int64 and timestamps stay exact up to 2^53', async () => {
    const schema: Schema = { fields: [{ name: 'v', kind: 'int64', nullable: false }] };
    const vals = [
      0,
      -1,
      1,
      2 ** 32,
      -(2 ** 32),
      2 ** 32 - 1,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      2 ** 31,
      -(2 ** 31) - 1,
    ];
    const { bytes } = await writeToMemory(
      [
        {
          length: vals.length,
          columns: { v: { kind: 'int64', values: Float64Array.from(vals), validity: null } },
        },
      ],
      { schema },
    );
    const r = await ParquetReader.open(memorySource(bytes));
    const col = (await r.readBatch()).columns.v!;
    expect(col.kind === 'int64' ? Array.from(col.values) : null).toEqual(vals);
    const t = await r.readArrow();
    expect(Array.from(t.getChild('v')!.toArray() as BigInt64Array, Number)).toEqual(vals);
    expect(r.metadata.rowGroups[0]!.columns.v).toMatchObject({ min: -(2 ** 53 - 1), max: 2 ** 53 - 1 });
  });
});
