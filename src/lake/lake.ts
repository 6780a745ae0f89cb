/**
 * `openLake` — the library's front door. A Lake bundles storage, catalog and configuration and
 * offers reads, ingestion and catalog maintenance.
 */
import { join, resolve } from 'node:path';
import type { Table } from 'apache-arrow';
import { openCatalog, resolveCatalogSpec } from '../catalog/open.js';
import type { Catalog, FileQuery, FileRecord, TaskRecord } from '../catalog/types.js';
import { type DeepPartial, loadConfig, type TicklakeConfig } from '../config.js';
import {
  defaultTmpDir,
  type IngestOptions,
  type IngestRequest,
  type IngestTasksRequest,
  type IngestSummary,
  ingest,
  recoverLake,
} from '../pipeline/ingest.js';
import { type SqlOptions, type SqlResult, SqlEngine } from '../sql/engine.js';
import { SchemaRegistry } from '../schema/registry.js';
import { type BuiltPlan, buildPlan, type PlanRequest } from '../instruments/plan.js';
import {
  type InstrumentHistory,
  type InstrumentQuery,
  instrumentHistory,
  queryInstruments,
} from '../instruments/query.js';
import { type SyncRequest, type SyncSummary, syncInstruments } from '../instruments/sync.js';
import { NotFoundError } from '../errors.js';
import { checkQuality, type FileQuality, type QualityRequest } from '../quality/check.js';
import { checkMissing, type MissingReport, type MissingRequest } from '../quality/missing.js';
import { registerSecret } from '../util/redact.js';
import { type RunRequest, type RunSummary, runPipeline } from '../pipeline/run.js';
import { defaultRemoteCatalogPath, isRemoteLake, openStorage } from './open-storage.js';
import { ReadCache } from './cache.js';
import { type CleanRequest, type CleanSummary, cleanLake } from '../cleaning/clean.js';
import { type FileVersion, listVersions } from './snapshots.js';
import { type ReadRequest, readTicks } from './read.js';
import { type DerivedReadRequest, isDerivedDataset, readDerived } from '../candles/read.js';
import { type ReadPartitionedRequest, readPartitioned } from './read-partitioned.js';
import { type WriteRequest, type WriteResult, writeDataset } from './write.js';
import { type RebuildSummary, rebuildCatalog } from './rebuild.js';
import type { Storage } from './storage.js';
import { Jobs } from '../jobs/jobs.js';
import { type GcOptions, type GcReport, runGc } from './gc.js';

export interface OpenLakeOptions {
  /** Lake root directory (default: config `lake`, then TICKLAKE_LAKE, then ./lake). */
  root?: string;
  /** Catalog path (default `<root>/catalog.sqlite`). */
  catalog?: string;
  /** Config file to load (default: ./ticklake.yaml when present). */
  configFile?: string;
  /** Overrides applied on top of the loaded config (tests, embedding). */
  config?: DeepPartial<TicklakeConfig>;
  /** Storage implementation (default: local filesystem at `root`). */
  storage?: Storage;
}

export const DEFAULT_CATALOG_NAME = 'catalog.sqlite';

function mergeConfig(base: TicklakeConfig, over: DeepPartial<TicklakeConfig> | undefined): TicklakeConfig {
  if (!over) return base;
  const defined = <T extends object>(o: T | undefined): Partial<T> =>
    Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
  return {
    ...base,
    ...defined(over as Partial<TicklakeConfig>),
    tardis: { ...base.tardis, ...defined(over.tardis as Partial<TicklakeConfig['tardis']> | undefined) },
    ingest: { ...base.ingest, ...defined(over.ingest as Partial<TicklakeConfig['ingest']> | undefined) },
    cache: { ...base.cache, ...defined(over.cache as Partial<TicklakeConfig['cache']> | undefined) },
    binance: { ...base.binance, ...defined(over.binance as Partial<TicklakeConfig['binance']> | undefined) },
    deribit: { ...base.deribit, ...defined(over.deribit as Partial<TicklakeConfig['deribit']> | undefined) },
    quality: { ...base.quality, ...defined(over.quality as Partial<TicklakeConfig['quality']> | undefined) },
    retention: { ...base.retention, ...defined(over.retention as Partial<TicklakeConfig['retention']> | undefined) },
    s3: { ...base.s3, ...defined(over.s3 as TicklakeConfig['s3']) },
    gcs: { ...base.gcs, ...defined(over.gcs as TicklakeConfig['gcs']) },
    remote: { ...base.remote, ...defined(over.remote as TicklakeConfig['remote']) },
  };
}

export class Lake {
  constructor(
    readonly storage: Storage,
    readonly catalog: Catalog,
    readonly config: TicklakeConfig,
  ) {}

  /** Decoded column chunks of recent reads (LRU by bytes, `cache.maxBytes`), keyed by path + checksum. */
  get cache(): ReadCache {
    this.readCache ??= new ReadCache(this.config.cache?.maxBytes ?? 0);
    return this.readCache;
  }
  private readCache: ReadCache | null = null;
  private sqlEngine: SqlEngine | null = null;

  /** Run one read-only SQL query over views of the lake (`trades`, `candles_1m`, `instruments`, ...). */
  sql(query: string, options?: SqlOptions): Promise<SqlResult> {
    this.sqlEngine ??= new SqlEngine(this);
    return this.sqlEngine.query(query, options);
  }

  /** Raw ticks of one instrument for `[from, to)`, merged across days in timestamp order. */
  read(req: ReadRequest | DerivedReadRequest): Promise<Table> {
    // candles, book_snapshots and features (timeframe, set, version) are read by src/candles/read.ts.
    if (isDerivedDataset(req.dataset)) return readDerived(this, req as DerivedReadRequest);
    return readTicks(this, req);
  }

  /** Download, normalise and store vendor files (see `ticklake ingest`). */
  ingest(req: IngestRequest | IngestTasksRequest): Promise<IngestSummary> {
    return ingest(
      {
        storage: this.storage,
        catalog: this.catalog,
        config: this.config,
        tmpDir: defaultTmpDir(this.storage),
      },
      req,
    );
  }

  files(query?: FileQuery): Promise<FileRecord[]> {
    return this.catalog.listFiles(query);
  }

  tasks(query?: Parameters<Catalog['listTasks']>[0]): Promise<TaskRecord[]> {
    return this.catalog.listTasks(query);
  }

  /** Instruments available on one day, filtered (`ticklake instruments ls`); needs a synced day. */
  instruments(query: InstrumentQuery): Promise<Table> {
    return queryInstruments(this, query);
  }

  /** Fetch instrument definitions and write the availability file of each day (`instruments sync`). */
  syncInstruments(req: SyncRequest): Promise<SyncSummary> {
    return syncInstruments(this, req);
  }

  /** One instrument's availability and attribute changes over the synced days (`instruments show`). */
  instrumentHistory(key: string): Promise<InstrumentHistory> {
    return instrumentHistory(this, key);
  }

  /** Build the download tasks for a selection and save them as a plan (`ticklake plan`). */
  async plan(req: PlanRequest): Promise<BuiltPlan & { id: number }> {
    const built = await buildPlan(this, req);
    const params = { ...req } as Record<string, unknown>;
    const id = await this.catalog.savePlan(params, { ...built.summary }, built.tasks);
    return { ...built, id };
  }

  /** Expected vs held, one status per (instrument, data type, day) (`ticklake check missing`). */
  checkMissing(req: MissingRequest): Promise<MissingReport> {
    return checkMissing(this, req);
  }

  /** Quality metrics of every raw file in a range, computed where missing (`ticklake check quality`). */
  checkQuality(req: QualityRequest): Promise<FileQuality[]> {
    return checkQuality(this, req);
  }


  async ingestPlan(id: number, options: IngestOptions = {}): Promise<IngestSummary> {
    const plan = await this.catalog.getPlan(id);
    if (!plan) throw new NotFoundError(`no plan ${id} in the catalog`, { hint: 'list plans with: ticklake plan ls' });
    const tasks = await this.catalog.planTasks(id);
    return this.ingest({ ...options, tasks, params: { plan: id } });
  }


  /** The daily pipeline for a range or one shard of it: sync → plan → ingest → check → candles → features (`ticklake run`). */
  run(req: RunRequest): Promise<RunSummary> {
    return runPipeline(this, req);
  }

  /** Build the cleaned layer (`cleaned/v{major}/...`) from raw files, incrementally (`ticklake clean`). */
  clean(req: CleanRequest): Promise<CleanSummary> {
    return cleanLake(this, req);
  }

  /** Every version (earlier snapshots + current) of the raw files matching `query` (`ticklake snapshots`). */
  snapshots(query: FileQuery = {}): Promise<{ file: FileRecord; versions: FileVersion[] }[]> {
    return listVersions(this, query);
  }

  /** Managed ingestion jobs: create, start, status, cancel, list, resume, cleanup (`ticklake jobs`). */
  get jobs(): Jobs {
    this.jobManager ??= new Jobs({ storage: this.storage, catalog: this.catalog, config: this.config });
    return this.jobManager;
  }
  private jobManager: Jobs | null = null;

  /** Retention and garbage collection (`ticklake gc`): old raw days, old versions, staging, orphans. */
  gc(options?: GcOptions): Promise<GcReport> {
    return runGc({ storage: this.storage, catalog: this.catalog, config: this.config }, options);
  }

  recover(): Promise<void> {
    return recoverLake(this);
  }

  /** Recreate the catalog from the Parquet footers alone. */
  rebuildCatalog(): Promise<RebuildSummary> {
    return rebuildCatalog(this.storage, this.catalog);
  }

  /** Dataset schemas: the built-in ones plus those registered here or by `write({ schema })`. */
  get schemas(): SchemaRegistry {
    this.schemaRegistry ??= new SchemaRegistry();
    return this.schemaRegistry;
  }
  private schemaRegistry: SchemaRegistry | null = null;

  /** Validate, partition and store any Arrow table as a dataset (`{dataset}/day=D/part-0.parquet`). */
  write(req: WriteRequest): Promise<WriteResult> {
    return writeDataset({ storage: this.storage, catalog: this.catalog, config: this.config, schemas: this.schemas }, req);
  }

  /** Read a dataset written by `write`, pruning partition folders before opening files. */
  readPartitioned(req: ReadPartitionedRequest): Promise<Table> {
    return readPartitioned({ storage: this.storage, catalog: this.catalog, schemas: this.schemas }, req);
  }

  async close(): Promise<void> {
    const engine = this.sqlEngine;
    this.sqlEngine = null;
    if (engine) await engine.close();
    return this.catalog.close();
  }
}

export async function openLake(options: OpenLakeOptions = {}): Promise<Lake> {
  const loaded = loadConfig({
    file: options.configFile,
    overrides: options.root ? { lake: options.root } : {},
  });
  const config = mergeConfig(loaded, options.config);
  if (options.root) config.lake = options.root;
  if (options.catalog) config.catalog = options.catalog;
  registerSecret(config.tardis.apiKey);
  // s3:// and gs:// lakes are object stores (open-storage.ts); their SQLite catalog defaults to a
  // per-lake file in the user's data folder (defaultRemoteCatalogPath), since it cannot live in a bucket.
  const remoteLake = isRemoteLake(config.lake);
  const root = remoteLake ? config.lake : resolve(config.lake);
  const storage = options.storage ?? (await openStorage(config.lake, config));
  // A postgres:// URL opens the PostgreSQL catalog; anything else is a SQLite file (src/catalog/open.ts).
  const catalogPath = resolveCatalogSpec(
    config.catalog,
    remoteLake ? defaultRemoteCatalogPath(storage.location) : join(root, DEFAULT_CATALOG_NAME),
  );
  const catalog = await openCatalog(catalogPath);
  return new Lake(storage, catalog, { ...config, lake: root, catalog: catalogPath });
}
