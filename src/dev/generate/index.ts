/**
 * Realistic generated Tardis CSV.gz files, for tests, benchmarks and the demo (no vendor account
 * needed). Output is laid out like the vendor's URLs (what `startTardisServer` serves) and always
 * carries a `{file}.generated.json` sidecar, so generated data is never mistaken for vendor data.
 *
 * Realism that matters downstream:
 * - timestamps in µs spread over the UTC day, bursty; files ordered by `local_timestamp`; `timestamp`
 *   = receive time minus a jittered latency, so a small share of rows is out of exchange-time order;
 *   millisecond exchange clocks where the venue has them;
 * - prices are integer ticks (a mean-reverting random walk) and amounts integer lots, printed from
 *   integers, so no float noise (`9682.5`, never `9682.500000001`);
 * - books are consistent: levels monotone, bid < ask, `incremental_book_L2` opens with an
 *   `is_snapshot=true` run and removes levels with `amount=0`; quotes/book_ticker follow that book.
 *
 * Deterministic from `seed` (mulberry32, no Math.random) and streamed: lines are written as bytes into 1 MiB
 * chunks that are gzipped with backpressure, so 20 M rows never sit in memory.
 */
export {
  type GenerateDatasetOptions,
  type GeneratedDataset,
  type GeneratedSidecar,
  generateTardisDataset,
} from './dataset.js';
export { formatUnits } from './format.js';
export { Rng } from './rng.js';
export { type GenerateSampleOptions, generateTardisSample } from './sample.js';
