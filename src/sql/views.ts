/**
 * The SQL views of the lake: one per raw data type (`trades`, `quotes`, `book_snapshot_5`, ...), per
 * candle / book-snapshot timeframe (`candles_1m`, `book_snapshots_1m`, ...), per feature set
 * (`features_<set>_v<N>_<tf>`) and `instruments` (the daily availability lists). Each is a
 * `read_parquet` over the hive folders (`day=...`, `data_type=...`, `timeframe=...` become columns),
 * so `WHERE day = '2024-08-01'` prunes whole files before they are opened.
 *
 * A local lake is read in place (glob patterns: new files appear without redefining views); a remote
 * lake (S3/GCS) through its local file cache (`localPathFor`), as explicit file lists.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FileRecord } from '../catalog/types.js';
import type { Field } from '../columns/types.js';
import {
  FEATURES,
  INSTRUMENT_AVAILABILITY,
  PROCESSED_BOOK_SNAPSHOTS,
  PROCESSED_CANDLES,
  RAW_TICK_DATA,
} from '../lake/layout.js';
import type { Storage } from '../lake/storage.js';
import { CANONICAL_SCHEMAS, DATA_TYPES } from '../schema/datasets.js';

export interface ViewDef {
  /** View name (lower case, a valid unquoted identifier). */
  name: string;
  /** Lake-relative glob of its files (hive layout). */
  glob: string;
  /** Lake-relative paths of its files known to the catalog. */
  paths: string[];
  /** For raw data types: typed columns of an empty view when the lake has no file yet. */
  emptyFields?: readonly Field[];
  /** Files named by instrument key without an `instrument_key` column (candles, ...): add it from the name. */
  keyFromFileName?: boolean;
}

const TIMEFRAME_RE =
  /^(processed_candles|processed_book_snapshots)\/by_date\/day=[^/]+\/timeframe=([A-Za-z0-9]+)\//;
const FEATURES_RE = /^features\/([A-Za-z0-9_]+)\/v(\d+)\/by_date\/day=[^/]+\/timeframe=([A-Za-z0-9]+)\//;
const RAW_RE = /^raw_tick_data\/by_date\/day=[^/]+\/data_type=([A-Za-z0-9_]+)\//;

/** Every view the lake's files call for (raw data types always, empty when there are no files). */
export function viewsFor(files: readonly FileRecord[], storage: Storage): ViewDef[] {
  const views = new Map<string, ViewDef>();
  const add = (
    name: string,
    glob: string,
    path: string | null,
    emptyFields?: readonly Field[],
    keyFromFileName = false,
  ) => {
    let v = views.get(name);
    if (!v) {
      v = {
        name,
        glob,
        paths: [],
        ...(emptyFields ? { emptyFields } : {}),
        ...(keyFromFileName ? { keyFromFileName } : {}),
      };
      views.set(name, v);
    }
    if (path) v.paths.push(path);
  };
  for (const t of DATA_TYPES) {
    add(
      t.toLowerCase(),
      `${RAW_TICK_DATA}/by_date/day=*/data_type=${t}/*.parquet`,
      null,
      CANONICAL_SCHEMAS[t].fields,
    );
  }
  let instruments = false;
  for (const f of files) {
    const p = f.path;
    let m = RAW_RE.exec(p);
    if (m) {
      if (views.has(m[1]!.toLowerCase())) add(m[1]!.toLowerCase(), '', p);
      continue;
    }
    m = TIMEFRAME_RE.exec(p);
    if (m) {
      const kind = m[1] === PROCESSED_CANDLES ? 'candles' : 'book_snapshots';
      add(
        `${kind}_${m[2]!.toLowerCase()}`,
        `${m[1]}/by_date/day=*/timeframe=${m[2]}/*.parquet`,
        p,
        undefined,
        true,
      );
      continue;
    }
    m = FEATURES_RE.exec(p);
    if (m) {
      add(
        `features_${m[1]!.toLowerCase()}_v${m[2]}_${m[3]!.toLowerCase()}`,
        `${FEATURES}/${m[1]}/v${m[2]}/by_date/day=*/timeframe=${m[3]}/*.parquet`,
        p,
        undefined,
        true,
      );
      continue;
    }
    if (p.startsWith(`${INSTRUMENT_AVAILABILITY}/by_date/`) && p.endsWith('/instruments.parquet')) {
      add('instruments', `${INSTRUMENT_AVAILABILITY}/by_date/day=*/instruments.parquet`, p);
      instruments = true;
    }
  }
  // Availability lists may be written without a catalog record: look on local disk too.
  if (
    !instruments &&
    storage.isLocal &&
    existsSync(join(storage.location, INSTRUMENT_AVAILABILITY, 'by_date'))
  ) {
    add('instruments', `${INSTRUMENT_AVAILABILITY}/by_date/day=*/instruments.parquet`, null);
  }
  void PROCESSED_BOOK_SNAPSHOTS;
  return [...views.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

const DUCK_TYPES: Record<Field['kind'], string> = {
  timestamp: 'TIMESTAMPTZ',
  float64: 'DOUBLE',
  int64: 'BIGINT',
  int32: 'INTEGER',
  bool: 'BOOLEAN',
  utf8: 'VARCHAR',
  dict: 'VARCHAR',
};

/**
 * The `CREATE OR REPLACE VIEW` statement of `v`. `source` is a glob (local lake) or a list of local
 * file paths (remote lake); with neither, a typed empty view.
 */
export function createViewSql(v: ViewDef, source: string | readonly string[] | null): string {
  const name = `"${v.name}"`;
  if (source === null || (Array.isArray(source) && source.length === 0)) {
    const fields = v.emptyFields ?? [];
    const cols = fields.map((f) => `CAST(NULL AS ${DUCK_TYPES[f.kind]}) AS "${f.name}"`);
    cols.push('CAST(NULL AS DATE) AS day');
    return `CREATE OR REPLACE VIEW ${name} AS SELECT ${cols.join(', ')} WHERE false`;
  }
  const src = typeof source === 'string' ? sqlString(source) : `[${source.map(sqlString).join(', ')}]`;
  if (v.keyFromFileName) {
    // `<KEY>.parquet` (`~` for `:` on Windows) → instrument_key (replacing a column of that name).
    const key = `replace(regexp_extract(filename, '([^/\\\\]+)\\.parquet$', 1), '~', ':')`;
    return `CREATE OR REPLACE VIEW ${name} AS SELECT COLUMNS(c -> c NOT IN ('filename', 'instrument_key')), ${key} AS instrument_key FROM read_parquet(${src}, hive_partitioning = true, filename = true)`;
  }
  return `CREATE OR REPLACE VIEW ${name} AS SELECT * FROM read_parquet(${src}, hive_partitioning = true)`;
}
