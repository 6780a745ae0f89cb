/**
 * The candle schema (docs/SCHEMAS.md "Candles"): one row per bucket, bucket start in `timestamp`.
 * The same columns for every timeframe; the quote columns are null on days without quotes.
 */
import type { Schema } from '../columns/types.js';

/** Bumped when a candle column changes meaning; also part of the build's lineage. */
export const CANDLE_SCHEMA_VERSION = 1;

export const CANDLE_SCHEMA: Schema = {
  fields: [
    { name: 'timestamp', kind: 'timestamp', nullable: false, description: 'bucket start (µs, UTC)' },
    {
      name: 'open',
      kind: 'float64',
      nullable: false,
      description: 'first trade price (previous close when no trade)',
    },
    { name: 'high', kind: 'float64', nullable: false, description: 'highest trade price' },
    { name: 'low', kind: 'float64', nullable: false, description: 'lowest trade price' },
    { name: 'close', kind: 'float64', nullable: false, description: 'last trade price' },
    { name: 'volume', kind: 'float64', nullable: false, description: 'sum of amounts (all sides)' },
    { name: 'quote_volume', kind: 'float64', nullable: false, description: 'sum of price × amount' },
    {
      name: 'vwap',
      kind: 'float64',
      nullable: true,
      description: 'quote_volume / volume (null when volume is 0)',
    },
    { name: 'trade_count', kind: 'int64', nullable: false, description: 'number of trades' },
    {
      name: 'buy_volume',
      kind: 'float64',
      nullable: false,
      description: 'sum of amounts of buy-side (taker buy) trades',
    },
    {
      name: 'sell_volume',
      kind: 'float64',
      nullable: false,
      description: 'sum of amounts of sell-side trades',
    },
    { name: 'buy_count', kind: 'int64', nullable: false, description: 'number of buy-side trades' },
    { name: 'sell_count', kind: 'int64', nullable: false, description: 'number of sell-side trades' },
    { name: 'first_trade_ts', kind: 'timestamp', nullable: true, description: 'time of the first trade' },
    { name: 'last_trade_ts', kind: 'timestamp', nullable: true, description: 'time of the last trade' },
    { name: 'log_return', kind: 'float64', nullable: true, description: 'ln(close / previous close)' },
    {
      name: 'realized_variance',
      kind: 'float64',
      nullable: false,
      description: 'sum of squared trade-to-trade log returns of the trades in the bucket',
    },
    {
      name: 'order_flow_imbalance',
      kind: 'float64',
      nullable: true,
      description: '(buy_volume − sell_volume) / volume',
    },
    { name: 'max_trade_amount', kind: 'float64', nullable: true, description: 'largest trade amount' },
    { name: 'mean_trade_amount', kind: 'float64', nullable: true, description: 'volume / trade_count' },
    { name: 'mean_spread', kind: 'float64', nullable: true, description: 'time-weighted ask − bid' },
    { name: 'twap_mid', kind: 'float64', nullable: true, description: 'time-weighted (bid + ask) / 2' },
    {
      name: 'close_bid',
      kind: 'float64',
      nullable: true,
      description: 'best bid in force at the bucket end',
    },
    {
      name: 'close_ask',
      kind: 'float64',
      nullable: true,
      description: 'best ask in force at the bucket end',
    },
    {
      name: 'mean_top_imbalance',
      kind: 'float64',
      nullable: true,
      description: 'time-weighted (bid_amount − ask_amount) / (bid_amount + ask_amount)',
    },
  ],
};

export const CANDLE_COLUMNS: readonly string[] = CANDLE_SCHEMA.fields.map((f) => f.name);
