/**
 * ticklake — the library. `openLake` is the front door; the rest are the building blocks it uses,
 * exported for programs that need them (keys, schemas, errors, the Parquet reader/writer).
 */

export type { Catalog, FileRecord, TaskKey, TaskRecord } from './catalog/types.js';
export type { Column, ColumnBatch, Field, Schema } from './columns/types.js';
export { loadConfig, type TicklakeConfig } from './config.js';
export * from './errors.js';
export * from './keys/index.js';
export { Lake, type OpenLakeOptions, openLake } from './lake/lake.js';
export type { ReadRequest, TimeLike } from './lake/read.js';
export type { Storage } from './lake/storage.js';
export { ParquetReader } from './parquet/reader.js';
export { ParquetWriter } from './parquet/writer.js';
export type { IngestEvent, IngestRequest, IngestSummary, IngestTaskReport } from './pipeline/ingest.js';
export { CANONICAL_SCHEMAS, DATA_TYPES, type DataType, RAW_SCHEMA_VERSION } from './schema/datasets.js';
export { VERSION } from './version.js';
