/**
 * `openLake` — the library's front door. A Lake bundles storage, catalog and configuration and
 * offers reads, ingestion and catalog maintenance.
 */
import { isAbsolute, join, resolve } from 'node:path';
import type { Table } from 'apache-arrow';
import { SqliteCatalog } from '../catalog/sqlite/catalog.js';
import type { Catalog, FileQuery, FileRecord, TaskRecord } from '../catalog/types.js';
import { type DeepPartial, loadConfig, type TicklakeConfig } from '../config.js';
import { UsageError } from '../errors.js';
import {
  defaultTmpDir,
  type IngestRequest,
  type IngestSummary,
  ingest,
  recoverLake,
} from '../pipeline/ingest.js';
import { registerSecret } from '../util/redact.js';
import { LocalStorage } from './local-storage.js';
import { type ReadRequest, readTicks } from './read.js';
import { type RebuildSummary, rebuildCatalog } from './rebuild.js';
import type { Storage } from './storage.js';

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
  };
}

export class Lake {
  constructor(
    readonly storage: Storage,
    readonly catalog: Catalog,
    readonly config: TicklakeConfig,
  ) {}

  /** Raw ticks of one instrument for `[from, to)`, merged across days in timestamp order. */
  read(req: ReadRequest): Promise<Table> {
    return readTicks(this, req);
  }

  /** Download, normalise and store vendor files (see `ticklake ingest`). */
  ingest(req: IngestRequest): Promise<IngestSummary> {
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

  /** Remove crash leftovers (staging files, unsettled intents). */
  recover(): Promise<void> {
    return recoverLake(this);
  }

  /** Recreate the catalog from the Parquet footers alone. */
  rebuildCatalog(): Promise<RebuildSummary> {
    return rebuildCatalog(this.storage, this.catalog);
  }

  close(): Promise<void> {
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
  if (/^[a-z0-9]+:\/\//i.test(config.lake) && !options.storage) {
    throw new UsageError(`lake ${config.lake}: only local directories are supported in this version`, {
      hint: 'use a local path for --lake (object stores come with the S3/GCS backends)',
    });
  }
  const root = resolve(config.lake);
  const storage = options.storage ?? new LocalStorage(root);
  const catalogPath = config.catalog
    ? isAbsolute(config.catalog)
      ? config.catalog
      : resolve(config.catalog)
    : join(root, DEFAULT_CATALOG_NAME);
  const catalog = SqliteCatalog.open(catalogPath);
  return new Lake(storage, catalog, { ...config, lake: root, catalog: catalogPath });
}
