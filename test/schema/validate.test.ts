/**
 * Validation modes × error types, with the exact messages users see. Every case builds a real Arrow
 * table and checks the converted values against an independent computation.
 */

import {
  Field as ArrowField,
  Bool,
  DateDay,
  Float32,
  Float64,
  Int32,
  Int64,
  List,
  makeData,
  makeVector,
  Table,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Uint64,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { valueAt } from '../../src/columns/ops.js';
import type { Field } from '../../src/columns/types.js';
import {
  DataTypeValidationError,
  MissingRequiredColumnError,
  SchemaMismatchError,
  TicklakeError,
} from '../../src/errors.js';
import { AVAILABILITY_SCHEMA } from '../../src/instruments/availability.js';
import { SchemaRegistry } from '../../src/schema/registry.js';
import {
  parseIsoMicros,
  parseValidationMode,
  VALIDATION_MODES,
  type ValidationMode,
  validateTable,
} from '../../src/schema/validate.js';

const TICKS: Field[] = [
  { name: 'timestamp', kind: 'timestamp', nullable: false },
  { name: 'price', kind: 'float64', nullable: false },
  { name: 'qty', kind: 'int64', nullable: false },
  { name: 'venue', kind: 'dict', nullable: false },
  { name: 'note', kind: 'utf8', nullable: true },
];
const schema = { fields: TICKS };
const opts = (mode: ValidationMode) => ({ dataset: 'ticks', mode });

/** A valid table; `over` replaces or (undefined) removes columns. */
function ticks(over: Record<string, unknown> = {}): Table {
  const cols: Record<string, unknown> = {
    timestamp: vectorFromArray(
      [1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002],
      new TimestampMillisecond(),
    ),
    price: vectorFromArray([1.5, 2.25, 3], new Float64()),
    qty: vectorFromArray([1n, 2n, 3n], new Int64()),
    venue: vectorFromArray(['A', 'B', 'A'], new Utf8()),
    note: vectorFromArray(['x', null, 'z'], new Utf8()),
    ...over,
  };
  for (const [k, v] of Object.entries(cols)) if (v === undefined) delete cols[k];
  return new Table(cols as never);
}

function caught(fn: () => unknown): TicklakeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TicklakeError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('validation modes × error types (exact messages)', () => {
  it('a valid table passes every mode with the same values and no warnings', () => {
    for (const mode of VALIDATION_MODES) {
      const r = validateTable(ticks(), schema, opts(mode));
      expect(r.warnings).toEqual([]);
      expect(r.schema.fields.map((f) => `${f.name}:${f.kind}`)).toEqual([
        'timestamp:timestamp',
        'price:float64',
        'qty:int64',
        'venue:dict',
        'note:utf8',
      ]);
      const c = r.batch.columns;
      expect(Array.from((c.timestamp as { values: Float64Array }).values)).toEqual([
        1_700_000_000_000_000, 1_700_000_000_001_000, 1_700_000_000_002_000,
      ]);
      expect([0, 1, 2].map((i) => valueAt(c.venue!, i))).toEqual(['A', 'B', 'A']);
      expect([0, 1, 2].map((i) => valueAt(c.note!, i))).toEqual(['x', null, 'z']);
    }
  });

  describe('MissingRequiredColumnError', () => {
    const msg = 'ticks: required column "qty" (int64) is missing';
    it.each(['STRICT', 'COERCE'] as const)('%s: throws', (mode) => {
      const e = caught(() => validateTable(ticks({ qty: undefined }), schema, opts(mode)));
      expect(e).toBeInstanceOf(MissingRequiredColumnError);
      expect(e.code).toBe('MISSING_REQUIRED_COLUMN');
      expect(e.message).toBe(msg);
      expect(e.hint).toBe('add the column; only nullable columns may be left out (in COERCE or IGNORE mode)');
      expect(e.details).toEqual({ dataset: 'ticks', column: 'qty', expected: 'int64', mode });
    });
    it('IGNORE: a warning with the same text; the rest is written', () => {
      const r = validateTable(ticks({ qty: undefined }), schema, opts('IGNORE'));
      expect(r.warnings).toEqual([msg]);
      expect(r.schema.fields.map((f) => f.name)).toEqual(['timestamp', 'price', 'venue', 'note']);
    });
  });

  describe('SchemaMismatchError', () => {
    it('STRICT: a missing optional column', () => {
      const e = caught(() => validateTable(ticks({ note: undefined }), schema, opts('STRICT')));
      expect(e).toBeInstanceOf(SchemaMismatchError);
      expect(e.code).toBe('SCHEMA_MISMATCH');
      expect(e.message).toBe(
        'ticks: column "note" (utf8, nullable) is missing; STRICT requires every schema column',
      );
      expect(e.hint).toBe('add the column, or write with mode COERCE to fill it with nulls');
    });
    it('COERCE: the missing optional column becomes nulls, with a warning', () => {
      const r = validateTable(ticks({ note: undefined }), schema, opts('COERCE'));
      expect(r.warnings).toEqual(['ticks: column "note" (utf8, nullable) is missing; filled with nulls']);
      expect([0, 1, 2].map((i) => valueAt(r.batch.columns.note!, i))).toEqual([null, null, null]);
    });
    it('IGNORE: the missing optional column is left out, with a warning', () => {
      const r = validateTable(ticks({ note: undefined }), schema, opts('IGNORE'));
      expect(r.warnings).toEqual(['ticks: column "note" (utf8, nullable) is missing; left out']);
      expect(r.batch.columns.note).toBeUndefined();
    });
    it.each(VALIDATION_MODES)('%s: a column type ticklake cannot write fails in every mode', (mode) => {
      const listType = new List(new ArrowField('item', new Int32(), true));
      const child = makeData({ type: new Int32(), length: 3, data: new Int32Array([1, 2, 3]) });
      const list = makeVector(
        makeData({ type: listType, length: 3, valueOffsets: new Int32Array([0, 1, 2, 3]), child }),
      );
      const e = caught(() => validateTable(ticks({ tags: list }), schema, opts(mode)));
      expect(e).toBeInstanceOf(SchemaMismatchError);
      expect(e.message).toBe('column "tags" has Arrow type List<Int32>, which ticklake cannot write');
      expect(e.hint).toMatch(/^supported Arrow types: Int8\/16\/32\/64/);
    });
  });

  describe('DataTypeValidationError', () => {
    const text = () => ticks({ price: vectorFromArray(['1.5', 'abc', ' 3 '], new Utf8()) });
    it('STRICT: text in a float64 column is not parsed', () => {
      const e = caught(() => validateTable(text(), schema, opts('STRICT')));
      expect(e).toBeInstanceOf(DataTypeValidationError);
      expect(e.code).toBe('DATA_TYPE_VALIDATION');
      expect(e.message).toBe(
        'ticks: column "price" expected float64, found Utf8: text is not converted in STRICT mode in 3 row(s); first bad rows: 0 ("1.5"), 1 ("abc"), 2 (" 3 ")',
      );
      expect(e.details).toEqual({
        dataset: 'ticks',
        column: 'price',
        expected: 'float64',
        found: 'Utf8',
        mode: 'STRICT',
        badRowCount: 3,
        firstBadRows: [
          { row: 0, value: '1.5' },
          { row: 1, value: 'abc' },
          { row: 2, value: ' 3 ' },
        ],
      });
      expect(e.hint).toMatch(
        /^STRICT converts only losslessly .*; write with mode COERCE to parse text and numbers$/,
      );
    });
    it('COERCE: numeric text is parsed; the unparseable row is named', () => {
      const e = caught(() => validateTable(text(), schema, opts('COERCE')));
      expect(e).toBeInstanceOf(DataTypeValidationError);
      expect(e.message).toBe(
        'ticks: column "price" expected float64, found Utf8: not a number in 1 row(s); first bad rows: 1 ("abc")',
      );
      expect(e.details!.firstBadRows).toEqual([{ row: 1, value: 'abc' }]);
      const ok = validateTable(
        ticks({ price: vectorFromArray(['1.5', '-2e3', ' 3 '], new Utf8()) }),
        schema,
        opts('COERCE'),
      );
      expect(Array.from((ok.batch.columns.price as { values: Float64Array }).values)).toEqual([
        1.5, -2000, 3,
      ]);
    });
    it('IGNORE: the same problem is a warning and the column is written as text', () => {
      const r = validateTable(text(), schema, opts('IGNORE'));
      expect(r.warnings).toEqual([
        'ticks: column "price" expected float64, found Utf8: text is not converted in STRICT mode in 3 row(s); first bad rows: 0 ("1.5"), 1 ("abc"), 2 (" 3 ")',
      ]);
      expect(r.schema.fields.find((f) => f.name === 'price')).toEqual({
        name: 'price',
        kind: 'utf8',
        nullable: true,
      });
    });

    const nulls = () => ticks({ price: vectorFromArray([1, null, null], new Float64()) });
    const nullMsg =
      'ticks: column "price" expected float64, found Float64: null in a non-nullable column in 2 row(s); first bad rows: 1 (null), 2 (null)';
    it.each(['STRICT', 'COERCE'] as const)('%s: nulls in a required column', (mode) => {
      const e = caught(() => validateTable(nulls(), schema, opts(mode)));
      expect(e).toBeInstanceOf(DataTypeValidationError);
      expect(e.message).toBe(nullMsg);
      expect(e.hint).toBe('fill the nulls, or register the column as nullable');
    });
    it('IGNORE: nulls in a required column warn and the column is written nullable', () => {
      const r = validateTable(nulls(), schema, opts('IGNORE'));
      expect(r.warnings).toEqual([nullMsg]);
      expect(r.schema.fields.find((f) => f.name === 'price')!.nullable).toBe(true);
    });
  });

  describe('extra columns', () => {
    it.each([
      ['STRICT', 'dropped'],
      ['COERCE', 'dropped'],
      ['IGNORE', 'kept'],
    ] as const)('%s: warns and the column is %s', (mode, what) => {
      const r = validateTable(ticks({ extra: vectorFromArray([1, 2, 3], new Int32()) }), schema, opts(mode));
      expect(r.warnings).toEqual([`ticks: column "extra" is not in the schema; ${what}`]);
      expect(r.batch.columns.extra === undefined).toBe(what === 'dropped');
    });
  });
});

describe('lossless coercions (STRICT) and lossy ones (rejected)', () => {
  it('int32 → int64, float32 → float64, s/ms/ns → µs, date → timestamp', () => {
    const s = {
      fields: [
        { name: 'a', kind: 'int64', nullable: false },
        { name: 'b', kind: 'float64', nullable: false },
        { name: 's', kind: 'timestamp', nullable: false },
        { name: 'ms', kind: 'timestamp', nullable: false },
        { name: 'ns', kind: 'timestamp', nullable: false },
        { name: 'd', kind: 'timestamp', nullable: false },
        { name: 'i', kind: 'float64', nullable: false },
      ] as Field[],
    };
    const t = new Table({
      a: vectorFromArray([-2147483648, 7], new Int32()),
      b: vectorFromArray([0.5, 1.25], new Float32()),
      s: makeVector(
        makeData({ type: new TimestampSecond(), length: 2, data: new BigInt64Array([1_700_000_000n, 1n]) }),
      ),
      ms: vectorFromArray([1_700_000_000_123, -1], new TimestampMillisecond()),
      ns: makeVector(
        makeData({
          type: new TimestampNanosecond(),
          length: 2,
          data: new BigInt64Array([1_700_000_000_123_456_000n, -5_000n]),
        }),
      ),
      d: vectorFromArray([new Date(Date.UTC(2024, 7, 1)), new Date(0)], new DateDay()),
      i: vectorFromArray([9007199254740991n, -3n], new Int64()),
    });
    const r = validateTable(t, s, { dataset: 'x', mode: 'STRICT' });
    expect(r.warnings).toEqual([]);
    const v = (n: string) => Array.from((r.batch.columns[n] as { values: Float64Array }).values);
    expect(v('a')).toEqual([-2147483648, 7]);
    expect(v('b')).toEqual([0.5, 1.25]);
    expect(v('s')).toEqual([1_700_000_000_000_000, 1_000_000]);
    expect(v('ms')).toEqual([1_700_000_000_123_000, -1000]);
    expect(v('ns')).toEqual([1_700_000_000_123_456, -5]);
    expect(v('d')).toEqual([Date.UTC(2024, 7, 1) * 1000, 0]);
    expect(v('i')).toEqual([9007199254740991, -3]);
  });

  it('STRICT rejects sub-µs nanoseconds, non-integral floats for integers, int64 beyond 2^53', () => {
    const ts = { fields: [{ name: 't', kind: 'timestamp', nullable: false }] as Field[] };
    const ns = new Table({
      t: makeVector(
        makeData({ type: new TimestampNanosecond(), length: 2, data: new BigInt64Array([1_000n, 1_500n]) }),
      ),
    });
    expect(caught(() => validateTable(ns, ts, { dataset: 'x', mode: 'STRICT' })).message).toBe(
      'x: column "t" expected timestamp[µs, UTC], found Timestamp<NANOSECOND>: not a whole microsecond in 1 row(s); first bad rows: 1 ("1970-01-01T00:00:00.000001Z")',
    );
    // COERCE truncates to the microsecond and says so.
    const c = validateTable(ns, ts, { dataset: 'x', mode: 'COERCE' });
    expect(Array.from((c.batch.columns.t as { values: Float64Array }).values)).toEqual([1, 1]);
    expect(c.warnings).toEqual(['column "t": 1 nanosecond value(s) truncated to the microsecond']);

    const ints = { fields: [{ name: 'n', kind: 'int64', nullable: false }] as Field[] };
    const floats = new Table({ n: vectorFromArray([2, 2.5], new Float64()) });
    for (const mode of ['STRICT', 'COERCE'] as const) {
      expect(caught(() => validateTable(floats, ints, { dataset: 'x', mode })).message).toBe(
        'x: column "n" expected int64, found Float64: not an integer in 1 row(s); first bad rows: 1 (2.5)',
      );
    }
    const integral = validateTable(new Table({ n: vectorFromArray([2, -4], new Float64()) }), ints, {
      dataset: 'x',
      mode: 'STRICT',
    });
    expect(Array.from((integral.batch.columns.n as { values: Float64Array }).values)).toEqual([2, -4]);

    const big = new Table({ n: vectorFromArray([1n, 2n ** 60n], new Uint64()) });
    expect(caught(() => validateTable(big, ints, { dataset: 'x', mode: 'STRICT' })).message).toBe(
      'x: column "n" expected int64, found Uint64: beyond ±2^53 (not exact) in 1 row(s); first bad rows: 1 ("1152921504606846976")',
    );
    const i32 = { fields: [{ name: 'n', kind: 'int32', nullable: false }] as Field[] };
    const wide = new Table({ n: vectorFromArray([1n, 3_000_000_000n], new Int64()) });
    expect(caught(() => validateTable(wide, i32, { dataset: 'x', mode: 'STRICT' })).message).toBe(
      'x: column "n" expected int32, found Int64: outside the int32 range in 1 row(s); first bad rows: 1 (3000000000)',
    );
  });

  it('STRICT does not read integers as times; COERCE reads them as µs and ISO text as times', () => {
    const ts = { fields: [{ name: 't', kind: 'timestamp', nullable: true }] as Field[] };
    const ints = new Table({ t: vectorFromArray([1_700_000_000_000_000n, null], new Int64()) });
    const e = caught(() => validateTable(ints, ts, { dataset: 'x', mode: 'STRICT' }));
    expect(e.message).toBe(
      'x: column "t" expected timestamp[µs, UTC], found Int64: numbers are not read as times in STRICT mode in 1 row(s); first bad rows: 0 (1700000000000000)',
    );
    const r = validateTable(ints, ts, { dataset: 'x', mode: 'COERCE' });
    expect(r.warnings).toEqual(['column "t": Int64 values read as µs since the epoch']);
    expect(valueAt(r.batch.columns.t!, 0)).toBe(1_700_000_000_000_000);
    expect(valueAt(r.batch.columns.t!, 1)).toBeNull();

    const iso = new Table({
      t: vectorFromArray(['2024-08-01T00:00:00.123456Z', '2024-08-01 02:00+02:00', 'yesterday'], new Utf8()),
    });
    expect(caught(() => validateTable(iso, ts, { dataset: 'x', mode: 'COERCE' })).message).toBe(
      'x: column "t" expected timestamp[µs, UTC], found Utf8: not an ISO-8601 time in 1 row(s); first bad rows: 2 ("yesterday")',
    );
    expect(parseIsoMicros('2024-08-01T00:00:00.123456Z')).toBe(Date.UTC(2024, 7, 1) * 1000 + 123_456);
    expect(parseIsoMicros('2024-08-01 02:00+02:00')).toBe(Date.UTC(2024, 7, 1) * 1000);
    expect(parseIsoMicros('2024-02-30')).toBeNaN();
  });

  it('COERCE: numeric text → integers and booleans, numbers → text; text ⇄ dictionary in every mode', () => {
    const s = {
      fields: [
        { name: 'n', kind: 'int64', nullable: true },
        { name: 'b', kind: 'bool', nullable: false },
        { name: 'label', kind: 'utf8', nullable: false },
        { name: 'd', kind: 'dict', nullable: false },
      ] as Field[],
    };
    const t = new Table({
      n: vectorFromArray(['10', '', '-7'], new Utf8()),
      b: vectorFromArray(['true', '0', 'FALSE'], new Utf8()),
      label: vectorFromArray([1.5, 2, 3], new Float64()),
      d: vectorFromArray(['x', 'y', 'x'], new Utf8()),
    });
    const r = validateTable(t, s, { dataset: 'x', mode: 'COERCE' });
    expect([0, 1, 2].map((i) => valueAt(r.batch.columns.n!, i))).toEqual([10, null, -7]);
    expect([0, 1, 2].map((i) => valueAt(r.batch.columns.b!, i))).toEqual([true, false, false]);
    expect([0, 1, 2].map((i) => valueAt(r.batch.columns.label!, i))).toEqual(['1.5', '2', '3']);
    expect(r.batch.columns.d!.kind).toBe('dict');
    expect([0, 1, 2].map((i) => valueAt(r.batch.columns.d!, i))).toEqual(['x', 'y', 'x']);
    const strict = { fields: [s.fields[3]!, { name: 'u', kind: 'utf8', nullable: false }] as Field[] };
    const r2 = validateTable(
      new Table({
        d: vectorFromArray(['p', 'q'], new Utf8()),
        u: vectorFromArray(['m', 'n']),
      }),
      strict,
      { dataset: 'x', mode: 'STRICT' },
    );
    expect(r2.batch.columns.d!.kind).toBe('dict');
    expect(r2.batch.columns.u!.kind).toBe('utf8');
    expect([0, 1].map((i) => valueAt(r2.batch.columns.u!, i))).toEqual(['m', 'n']);
    expect(
      caught(() =>
        validateTable(
          new Table({ b: vectorFromArray([1, 0], new Int32()) }),
          { fields: [s.fields[1]!] },
          {
            dataset: 'x',
            mode: 'STRICT',
          },
        ),
      ).message,
    ).toBe(
      'x: column "b" expected bool, found Int32: not a boolean in 2 row(s); first bad rows: 0 (1), 1 (0)',
    );
    const bools = validateTable(
      new Table({ b: vectorFromArray([true, false], new Bool()) }),
      { fields: [s.fields[1]!] },
      {
        dataset: 'x',
        mode: 'STRICT',
      },
    );
    expect([0, 1].map((i) => valueAt(bools.batch.columns.b!, i))).toEqual([true, false]);
  });

  it('sliced and multi-chunk tables read the right rows', () => {
    const t = ticks();
    const two = new Table([...t.batches, ...t.slice(1, 3).batches]);
    const r = validateTable(two, schema, opts('STRICT'));
    expect(r.batch.length).toBe(5);
    expect(Array.from({ length: 5 }, (_, i) => valueAt(r.batch.columns.note!, i))).toEqual([
      'x',
      null,
      'z',
      null,
      'z',
    ]);
    expect(Array.from({ length: 5 }, (_, i) => valueAt(r.batch.columns.qty!, i))).toEqual([1, 2, 3, 2, 3]);
  });

  it('modes parse case-insensitively; an unknown mode is a usage error', () => {
    expect(parseValidationMode('coerce')).toBe('COERCE');
    expect(caught(() => parseValidationMode('LAX')).message).toBe('unknown validation mode "LAX"');
  });
});

describe('schema registry', () => {
  it('lists every dataset the project writes, plus the seed schemas', () => {
    const reg = new SchemaRegistry();
    expect(reg.names()).toEqual(
      expect.arrayContaining([
        'trades',
        'quotes',
        'book_ticker',
        'book_snapshot_5',
        'book_snapshot_25',
        'incremental_book_l2',
        'derivative_ticker',
        'options_chain',
        'liquidations',
        'quarantine',
        'candles',
        'book_snapshots',
        'instruments',
        'ohlcv',
        'price_volatility',
        'momentum_indicators',
        'volume_profile',
      ]),
    );
    expect(reg.get('OHLCV').fields.map((f) => f.name)).toEqual([
      'timestamp',
      'instrument_key',
      'open',
      'high',
      'low',
      'close',
      'volume',
    ]);
    expect(reg.get('PRICE_VOLATILITY').fields.map((f) => f.name)).toContain('volatility_ratio');
    expect(reg.get('momentum_indicators').fields.map((f) => f.name)).toEqual(
      expect.arrayContaining(['rsi_14', 'macd', 'macd_signal']),
    );
    expect(reg.get('trades')).toMatchObject({
      layer: 'raw',
      version: 1,
      sortKey: ['timestamp'],
      builtIn: true,
    });
    expect(reg.get('options_chain').sortKey).toEqual(['instrument_key', 'timestamp']);
    // The instrument availability schema is the one the sync writes.
    expect(reg.get('instruments').fields).toEqual(AVAILABILITY_SCHEMA.fields);
  });

  it('user schemas: version 1, the same fields again → same version, changed fields → version 2', () => {
    const reg = new SchemaRegistry();
    const v1 = reg.register({ name: 'signals', fields: TICKS });
    expect(v1).toMatchObject({
      name: 'signals',
      version: 1,
      layer: 'user',
      builtIn: false,
      timestampColumn: 'timestamp',
    });
    expect(reg.register({ name: 'Signals', fields: TICKS }).version).toBe(1);
    const v2 = reg.register({ name: 'signals', fields: TICKS.slice(0, 3), layer: 'features' });
    expect(v2).toMatchObject({ version: 2, layer: 'features' });
    expect(reg.versions('signals')).toEqual([1, 2]);
    expect(reg.get('signals', 1).fields).toHaveLength(5);
    expect(reg.get('signals').version).toBe(2);
  });

  it('rejects redefining a built-in, reserved and bad names, bad fields', () => {
    const reg = new SchemaRegistry();
    const e = caught(() => reg.register({ name: 'trades', fields: TICKS }));
    expect(e).toBeInstanceOf(SchemaMismatchError);
    expect(e.message).toBe('dataset "trades" is built in and cannot be redefined');
    expect(caught(() => reg.register({ name: 'raw_tick_data', fields: TICKS })).message).toBe(
      'dataset name "raw_tick_data" is reserved for a lake folder',
    );
    expect(caught(() => reg.register({ name: '9lives', fields: TICKS })).message).toBe(
      'dataset name "9lives" is not valid',
    );
    expect(
      caught(() =>
        reg.register({
          name: 'dup',
          fields: [TICKS[0]!, { ...TICKS[0]! }],
        }),
      ).message,
    ).toBe('schema "dup": field "timestamp" appears twice');
    expect(
      caught(() =>
        reg.register({ name: 'k', fields: [{ name: 'a', kind: 'decimal' as never, nullable: true }] }),
      ).message,
    ).toBe('schema "k": field "a" has unknown type "decimal"');
    expect(caught(() => reg.get('nope')).message).toBe('no schema registered for dataset "nope"');
  });
});
