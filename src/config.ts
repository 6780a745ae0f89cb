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

/** Binance public REST endpoints (exchangeInfo per market), for instrument definitions without Tardis. */
export interface BinanceConfig {
  spotApiUrl: string;
  usdmApiUrl: string;
  coinmApiUrl: string;
}

/** Deribit public API v2 (get_instruments). */
export interface DeribitConfig {
  apiUrl: string;
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

/** The in-memory read cache (decoded column chunks, LRU by bytes). */
export interface CacheConfig {
  /** Budget in bytes (default 1 GiB; 0 disables the cache). */
  maxBytes: number;
}

/** S3 lakes (`s3://bucket/prefix`); unset keys use the SDK defaults / AWS_* environment. */
export interface S3Config {
  /** S3-compatible endpoint (default AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, else AWS). */
  endpoint?: string | undefined;
  region?: string | undefined;
  /** Path-style URLs (default AWS_S3_FORCE_PATH_STYLE, else true when an endpoint is set). */
  forcePathStyle?: boolean | undefined;
  /** Multipart part size in bytes (default 8 MiB). */
  partSize?: number | undefined;
  /** Files at least this big upload in parts (default 16 MiB). */
  multipartThreshold?: number | undefined;
  /** Attempts per request including retries (default 5). */
  maxAttempts?: number | undefined;
}

/** GCS lakes (`gs://bucket/prefix`); credentials are the application default credentials. */
export interface GcsConfig {
  /** API endpoint (default STORAGE_EMULATOR_HOST, else Google). */
  endpoint?: string | undefined;
  projectId?: string | undefined;
  /** Files at least this big use a resumable upload (default 16 MiB). */
  resumableThreshold?: number | undefined;
  maxAttempts?: number | undefined;
}

/** Local side of a remote lake: staging folder for uploads and the on-disk read cache. */
export interface RemoteConfig {
  /** Default `<os tmp>/ticklake-staging`. */
  stagingDir?: string | undefined;
  /** Default `<os tmp>/ticklake-cache`. */
  cacheDir?: string | undefined;
  /** Size limit of the on-disk cache of remote Parquet files in bytes (default 2 GiB). */
  cacheMaxBytes?: number | undefined;
}

/** Thresholds of the quality checks (#4): outliers, gaps, duplicates, crossed books. */
export interface QualityConfig {
  /** A price is an outlier when |x − median| > this × 1.4826·MAD of its window (default 10). */
  outlierMadThreshold: number;
  /** Rows in the rolling window the median and MAD come from (default 1001). */
  outlierWindow: number;
  /** A gap is a time between rows longer than this × the median time between rows (default 20). */
  gapFactor: number;
  /** Gaps shorter than this are never reported (seconds, default 60). */
  minGapSeconds: number;
  /** Share of duplicate rows above which a file is flagged (default 0: any). */
  maxDuplicateShare: number;
  /** Share of crossed-book rows (bid ≥ ask) above which a file is flagged (default 0: any). */
  maxCrossedShare: number;
}

/** How long things are kept (enforced by `ticklake gc`, later). */
export interface RetentionConfig {
  /** Days of raw tick data to keep (0 = forever, the default). */
  rawDays: number;
  /** Versions of each derived dataset (cleaned layer, feature sets) to keep (default 3). */
  keepVersions: number;
}

export interface TicklakeConfig {
  /** Lake root (a directory; later s3:// or gs://). */
  lake: string;
  /** Catalog location; default `<lake>/catalog.sqlite` for a local lake. */
  catalog: string | undefined;
  concurrency: number;
  tardis: TardisConfig;
  binance: BinanceConfig;
  deribit: DeribitConfig;
  ingest: IngestConfig;
  cache: CacheConfig;
  quality: QualityConfig;
  retention: RetentionConfig;
  s3?: S3Config;
  gcs?: GcsConfig;
  remote?: RemoteConfig;
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
  binance: {
    spotApiUrl: 'https://api.binance.com',
    usdmApiUrl: 'https://fapi.binance.com',
    coinmApiUrl: 'https://dapi.binance.com',
  },
  deribit: {
    apiUrl: 'https://www.deribit.com/api/v2',
  },
  cache: { maxBytes: 1024 * 1024 * 1024 },
  quality: {
    outlierMadThreshold: 10,
    outlierWindow: 1001,
    gapFactor: 20,
    minGapSeconds: 60,
    maxDuplicateShare: 0,
    maxCrossedShare: 0,
  },
  retention: { rawDays: 0, keepVersions: 3 },
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
  checkUnknown(
    doc,
    ['lake', 'catalog', 'concurrency', 'tardis', 'binance', 'deribit', 'ingest', 'cache', 'quality', 'retention', 's3', 'gcs', 'remote'],
    '',
    problems,
  );
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
  if (doc.binance !== undefined) {
    if (!isRecord(doc.binance)) problems.push('binance: must be a mapping');
    else {
      const b = doc.binance;
      checkUnknown(b, ['spotApiUrl', 'usdmApiUrl', 'coinmApiUrl'], 'binance', problems);
      const url = (k: string) =>
        checkUrl(takeString(b, k, `binance.${k}`, problems), `binance.${k}`, problems);
      config.binance = {
        spotApiUrl: url('spotApiUrl'),
        usdmApiUrl: url('usdmApiUrl'),
        coinmApiUrl: url('coinmApiUrl'),
      };
    }
  }
  if (doc.deribit !== undefined) {
    if (!isRecord(doc.deribit)) problems.push('deribit: must be a mapping');
    else {
      const d = doc.deribit;
      checkUnknown(d, ['apiUrl'], 'deribit', problems);
      config.deribit = {
        apiUrl: checkUrl(takeString(d, 'apiUrl', 'deribit.apiUrl', problems), 'deribit.apiUrl', problems),
      };
    }
  }
  if (doc.quality !== undefined) {
    if (!isRecord(doc.quality)) problems.push('quality: must be a mapping');
    else {
      const q = doc.quality;
      checkUnknown(
        q,
        ['outlierMadThreshold', 'outlierWindow', 'gapFactor', 'minGapSeconds', 'maxDuplicateShare', 'maxCrossedShare'],
        'quality',
        problems,
      );
      const positive = (n: number) => (n > 0 ? undefined : 'must be greater than 0');
      config.quality = {
        outlierMadThreshold: takeNumber(q, 'outlierMadThreshold', 'quality.outlierMadThreshold', problems, positive),
        outlierWindow: takeNumber(q, 'outlierWindow', 'quality.outlierWindow', problems, (n) =>
          Number.isInteger(n) && n >= 3 ? undefined : 'must be an integer of at least 3',
        ),
        gapFactor: takeNumber(q, 'gapFactor', 'quality.gapFactor', problems, (n) =>
          n > 1 ? undefined : 'must be greater than 1',
        ),
        minGapSeconds: takeNumber(q, 'minGapSeconds', 'quality.minGapSeconds', problems, (n) =>
          n >= 0 ? undefined : 'must be 0 or more',
        ),
        maxDuplicateShare: takeNumber(q, 'maxDuplicateShare', 'quality.maxDuplicateShare', problems, share),
        maxCrossedShare: takeNumber(q, 'maxCrossedShare', 'quality.maxCrossedShare', problems, share),
      };
    }
  }
  if (doc.retention !== undefined) {
    if (!isRecord(doc.retention)) problems.push('retention: must be a mapping');
    else {
      checkUnknown(doc.retention, ['rawDays', 'keepVersions'], 'retention', problems);
      config.retention = {
        rawDays: takeNumber(doc.retention, 'rawDays', 'retention.rawDays', problems, nonNegInt),
        keepVersions: takeNumber(doc.retention, 'keepVersions', 'retention.keepVersions', problems, positiveInt),
      };
    }
  }
  if (doc.cache !== undefined) {
    if (!isRecord(doc.cache)) problems.push('cache: must be a mapping');
    else {
      checkUnknown(doc.cache, ['maxBytes'], 'cache', problems);
      config.cache = { maxBytes: takeNumber(doc.cache, 'maxBytes', 'cache.maxBytes', problems, nonNegInt) };
    }
  }
  if (doc.s3 !== undefined) {
    if (!isRecord(doc.s3)) problems.push('s3: must be a mapping');
    else {
      const x = doc.s3;
      checkUnknown(
        x,
        ['endpoint', 'region', 'forcePathStyle', 'partSize', 'multipartThreshold', 'maxAttempts'],
        's3',
        problems,
      );
      config.s3 = {
        endpoint: checkUrl(takeString(x, 'endpoint', 's3.endpoint', problems), 's3.endpoint', problems),
        region: takeString(x, 'region', 's3.region', problems),
        forcePathStyle: takeBoolean(x, 'forcePathStyle', 's3.forcePathStyle', problems),
        partSize: takeNumber(x, 'partSize', 's3.partSize', problems, (n) =>
          Number.isInteger(n) && n >= 5 * 1024 * 1024 ? undefined : 'must be an integer of at least 5 MiB (5242880)',
        ),
        multipartThreshold: takeNumber(
          x,
          'multipartThreshold',
          's3.multipartThreshold',
          problems,
          positiveInt,
        ),
        maxAttempts: takeNumber(x, 'maxAttempts', 's3.maxAttempts', problems, positiveInt),
      };
    }
  }
  if (doc.gcs !== undefined) {
    if (!isRecord(doc.gcs)) problems.push('gcs: must be a mapping');
    else {
      const g = doc.gcs;
      checkUnknown(g, ['endpoint', 'projectId', 'resumableThreshold', 'maxAttempts'], 'gcs', problems);
      config.gcs = {
        endpoint: checkUrl(takeString(g, 'endpoint', 'gcs.endpoint', problems), 'gcs.endpoint', problems),
        projectId: takeString(g, 'projectId', 'gcs.projectId', problems),
        resumableThreshold: takeNumber(
          g,
          'resumableThreshold',
          'gcs.resumableThreshold',
          problems,
          positiveInt,
        ),
        maxAttempts: takeNumber(g, 'maxAttempts', 'gcs.maxAttempts', problems, positiveInt),
      };
    }
  }
  if (doc.remote !== undefined) {
    if (!isRecord(doc.remote)) problems.push('remote: must be a mapping');
    else {
      const r = doc.remote;
      checkUnknown(r, ['stagingDir', 'cacheDir', 'cacheMaxBytes'], 'remote', problems);
      config.remote = {
        stagingDir: takeString(r, 'stagingDir', 'remote.stagingDir', problems),
        cacheDir: takeString(r, 'cacheDir', 'remote.cacheDir', problems),
        cacheMaxBytes: takeNumber(r, 'cacheMaxBytes', 'remote.cacheMaxBytes', problems, positiveInt),
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

/** The entries of a partial section that are set (so defaults fill the rest). */
function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

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
  // File and environment problems are reported together, in one error.
  const fileProblems: Problems = [];
  if (file) {
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    const { config, problems } = validateConfigDocument(doc);
    fileProblems.push(...problems);
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
  const envUrl = (name: string) => checkUrl(env[name] || undefined, name, envProblems);
  const envBinanceSpot = envUrl('BINANCE_SPOT_API_URL');
  const envBinanceUsdm = envUrl('BINANCE_USDM_API_URL');
  const envBinanceCoinm = envUrl('BINANCE_COINM_API_URL');
  const envDeribit = envUrl('DERIBIT_API_URL');
  const envRemoteCacheBytes =
    env.TICKLAKE_REMOTE_CACHE_BYTES === undefined || env.TICKLAKE_REMOTE_CACHE_BYTES === ''
      ? undefined
      : Number(env.TICKLAKE_REMOTE_CACHE_BYTES);
  if (
    envRemoteCacheBytes !== undefined &&
    (!Number.isInteger(envRemoteCacheBytes) || envRemoteCacheBytes <= 0)
  ) {
    envProblems.push('TICKLAKE_REMOTE_CACHE_BYTES: must be a positive integer');
  }
  const allProblems = [...fileProblems, ...envProblems];
  if (allProblems.length > 0) {
    const where = [fileProblems.length > 0 ? file : undefined, envProblems.length > 0 ? 'environment' : undefined]
      .filter((w) => w !== undefined)
      .join(' and ');
    throw new ConfigError(`${where}: ${allProblems.length} problem(s): ${allProblems.join('; ')}`, {
      hint: 'fix each setting listed as path: message (environment variables are named as such)',
      details: { problems: allProblems },
    });
  }

  const fb = fromFile.binance ?? {};
  const fd = fromFile.deribit ?? {};
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
    binance: {
      spotApiUrl:
        pick(DEFAULTS.binance.spotApiUrl, fb.spotApiUrl, envBinanceSpot) ?? DEFAULTS.binance.spotApiUrl,
      usdmApiUrl:
        pick(DEFAULTS.binance.usdmApiUrl, fb.usdmApiUrl, envBinanceUsdm) ?? DEFAULTS.binance.usdmApiUrl,
      coinmApiUrl:
        pick(DEFAULTS.binance.coinmApiUrl, fb.coinmApiUrl, envBinanceCoinm) ?? DEFAULTS.binance.coinmApiUrl,
    },
    deribit: {
      apiUrl: pick(DEFAULTS.deribit.apiUrl, fd.apiUrl, envDeribit) ?? DEFAULTS.deribit.apiUrl,
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
    cache: { maxBytes: fromFile.cache?.maxBytes ?? DEFAULTS.cache.maxBytes },
    quality: { ...DEFAULTS.quality, ...definedOnly(fromFile.quality) },
    retention: { ...DEFAULTS.retention, ...definedOnly(fromFile.retention) },
    s3: { ...fromFile.s3 },
    gcs: { ...fromFile.gcs },
    remote: {
      ...fromFile.remote,
      cacheMaxBytes: pick(fromFile.remote?.cacheMaxBytes, envRemoteCacheBytes),
    },
    configFile: file,
  };
}
