/** Our own Parquet writer and reader (see writer.ts / reader.ts). */
export type { CodecName } from './compression.js';
export {
  type ParquetColumnChunkInfo,
  type ParquetMetadata,
  ParquetReader,
  type ParquetReadOptions,
  type ParquetRowGroupInfo,
  ParquetUnsupportedError,
  readParquetMetadata,
} from './reader.js';
export { snappyCompress, snappyDecompress } from './snappy.js';
export {
  type ColumnSummary,
  DEFAULT_ZSTD_LEVEL,
  ParquetWriter,
  type ParquetWriterOptions,
  type ParquetWriteSummary,
} from './writer.js';
