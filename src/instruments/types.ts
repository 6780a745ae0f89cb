/**
 * Canonical instrument definitions (INSTRUMENT_KEY.md "Instrument definition attributes"), produced by
 * every definition source (Tardis API, Binance exchangeInfo, Deribit get_instruments) through the same
 * small contract. Point in time: a definition carries the attributes in force on one day.
 */
import type { InstrumentType } from '../keys/key.js';

export interface InstrumentDefinition {
  instrumentKey: string;
  venue: string;
  instrumentType: InstrumentType;
  baseAsset: string;
  quoteAsset: string;
  settleAsset: string | null;
  /** UTC expiry time in ms (futures, options), else null. */
  expiry: number | null;
  strike: number | null;
  optionType: 'call' | 'put' | null;
  inverse: boolean | null;
  contractMultiplier: number | null;
  tickSize: number | null;
  /** Amount increment. */
  lotSize: number | null;
  minSize: number | null;
  makerFee: number | null;
  takerFee: number | null;
  /** Listing time (ms) when the vendor gives one. */
  listing: number | null;
  /** Availability interval at the vendor, [from, to) in ms; `to` null = still available. */
  availableFrom: number | null;
  availableTo: number | null;
  active: boolean | null;
  /** Vendor data types that exist for it (Tardis `dataTypes`), empty when unknown. */
  dataTypes: string[];
  vendor: 'tardis' | 'binance' | 'deribit';
  vendorExchange: string;
  vendorSymbol: string;
  /** Symbol as used in vendor dataset file names (Tardis `datasetId` / dataset symbol). */
  vendorDatasetSymbol: string | null;
  /** The vendor's own spelling of the currencies, when normalized (XBT → BTC). */
  vendorBase: string | null;
  vendorQuote: string | null;
}

/** A change of attributes over time: fields in force until `until` (ms, exclusive). */
export interface DefinitionChange {
  until: number;
  changes: Partial<
    Pick<
      InstrumentDefinition,
      'tickSize' | 'lotSize' | 'minSize' | 'makerFee' | 'takerFee' | 'contractMultiplier'
    >
  >;
}

/** A definition with its history: `base` is the latest state; `history` lists earlier states. */
export interface DefinitionWithHistory {
  definition: InstrumentDefinition;
  history: DefinitionChange[];
}

/** A vendor instrument a source could not give a key (combo, grouped dataset symbol, ...), with why. */
export interface SkippedInstrument {
  symbol: string;
  reason: string;
}

/**
 * What every definition source returns: one entry per keyed vendor instrument (keys unique, checked
 * with `assertUniqueKeys`) and the instruments that have no key. Sources without history give
 * `history: []`.
 */
export interface DefinitionSet {
  definitions: DefinitionWithHistory[];
  skipped: SkippedInstrument[];
}
