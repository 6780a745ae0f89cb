// One ingest in a fresh process, so its peak RSS is its own. Prints one JSON line.
import { openLake } from '../dist/index.js';

const [lakeDir, datasetsUrl, exchange, dataType, symbol, day] = process.argv.slice(2);
const lake = await openLake({ root: lakeDir, config: { tardis: { datasetsUrl, apiKey: undefined } } });
const t0 = performance.now();
const s = await lake.ingest({
  exchange,
  dataTypes: [dataType],
  symbols: [symbol],
  from: day,
  to: day,
  concurrency: 1,
});
const seconds = (performance.now() - t0) / 1000;
await lake.close();
if (s.failed > 0) {
  console.error(JSON.stringify(s.reports));
  process.exit(1);
}
console.log(
  JSON.stringify({
    seconds,
    rows: s.rows,
    bytes: s.bytes,
    downloaded: s.downloaded,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
