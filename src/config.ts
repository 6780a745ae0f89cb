/**
 * Configuration: `ticklake.yaml` (or the file named by --config / TICKLAKE_CONFIG), then environment
 * variables, then command-line flags — later ones win. Validation reports every problem at once as
 * `path: message`.
 *
 * The Tardis API key is a secret: it is read here and handed only to the HTTP client. It is never
 * logged, never put in an error, a file footer or the catalog.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors.js';

export type Codec = 'zstd' | 'snappy' | 'gzip' | 'none';

export interface TardisConfig {
  apiKey: string | undefined;
  apiUrl: string;
  datasetsUrl: string;
  maxRetries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
}

export interface IngestConfig {
  /** Share of unparseable rows above which a file fails (default 0.001 = 0.1%). */
  maxBadRowShare: number;
  rowGroupRows: number;
  /** Rows per in-memory sort run before spilling to disk (bounds ingest memory). */
  runRows: number;
  compression: Codec;
  zstdLevel: number;
  /**
   * Run the decode stage (download + sha256 + gunzip + CSV parse) in a worker thread per concurrent
   * task, overlapping it with sort + Parquet write on the main thread (default true). Ignored — decoding
   * in-process — when no JavaScript worker file exists (running from the TypeScript sources). Both
   * ways give byte-identical files.
   */
  decodeInWorker: boolean;
  /**
   * Write Parquet while the file is still downloading, with a sliding-window sort (nearly-sorted input);
   * a file whose rows are too far out of order is redone with the external sort. Default true.
   */
  streamingSort: boolean;
}

export interface TicklakeConfig {
  /** Lake root (a directory; later s3:// or gs://). */
  lake: string;
  /** Catalog location; default `<lake>/catalog.sqlite` for a local lake. */
  catalog: string | undefined;
  concurrency: number;
  tardis: TardisConfig;
  ingest: IngestConfig;
  /** Where the config came from, for `ticklake config` and messages. */
  configFile: string | undefined;
}

export const DEFAULTS: Omit<TicklakeConfig, 'configFile'> = {
  lake: './lake',
  catalog: undefined,
  concurrency: 4,
  tardis: {
    apiKey: undefined,
    apiUrl: 'https://api.tardis.dev/v1',
    datasetsUrl: 'https://datasets.tardis.dev/v1',
    maxRetries: 5,
    retryBaseDelayMs: 1000,
    retryMaxDelayMs: 60_000,
  },
  ingest: {
    maxBadRowShare: 0.001,
    rowGroupRows: 1_048_576,
    runRows: 1_048_576,
    compression: 'zstd',
    zstdLevel: 1,
    decodeInWorker: true,
    streamingSort: true,
  },
};

export interface LoadConfigOptions {
  /** Explicit config file (--config). */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Flag overrides, applied last. */
  overrides?: Partial<{ lake: string; catalog: string; concurrency: number }>;
}

type Problems = string[];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function takeString(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  problems: Problems,
): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length === 0) {
    problems.push(`${path}: must be a non-empty string`);
    return undefined;
  }
  return v;
}

function takeNumber(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  problems: Problems,
  check: (n: number) => string | undefined,
): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    problems.push(`${path}: must be a number`);
    return undefined;
  }
  const msg = check(n);
  if (msg) {
    problems.push(`${path}: ${msg}`);
    return undefined;
  }
  return n;
}

function takeBoolean(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  problems: Problems,
): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') {
    problems.push(`${path}: must be true or false`);
    return undefined;
  }
  return v;
}

const positiveInt = (n: number) => (Number.isInteger(n) && n > 0 ? undefined : 'must be a positive integer');
const nonNegInt = (n: number) =>
  Number.isInteger(n) && n >= 0 ? undefined : 'must be a non-negative integer';
const share = (n: number) => (n >= 0 && n <= 1 ? undefined : 'must be between 0 and 1');

function checkUnknown(
  obj: Record<string, unknown>,
  known: readonly string[],
  path: string,
  problems: Problems,
): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k))
      problems.push(`${path ? `${path}.` : ''}${k}: unknown setting (known: ${known.join(', ')})`);
  }
}

function checkUrl(v: string | undefined, path: string, problems: Problems): string | undefined {
  if (v === undefined) return undefined;
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      problems.push(`${path}: must be an http(s) URL`);
      return undefined;
    }
    return v.replace(/\/+$/, '');
  } catch {
    problems.push(`${path}: "${v}" is not a URL`);
    return undefined;
  }
}

/** Validate a parsed config document; returns the partial config and every problem found. */
export function validateConfigDocument(doc: unknown): {
  config: DeepPartial<TicklakeConfig>;
  problems: Problems;
} {
  const problems: Problems = [];
  const config: DeepPartial<TicklakeConfig> = {};
  if (doc === undefined || doc === null) return { config, problems };
  if (!isRecord(doc)) return { config, problems: ['(root): must be a mapping of settings'] };
  checkUnknown(doc, ['lake', 'catalog', 'concurrency', 'tardis', 'ingest'], '', problems);
  config.lake = takeString(doc, 'lake', 'lake', problems);
  config.catalog = takeString(doc, 'catalog', 'catalog', problems);
  config.concurrency = takeNumber(doc, 'concurrency', 'concurrency', problems, positiveInt);
  if (doc.tardis !== undefined) {
    if (!isRecord(doc.tardis)) problems.push('tardis: must be a mapping');
    else {
      const t = doc.tardis;
      checkUnknown(
        t,
        ['apiKey', 'apiUrl', 'datasetsUrl', 'maxRetries', 'retryBaseDelayMs', 'retryMaxDelayMs'],
        'tardis',
        problems,
      );
      config.tardis = {
        apiKey: takeString(t, 'apiKey', 'tardis.apiKey', problems),
        apiUrl: checkUrl(takeString(t, 'apiUrl', 'tardis.apiUrl', problems), 'tardis.apiUrl', problems),
        datasetsUrl: checkUrl(
          takeString(t, 'datasetsUrl', 'tardis.datasetsUrl', problems),
          'tardis.datasetsUrl',
          problems,
        ),
        maxRetries: takeNumber(t, 'maxRetries', 'tardis.maxRetries', problems, nonNegInt),
        retryBaseDelayMs: takeNumber(t, 'retryBaseDelayMs', 'tardis.retryBaseDelayMs', problems, nonNegInt),
        retryMaxDelayMs: takeNumber(t, 'retryMaxDelayMs', 'tardis.retryMaxDelayMs', problems, nonNegInt),
      };
    }
  }
  if (doc.ingest !== undefined) {
    if (!isRecord(doc.ingest)) problems.push('ingest: must be a mapping');
    else {
      const i = doc.ingest;
      checkUnknown(
        i,
        [
          'maxBadRowShare',
          'rowGroupRows',
          'runRows',
          'compression',
          'zstdLevel',
          'decodeInWorker',
          'streamingSort',
        ],
        'ingest',
        problems,
      );
      const compression = takeString(i, 'compression', 'ingest.compression', problems);
      if (compression !== undefined && !['zstd', 'snappy', 'gzip', 'none'].includes(compression)) {
        problems.push('ingest.compression: must be one of zstd, snappy, gzip, none');
      }
      config.ingest = {
        maxBadRowShare: takeNumber(i, 'maxBadRowShare', 'ingest.maxBadRowShare', problems, share),
        rowGroupRows: takeNumber(i, 'rowGroupRows', 'ingest.rowGroupRows', problems, positiveInt),
        runRows: takeNumber(i, 'runRows', 'ingest.runRows', problems, positiveInt),
        compression: compression as Codec | undefined,
        zstdLevel: takeNumber(i, 'zstdLevel', 'ingest.zstdLevel', problems, (n) =>
          Number.isInteger(n) && n >= 1 && n <= 22 ? undefined : 'must be an integer from 1 to 22',
        ),
        decodeInWorker: takeBoolean(i, 'decodeInWorker', 'ingest.decodeInWorker', problems),
        streamingSort: takeBoolean(i, 'streamingSort', 'ingest.streamingSort', problems),
      };
    }
  }
  return { config, problems };
}

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> | undefined : T[K] | undefined;
};

function pick<T>(...vals: (T | undefined)[]): T | undefined {
  for (let i = vals.length - 1; i >= 0; i--) if (vals[i] !== undefined) return vals[i];
  return undefined;
}

/** Load config from file + env + overrides. Throws ConfigError listing every problem. */
export function loadConfig(options: LoadConfigOptions = {}): TicklakeConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.file ?? env.TICKLAKE_CONFIG;
  let file: string | undefined;
  if (explicit) {
    file = resolve(cwd, explicit);
    if (!existsSync(file))
      throw new ConfigError(`config file ${file} does not exist`, {
        hint: 'check --config / TICKLAKE_CONFIG',
      });
  } else {
    for (const name of ['ticklake.yaml', 'ticklake.yml']) {
      const p = resolve(cwd, name);
      if (existsSync(p)) {
        file = p;
        break;
      }
    }
  }
  let fromFile: DeepPartial<TicklakeConfig> = {};
  if (file) {
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    const { config, problems } = validateConfigDocument(doc);
    if (problems.length > 0) {
      throw new ConfigError(`${file}: ${problems.length} problem(s): ${problems.join('; ')}`, {
        details: { problems },
      });
    }
    fromFile = config;
  }
  const envProblems: Problems = [];
  const envConcurrency =
    env.TICKLAKE_CONCURRENCY === undefined ? undefined : Number(env.TICKLAKE_CONCURRENCY);
  if (envConcurrency !== undefined && (!Number.isInteger(envConcurrency) || envConcurrency <= 0)) {
    envProblems.push('TICKLAKE_CONCURRENCY: must be a positive integer');
  }
  const envApiUrl = checkUrl(env.TARDIS_API_URL || undefined, 'TARDIS_API_URL', envProblems);
  const envDatasetsUrl = checkUrl(env.TARDIS_DATASETS_URL || undefined, 'TARDIS_DATASETS_URL', envProblems);
  if (envProblems.length > 0) throw new ConfigError(`environment: ${envProblems.join('; ')}`);

  const ft = fromFile.tardis ?? {};
  const fi = fromFile.ingest ?? {};
  const o = options.overrides ?? {};
  return {
    lake: pick(DEFAULTS.lake, fromFile.lake, env.TICKLAKE_LAKE || undefined, o.lake) ?? DEFAULTS.lake,
    catalog: pick(fromFile.catalog, env.TICKLAKE_CATALOG || undefined, o.catalog),
    concurrency:
      pick(DEFAULTS.concurrency, fromFile.concurrency, envConcurrency, o.concurrency) ?? DEFAULTS.concurrency,
    tardis: {
      apiKey: pick(ft.apiKey, env.TARDIS_API_KEY || undefined),
      apiUrl: pick(DEFAULTS.tardis.apiUrl, ft.apiUrl, envApiUrl) ?? DEFAULTS.tardis.apiUrl,
      datasetsUrl:
        pick(DEFAULTS.tardis.datasetsUrl, ft.datasetsUrl, envDatasetsUrl) ?? DEFAULTS.tardis.datasetsUrl,
      maxRetries: ft.maxRetries ?? DEFAULTS.tardis.maxRetries,
      retryBaseDelayMs: ft.retryBaseDelayMs ?? DEFAULTS.tardis.retryBaseDelayMs,
      retryMaxDelayMs: ft.retryMaxDelayMs ?? DEFAULTS.tardis.retryMaxDelayMs,
    },
    ingest: {
      maxBadRowShare: fi.maxBadRowShare ?? DEFAULTS.ingest.maxBadRowShare,
      rowGroupRows: fi.rowGroupRows ?? DEFAULTS.ingest.rowGroupRows,
      runRows: fi.runRows ?? DEFAULTS.ingest.runRows,
      compression: fi.compression ?? DEFAULTS.ingest.compression,
      zstdLevel: fi.zstdLevel ?? DEFAULTS.ingest.zstdLevel,
      decodeInWorker: fi.decodeInWorker ?? DEFAULTS.ingest.decodeInWorker,
      streamingSort: fi.streamingSort ?? DEFAULTS.ingest.streamingSort,
    },
    configFile: file,
  };
}
