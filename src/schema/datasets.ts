/**
 * Canonical schemas of the raw tick datasets (one per Tardis data type), the vendor CSV columns they
 * come from, and how files of each are sorted. docs/SCHEMAS.md is the prose version of this file.
 */
import type { Field, Schema } from '../columns/types.js';

export const DATA_TYPES = [
  'trades',
  'incremental_book_L2',
  'book_snapshot_25',
  'book_snapshot_5',
  'quotes',
  'book_ticker',
  'derivative_ticker',
  'options_chain',
  'liquidations',
] as const;

export type DataType = (typeof DATA_TYPES)[number];

export function isDataType(s: string): s is DataType {
  return (DATA_TYPES as readonly string[]).includes(s);
}

/** Bumped when a canonical schema changes incompatibly; written into every file's footer. */
export const RAW_SCHEMA_VERSION = 1;

const ts = (name: string, description: string, nullable = false): Field => ({
  name,
  kind: 'timestamp',
  nullable,
  description,
});
const f64 = (name: string, description: string, nullable = true): Field => ({
  name,
  kind: 'float64',
  nullable,
  description,
});
const dict = (name: string, description: string, nullable = false): Field => ({
  name,
  kind: 'dict',
  nullable,
  description,
});

const TIMESTAMP = ts(
  'timestamp',
  'exchange time (µs, UTC); Tardis falls back to local_timestamp when the exchange gives none',
);
const LOCAL_TIMESTAMP = ts('local_timestamp', 'time the message was received by the recorder (µs, UTC)');
const INSTRUMENT_KEY = dict('instrument_key', 'canonical instrument key VENUE:TYPE:SYMBOL');

const TRADE_FIELDS: readonly Field[] = [
  TIMESTAMP,
  LOCAL_TIMESTAMP,
  {
    name: 'id',
    kind: 'utf8',
    nullable: true,
    description: 'trade id as given by the exchange (null when none)',
  },
  dict('side', 'taker side: buy | sell | unknown (liquidations: buy = a short was liquidated)'),
  f64('price', 'trade price', false),
  f64('amount', 'trade amount in the instrument’s amount unit (contracts for some derivatives)', false),
  INSTRUMENT_KEY,
];

const QUOTE_FIELDS: readonly Field[] = [
  TIMESTAMP,
  LOCAL_TIMESTAMP,
  f64('bid_price', 'best bid price (null when the bid side is empty)'),
  f64('bid_amount', 'amount at the best bid'),
  f64('ask_price', 'best ask price (null when the ask side is empty)'),
  f64('ask_amount', 'amount at the best ask'),
  INSTRUMENT_KEY,
];

function snapshotFields(levels: number): Field[] {
  const fields: Field[] = [TIMESTAMP, LOCAL_TIMESTAMP];
  for (let i = 0; i < levels; i++) {
    fields.push(
      f64(`bid_price_${i}`, `bid level ${i} price (0 = best; null when the book is thinner)`),
      f64(`bid_amount_${i}`, `bid level ${i} amount`),
      f64(`ask_price_${i}`, `ask level ${i} price (0 = best)`),
      f64(`ask_amount_${i}`, `ask level ${i} amount`),
    );
  }
  fields.push(INSTRUMENT_KEY);
  return fields;
}

export const CANONICAL_SCHEMAS: Readonly<Record<DataType, Schema>> = {
  trades: { fields: TRADE_FIELDS },
  liquidations: { fields: TRADE_FIELDS },
  incremental_book_L2: {
    fields: [
      TIMESTAMP,
      LOCAL_TIMESTAMP,
      {
        name: 'is_snapshot',
        kind: 'bool',
        nullable: false,
        description: 'row belongs to a snapshot run that replaces the book',
      },
      dict('side', 'bid | ask'),
      f64('price', 'price level', false),
      f64('amount', 'new absolute amount at the level (0 removes it)', false),
      INSTRUMENT_KEY,
    ],
  },
  book_snapshot_25: { fields: snapshotFields(25) },
  book_snapshot_5: { fields: snapshotFields(5) },
  quotes: { fields: QUOTE_FIELDS },
  book_ticker: { fields: QUOTE_FIELDS },
  derivative_ticker: {
    fields: [
      TIMESTAMP,
      LOCAL_TIMESTAMP,
      ts('funding_timestamp', 'time of the next funding event (µs, UTC)', true),
      f64('funding_rate', 'current funding rate'),
      f64('predicted_funding_rate', 'predicted next funding rate'),
      f64('open_interest', 'open interest'),
      f64('last_price', 'last traded price'),
      f64('index_price', 'index price'),
      f64('mark_price', 'mark price'),
      INSTRUMENT_KEY,
    ],
  },
  options_chain: {
    fields: [
      TIMESTAMP,
      LOCAL_TIMESTAMP,
      dict('instrument_key', 'canonical key of the option (the file holds one underlying)'),
      dict('option_type', 'call | put'),
      f64('strike_price', 'strike price', false),
      ts('expiration', 'expiry time (µs, UTC)'),
      f64('open_interest', 'open interest'),
      f64('last_price', 'last traded price'),
      f64('bid_price', 'best bid price'),
      f64('bid_amount', 'best bid amount'),
      f64('bid_iv', 'implied volatility at the bid'),
      f64('ask_price', 'best ask price'),
      f64('ask_amount', 'best ask amount'),
      f64('ask_iv', 'implied volatility at the ask'),
      f64('mark_price', 'mark price'),
      f64('mark_iv', 'implied volatility at the mark'),
      dict('underlying_index', 'name of the underlying index as given by the exchange', true),
      f64('underlying_price', 'underlying index price'),
      f64('delta', 'delta'),
      f64('gamma', 'gamma'),
      f64('vega', 'vega'),
      f64('theta', 'theta'),
      f64('rho', 'rho'),
    ],
  },
};

/** Sort order of files of each data type. Stable: ties keep vendor (arrival) order. */
export function sortKeyOf(dataType: DataType): readonly string[] {
  return dataType === 'options_chain' ? ['instrument_key', 'timestamp'] : ['timestamp'];
}

/** The Tardis CSV header of each data type, exactly as the vendor writes it. */
export function tardisCsvColumns(dataType: DataType): readonly string[] {
  const head = ['exchange', 'symbol', 'timestamp', 'local_timestamp'];
  switch (dataType) {
    case 'trades':
    case 'liquidations':
      return [...head, 'id', 'side', 'price', 'amount'];
    case 'incremental_book_L2':
      return [...head, 'is_snapshot', 'side', 'price', 'amount'];
    case 'book_snapshot_25':
    case 'book_snapshot_5': {
      const n = dataType === 'book_snapshot_25' ? 25 : 5;
      const cols = [...head];
      for (let i = 0; i < n; i++) {
        cols.push(`asks[${i}].price`, `asks[${i}].amount`, `bids[${i}].price`, `bids[${i}].amount`);
      }
      return cols;
    }
    case 'quotes':
    case 'book_ticker':
      return [...head, 'ask_amount', 'ask_price', 'bid_price', 'bid_amount'];
    case 'derivative_ticker':
      return [
        ...head,
        'funding_timestamp',
        'funding_rate',
        'predicted_funding_rate',
        'open_interest',
        'last_price',
        'index_price',
        'mark_price',
      ];
    case 'options_chain':
      return [
        ...head,
        'type',
        'strike_price',
        'expiration',
        'open_interest',
        'last_price',
        'bid_price',
        'bid_amount',
        'bid_iv',
        'ask_price',
        'ask_amount',
        'ask_iv',
        'mark_price',
        'mark_iv',
        'underlying_index',
        'underlying_price',
        'delta',
        'gamma',
        'vega',
        'theta',
        'rho',
      ];
  }
}
