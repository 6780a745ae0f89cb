/** Which generator writes which data type. */
import type { DataType } from '../../schema/datasets.js';
import { genIncrementalL2, genQuotes, genSnapshots } from './books.js';
import type { Generator } from './context.js';
import { genDerivativeTicker } from './derivatives.js';
import { genOptionsChain } from './options.js';
import { genTrades } from './trades.js';

export const GENERATORS: Readonly<Record<DataType, Generator>> = {
  trades: (ctx) => genTrades(ctx, false),
  liquidations: (ctx) => genTrades(ctx, true),
  incremental_book_L2: genIncrementalL2,
  book_snapshot_25: (ctx) => genSnapshots(ctx, 25),
  book_snapshot_5: (ctx) => genSnapshots(ctx, 5),
  quotes: genQuotes,
  book_ticker: genQuotes,
  derivative_ticker: genDerivativeTicker,
  options_chain: genOptionsChain,
};
