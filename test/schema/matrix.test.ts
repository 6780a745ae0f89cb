/**
 * The whole matrix in one table: every validation mode × every error type, with the exact message
 * (thrown, or kept as a warning where the mode relaxes the check). CorruptedFileError goes through a
 * real lake: written in each mode, damaged on disk, read back.
 */
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import {
  Field as ArrowField,
  Float64,
  Int32,
  List,
  makeData,
  makeVector,
  Table,
  TimestampMillisecond,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Field } from '../../src/columns/types.js';
import {
  CorruptedFileError,
  DataTypeValidationError,
  MissingRequiredColumnError,
  SchemaMismatchError,
  type TicklakeError,
} from '../../src/errors.js';
import { type Lake, openLake } from '../../src/lake/lake.js';
import { VALIDATION_MODES, type ValidationMode, validateTable } from '../../src/schema/validate.js';
import { tempDir } from '../helpers/fixtures.js';

const SCHEMA = {
  fields: [
    { name: 'timestamp', kind: 'timestamp', nullable: false },
    { name: 'price', kind: 'float64', nullable: false },
    { name: 'note', kind: 'utf8', nullable: true },
  ] as Field[],
};

const ts = () => vectorFromArray([1_700_000_000_000, 1_700_000_000_500], new TimestampMillisecond());
const TABLES = {
  missingRequired: () => new Table({ timestamp: ts(), note: vectorFromArray(['a', 'b'], new Utf8()) }),
  missingOptional: () => new Table({ timestamp: ts(), price: vectorFromArray([1, 2], new Float64()) }),
  unwritable: () => {
    const type = new List(new ArrowField('item', new Int32(), true));
    const child = makeData({ type: new Int32(), length: 2, data: new Int32Array([1, 2]) });
    return new Table({
      timestamp: ts(),
      price: vectorFromArray([1, 2], new Float64()),
      note: vectorFromArray(['a', 'b'], new Utf8()),
      tags: makeVector(makeData({ type, length: 2, valueOffsets: new Int32Array([0, 1, 2]), child })),
    });
  },
  badValues: () =>
    new Table({
      timestamp: ts(),
      price: vectorFromArray(['12.5', 'n/a'], new Utf8()),
      note: vectorFromArray(['a', 'b'], new Utf8()),
    }),
};

type Outcome =
  | { throws: new (...a: never[]) => TicklakeError; code: string; message: string }
  | { warning: string };

const MISSING = 'm: required column "price" (float64) is missing';
const OPTIONAL = 'm: column "note" (utf8, nullable) is missing';
const UNWRITABLE = 'column "tags" has Arrow type List<Int32>, which ticklake cannot write';
const STRICT_TEXT =
  'm: column "price" expected float64, found Utf8: text is not converted in STRICT mode in 2 row(s); first bad rows: 0 ("12.5"), 1 ("n/a")';
const COERCE_TEXT =
  'm: column "price" expected float64, found Utf8: not a number in 1 row(s); first bad rows: 1 ("n/a")';

const MATRIX: { error: string; table: keyof typeof TABLES; outcomes: Record<ValidationMode, Outcome> }[] = [
  {
    error: 'MissingRequiredColumnError',
    table: 'missingRequired',
    outcomes: {
      STRICT: { throws: MissingRequiredColumnError, code: 'MISSING_REQUIRED_COLUMN', message: MISSING },
      COERCE: { throws: MissingRequiredColumnError, code: 'MISSING_REQUIRED_COLUMN', message: MISSING },
      IGNORE: { warning: MISSING },
    },
  },
  {
    error: 'SchemaMismatchError (optional column missing)',
    table: 'missingOptional',
    outcomes: {
      STRICT: {
        throws: SchemaMismatchError,
        code: 'SCHEMA_MISMATCH',
        message: `${OPTIONAL}; STRICT requires every schema column`,
      },
      COERCE: { warning: `${OPTIONAL}; filled with nulls` },
      IGNORE: { warning: `${OPTIONAL}; left out` },
    },
  },
  {
    error: 'SchemaMismatchError (unwritable column type)',
    table: 'unwritable',
    outcomes: {
      STRICT: { throws: SchemaMismatchError, code: 'SCHEMA_MISMATCH', message: UNWRITABLE },
      COERCE: { throws: SchemaMismatchError, code: 'SCHEMA_MISMATCH', message: UNWRITABLE },
      IGNORE: { throws: SchemaMismatchError, code: 'SCHEMA_MISMATCH', message: UNWRITABLE },
    },
  },
  {
    error: 'DataTypeValidationError',
    table: 'badValues',
    outcomes: {
      STRICT: { throws: DataTypeValidationError, code: 'DATA_TYPE_VALIDATION', message: STRICT_TEXT },
      COERCE: { throws: DataTypeValidationError, code: 'DATA_TYPE_VALIDATION', message: COERCE_TEXT },
      IGNORE: { warning: STRICT_TEXT },
    },
  },
];

describe('mode × error type', () => {
  for (const row of MATRIX) {
    for (const mode of VALIDATION_MODES) {
      const want = row.outcomes[mode];
      it(`${row.error} in ${mode}: ${'throws' in want ? 'throws' : 'warns'}`, () => {
        const run = () => validateTable(TABLES[row.table](), SCHEMA, { dataset: 'm', mode });
        if ('throws' in want) {
          let err: unknown;
          try {
            run();
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(want.throws);
          expect((err as TicklakeError).code).toBe(want.code);
          expect((err as TicklakeError).message).toBe(want.message);
          expect((err as TicklakeError).hint).toEqual(expect.any(String));
        } else {
          expect(run().warnings).toContain(want.warning);
        }
      });
    }
  }

  describe('CorruptedFileError', () => {
    let tmp: Awaited<ReturnType<typeof tempDir>>;
    let lake: Lake;
    beforeAll(async () => {
      tmp = await tempDir();
      lake = await openLake({ root: tmp.path });
    });
    afterAll(async () => {
      await lake.close();
      await tmp.cleanup();
    });
    it.each(VALIDATION_MODES)('a file written in %s mode, truncated on disk, fails to read', async (mode) => {
      const dataset = `m_${mode.toLowerCase()}`;
      const table = new Table({
        timestamp: ts(),
        price: vectorFromArray([1, 2], new Float64()),
        note: vectorFromArray(['a', null], new Utf8()),
      });
      const res = await lake.write({ dataset, table, schema: SCHEMA, mode, partition: [] });
      const rel = res.files[0]!.record.path;
      truncateSync(join(tmp.path, rel), 10);
      const err = await lake.readPartitioned({ dataset }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CorruptedFileError);
      expect((err as TicklakeError).code).toBe('CORRUPTED_FILE');
      expect((err as TicklakeError).message).toBe(
        `${rel}: file has 10 bytes, the catalog recorded ${res.files[0]!.record.bytes}`,
      );
      expect((err as TicklakeError).hint).toBe(
        'the file was changed or truncated after it was written; write it again',
      );
    });
  });
});
