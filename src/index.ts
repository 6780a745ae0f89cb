/**
 * ticklake — the library. `openLake` is the front door; the rest are the building blocks it uses,
 * exported for programs that need them (keys, schemas, errors, the Parquet reader/writer).
 */

export { ASK, BID, OrderBook } from './book/book.js';
export { BOOK_SOURCES, type BookSource, buildBookSnapshotsForDay } from './book/build.js';
export { BookSnapshotEngine, bookSnapshotSchema, DEFAULT_BOOK_LEVELS } from './book/snapshots.js';
export type { Catalog, FileRecord, TaskKey, TaskRecord } from './catalog/types.js';
export { openCatalog } from './catalog/open.js';
export { PostgresCatalog } from './catalog/postgres/catalog.js';
export { SqliteCatalog } from './catalog/sqlite/catalog.js';
export type { Column, ColumnBatch, Field, Schema } from './columns/types.js';
export { loadConfig, type TicklakeConfig } from './config.js';
export * from './errors.js';
export * from './keys/index.js';
export { Lake, type OpenLakeOptions, openLake } from './lake/lake.js';
export { INGEST_JOB_KIND, type JobProgress, type JobSpec, type JobStatus, Jobs, parseDuration, type RunOptions } from './jobs/jobs.js';
export type { GcDeletion, GcKept, GcOptions, GcReport } from './lake/gc.js';
export { type CacheStats, ReadCache } from './lake/cache.js';
export { newReadStats, type ReadRequest, type ReadStats, type TimeLike } from './lake/read.js';
export { type RunningServer, type ServeLimits, type ServeOptions, startServer } from './serve/server.js';
export { SqlEngine, type SqlOptions } from './sql/engine.js';
export type { Storage } from './lake/storage.js';
export { defaultRemoteCatalogPath, openStorage } from './lake/open-storage.js';
export { CachedStorage, RemoteReadCache, type RemoteCacheOptions } from './lake/remote-cache.js';
export type { GcsStorage, GcsStorageOptions } from './lake/gcs-storage.js';
export type { S3Storage, S3StorageOptions } from './lake/s3-storage.js';
export { ParquetReader } from './parquet/reader.js';
export { ParquetWriter } from './parquet/writer.js';
export type { IngestEvent, IngestRequest, IngestSummary, IngestTaskReport } from './pipeline/ingest.js';
export { parseStages, type RunEvent, type RunRequest, type RunSummary, runPipeline, STAGES, type Stage } from './pipeline/run.js';
export { parseShardSpec, resolveShard, type Shard, shardDays } from './pipeline/shard.js';
export { CANONICAL_SCHEMAS, DATA_TYPES, type DataType, RAW_SCHEMA_VERSION } from './schema/datasets.js';
export {
  type DatasetSchema,
  LAYERS,
  type Layer,
  type SchemaDefinition,
  SchemaRegistry,
} from './schema/registry.js';
export { VALIDATION_MODES, type ValidationMode, type ValidationResult, validateTable } from './schema/validate.js';
export type { WriteMetadata, WriteRequest, WriteResult, WrittenFile } from './lake/write.js';
export type { Filter, ReadPartitionedRequest } from './lake/read-partitioned.js';
export { SIDECAR_FORMAT, type SidecarMetadata } from './lake/sidecar.js';
export {
  CANDLE_ENGINE_VERSION,
  type BuildCandlesRequest,
  type BuildCandlesSummary,
  buildCandles,
  buildCandlesForDay,
} from './candles/build.js';
export { CandleEngine, type CandleEngineOptions, type ClosedBars, computeCandles } from './candles/engine.js';
export type { DerivedReadRequest } from './candles/read.js';
export { CANDLE_SCHEMA, CANDLE_SCHEMA_VERSION } from './candles/schema.js';
export { parseTimeframes, TIMEFRAMES, type Timeframe, timeframeMicros } from './candles/timeframes.js';
export { type BuildFeaturesRequest, type BuildFeaturesSummary, buildFeatures } from './features/build.js';
export {
  type FeatureInput,
  type FeatureSet,
  type FeatureSetDefinition,
  getFeatureSet,
  listFeatureSets,
  registerFeatureSet,
} from './features/registry.js';
export { BUILTIN_FEATURE_SETS } from './features/sets.js';
export type { FileSnapshot } from './catalog/types.js';
export {
  type FileVersion,
  listVersions,
  preserveReplaced,
  resolveVersions,
  snapshotIdOf,
  type VersionSelector,
} from './lake/snapshots.js';
export { type CleanFileReport, type CleanRequest, type CleanSummary, cleanLake } from './cleaning/clean.js';
export {
  applyRules,
  CLEANABLE_DATA_TYPES,
  CLEANING_MAJOR,
  CLEANING_RULES_VERSION,
  RULE_ORDER,
  type RuleName,
} from './cleaning/rules.js';
export { VERSION } from './version.js';
