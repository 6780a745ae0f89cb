/**
 * The column plan of a Tardis CSV file: which canonical field each header column feeds, with which
 * per-field operation. Built once from the header (columns are matched by name, in any order); the
 * hot loop in csv.ts then dispatches on `ops[c]` for file column `c`.
 */
import type { Field } from '../../columns/types.js';
import { SchemaMismatchError } from '../../errors.js';
import { CANONICAL_SCHEMAS, DATA_TYPES, type DataType, tardisCsvColumns } from '../../schema/datasets.js';

/** Column is ignored (`exchange`, unknown extra columns). */
export const OP_SKIP = 0;
/** `symbol`: resolved (cached) to the dictionary index of its instrument key. */
export const OP_SYMBOL = 1;
/** `timestamp`: µs; empty means "use local_timestamp". */
export const OP_TS_MAIN = 2;
/** Non-null µs timestamp (`local_timestamp`, `expiration`). */
export const OP_TS = 3;
/** Nullable µs timestamp (`funding_timestamp`). */
export const OP_TS_NULL = 4;
/** Non-null decimal (trade price/amount, strike). */
export const OP_F64 = 5;
/** Nullable decimal. */
export const OP_F64_NULL = 6;
/** UTF-8 bytes copied as is (`id`). */
export const OP_UTF8 = 7;
/** One of a fixed vocabulary, stored as its index (`side`, `type`). */
export const OP_ENUM = 8;
/** `true` | `false` (`is_snapshot`). */
export const OP_BOOL = 9;
/** Open dictionary of strings (`underlying_index`). */
export const OP_DICT = 10;

export type Store = 'f64' | 'i32' | 'u8' | 'utf8';

/** Where a canonical field lives while a batch is being filled. */
export interface OutputSlot {
  readonly field: Field;
  readonly store: Store;
  /** Index among the slots of the same store. */
  readonly slot: number;
  /** Fixed dictionary of an OP_ENUM / OP_BOOL field. */
  readonly vocab: readonly string[] | null;
  /** Index of the open dictionary (0 = instrument keys, 1.. = OP_DICT columns), or -1. */
  readonly dict: number;
}

export interface CsvPlan {
  readonly dataType: DataType;
  /** Canonical fields in schema order, each with its slot. */
  readonly outputs: readonly OutputSlot[];
  /** Per file column: operation, slot, whether an empty value is a bad row, name (for messages). */
  readonly ops: Uint8Array;
  readonly slots: Int32Array;
  readonly required: Uint8Array;
  readonly names: readonly string[];
  /** Per file column: vocabulary bytes of OP_ENUM / OP_BOOL columns. */
  readonly vocabs: readonly (readonly Uint8Array[] | null)[];
  /** Per file column: open dictionary index of OP_SYMBOL / OP_DICT columns. */
  readonly dicts: Int32Array;
  /** Slots per store; nullability of every f64 / i32 / utf8 slot. */
  readonly counts: Readonly<Record<Store, number>>;
  readonly nullable: Readonly<Record<Store, readonly boolean[]>>;
  /** f64 slots of `timestamp` and `local_timestamp`. */
  readonly tsSlot: number;
  readonly ltsSlot: number;
  /** Number of open dictionaries (instrument keys + OP_DICT columns). */
  readonly dictCount: number;
  readonly extraColumns: readonly string[];
}

export const TRADE_SIDES: readonly string[] = ['buy', 'sell', 'unknown'];
export const BOOK_SIDES: readonly string[] = ['bid', 'ask'];
export const OPTION_TYPES: readonly string[] = ['call', 'put'];
const BOOL_WORDS: readonly string[] = ['false', 'true'];

const SNAPSHOT_COLUMN = /^(asks|bids)\[(\d+)\]\.(price|amount)$/;

/** Canonical field fed by a Tardis CSV column (`null` for columns we do not keep). */
export function canonicalNameOf(tardisColumn: string): string | null {
  if (tardisColumn === 'exchange') return null;
  if (tardisColumn === 'symbol') return 'instrument_key';
  if (tardisColumn === 'type') return 'option_type';
  const m = SNAPSHOT_COLUMN.exec(tardisColumn);
  if (m !== null) return `${m[1] === 'asks' ? 'ask' : 'bid'}_${m[3]}_${m[2]}`;
  return tardisColumn;
}

function vocabOf(dataType: DataType, field: Field): readonly string[] | null {
  if (field.kind === 'bool') return BOOL_WORDS;
  if (field.name === 'side') return dataType === 'incremental_book_L2' ? BOOK_SIDES : TRADE_SIDES;
  if (field.name === 'option_type') return OPTION_TYPES;
  return null;
}

const encoder = new TextEncoder();

/** Build the plan for a header, or throw SchemaMismatchError naming what is missing. */
export function planFor(dataType: DataType, header: readonly string[], source: string): CsvPlan {
  const fields = CANONICAL_SCHEMAS[dataType].fields;
  const counts: Record<Store, number> = { f64: 0, i32: 0, u8: 0, utf8: 0 };
  const nullable: Record<Store, boolean[]> = { f64: [], i32: [], u8: [], utf8: [] };
  const outputs: OutputSlot[] = [];
  const byName = new Map<string, OutputSlot>();
  let dictCount = 1;
  for (const field of fields) {
    const store: Store =
      field.kind === 'dict' ? 'i32' : field.kind === 'bool' ? 'u8' : field.kind === 'utf8' ? 'utf8' : 'f64';
    if (field.kind === 'int32' || field.kind === 'int64') {
      throw new Error(`csv plan: no Tardis column produces ${field.kind} field ${field.name}`);
    }
    const vocab = vocabOf(dataType, field);
    const dict =
      field.kind !== 'dict' || vocab !== null ? -1 : field.name === 'instrument_key' ? 0 : dictCount++;
    const out: OutputSlot = { field, store, slot: counts[store]++, vocab, dict };
    nullable[store].push(field.nullable);
    outputs.push(out);
    byName.set(field.name, out);
  }

  const ncols = header.length;
  const ops = new Uint8Array(ncols);
  const slots = new Int32Array(ncols);
  const required = new Uint8Array(ncols);
  const dicts = new Int32Array(ncols).fill(-1);
  const vocabs: (Uint8Array[] | null)[] = [];
  const extraColumns: string[] = [];
  const seen = new Set<string>();
  for (let c = 0; c < ncols; c++) {
    const name = header[c]!;
    vocabs.push(null);
    const canonical = canonicalNameOf(name);
    const out = canonical === null ? undefined : byName.get(canonical);
    if (out === undefined || seen.has(name)) {
      if (name !== 'exchange' || seen.has(name)) extraColumns.push(name);
      seen.add(name);
      continue; // OP_SKIP
    }
    seen.add(name);
    const f = out.field;
    slots[c] = out.slot;
    required[c] = f.nullable ? 0 : 1;
    dicts[c] = out.dict;
    if (out.vocab !== null) vocabs[c] = out.vocab.map((w) => encoder.encode(w));
    if (f.name === 'timestamp') ops[c] = OP_TS_MAIN;
    else if (f.name === 'instrument_key') ops[c] = OP_SYMBOL;
    else if (f.kind === 'timestamp') ops[c] = f.nullable ? OP_TS_NULL : OP_TS;
    else if (f.kind === 'float64') ops[c] = f.nullable ? OP_F64_NULL : OP_F64;
    else if (f.kind === 'utf8') ops[c] = OP_UTF8;
    else if (f.kind === 'bool') ops[c] = OP_BOOL;
    else if (out.vocab !== null) ops[c] = OP_ENUM;
    else ops[c] = OP_DICT;
  }

  const missing = tardisCsvColumns(dataType).filter((c) => c !== 'exchange' && !seen.has(c));
  if (missing.length > 0) throw headerMismatch(source, dataType, header, missing);

  return {
    dataType,
    outputs,
    ops,
    slots,
    required,
    names: header,
    vocabs,
    dicts,
    counts,
    nullable,
    tsSlot: byName.get('timestamp')!.slot,
    ltsSlot: byName.get('local_timestamp')!.slot,
    dictCount,
    extraColumns,
  };
}

function headerMismatch(
  source: string,
  dataType: DataType,
  header: readonly string[],
  missing: readonly string[],
): SchemaMismatchError {
  const present = new Set(header);
  const candidates = DATA_TYPES.filter(
    (dt) => dt !== dataType && tardisCsvColumns(dt).every((c) => c === 'exchange' || present.has(c)),
  );
  // Prefer the most specific match (book_snapshot_25 over book_snapshot_5, which it contains).
  candidates.sort((a, b) => tardisCsvColumns(b).length - tardisCsvColumns(a).length);
  const shown =
    missing.length > 8
      ? `${missing.slice(0, 8).join(', ')}, … (${missing.length} in all)`
      : missing.join(', ');
  const found =
    header.length > 12 ? `${header.slice(0, 12).join(',')},… (${header.length} columns)` : header.join(',');
  const looksLike = candidates.length > 0 ? `the header looks like ${candidates[0]}; ` : '';
  return new SchemaMismatchError(
    `${source}: not a Tardis ${dataType} CSV: missing column${missing.length === 1 ? '' : 's'} ${shown} (found: ${found || '(empty header)'})`,
    {
      hint: `${looksLike}check --data-types (the file must hold ${dataType})`,
      details: { source, dataType, missing, found: header, candidates },
    },
  );
}
