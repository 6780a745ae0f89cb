/**
 * Child process of memory.test.ts (compiled to JS there, run with `node --expose-gc`): sorts
 * GENERATED trades-like rows (synthetic data, not market data) through the ExternalSorter and
 * prints one JSON line with the row count, order check and peak RSS.
 *
 * Usage: node --expose-gc memory-child.js <rows> <runRows> <tmpDir>
 */
import type { ColumnBatch, Schema } from '../../src/columns/types.js';
import { ExternalSorter } from '../../src/lake/sort.js';

const SCHEMA: Schema = {
  fields: [
    { name: 'timestamp', kind: 'timestamp', nullable: false },
    { name: 'local_timestamp', kind: 'timestamp', nullable: false },
    { name: 'id', kind: 'utf8', nullable: true },
    { name: 'side', kind: 'dict', nullable: false },
    { name: 'price', kind: 'float64', nullable: false },
    { name: 'amount', kind: 'float64', nullable: false },
    { name: 'instrument_key', kind: 'dict', nullable: false },
  ],
};

const encoder = new TextEncoder();

/** Generated batches: arrival-ordered local_timestamp, exchange timestamp with small local disorder. */
function* generated(total: number, batchRows: number): Generator<ColumnBatch> {
  let seed = 12345;
  const rand = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const t0 = 1_700_000_000_000_000;
  for (let row = 0; row < total; row += batchRows) {
    const n = Math.min(batchRows, total - row);
    const ts = new Float64Array(n);
    const lts = new Float64Array(n);
    const price = new Float64Array(n);
    const amount = new Float64Array(n);
    const side = new Int32Array(n);
    const ik = new Int32Array(n);
    const offsets = new Int32Array(n + 1);
    const data = new Uint8Array(n * 10);
    for (let i = 0; i < n; i++) {
      const g = row + i;
      lts[i] = t0 + g * 17;
      ts[i] = lts[i]! - 500 - Math.floor(rand() * 2_000);
      const id = encoder.encode(String(1_000_000_000 + g)); // 10 bytes
      data.set(id, i * 10);
      offsets[i + 1] = (i + 1) * 10;
      side[i] = rand() < 0.5 ? 0 : 1;
      price[i] = 30_000 + rand() * 100;
      amount[i] = rand();
    }
    yield {
      length: n,
      columns: {
        timestamp: { kind: 'timestamp', values: ts, validity: null },
        local_timestamp: { kind: 'timestamp', values: lts, validity: null },
        id: { kind: 'utf8', offsets, data, validity: null },
        side: { kind: 'dict', indices: side, dictionary: ['buy', 'sell', 'unknown'], validity: null },
        price: { kind: 'float64', values: price, validity: null },
        amount: { kind: 'float64', values: amount, validity: null },
        instrument_key: {
          kind: 'dict',
          indices: ik,
          dictionary: ['BINANCE:SPOT_PAIR:BTC-USDT'],
          validity: null,
        },
      },
    };
  }
}

async function main(): Promise<void> {
  const [rowsArg, runRowsArg, tmpDir] = process.argv.slice(2);
  const total = Number(rowsArg);
  const sorter = new ExternalSorter({
    schema: SCHEMA,
    sortKey: ['timestamp'],
    runRows: Number(runRowsArg),
    tmpDir: tmpDir!,
  });
  const started = performance.now();
  for (const batch of generated(total, 65_536)) await sorter.push(batch);
  let rows = 0;
  let outOfOrder = 0;
  let prev = Number.NEGATIVE_INFINITY;
  for await (const batch of sorter.finish()) {
    const col = batch.columns.timestamp;
    if (col?.kind !== 'timestamp') throw new Error('timestamp column missing');
    for (let i = 0; i < batch.length; i++) {
      const t = col.values[i]!;
      if (t < prev) outOfOrder++;
      prev = t;
    }
    rows += batch.length;
  }
  const ms = performance.now() - started;
  process.stdout.write(
    `${JSON.stringify({
      rows,
      outOfOrder,
      ms: Math.round(ms),
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      stats: sorter.stats,
    })}\n`,
  );
}

await main();
