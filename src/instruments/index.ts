/** Instrument definition sources: vendor instrument lists → canonical `InstrumentDefinition`s. */
export {
  BINANCE_VENDOR_EXCHANGE,
  type BinanceMarket,
  definitionsFromBinanceExchangeInfo,
} from './binance.js';
export { definitionsFromDeribitInstruments } from './deribit.js';
export { definitionAt } from './history.js';
export { definitionsFromTardisExchange, definitionsFromTardisInstruments, vendorSpelling } from './tardis.js';
export type {
  DefinitionChange,
  DefinitionSet,
  DefinitionWithHistory,
  InstrumentDefinition,
  SkippedInstrument,
} from './types.js';
