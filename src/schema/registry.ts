/**
 * The schema registry: every dataset the lake writes (raw tick data types, quarantine, candles, book
 * snapshots, instruments, the seed's feature tables) by name and version, plus the datasets users
 * register. `lake.write` validates against it; `ticklake inspect` shows its descriptions.
 *
 * A dataset has a `layer` (raw → cleaned → processed → features, plus reference/reports/quarantine/
 * user) and integer versions: registering a changed field list under a name adds version N+1, the
 * same list again is a no-op. Names are case-insensitive (`OHLCV` = `ohlcv`).
 */

import { BOOK_SNAPSHOTS_SCHEMA_VERSION } from '../book/build.js';
import { bookSnapshotSchema, DEFAULT_BOOK_LEVELS } from '../book/snapshots.js';
import { CANDLE_SCHEMA, CANDLE_SCHEMA_VERSION } from '../candles/schema.js';
import type { ColumnKind, Field, Schema } from '../columns/types.js';
import { SchemaMismatchError, UsageError } from '../errors.js';
import { AVAILABILITY_SCHEMA, AVAILABILITY_SCHEMA_VERSION } from '../instruments/availability.js';
import { CANONICAL_SCHEMAS, DATA_TYPES, RAW_SCHEMA_VERSION, sortKeyOf } from './datasets.js';

/** Where a dataset sits in the lake's refinement order. `cleaned` is reserved for the cleaned layer. */
export const LAYERS = [
  'raw',
  'cleaned',
  'processed',
  'features',
  'reference',
  'reports',
  'quarantine',
  'user',
] as const;
export type Layer = (typeof LAYERS)[number];

export const COLUMN_KINDS: readonly ColumnKind[] = [
  'timestamp',
  'float64',
  'int64',
  'int32',
  'bool',
  'utf8',
  'dict',
];

export interface DatasetSchema extends Schema {
  /** Lower-case registry name, also the top-level folder of `lake.write` output. */
  readonly name: string;
  readonly version: number;
  readonly layer: Layer;
  readonly description: string;
  /** Rows of each file are stably sorted by these columns (empty: kept in input order). */
  readonly sortKey: readonly string[];
  /** Column that `day`/`month` partitions and the footer min/max time come from (null: none). */
  readonly timestampColumn: string | null;
  /** True for schemas that ship with ticklake. */
  readonly builtIn: boolean;
}

/** What a user passes to `register` (everything but the fields has a default). */
export interface SchemaDefinition {
  name: string;
  fields: readonly Field[];
  layer?: Layer;
  description?: string;
  sortKey?: readonly string[];
  timestampColumn?: string | null;
}

const NAME_RE = /^[a-z][a-z0-9_]{0,62}$/;
/** Top-level lake folders that a dataset may not be named after. */
export const RESERVED_NAMES: readonly string[] = [
  'raw_tick_data',
  'quarantine',
  'instrument_availability',
  'processed_candles',
  'processed_book_snapshots',
  'features',
  'missing_data_reports',
  'catalog',
];

const ts = (name: string, description: string, nullable = false): Field => ({
  name,
  kind: 'timestamp',
  nullable,
  description,
});
const f64 = (name: string, description: string, nullable = false): Field => ({
  name,
  kind: 'float64',
  nullable,
  description,
});
const i64 = (name: string, description: string, nullable = false): Field => ({
  name,
  kind: 'int64',
  nullable,
  description,
});
const dict = (name: string, description: string, nullable = false): Field => ({
  name,
  kind: 'dict',
  nullable,
  description,
});
const KEY = dict('instrument_key', 'canonical instrument key VENUE:TYPE:SYMBOL');

/** The instrument availability table (`instrument_availability`): the schema the sync writes. */
const INSTRUMENT_FIELDS: readonly Field[] = AVAILABILITY_SCHEMA.fields;

/** The seed's feature tables (one row per instrument and bar). */
const SEED_SCHEMAS: readonly SchemaDefinition[] = [
  {
    name: 'ohlcv',
    layer: 'processed',
    description: 'the seed’s OHLCV bars',
    fields: [
      ts('timestamp', 'bar start (µs, UTC)'),
      KEY,
      f64('open', 'opening price'),
      f64('high', 'highest price'),
      f64('low', 'lowest price'),
      f64('close', 'closing price'),
      f64('volume', 'traded amount'),
    ],
  },
  {
    name: 'price_volatility',
    layer: 'features',
    description: 'the seed’s PRICE_VOLATILITY: annualised realised volatility over 30 and 60 days',
    fields: [
      ts('timestamp', 'bar start (µs, UTC)'),
      KEY,
      f64('volatility_30d', 'annualised stdev of log returns over 30 days', true),
      f64('volatility_60d', 'annualised stdev of log returns over 60 days', true),
      f64('volatility_ratio', 'volatility_30d / volatility_60d', true),
    ],
  },
  {
    name: 'momentum_indicators',
    layer: 'features',
    description: 'the seed’s MOMENTUM_INDICATORS: RSI and MACD',
    fields: [
      ts('timestamp', 'bar start (µs, UTC)'),
      KEY,
      f64('rsi_14', 'relative strength index, 14 bars (0–100)', true),
      f64('macd', 'EMA(12) − EMA(26) of close', true),
      f64('macd_signal', 'EMA(9) of macd', true),
      f64('macd_histogram', 'macd − macd_signal', true),
    ],
  },
  {
    name: 'volume_profile',
    layer: 'features',
    description: 'the seed’s VOLUME_PROFILE: traded volume per price level',
    fields: [
      ts('timestamp', 'period start (µs, UTC)'),
      KEY,
      f64('price_level', 'lower edge of the price bucket'),
      f64('volume', 'traded amount in the bucket'),
      f64('buy_volume', 'taker-buy amount in the bucket', true),
      f64('sell_volume', 'taker-sell amount in the bucket', true),
    ],
  },
];

function builtIns(): (SchemaDefinition & { version?: number })[] {
  const out: (SchemaDefinition & { version?: number })[] = DATA_TYPES.map((t) => ({
    name: t.toLowerCase(),
    layer: 'raw' as const,
    description: `raw ${t} (Tardis data type ${t}), docs/SCHEMAS.md`,
    fields: CANONICAL_SCHEMAS[t].fields,
    sortKey: sortKeyOf(t),
  }));
  out.push(
    {
      name: 'quarantine',
      layer: 'quarantine',
      description: 'vendor rows that could not be parsed, with their reason',
      timestampColumn: null,
      fields: [
        i64('line_number', '1-based line number in the vendor CSV'),
        { name: 'reason', kind: 'utf8', nullable: false, description: 'why the row was rejected' },
        { name: 'raw_line', kind: 'utf8', nullable: false, description: 'the line as the vendor wrote it' },
      ],
    },
    {
      name: 'candles',
      layer: 'processed',
      description: 'candles per timeframe from trades and quotes (src/candles/schema.ts)',
      fields: CANDLE_SCHEMA.fields,
      version: CANDLE_SCHEMA_VERSION,
    },
    {
      name: 'book_snapshots',
      layer: 'processed',
      description: `book snapshots per timeframe (${DEFAULT_BOOK_LEVELS} levels)`,
      fields: bookSnapshotSchema(DEFAULT_BOOK_LEVELS).fields,
      version: BOOK_SNAPSHOTS_SCHEMA_VERSION,
    },
    {
      name: 'instruments',
      layer: 'reference',
      description: 'instrument availability: one row per instrument listed on the day',
      timestampColumn: null,
      sortKey: ['instrument_key'],
      fields: INSTRUMENT_FIELDS,
      version: AVAILABILITY_SCHEMA_VERSION,
    },
    ...SEED_SCHEMAS,
  );
  return out;
}

function sameFields(a: readonly Field[], b: readonly Field[]): boolean {
  return (
    a.length === b.length &&
    a.every((f, i) => f.name === b[i]!.name && f.kind === b[i]!.kind && f.nullable === b[i]!.nullable)
  );
}

/** Check a definition; throws `UsageError` naming the problem. */
function checkDefinition(d: SchemaDefinition, allowReserved: boolean): void {
  const name = d.name.toLowerCase();
  if (!NAME_RE.test(name)) {
    throw new UsageError(`dataset name "${d.name}" is not valid`, {
      hint: 'use lower-case letters, digits and _ (starting with a letter, at most 63 characters)',
    });
  }
  if (!allowReserved && RESERVED_NAMES.includes(name)) {
    throw new UsageError(`dataset name "${d.name}" is reserved for a lake folder`, {
      hint: `choose another name (reserved: ${RESERVED_NAMES.join(', ')})`,
    });
  }
  if (d.fields.length === 0) throw new UsageError(`schema "${d.name}" has no fields`);
  const seen = new Set<string>();
  for (const f of d.fields) {
    if (typeof f.name !== 'string' || f.name.length === 0 || f.name.includes('=') || f.name.includes('/')) {
      throw new UsageError(`schema "${d.name}": field name "${f.name}" is not valid`, {
        hint: 'field names are non-empty and contain no "=" or "/"',
      });
    }
    if (seen.has(f.name)) throw new UsageError(`schema "${d.name}": field "${f.name}" appears twice`);
    seen.add(f.name);
    if (!COLUMN_KINDS.includes(f.kind)) {
      throw new UsageError(`schema "${d.name}": field "${f.name}" has unknown type "${f.kind}"`, {
        hint: `types: ${COLUMN_KINDS.join(', ')}`,
      });
    }
  }
  for (const k of d.sortKey ?? []) {
    if (!seen.has(k)) throw new UsageError(`schema "${d.name}": sort column "${k}" is not a field`);
  }
  const t = d.timestampColumn;
  if (t !== undefined && t !== null) {
    const f = d.fields.find((x) => x.name === t);
    if (f?.kind !== 'timestamp') {
      throw new UsageError(`schema "${d.name}": timestamp column "${t}" is not a timestamp field`);
    }
  }
  if (d.layer !== undefined && !LAYERS.includes(d.layer)) {
    throw new UsageError(`schema "${d.name}": unknown layer "${d.layer}"`, {
      hint: `layers: ${LAYERS.join(', ')}`,
    });
  }
}

function complete(d: SchemaDefinition, version: number, builtIn: boolean): DatasetSchema {
  const hasTs = d.fields.some((f) => f.name === 'timestamp' && f.kind === 'timestamp');
  return {
    name: d.name.toLowerCase(),
    version,
    layer: d.layer ?? 'user',
    description: d.description ?? '',
    fields: d.fields.map((f) => ({ ...f })),
    sortKey: [...(d.sortKey ?? (hasTs ? ['timestamp'] : []))],
    timestampColumn: d.timestampColumn === undefined ? (hasTs ? 'timestamp' : null) : d.timestampColumn,
    builtIn,
  };
}

/** Schemas by name and version. `new SchemaRegistry()` holds the built-in datasets. */
export class SchemaRegistry {
  private readonly byName = new Map<string, DatasetSchema[]>();

  constructor(options: { builtIns?: boolean } = {}) {
    if (options.builtIns !== false) {
      for (const d of builtIns()) {
        checkDefinition(d, true);
        this.byName.set(d.name, [
          complete(d, d.version ?? (d.layer === 'raw' ? RAW_SCHEMA_VERSION : 1), true),
        ]);
      }
    }
  }

  /**
   * Register a dataset schema. A new name starts at version 1; a changed field list under a known
   * name becomes the next version; the same field list returns the existing version. Built-in
   * datasets cannot be redefined.
   */
  register(def: SchemaDefinition): DatasetSchema {
    checkDefinition(def, false);
    const name = def.name.toLowerCase();
    const versions = this.byName.get(name);
    const latest = versions?.[versions.length - 1];
    if (latest?.builtIn) {
      throw new SchemaMismatchError(`dataset "${name}" is built in and cannot be redefined`, {
        hint: 'register your schema under another name',
        details: { dataset: name },
      });
    }
    if (latest && sameFields(latest.fields, def.fields)) return latest;
    const schema = complete(def, (latest?.version ?? 0) + 1, false);
    this.byName.set(name, [...(versions ?? []), schema]);
    return schema;
  }

  /**
   * Put back a user schema found in the lake (a file footer) at its recorded version, so a new process
   * validates against what earlier ones wrote. Ignored when the name already has that version or is
   * built in.
   */
  restore(def: SchemaDefinition, version: number): DatasetSchema {
    checkDefinition(def, false);
    const name = def.name.toLowerCase();
    const versions = this.byName.get(name) ?? [];
    const have = versions.find((v) => v.version === version);
    if (have || versions[versions.length - 1]?.builtIn) return have ?? versions[versions.length - 1]!;
    const schema = complete(def, version, false);
    this.byName.set(
      name,
      [...versions, schema].sort((a, b) => a.version - b.version),
    );
    return schema;
  }

  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }

  /** The schema of `name` (latest version unless `version` is given), or undefined. */
  find(name: string, version?: number): DatasetSchema | undefined {
    const versions = this.byName.get(name.toLowerCase());
    if (!versions) return undefined;
    return version === undefined
      ? versions[versions.length - 1]
      : versions.find((s) => s.version === version);
  }

  /** Like `find`, but throws a `UsageError` listing the known names. */
  get(name: string, version?: number): DatasetSchema {
    const s = this.find(name, version);
    if (s) return s;
    if (this.has(name)) {
      throw new UsageError(`dataset "${name}" has no schema version ${version}`, {
        hint: `versions: ${this.versions(name).join(', ')}`,
      });
    }
    throw new UsageError(`no schema registered for dataset "${name}"`, {
      hint: `register one with lake.schemas.register({ name, fields }) or pass schema; known: ${this.names().join(', ')}`,
    });
  }

  versions(name: string): number[] {
    return (this.byName.get(name.toLowerCase()) ?? []).map((s) => s.version);
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** The latest version of every dataset. */
  list(): DatasetSchema[] {
    return this.names().map((n) => this.find(n)!);
  }
}
