/**
 * Validation of a user's Arrow table against a dataset schema, in one of three modes, producing the
 * column batch that gets written:
 *
 * - `STRICT`: every schema column present; types match, except lossless conversions (int32→int64,
 *   integers→float64 within 2^53, integral floats→integers, float32→float64, s/ms/ns→µs timestamps
 *   when no sub-µs part is lost, dates→timestamps, strings⇄dictionary); extra columns are dropped with
 *   a warning.
 * - `COERCE`: converts what can be converted (numeric text → numbers, ISO text → timestamps,
 *   integers → µs timestamps, values → text); missing optional columns become nulls (warning); a
 *   missing required column or an unconvertible value still fails.
 * - `IGNORE`: the checks of STRICT become warnings; the table is written as it is.
 *
 * Errors: `MissingRequiredColumnError` (a non-nullable column is absent), `SchemaMismatchError` (the
 * table's shape: an optional column absent in STRICT, duplicate or unwritable columns),
 * `DataTypeValidationError` (values: column, expected, found, count and first bad rows).
 */
import type { Table } from 'apache-arrow';
import type {
  BoolColumn,
  Column,
  ColumnBatch,
  ColumnKind,
  DictColumn,
  Field,
  Schema,
  Utf8Column,
  Validity,
} from '../columns/types.js';
import {
  DataTypeValidationError,
  MissingRequiredColumnError,
  SchemaMismatchError,
  UsageError,
} from '../errors.js';
import { formatMicros } from '../util/time.js';
import {
  naturalKind,
  readSourceTable,
  type SourceColumn,
  sourceLength,
  sourceValidity,
} from './arrow-input.js';

export const VALIDATION_MODES = ['STRICT', 'COERCE', 'IGNORE'] as const;
export type ValidationMode = (typeof VALIDATION_MODES)[number];

export interface ValidationResult {
  /** The rows to write, with the columns of `schema`. */
  batch: ColumnBatch;
  /** The schema of what gets written (the given one, or the table's own in IGNORE / without one). */
  schema: Schema;
  /** One line per relaxed check (`column "x": ...`). */
  warnings: string[];
}

export interface BadRow {
  row: number;
  value: string | number | boolean | null;
}

/** How many bad rows an error lists. */
export const MAX_BAD_ROWS_SHOWN = 5;

const STRICT_HINT =
  'STRICT converts only losslessly (int32→int64, integers→float64, float32→float64, s/ms/ns→µs timestamps, dates→timestamps, text⇄dictionary); write with mode COERCE to parse text and numbers';

export function parseValidationMode(v: string): ValidationMode {
  const m = v.toUpperCase();
  if ((VALIDATION_MODES as readonly string[]).includes(m)) return m as ValidationMode;
  throw new UsageError(`unknown validation mode "${v}"`, { hint: `modes: ${VALIDATION_MODES.join(', ')}` });
}

class BadRows {
  count = 0;
  readonly first: BadRow[] = [];
  add(row: number, value: BadRow['value']): void {
    this.count++;
    if (this.first.length < MAX_BAD_ROWS_SHOWN) this.first.push({ row, value });
  }
}

interface Ctx {
  dataset: string;
  mode: ValidationMode;
  warnings: string[];
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function kindName(kind: ColumnKind): string {
  return kind === 'timestamp' ? 'timestamp[µs, UTC]' : kind === 'dict' ? 'dictionary<utf8>' : kind;
}

function showValue(v: BadRow['value']): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function typeError(ctx: Ctx, field: Field, src: SourceColumn, problem: string, bad: BadRows, hint?: string) {
  const rows = bad.first.map((b) => `${b.row} (${showValue(b.value)})`).join(', ');
  return new DataTypeValidationError(
    `${ctx.dataset}: column "${field.name}" expected ${kindName(field.kind)}, found ${src.typeName}: ${problem} in ${bad.count} row(s); first bad rows: ${rows}`,
    {
      hint:
        hint ??
        (ctx.mode === 'STRICT'
          ? STRICT_HINT
          : 'fix or remove these rows, or write with mode IGNORE to keep the column as it is'),
      details: {
        dataset: ctx.dataset,
        column: field.name,
        expected: kindName(field.kind),
        found: src.typeName,
        mode: ctx.mode,
        badRowCount: bad.count,
        firstBadRows: bad.first,
      },
    },
  );
}

/** Row `i` of a source column as a JS value (messages only). */
function sourceValue(s: SourceColumn, i: number): BadRow['value'] {
  const v = sourceValidity(s);
  if (v !== null && v[i] === 0) return null;
  switch (s.family) {
    case 'string':
      return stringAt(s.column, i);
    case 'bool':
      return s.values[i] === 1;
    case 'timestamp':
      return formatMicros(s.values[i]!);
    default:
      return s.values[i]!;
  }
}

function stringAt(c: Utf8Column | DictColumn, i: number): string {
  return c.kind === 'utf8'
    ? decoder.decode(c.data.subarray(c.offsets[i]!, c.offsets[i + 1]!))
    : (c.dictionary[c.indices[i]!] ?? '');
}

/** A 64-bit integer exactly (as a number when safe, else its decimal text). Messages only. */
function exactInt(s: Extract<SourceColumn, { family: 'int' }>, i: number): number | string {
  const v = s.values[i]!;
  return s.raw && !Number.isSafeInteger(v) ? String(s.raw[i]) : v;
}

/** Every non-null row is bad (a conversion STRICT does not make). */
function allRowsBad(s: SourceColumn): BadRows {
  const bad = new BadRows();
  const v = sourceValidity(s);
  const n = sourceLength(s);
  for (let i = 0; i < n; i++) if (v === null || v[i] === 1) bad.add(i, sourceValue(s, i));
  return bad;
}

function present(v: Validity, i: number): boolean {
  return v === null || v[i] === 1;
}

/** Text values → numbers/booleans/times through `parse`; null (NaN) marks a bad row. */
function parseText(
  s: Extract<SourceColumn, { family: 'string' }>,
  _field: Field,
  parse: (t: string) => number,
  bad: BadRows,
): { values: Float64Array; validity: Validity } {
  const c = s.column;
  const n = sourceLength(s);
  const values = new Float64Array(n);
  let validity: Uint8Array | null = c.validity === null ? null : c.validity.slice();
  const parsedDict =
    c.kind === 'dict' ? c.dictionary.map((t) => (t.trim() === '' ? null : parse(t.trim()))) : null;
  for (let i = 0; i < n; i++) {
    if (!present(c.validity, i)) continue;
    let p: number | null;
    if (parsedDict) p = parsedDict[(c as DictColumn).indices[i]!] ?? null;
    else {
      const t = stringAt(c, i).trim();
      p = t === '' ? null : parse(t);
    }
    if (p === null) {
      validity ??= new Uint8Array(n).fill(1);
      validity[i] = 0;
    } else if (Number.isNaN(p)) bad.add(i, stringAt(c, i));
    else values[i] = p;
  }
  return { values, validity };
}

function parseNumber(t: string): number {
  const v = Number(t);
  return Number.isFinite(v) ? v : Number.NaN;
}

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** ISO-8601 text → µs (fractions to the microsecond; a finer fraction must be zero). */
export function parseIsoMicros(t: string): number {
  const m = ISO_RE.exec(t);
  if (!m) return Number.NaN;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', tz] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (!Number.isFinite(ms)) return Number.NaN;
  const check = new Date(ms);
  if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1) return Number.NaN;
  const digits = frac.padEnd(9, '0');
  if (/[1-9]/.test(digits.slice(6))) return Number.NaN;
  let offsetMin = 0;
  if (tz && tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const hhmm = tz.slice(1).replace(':', '');
    offsetMin = sign * (Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(2)));
  }
  return (ms - offsetMin * 60_000) * 1000 + Number(digits.slice(0, 6));
}

function parseBool(t: string): number {
  const l = t.toLowerCase();
  return l === 'true' || l === '1' ? 1 : l === 'false' || l === '0' ? 0 : Number.NaN;
}

function numericTo(
  ctx: Ctx,
  field: Field,
  s: SourceColumn,
): { values: Float64Array; validity: Validity } | null {
  const strict = ctx.mode !== 'COERCE';
  const bad = new BadRows();
  const isInt = field.kind === 'int64' || field.kind === 'int32';
  const checkInt = (values: Float64Array, validity: Validity) => {
    for (let i = 0; i < values.length; i++) {
      if (!present(validity, i)) continue;
      const v = values[i]!;
      if (!Number.isInteger(v)) bad.add(i, v);
      else if (field.kind === 'int32' && (v < -2147483648 || v > 2147483647)) bad.add(i, v);
    }
  };
  let out: { values: Float64Array; validity: Validity };
  let problem = isInt ? 'not an integer' : 'not a number';
  switch (s.family) {
    case 'float':
      out = { values: s.values, validity: s.validity };
      if (isInt) {
        checkInt(out.values, out.validity);
        if (field.kind === 'int32') problem = 'not an int32';
      }
      break;
    case 'int':
      out = { values: s.values, validity: s.validity };
      if (s.inexact) {
        for (let i = 0; i < s.inexact.length; i++) {
          if (s.inexact[i] && present(s.validity, i)) bad.add(i, exactInt(s, i));
        }
        problem = 'beyond ±2^53 (not exact)';
      } else if (field.kind === 'int32') {
        checkInt(out.values, out.validity);
        problem = 'outside the int32 range';
      }
      break;
    case 'string':
      if (strict) throw typeError(ctx, field, s, 'text is not converted in STRICT mode', allRowsBad(s));
      out = parseText(s, field, parseNumber, bad);
      if (bad.count === 0 && isInt) checkInt(out.values, out.validity);
      if (field.kind === 'int32' && bad.count > 0) problem = 'not an int32';
      break;
    case 'bool':
      if (strict) throw typeError(ctx, field, s, 'booleans are not converted in STRICT mode', allRowsBad(s));
      out = { values: Float64Array.from(s.values), validity: s.validity };
      break;
    case 'timestamp':
      throw typeError(
        ctx,
        field,
        s,
        'a time is not a number',
        allRowsBad(s),
        'write the column as a number, or change the schema to timestamp',
      );
  }
  if (bad.count > 0) throw typeError(ctx, field, s, problem, bad);
  return out;
}

function toTimestamp(ctx: Ctx, field: Field, s: SourceColumn): Column {
  const coerce = ctx.mode === 'COERCE';
  switch (s.family) {
    case 'timestamp': {
      if (s.subMicros) {
        const bad = new BadRows();
        for (let i = 0; i < s.subMicros.length; i++)
          if (s.subMicros[i] && present(s.validity, i)) bad.add(i, formatMicros(s.values[i]!));
        if (!coerce && bad.count > 0) throw typeError(ctx, field, s, 'not a whole microsecond', bad);
        if (bad.count > 0) {
          ctx.warnings.push(
            `column "${field.name}": ${bad.count} nanosecond value(s) truncated to the microsecond`,
          );
        }
      }
      return { kind: 'timestamp', values: s.values, validity: s.validity };
    }
    case 'int':
    case 'float': {
      if (!coerce) {
        throw typeError(
          ctx,
          field,
          s,
          'numbers are not read as times in STRICT mode',
          allRowsBad(s),
          'give the column an Arrow Timestamp type (any unit), or write with mode COERCE to read integers as µs since the epoch',
        );
      }
      const bad = new BadRows();
      for (let i = 0; i < s.values.length; i++) {
        if (present(s.validity, i) && !Number.isInteger(s.values[i]!)) bad.add(i, s.values[i]!);
      }
      if (s.family === 'int' && s.inexact) {
        for (let i = 0; i < s.inexact.length; i++) {
          if (s.inexact[i] && present(s.validity, i)) bad.add(i, exactInt(s, i));
        }
      }
      if (bad.count > 0) throw typeError(ctx, field, s, 'not a whole number of µs', bad);
      ctx.warnings.push(`column "${field.name}": ${s.typeName} values read as µs since the epoch`);
      return { kind: 'timestamp', values: s.values, validity: s.validity };
    }
    case 'string': {
      if (!coerce) throw typeError(ctx, field, s, 'text is not converted in STRICT mode', allRowsBad(s));
      const bad = new BadRows();
      const out = parseText(s, field, parseIsoMicros, bad);
      if (bad.count > 0) throw typeError(ctx, field, s, 'not an ISO-8601 time', bad);
      return { kind: 'timestamp', ...out };
    }
    case 'bool':
      throw typeError(ctx, field, s, 'a boolean is not a time', allRowsBad(s));
  }
}

function toBool(ctx: Ctx, field: Field, s: SourceColumn): BoolColumn {
  if (s.family === 'bool') return { kind: 'bool', values: s.values, validity: s.validity };
  if (ctx.mode !== 'COERCE' || s.family === 'timestamp') {
    throw typeError(ctx, field, s, 'not a boolean', allRowsBad(s));
  }
  const bad = new BadRows();
  let values: Float64Array;
  let validity: Validity;
  if (s.family === 'string') ({ values, validity } = parseText(s, field, parseBool, bad));
  else {
    values = s.values;
    validity = s.validity;
    for (let i = 0; i < values.length; i++)
      if (present(validity, i) && values[i] !== 0 && values[i] !== 1) bad.add(i, values[i]!);
  }
  if (bad.count > 0) throw typeError(ctx, field, s, 'not true/false/1/0', bad);
  return { kind: 'bool', values: Uint8Array.from(values), validity };
}

function utf8FromStrings(strings: readonly string[], validity: Validity): Utf8Column {
  const parts = strings.map((t) => encoder.encode(t));
  const offsets = new Int32Array(parts.length + 1);
  let n = 0;
  for (let i = 0; i < parts.length; i++) {
    n += parts[i]!.length;
    offsets[i + 1] = n;
  }
  const data = new Uint8Array(n);
  for (let i = 0; i < parts.length; i++) data.set(parts[i]!, offsets[i]!);
  return { kind: 'utf8', offsets, data, validity };
}

function dictFromUtf8(c: Utf8Column): DictColumn {
  const n = c.offsets.length - 1;
  const lookup = new Map<string, number>();
  const dictionary: string[] = [];
  const indices = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (!present(c.validity, i)) continue;
    const t = decoder.decode(c.data.subarray(c.offsets[i]!, c.offsets[i + 1]!));
    let id = lookup.get(t);
    if (id === undefined) {
      id = dictionary.length;
      dictionary.push(t);
      lookup.set(t, id);
    }
    indices[i] = id;
  }
  return { kind: 'dict', indices, dictionary, validity: c.validity };
}

function utf8FromDict(c: DictColumn): Utf8Column {
  const enc = c.dictionary.map((t) => encoder.encode(t));
  const n = c.indices.length;
  const offsets = new Int32Array(n + 1);
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    if (present(c.validity, i)) bytes += enc[c.indices[i]!]?.length ?? 0;
    offsets[i + 1] = bytes;
  }
  const data = new Uint8Array(bytes);
  for (let i = 0; i < n; i++) if (offsets[i + 1]! > offsets[i]!) data.set(enc[c.indices[i]!]!, offsets[i]!);
  return { kind: 'utf8', offsets, data, validity: c.validity };
}

function toText(ctx: Ctx, field: Field, s: SourceColumn): Utf8Column | DictColumn {
  let c: Utf8Column | DictColumn;
  if (s.family === 'string') c = s.column;
  else {
    if (ctx.mode !== 'COERCE')
      throw typeError(ctx, field, s, 'values are not turned into text in STRICT mode', allRowsBad(s));
    const n = sourceLength(s);
    const strings: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const v = sourceValue(s, i);
      strings[i] = v === null ? '' : String(v);
    }
    c = utf8FromStrings(strings, sourceValidity(s));
  }
  if (field.kind === c.kind) return c;
  return c.kind === 'utf8' ? dictFromUtf8(c) : utf8FromDict(c);
}

/** Convert one source column to `field.kind` under the mode's rules (throws on what it cannot). */
function convert(ctx: Ctx, field: Field, s: SourceColumn): Column {
  switch (field.kind) {
    case 'float64':
    case 'int64': {
      const out = numericTo(ctx, field, s)!;
      return { kind: field.kind, values: out.values, validity: out.validity };
    }
    case 'int32': {
      const out = numericTo(ctx, field, s)!;
      return { kind: 'int32', values: Int32Array.from(out.values), validity: out.validity };
    }
    case 'timestamp':
      return toTimestamp(ctx, field, s);
    case 'bool':
      return toBool(ctx, field, s);
    case 'utf8':
    case 'dict':
      return toText(ctx, field, s);
  }
}

/** A source column in its natural kind (no schema, or IGNORE keeping a mismatching column). */
function natural(s: SourceColumn): Column {
  const kind = naturalKind(s);
  switch (s.family) {
    case 'string':
      return s.column;
    case 'bool':
      return { kind: 'bool', values: s.values, validity: s.validity };
    case 'timestamp':
      return { kind: 'timestamp', values: s.values, validity: s.validity };
    default:
      return kind === 'int32'
        ? { kind: 'int32', values: Int32Array.from(s.values), validity: s.validity }
        : ({ kind, values: s.values, validity: s.validity } as Column);
  }
}

function hasNull(v: Validity): boolean {
  return v !== null && v.indexOf(0) >= 0;
}

function nullColumn(kind: ColumnKind, n: number): Column {
  const validity = new Uint8Array(n);
  switch (kind) {
    case 'utf8':
      return { kind, offsets: new Int32Array(n + 1), data: new Uint8Array(0), validity };
    case 'dict':
      return { kind, indices: new Int32Array(n), dictionary: [], validity };
    case 'int32':
      return { kind, values: new Int32Array(n), validity };
    case 'bool':
      return { kind, values: new Uint8Array(n), validity };
    default:
      return { kind, values: new Float64Array(n), validity } as Column;
  }
}

/** The schema a table has on its own (user datasets written without a schema). */
export function inferSchema(table: Table, dataset: string): Schema {
  const sources = readSourceTable(table, dataset);
  return {
    fields: [...sources].map(([name, s]) => ({
      name,
      kind: naturalKind(s),
      nullable:
        table.schema.fields.find((f) => f.name === name)?.nullable !== false || hasNull(sourceValidity(s)),
    })),
  };
}

/**
 * Validate `table` against `schema` (null: take the table's own schema) under `mode`; returns the batch
 * to write. Throws the typed errors described at the top of this module.
 */
export function validateTable(
  table: Table,
  schema: Schema | null,
  options: { dataset: string; mode: ValidationMode },
): ValidationResult {
  const ctx: Ctx = { dataset: options.dataset, mode: options.mode, warnings: [] };
  const sources = readSourceTable(table, options.dataset);
  const n = table.numRows;
  const columns: Record<string, Column> = {};
  const fields: Field[] = [];
  if (schema === null) {
    for (const [name, s] of sources) {
      const col = natural(s);
      columns[name] = col;
      fields.push({ name, kind: col.kind, nullable: true });
    }
    return { batch: { length: n, columns }, schema: { fields }, warnings: ctx.warnings };
  }
  const ignore = options.mode === 'IGNORE';
  for (const field of schema.fields) {
    const s = sources.get(field.name);
    if (s === undefined) {
      if (!field.nullable) {
        const err = new MissingRequiredColumnError(
          `${ctx.dataset}: required column "${field.name}" (${kindName(field.kind)}) is missing`,
          {
            hint: 'add the column; only nullable columns may be left out (in COERCE or IGNORE mode)',
            details: {
              dataset: ctx.dataset,
              column: field.name,
              expected: kindName(field.kind),
              mode: ctx.mode,
            },
          },
        );
        if (!ignore) throw err;
        ctx.warnings.push(err.message);
        continue;
      }
      if (options.mode === 'STRICT') {
        throw new SchemaMismatchError(
          `${ctx.dataset}: column "${field.name}" (${kindName(field.kind)}, nullable) is missing; STRICT requires every schema column`,
          {
            hint: 'add the column, or write with mode COERCE to fill it with nulls',
            details: {
              dataset: ctx.dataset,
              column: field.name,
              expected: kindName(field.kind),
              mode: ctx.mode,
            },
          },
        );
      }
      if (ignore) {
        ctx.warnings.push(
          `${ctx.dataset}: column "${field.name}" (${kindName(field.kind)}, nullable) is missing; left out`,
        );
        continue;
      }
      ctx.warnings.push(
        `${ctx.dataset}: column "${field.name}" (${kindName(field.kind)}, nullable) is missing; filled with nulls`,
      );
      columns[field.name] = nullColumn(field.kind, n);
      fields.push(field);
      continue;
    }
    let col: Column;
    let out: Field = field;
    try {
      col = convert(ignore ? { ...ctx, mode: 'STRICT' } : ctx, field, s);
    } catch (err) {
      if (!ignore || !(err instanceof DataTypeValidationError)) throw err;
      ctx.warnings.push(err.message);
      col = natural(s);
      out = { ...field, kind: col.kind, nullable: true };
    }
    if (!field.nullable && hasNull(col.validity)) {
      const bad = new BadRows();
      const v = col.validity!;
      for (let i = 0; i < v.length; i++) if (v[i] === 0) bad.add(i, null);
      const err = typeError(
        ctx,
        field,
        s,
        'null in a non-nullable column',
        bad,
        'fill the nulls, or register the column as nullable',
      );
      if (!ignore) throw err;
      ctx.warnings.push(err.message);
      out = { ...out, nullable: true };
    }
    columns[field.name] = col;
    fields.push(out);
  }
  const known = new Set(schema.fields.map((f) => f.name));
  for (const [name, s] of sources) {
    if (known.has(name)) continue;
    if (ignore) {
      const col = natural(s);
      columns[name] = col;
      fields.push({ name, kind: col.kind, nullable: true });
      ctx.warnings.push(`${ctx.dataset}: column "${name}" is not in the schema; kept`);
    } else {
      ctx.warnings.push(`${ctx.dataset}: column "${name}" is not in the schema; dropped`);
    }
  }
  return { batch: { length: n, columns }, schema: { fields }, warnings: ctx.warnings };
}
