/**
 * Instrument availability by day: the columns of `instrument_availability/by_date/day=D/instruments.parquet`.
 *
 * A definition set is turned into columns once (`definitionTable`, one row per instrument, sorted by
 * key, with its availability interval as two Float64Arrays); each day is then a selection of rows
 * whose interval overlaps `[D 00:00, D+1 00:00)` UTC (`availabilityForDay`), with the attributes of
 * the few instruments that have a history patched to the values in force that day. So syncing N days
 * costs one parse + one column build + N cheap selections, not N full passes.
 *
 * The interval is the vendor's data availability `[availableFrom, availableTo)` when known, else
 * `[listing, expiry)`; an unknown start is −∞ and an unknown end +∞. Attributes "in force that day"
 * are those at `max(D 00:00, interval start)` — the state the day began with (or was listed with);
 * a change during the day shows from the next day on (the full change history is kept in
 * `ticklake instruments show`).
 */
import { createHash } from 'node:crypto';
import { BoolBuilder, DictBuilder, Float64Builder, Utf8Builder } from '../columns/builders.js';
import { takeBatch } from '../columns/ops.js';
import type { Column, ColumnBatch, Float64Column, Schema, Utf8Column } from '../columns/types.js';
import { type Day, dayStartMs, MICROS_PER_DAY } from '../util/time.js';
import { definitionAt } from './history.js';
import type { DefinitionWithHistory, InstrumentDefinition } from './types.js';

export const AVAILABILITY_SCHEMA_VERSION = 1;

export const AVAILABILITY_SCHEMA: Schema = {
  fields: [
    { name: 'instrument_key', kind: 'utf8', nullable: false, description: 'canonical key VENUE:TYPE:SYMBOL' },
    { name: 'venue', kind: 'dict', nullable: false, description: 'trading venue (BINANCE, DERIBIT, ...)' },
    {
      name: 'instrument_type',
      kind: 'dict',
      nullable: false,
      description: 'SPOT_PAIR, PERP, FUTURE, OPTION, ...',
    },
    { name: 'base_asset', kind: 'dict', nullable: false, description: 'base currency (underlying base)' },
    { name: 'quote_asset', kind: 'dict', nullable: false, description: 'quote currency (underlying quote)' },
    {
      name: 'settle_asset',
      kind: 'dict',
      nullable: true,
      description: 'settlement currency (null for spot)',
    },
    { name: 'expiry', kind: 'timestamp', nullable: true, description: 'expiry time UTC (futures, options)' },
    { name: 'strike', kind: 'float64', nullable: true, description: 'option strike' },
    { name: 'option_type', kind: 'dict', nullable: true, description: 'call or put' },
    { name: 'inverse', kind: 'bool', nullable: true, description: 'inverse (coin-margined) contract' },
    { name: 'contract_multiplier', kind: 'float64', nullable: true, description: 'contract size/multiplier' },
    { name: 'tick_size', kind: 'float64', nullable: true, description: 'price increment in force that day' },
    { name: 'lot_size', kind: 'float64', nullable: true, description: 'amount increment in force that day' },
    { name: 'min_size', kind: 'float64', nullable: true, description: 'minimum order amount that day' },
    { name: 'maker_fee', kind: 'float64', nullable: true, description: 'maker fee that day' },
    { name: 'taker_fee', kind: 'float64', nullable: true, description: 'taker fee that day' },
    {
      name: 'listing',
      kind: 'timestamp',
      nullable: true,
      description: 'listing time, when the vendor gives one',
    },
    {
      name: 'available_from',
      kind: 'timestamp',
      nullable: true,
      description: 'start of the availability interval',
    },
    {
      name: 'available_to',
      kind: 'timestamp',
      nullable: true,
      description: 'end (exclusive); null = still available',
    },
    { name: 'active', kind: 'bool', nullable: true, description: 'active at the vendor when synced' },
    {
      name: 'data_types',
      kind: 'dict',
      nullable: false,
      description: 'vendor data types, comma-separated ("" = unknown)',
    },
    {
      name: 'vendor',
      kind: 'dict',
      nullable: false,
      description: 'definition source: tardis, binance, deribit',
    },
    {
      name: 'vendor_exchange',
      kind: 'dict',
      nullable: false,
      description: 'vendor exchange id (Tardis ids)',
    },
    { name: 'vendor_symbol', kind: 'utf8', nullable: false, description: 'the vendor symbol' },
    {
      name: 'vendor_dataset_symbol',
      kind: 'utf8',
      nullable: true,
      description: 'symbol in vendor dataset file names',
    },
  ],
};

/** Attribute columns that `changes[]` can alter (field → column). */
const CHANGEABLE = {
  tickSize: 'tick_size',
  lotSize: 'lot_size',
  minSize: 'min_size',
  makerFee: 'maker_fee',
  takerFee: 'taker_fee',
  contractMultiplier: 'contract_multiplier',
} as const;

export interface DefinitionTable {
  /** One row per instrument, sorted by instrument_key, with the latest attributes. */
  readonly batch: ColumnBatch;
  /** Availability interval per row in µs: [from, to). */
  readonly from: Float64Array;
  readonly to: Float64Array;
  /** Rows whose attributes changed over time, and their definitions. */
  readonly historyRows: Int32Array;
  readonly historyDefs: readonly DefinitionWithHistory[];
}

const us = (ms: number | null): number | null => (ms === null ? null : ms * 1000);

/** The availability interval of a definition in ms (null = unbounded on that side). */
export function availabilityInterval(d: InstrumentDefinition): { from: number | null; to: number | null } {
  return { from: d.availableFrom ?? d.listing, to: d.availableTo ?? d.expiry };
}

/** Build the columns of every definition once (sorted by key). */
export function definitionTable(defs: readonly DefinitionWithHistory[]): DefinitionTable {
  const order = defs.map((_, i) => i);
  const keys = defs.map((d) => d.definition.instrumentKey);
  order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  const n = defs.length;
  const b = {
    instrument_key: new Utf8Builder(n, n * 24),
    venue: new DictBuilder([], n),
    instrument_type: new DictBuilder([], n),
    base_asset: new DictBuilder([], n),
    quote_asset: new DictBuilder([], n),
    settle_asset: new DictBuilder([], n),
    expiry: new Float64Builder('timestamp', n),
    strike: new Float64Builder('float64', n),
    option_type: new DictBuilder([], n),
    inverse: new BoolBuilder(n),
    contract_multiplier: new Float64Builder('float64', n),
    tick_size: new Float64Builder('float64', n),
    lot_size: new Float64Builder('float64', n),
    min_size: new Float64Builder('float64', n),
    maker_fee: new Float64Builder('float64', n),
    taker_fee: new Float64Builder('float64', n),
    listing: new Float64Builder('timestamp', n),
    available_from: new Float64Builder('timestamp', n),
    available_to: new Float64Builder('timestamp', n),
    active: new BoolBuilder(n),
    data_types: new DictBuilder([], n),
    vendor: new DictBuilder([], n),
    vendor_exchange: new DictBuilder([], n),
    vendor_symbol: new Utf8Builder(n),
    vendor_dataset_symbol: new Utf8Builder(n),
  };
  const num = (bb: Float64Builder, v: number | null): void => (v === null ? bb.appendNull() : bb.append(v));
  const str = (bb: DictBuilder | Utf8Builder, v: string | null): void =>
    v === null ? bb.appendNull() : bb.append(v);
  const bool = (bb: BoolBuilder, v: boolean | null): void => (v === null ? bb.appendNull() : bb.append(v));
  const from = new Float64Array(n);
  const to = new Float64Array(n);
  const historyRows: number[] = [];
  const historyDefs: DefinitionWithHistory[] = [];
  for (let r = 0; r < n; r++) {
    const dw = defs[order[r]!]!;
    const d = dw.definition;
    if (dw.history.length > 0) {
      historyRows.push(r);
      historyDefs.push(dw);
    }
    const iv = availabilityInterval(d);
    from[r] = iv.from === null ? Number.NEGATIVE_INFINITY : iv.from * 1000;
    to[r] = iv.to === null ? Number.POSITIVE_INFINITY : iv.to * 1000;
    b.instrument_key.append(d.instrumentKey);
    b.venue.append(d.venue);
    b.instrument_type.append(d.instrumentType);
    b.base_asset.append(d.baseAsset);
    b.quote_asset.append(d.quoteAsset);
    str(b.settle_asset, d.settleAsset);
    num(b.expiry, us(d.expiry));
    num(b.strike, d.strike);
    str(b.option_type, d.optionType);
    bool(b.inverse, d.inverse);
    num(b.contract_multiplier, d.contractMultiplier);
    num(b.tick_size, d.tickSize);
    num(b.lot_size, d.lotSize);
    num(b.min_size, d.minSize);
    num(b.maker_fee, d.makerFee);
    num(b.taker_fee, d.takerFee);
    num(b.listing, us(d.listing));
    num(b.available_from, us(d.availableFrom));
    num(b.available_to, us(d.availableTo));
    bool(b.active, d.active);
    b.data_types.append([...d.dataTypes].sort().join(','));
    b.vendor.append(d.vendor);
    b.vendor_exchange.append(d.vendorExchange);
    b.vendor_symbol.append(d.vendorSymbol);
    str(b.vendor_dataset_symbol, d.vendorDatasetSymbol);
  }
  const columns: Record<string, Column> = {};
  for (const f of AVAILABILITY_SCHEMA.fields) {
    columns[f.name] = b[f.name as keyof typeof b].finish();
  }
  return { batch: { length: n, columns }, from, to, historyRows: Int32Array.from(historyRows), historyDefs };
}

/** Row indices of `t` available on `day` (interval overlaps [day, day+1)). */
export function rowsAvailableOn(t: DefinitionTable, day: Day): Int32Array {
  const start = dayStartMs(day) * 1000;
  const end = start + MICROS_PER_DAY;
  const { from, to } = t;
  const out = new Int32Array(from.length);
  let k = 0;
  for (let i = 0; i < from.length; i++) if (from[i]! < end && to[i]! > start) out[k++] = i;
  return out.subarray(0, k);
}

/** The availability rows of `day`: instruments available that day with the attributes in force then. */
export function availabilityForDay(t: DefinitionTable, day: Day): ColumnBatch {
  const rows = rowsAvailableOn(t, day);
  const batch = takeBatch(t.batch, rows);
  if (t.historyRows.length === 0) return batch;
  const startMs = dayStartMs(day);
  // Patch the changeable attributes of instruments with a history (few): copy those columns once.
  const patched: Record<string, { values: Float64Array; validity: Uint8Array }> = {};
  const columnFor = (name: string) => {
    let p = patched[name];
    if (!p) {
      const c = batch.columns[name] as Float64Column;
      const validity = c.validity ? Uint8Array.from(c.validity) : new Uint8Array(batch.length).fill(1);
      p = { values: Float64Array.from(c.values), validity };
      patched[name] = p;
    }
    return p;
  };
  let h = 0;
  for (let out = 0; out < rows.length && h < t.historyRows.length; out++) {
    const row = rows[out]!;
    while (h < t.historyRows.length && t.historyRows[h]! < row) h++;
    if (h >= t.historyRows.length || t.historyRows[h] !== row) continue;
    const dw = t.historyDefs[h]!;
    const iv = availabilityInterval(dw.definition);
    const at = definitionAt(dw, Math.max(startMs, iv.from ?? startMs));
    for (const [field, col] of Object.entries(CHANGEABLE)) {
      const v = at[field as keyof typeof CHANGEABLE];
      const p = columnFor(col);
      if (v === null) p.validity[out] = 0;
      else {
        p.values[out] = v;
        p.validity[out] = 1;
      }
    }
  }
  const columns: Record<string, Column> = { ...batch.columns };
  for (const [name, p] of Object.entries(patched)) {
    columns[name] = {
      kind: 'float64',
      values: p.values,
      validity: p.validity.every((x) => x === 1) ? null : p.validity,
    };
  }
  return { length: batch.length, columns };
}

/**
 * sha256 over the values of a batch (the content of a day, independent of Parquet encoding, of
 * dictionary order and of what null slots hold).
 */
export function contentHash(batch: ColumnBatch, extra = ''): string {
  const h = createHash('sha256');
  const n = batch.length;
  h.update(`rows=${n};${extra};`);
  const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  for (const f of AVAILABILITY_SCHEMA.fields) {
    const c = batch.columns[f.name];
    if (!c) continue;
    h.update(`|${f.name}|`);
    const valid = c.validity;
    if (valid) h.update(valid.subarray(0, n));
    switch (c.kind) {
      case 'utf8': {
        const u = c as Utf8Column;
        const lengths = new Int32Array(n);
        for (let i = 0; i < n; i++) lengths[i] = valid && !valid[i] ? 0 : u.offsets[i + 1]! - u.offsets[i]!;
        h.update(bytes(lengths));
        for (let i = 0; i < n; i++)
          if (lengths[i]! > 0) h.update(u.data.subarray(u.offsets[i]!, u.offsets[i + 1]!));
        break;
      }
      case 'dict': {
        const order = c.dictionary
          .map((_, i) => i)
          .sort((a, b) => (c.dictionary[a]! < c.dictionary[b]! ? -1 : 1));
        const rank = new Int32Array(c.dictionary.length);
        order.forEach((d, r) => {
          rank[d] = r;
        });
        h.update(JSON.stringify(order.map((d) => c.dictionary[d])));
        const idx = new Int32Array(n);
        for (let i = 0; i < n; i++) idx[i] = valid && !valid[i] ? -1 : rank[c.indices[i]!]!;
        h.update(bytes(idx));
        break;
      }
      default: {
        const v = c.values.subarray(0, n);
        if (valid) {
          const copy = v.slice();
          for (let i = 0; i < n; i++) if (!valid[i]) copy[i] = 0;
          h.update(bytes(copy));
        } else h.update(bytes(v));
      }
    }
  }
  return h.digest('hex');
}
