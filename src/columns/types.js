/**
 * The in-memory columnar representation used on every bulk path (parse → sort → Parquet write).
 * No object per row: each column is one or two typed arrays.
 *
 * Rules every producer and consumer follows:
 * - All arrays of a batch are exactly `length` long (`offsets` is `length + 1`); they may be views
 *   (`subarray`) into larger buffers.
 * - `validity` is `null` when every value is present; otherwise `validity[i] === 1` means present and
 *   `0` means null. The value slot of a null is unspecified (0 / NaN / empty string).
 * - Timestamps are microseconds since the Unix epoch (UTC) held as exact integers in a Float64Array
 *   (exact up to 2^53 µs, i.e. the year 2255). Conversion to Arrow/Parquet INT64 happens at the edge.
 */
export {};
