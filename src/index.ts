/**
 * ticklake — the library. `openLake` is the front door; the rest are the building blocks it uses,
 * exported for programs that need them (keys, schemas, errors, the Parquet reader/writer).
 */
export { openLake, Lake, type OpenLakeOptions } from './lake/lake.js';
export type { ReadRequest, TimeLike } from './lake/read.js';
export type { IngestRequest, IngestSummary, IngestEvent, IngestTaskReport } from './pipeline/ingest.js';
export type { FileRecord, TaskRecord, TaskKey, Catalog } from './catalog/types.js';
export type { Storage } from './lake/storage.js';
export { loadConfig, type TicklakeConfig } from './config.js';
export * from './errors.js';
export { DATA_TYPES, type DataType, CANONICAL_SCHEMAS, RAW_SCHEMA_VERSION } from './schema/datasets.js';
export type { ColumnBatch, Column, Field, Schema } from './columns/types.js';
export * from './keys/index.js';
export { ParquetReader } from './parquet/reader.js';
export { ParquetWriter } from './parquet/writer.js';
export { VERSION } from './version.js';
