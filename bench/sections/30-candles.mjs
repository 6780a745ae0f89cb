// Issue #5: the candle engine (all seven timeframes, all trade features) on a 5 M-trade day vs DuckDB
// SQL computing the same columns, and vs tardis-dev's computeTradeBars for the OHLCV part.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { compute, computeTradeBars } from 'tardis-dev';
import { CandleEngine } from '../../dist/candles/engine.js';
import { arrowToBatch } from '../../dist/columns/arrow.js';
import { generateTardisDataset } from '../../dist/dev/generate.js';
import { startTardisServer } from '../../dist/dev/tardis-server.js';
import { openLake } from '../../dist/index.js';
import { DAY, ensureGenerated, log, QUICK, TMP, time } from '../lib.mjs';

const ROWS = QUICK ? 1_000_000 : 5_000_000;
const TARDIS_ROWS = QUICK ? 200_000 : 500_000;
const KEY = 'BINANCE:SPOT_PAIR:BTC-USDT';
const TFS = [15, 60, 300, 900, 3600, 14400, 86400]; // seconds

export const notes = [
  'Candles: the engine is timed from trade columns in memory (read from the lake’s Parquet beforehand) to closed bars for all seven timeframes with every trade feature (OHLCV, quote volume, VWAP, counts, buy/sell split, first/last trade time, log return, realized variance, order-flow imbalance, max/mean trade size; double-double sums). DuckDB runs SQL computing the same columns for the seven timeframes directly from the same Parquet file (trade-to-trade returns by a window, empty buckets filled), using both cores; the file is sorted by timestamp, so file order (`file_row_number`) gives first/last trade and the previous trade.',
  `tardis-dev's computeTradeBars (7 time-bar computables, one per timeframe, via compute()) consumes one JS object per trade, so it runs on the first ${TARDIS_ROWS.toLocaleString()} trades (message objects built before timing) and its time is scaled linearly to the full day; it computes OHLCV + buy/sell volume + VWAP only.`,
  'Generated data (labelled generated), the same 5 M-trade BTCUSDT day as the ingest section, plus 2 M generated quotes for the quote-feature row (DuckDB: time-weighted spread/mid/imbalance per bucket by splitting each quote interval over the buckets it spans; close bid/ask by an ASOF join on the last quote of each timestamp; one run, as it is slow).',
];

const QUOTE_ROWS = QUICK ? 400_000 : 2_000_000;

/** Generated quotes for the same instrument/day (labelled generated), cached next to the trades. */
async function ensureQuotes() {
  const dir = join(TMP, 'vendor');
  const sidecar = join(dir, 'binance', 'quotes', '2024', '08', '01', 'BTCUSDT.csv.gz.generated.json');
  if (existsSync(sidecar) && JSON.parse(readFileSync(sidecar, 'utf8')).rows === QUOTE_ROWS) return;
  log(
    `generating ${QUOTE_ROWS.toLocaleString()} quote rows for BTCUSDT (generated data, cached in bench/tmp)…`,
  );
  await generateTardisDataset({
    dir,
    exchange: 'binance',
    dataType: 'quotes',
    symbol: 'BTCUSDT',
    day: DAY,
    rows: QUOTE_ROWS,
    seed: 9,
  });
}

async function lakeWithTrades() {
  await ensureGenerated('BTCUSDT', ROWS, 7);
  await ensureQuotes();
  const lakeDir = join(TMP, 'lake-candles');
  let lake = await openLake({ root: lakeDir });
  const count = async (dataType) =>
    (await lake.files({ dataset: 'raw_tick_data', dataType, instrumentKey: KEY })).reduce(
      (n, f) => n + f.rows,
      0,
    );
  if ((await count('trades')) !== ROWS || (await count('quotes')) !== QUOTE_ROWS) {
    await lake.close();
    rmSync(lakeDir, { recursive: true, force: true });
    const server = await startTardisServer({ dir: join(TMP, 'vendor'), port: 0 });
    try {
      lake = await openLake({ root: lakeDir, config: { tardis: { datasetsUrl: server.url } } });
      const s = await lake.ingest({
        exchange: 'binance',
        dataTypes: ['trades', 'quotes'],
        symbols: ['BTCUSDT'],
        from: DAY,
        to: DAY,
      });
      if (s.failed > 0) throw new Error('bench ingest failed');
    } finally {
      await server.close();
    }
  }
  const pathOf = async (dataType) =>
    join(lakeDir, (await lake.files({ dataset: 'raw_tick_data', dataType, instrumentKey: KEY }))[0].path);
  return { lake, path: await pathOf('trades'), quotesPath: await pathOf('quotes') };
}

/** DuckDB: the quote features of one timeframe (time-weighted, quote in force at the bucket end). */
function duckQuoteSql(w) {
  const day0 = Date.parse(`${DAY}T00:00:00Z`) * 1000;
  return `
    WITH q AS (
      SELECT ts, bid_price, ask_price, coalesce(lead(ts) OVER (ORDER BY ts, fn), ${day0 + 86_400_000_000}) AS te,
        ask_price - bid_price AS spread, (bid_price + ask_price) / 2 AS mid,
        CASE WHEN bid_amount + ask_amount > 0 THEN (bid_amount - ask_amount) / (bid_amount + ask_amount) END AS imb
      FROM qt
    ),
    qs AS (SELECT ts, te, spread, mid, imb, unnest(range((ts - ${day0}) // ${w}, (te - 1 - ${day0}) // ${w} + 1)) AS j FROM q WHERE te > ts),
    qa AS (SELECT j, least(te, ${day0} + (j + 1) * ${w}) - greatest(ts, ${day0} + j * ${w}) AS dt, spread, mid, imb FROM qs),
    agg AS (
      SELECT j,
        sum(spread * dt) FILTER (WHERE mid IS NOT NULL) / sum(dt) FILTER (WHERE mid IS NOT NULL) AS mean_spread,
        sum(mid * dt) FILTER (WHERE mid IS NOT NULL) / sum(dt) FILTER (WHERE mid IS NOT NULL) AS twap_mid,
        sum(imb * dt) FILTER (WHERE imb IS NOT NULL) / sum(dt) FILTER (WHERE imb IS NOT NULL) AS mean_top_imbalance,
        ${day0} + (j + 1) * ${w} AS bucket_end
      FROM qa GROUP BY j
    )
    SELECT agg.*, qd.bid_price AS close_bid, qd.ask_price AS close_ask
    FROM agg ASOF LEFT JOIN qd ON agg.bucket_end > qd.ts ORDER BY j`;
}

function duckSql(w) {
  return `
    WITH g AS (
      SELECT (ts - ${Date.parse(`${DAY}T00:00:00Z`) * 1000}) // ${w} AS j,
        count(*) AS n, count(*) FILTER (WHERE side = 'buy') AS nb, count(*) FILTER (WHERE side = 'sell') AS ns,
        arg_min(price, fn) AS o, max(price) AS h, min(price) AS l, arg_max(price, fn) AS c,
        sum(amount) AS vol, sum(price * amount) AS qv,
        coalesce(sum(amount) FILTER (WHERE side = 'buy'), 0) AS bv, coalesce(sum(amount) FILTER (WHERE side = 'sell'), 0) AS sv,
        min(ts) AS fts, max(ts) AS lts, max(amount) AS mx, coalesce(sum(lr * lr), 0) AS rv
      FROM t GROUP BY j
    ),
    b AS (SELECT unnest(range((SELECT min(j) FROM g), ${86_400_000_000 / w})) AS j),
    f AS (
      SELECT b.j, g.* EXCLUDE (j), last_value(c IGNORE NULLS) OVER (ORDER BY b.j ROWS UNBOUNDED PRECEDING) AS cf
      FROM b LEFT JOIN g ON g.j = b.j
    )
    SELECT j, coalesce(o, cf) AS open, coalesce(h, cf) AS high, coalesce(l, cf) AS low, cf AS close,
      coalesce(vol, 0) AS volume, coalesce(qv, 0) AS quote_volume, qv / vol AS vwap, coalesce(n, 0) AS trade_count,
      coalesce(bv, 0) AS buy_volume, coalesce(sv, 0) AS sell_volume, coalesce(nb, 0) AS buy_count, coalesce(ns, 0) AS sell_count,
      fts, lts, ln(cf / lag(cf) OVER (ORDER BY j)) AS log_return, coalesce(rv, 0) AS realized_variance,
      (bv - sv) / vol AS order_flow_imbalance, mx AS max_trade_amount, vol / n AS mean_trade_amount
    FROM f ORDER BY j`;
}

export async function bench() {
  const { lake, path, quotesPath } = await lakeWithTrades();
  const table = await lake.read({
    dataset: 'trades',
    key: KEY,
    from: DAY,
    to: '2024-08-02',
    columns: ['timestamp', 'price', 'amount', 'side'],
  });
  const batch = arrowToBatch(table, {
    fields: [
      { name: 'timestamp', kind: 'timestamp', nullable: false },
      { name: 'price', kind: 'float64', nullable: false },
      { name: 'amount', kind: 'float64', nullable: false },
      { name: 'side', kind: 'dict', nullable: false },
    ],
  });
  const qtable = await lake.read({
    dataset: 'quotes',
    key: KEY,
    from: DAY,
    to: '2024-08-02',
    columns: ['timestamp', 'bid_price', 'bid_amount', 'ask_price', 'ask_amount'],
  });
  const qbatch = arrowToBatch(qtable, {
    fields: ['timestamp', 'bid_price', 'bid_amount', 'ask_price', 'ask_amount'].map((name) => ({
      name,
      kind: name === 'timestamp' ? 'timestamp' : 'float64',
      nullable: name !== 'timestamp',
    })),
  });
  await lake.close();
  const n = batch.length;
  log(`candles: ${n.toLocaleString()} trades`);

  let bars = 0;
  const engine = () => {
    const e = new CandleEngine();
    const closed = e.push(batch);
    const rest = e.flush();
    bars = 0;
    for (const m of [closed, rest]) for (const b of m.values()) bars += b.length;
  };
  engine();
  const oursMs = await time(async () => engine(), 5);

  const instance = await DuckDBInstance.create(':memory:');
  const duck = await instance.connect();
  const duckMs = await time(async () => {
    await duck.run(`CREATE OR REPLACE TEMP TABLE t AS
      SELECT epoch_us("timestamp") AS ts, price, amount, side::VARCHAR AS side, file_row_number AS fn,
        ln(price / lag(price) OVER (ORDER BY file_row_number)) AS lr
      FROM read_parquet('${path}', file_row_number = true)`);
    for (const s of TFS) await duck.runAndReadAll(duckSql(s * 1_000_000));
  }, 3);
  // With quote features: the engine also takes the day's quotes; DuckDB also computes the quote columns.
  let qbars = 0;
  const engineQ = () => {
    const e = new CandleEngine({ quotes: true });
    const a = e.pushQuotes(qbatch);
    const b = e.push(batch);
    const c = e.flush();
    qbars = 0;
    for (const m of [a, b, c]) for (const x of m.values()) qbars += x.length;
  };
  engineQ();
  const oursQMs = await time(async () => engineQ(), 5);
  const duckQMs = await time(async () => {
    await duck.run(`CREATE OR REPLACE TEMP TABLE t AS
      SELECT epoch_us("timestamp") AS ts, price, amount, side::VARCHAR AS side, file_row_number AS fn,
        ln(price / lag(price) OVER (ORDER BY file_row_number)) AS lr
      FROM read_parquet('${path}', file_row_number = true)`);
    await duck.run(`CREATE OR REPLACE TEMP TABLE qt AS
      SELECT epoch_us("timestamp") AS ts, bid_price, ask_price, bid_amount, ask_amount, file_row_number AS fn
      FROM read_parquet('${quotesPath}', file_row_number = true)`);
    await duck.run(
      'CREATE OR REPLACE TEMP TABLE qd AS SELECT * FROM qt QUALIFY row_number() OVER (PARTITION BY ts ORDER BY fn DESC) = 1',
    );
    for (const s of TFS) {
      await duck.runAndReadAll(duckSql(s * 1_000_000));
      await duck.runAndReadAll(duckQuoteSql(s * 1_000_000));
    }
  }, 1);
  log(`candles with quotes: ${qbatch.length.toLocaleString()} quotes, ${qbars} bars`);
  duck.closeSync();

  // tardis-dev: one message object per trade (built before timing), 7 time-bar computables.
  const m = Math.min(TARDIS_ROWS, n);
  const ts = batch.columns.timestamp.values;
  const price = batch.columns.price.values;
  const amount = batch.columns.amount.values;
  const side = batch.columns.side;
  const messages = new Array(m);
  for (let i = 0; i < m; i++) {
    const d = new Date(Math.floor(ts[i] / 1000));
    messages[i] = {
      type: 'trade',
      symbol: 'BTCUSDT',
      exchange: 'binance',
      id: undefined,
      price: price[i],
      amount: amount[i],
      side: side.dictionary[side.indices[i]],
      timestamp: d,
      localTimestamp: d,
    };
  }
  async function* feed() {
    for (const msg of messages) yield msg;
  }
  let tardisBars = 0;
  const tardisMs =
    (await time(async () => {
      tardisBars = 0;
      const it = compute(feed(), ...TFS.map((s) => computeTradeBars({ kind: 'time', interval: s * 1000 })));
      for await (const x of it) if (x.type === 'trade_bar') tardisBars++;
    }, 1)) *
    (n / m);
  log(`candles: ours ${bars} bars; tardis-dev ${tardisBars} bars on ${m.toLocaleString()} trades`);

  return [
    {
      what: `candles: ${n.toLocaleString()} trades + ${qbatch.length.toLocaleString()} quotes → 7 timeframes, all features incl. quote features`,
      ours: oursQMs,
      ref: duckQMs,
      refName: 'DuckDB SQL, same columns',
      goal: '≥ 3× faster',
    },
    {
      what: `candles: ${n.toLocaleString()}-trade day → 7 timeframes, all trade features (engine, in memory)`,
      ours: oursMs,
      ref: duckMs,
      refName: 'DuckDB SQL, same columns',
      goal: '≥ 3× faster',
    },
    {
      what: `candles: ${n.toLocaleString()}-trade day → 7 timeframes, OHLCV (tardis-dev scaled from ${m.toLocaleString()} trades)`,
      ours: oursMs,
      ref: tardisMs,
      refName: 'tardis-dev computeTradeBars',
      goal: '≥ 100× faster',
    },
  ];
}
