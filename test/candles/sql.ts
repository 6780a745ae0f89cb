/**
 * The independent candle implementation: DuckDB SQL over the raw Parquet files, following the rules
 * in docs/SCHEMAS.md ("Candles") — nothing is shared with src/candles. Sums that must be exact are
 * computed exactly: each double is scaled by 2^80 (exact), cast to HUGEINT (exact for the amounts and
 * prices of real data) and summed as integers; the exact sum is rounded once to a double in JS
 * (`Number(BigInt)` rounds to nearest). Averages are plain DuckDB doubles (compared within 1e-9).
 */
import { duckRows, sqlString } from '../helpers/duck.js';

const DAY = 86_400_000_000;

export interface SqlCandle {
  ts: number;
  trade_count: number;
  buy_count: number;
  sell_count: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quote_volume: number;
  buy_volume: number;
  sell_volume: number;
  first_trade_ts: number | null;
  last_trade_ts: number | null;
  max_trade_amount: number | null;
  vwap: number | null;
  mean_trade_amount: number | null;
  log_return: number | null;
  realized_variance: number;
  order_flow_imbalance: number | null;
  mean_spread: number | null;
  twap_mid: number | null;
  close_bid: number | null;
  close_ask: number | null;
  mean_top_imbalance: number | null;
}

const exact = (s: unknown): number => Number(BigInt(String(s))) / 2 ** 80;
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Candles of every day in `[fromUs, toUs)` (whole days) for one timeframe of `w` µs, from `tradeFiles`
 * (and `quoteFiles`). Trade-to-trade returns and the previous close run across days inside the window.
 */
export async function sqlCandles(opts: {
  tradeFiles: readonly string[];
  quoteFiles?: readonly string[];
  fromUs: number;
  toUs: number;
  w: number;
}): Promise<SqlCandle[]> {
  const { fromUs, toUs, w } = opts;
  const files = `[${opts.tradeFiles.map(sqlString).join(', ')}]`;
  const scaled = (e: string) => `(${e} * power(2, 80))::HUGEINT`;
  const hasQuotes = (opts.quoteFiles ?? []).length > 0;
  const quoteCtes = hasQuotes
    ? `,
    q0 AS (
      SELECT epoch_us("timestamp") AS ts, bid_price, ask_price, bid_amount, ask_amount, filename AS fname, file_row_number AS fn
      FROM read_parquet([${opts.quoteFiles!.map(sqlString).join(', ')}], filename = true, file_row_number = true)
      WHERE epoch_us("timestamp") >= ${fromUs} AND epoch_us("timestamp") < ${toUs}
    ),
    q1 AS (
      SELECT *, (ts // ${DAY}) * ${DAY} AS day_us FROM q0
      QUALIFY row_number() OVER (PARTITION BY ts ORDER BY fname DESC, fn DESC) = 1
    ),
    q AS (
      SELECT *, coalesce(lead(ts) OVER (PARTITION BY day_us ORDER BY ts), day_us + ${DAY}) AS te,
        ask_price - bid_price AS spread, (bid_price + ask_price) / 2 AS mid,
        CASE WHEN bid_amount + ask_amount > 0 THEN (bid_amount - ask_amount) / (bid_amount + ask_amount) END AS imb
      FROM q1
    ),
    qs AS (
      SELECT day_us, ts, te, spread, mid, imb,
        unnest(range((ts - day_us) // ${w}, (te - 1 - day_us) // ${w} + 1)) AS j
      FROM q WHERE te > ts
    ),
    qa AS (
      SELECT day_us, j, least(te, day_us + (j + 1) * ${w}) - greatest(ts, day_us + j * ${w}) AS dt, spread, mid, imb FROM qs
    ),
    qagg AS (
      SELECT day_us, j,
        sum(spread * dt) FILTER (WHERE mid IS NOT NULL) / sum(dt) FILTER (WHERE mid IS NOT NULL) AS mean_spread,
        sum(mid * dt) FILTER (WHERE mid IS NOT NULL) / sum(dt) FILTER (WHERE mid IS NOT NULL) AS twap_mid,
        sum(imb * dt) FILTER (WHERE imb IS NOT NULL) / sum(dt) FILTER (WHERE imb IS NOT NULL) AS mean_top_imbalance
      FROM qa GROUP BY day_us, j
    )`
    : '';
  const sql = `
    WITH t0 AS (
      SELECT epoch_us("timestamp") AS ts, price, amount, side::VARCHAR AS side, filename AS fname, file_row_number AS fn
      FROM read_parquet(${files}, filename = true, file_row_number = true)
      WHERE epoch_us("timestamp") >= ${fromUs} AND epoch_us("timestamp") < ${toUs}
    ),
    t AS (
      SELECT *, (ts // ${DAY}) * ${DAY} AS day_us, ln(price / lag(price) OVER (ORDER BY ts, fname, fn)) AS lr FROM t0
    ),
    g AS (
      SELECT day_us, (ts - day_us) // ${w} AS j,
        count(*) AS n,
        count(*) FILTER (WHERE side = 'buy') AS nb,
        count(*) FILTER (WHERE side = 'sell') AS ns,
        first(price ORDER BY ts, fname, fn) AS o, max(price) AS h, min(price) AS l,
        last(price ORDER BY ts, fname, fn) AS c,
        sum(${scaled('amount')})::VARCHAR AS vol_i,
        sum(${scaled('price * amount')})::VARCHAR AS qv_i,
        coalesce(sum(${scaled('amount')}) FILTER (WHERE side = 'buy'), 0)::VARCHAR AS buy_i,
        coalesce(sum(${scaled('amount')}) FILTER (WHERE side = 'sell'), 0)::VARCHAR AS sell_i,
        sum(amount) AS vol_d, sum(price * amount) AS qv_d,
        coalesce(sum(amount) FILTER (WHERE side = 'buy'), 0) AS buy_d,
        coalesce(sum(amount) FILTER (WHERE side = 'sell'), 0) AS sell_d,
        min(ts) AS fts, max(ts) AS lts, max(amount) AS mx,
        coalesce(sum(lr * lr), 0) AS rv
      FROM t GROUP BY ALL
    ),
    firsts AS (SELECT day_us, min(j) AS j0 FROM g GROUP BY day_us),
    buckets AS (SELECT day_us, unnest(range(j0, ${DAY / w})) AS j FROM firsts),
    joined AS (
      SELECT b.day_us, b.j, b.day_us + b.j * ${w} AS bts, g.* EXCLUDE (day_us, j)
      FROM buckets b LEFT JOIN g ON g.day_us = b.day_us AND g.j = b.j
    ),
    filled AS (
      SELECT *, last_value(c IGNORE NULLS) OVER (ORDER BY bts ROWS UNBOUNDED PRECEDING) AS cf FROM joined
    ),
    bars AS (SELECT *, lag(cf) OVER (ORDER BY bts) AS prev_c FROM filled)${quoteCtes}
    SELECT bars.bts, coalesce(n, 0) AS n, coalesce(nb, 0) AS nb, coalesce(ns, 0) AS ns,
      coalesce(o, cf) AS o, coalesce(h, cf) AS h, coalesce(l, cf) AS l, cf AS c,
      coalesce(vol_i, '0') AS vol_i, coalesce(qv_i, '0') AS qv_i, coalesce(buy_i, '0') AS buy_i, coalesce(sell_i, '0') AS sell_i,
      vol_d, qv_d, buy_d, sell_d, fts, lts, mx, coalesce(rv, 0) AS rv,
      ln(cf / prev_c) AS lr
      ${hasQuotes ? ', qagg.mean_spread, qagg.twap_mid, qagg.mean_top_imbalance, qc.bid_price AS close_bid, qc.ask_price AS close_ask' : ''}
    FROM bars
    ${
      hasQuotes
        ? `LEFT JOIN qagg ON qagg.day_us = bars.day_us AND qagg.j = bars.j
           ASOF LEFT JOIN q1 qc ON qc.day_us = bars.day_us AND bars.bts + ${w} > qc.ts`
        : ''
    }
    ORDER BY bars.bts`;
  const rows = await duckRows(sql);
  return rows.map((r) => {
    const n = Number(r.n);
    const volume = exact(r.vol_i);
    return {
      ts: Number(r.bts),
      trade_count: n,
      buy_count: Number(r.nb),
      sell_count: Number(r.ns),
      open: Number(r.o),
      high: Number(r.h),
      low: Number(r.l),
      close: Number(r.c),
      volume,
      quote_volume: exact(r.qv_i),
      buy_volume: exact(r.buy_i),
      sell_volume: exact(r.sell_i),
      first_trade_ts: num(r.fts),
      last_trade_ts: num(r.lts),
      max_trade_amount: num(r.mx),
      vwap: n > 0 && Number(r.vol_d) > 0 ? Number(r.qv_d) / Number(r.vol_d) : null,
      mean_trade_amount: n > 0 ? Number(r.vol_d) / n : null,
      log_return: num(r.lr),
      realized_variance: Number(r.rv),
      order_flow_imbalance:
        n > 0 && Number(r.vol_d) > 0 ? (Number(r.buy_d) - Number(r.sell_d)) / Number(r.vol_d) : null,
      mean_spread: num(r.mean_spread),
      twap_mid: num(r.twap_mid),
      close_bid: num(r.close_bid),
      close_ask: num(r.close_ask),
      mean_top_imbalance: num(r.mean_top_imbalance),
    };
  });
}

/** Our candle files read back by DuckDB, in the same shape. */
export async function lakeCandles(files: readonly string[]): Promise<SqlCandle[]> {
  const rows = await duckRows(`
    SELECT epoch_us("timestamp") AS ts, * EXCLUDE ("timestamp", first_trade_ts, last_trade_ts),
      epoch_us(first_trade_ts) AS first_trade_ts, epoch_us(last_trade_ts) AS last_trade_ts
    FROM read_parquet([${files.map(sqlString).join(', ')}]) ORDER BY 1`);
  return rows.map((r) => {
    const o: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(r)) o[k] = num(v);
    return o as unknown as SqlCandle;
  });
}

export const EXACT_FIELDS = [
  'ts',
  'trade_count',
  'buy_count',
  'sell_count',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'quote_volume',
  'buy_volume',
  'sell_volume',
  'first_trade_ts',
  'last_trade_ts',
  'max_trade_amount',
] as const;

export const AVERAGE_FIELDS = [
  'vwap',
  'mean_trade_amount',
  'log_return',
  'realized_variance',
  'mean_spread',
  'twap_mid',
  'close_bid',
  'close_ask',
  'mean_top_imbalance',
] as const;

/** Differences between two candle lists (empty when equal under the rules); capped at 20 lines. */
export function diffCandles(ours: readonly SqlCandle[], ref: readonly SqlCandle[]): string[] {
  const out: string[] = [];
  if (ours.length !== ref.length) out.push(`rows: ours ${ours.length}, reference ${ref.length}`);
  const n = Math.min(ours.length, ref.length);
  for (let i = 0; i < n && out.length < 20; i++) {
    const a = ours[i]!;
    const b = ref[i]!;
    for (const f of EXACT_FIELDS) {
      if (a[f] !== b[f]) out.push(`row ${i} (${b.ts}) ${f}: ours ${a[f]}, reference ${b[f]}`);
    }
    for (const f of AVERAGE_FIELDS) {
      const x = a[f];
      const y = b[f];
      if (x === null || y === null) {
        if (x !== y) out.push(`row ${i} (${b.ts}) ${f}: ours ${x}, reference ${y}`);
        continue;
      }
      if (Math.abs(x - y) > 1e-9 * Math.max(Math.abs(x), Math.abs(y)) && Math.abs(x - y) > 1e-300) {
        out.push(`row ${i} (${b.ts}) ${f}: ours ${x}, reference ${y}`);
      }
    }
    const x = a.order_flow_imbalance;
    const y = b.order_flow_imbalance;
    if ((x === null) !== (y === null) || (x !== null && y !== null && Math.abs(x - y) > 1e-9)) {
      out.push(`row ${i} (${b.ts}) order_flow_imbalance: ours ${x}, reference ${y}`);
    }
  }
  return out;
}
