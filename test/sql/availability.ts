/**
 * A generated (labelled generated) instrument availability file in the lead's schema
 * (src/instruments/availability.ts), written with our Parquet writer: Deribit-like options + futures.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Column, ColumnBatch } from '../../src/columns/types.js';
import { AVAILABILITY_SCHEMA } from '../../src/instruments/availability.js';
import { instrumentAvailabilityPath } from '../../src/lake/layout.js';
import type { Catalog } from '../../src/catalog/types.js';
import { ParquetWriter } from '../../src/parquet/writer.js';
import { VERSION } from '../../src/version.js';

export interface GenInstrument {
  key: string;
  type: 'OPTION' | 'FUTURE';
  base: string;
  expiryUs: number;
  strike: number | null;
  optionType: 'call' | 'put' | null;
}

export function genInstruments(day: string, n: number): GenInstrument[] {
  const d0 = Date.parse(`${day}T08:00:00Z`) * 1000;
  const out: GenInstrument[] = [];
  for (let i = 0; i < n; i++) {
    const base = i % 3 === 0 ? 'ETH' : 'BTC';
    const expDays = 1 + (i % 40);
    const expiryUs = d0 + expDays * 86_400_000_000;
    const yymmdd = new Date(expiryUs / 1000).toISOString().slice(2, 10).replace(/-/g, '');
    if (i % 10 === 0) {
      out.push({
        key: `DERIBIT:FUTURE:${base}-USD-${yymmdd}-${i}`,
        type: 'FUTURE',
        base,
        expiryUs,
        strike: null,
        optionType: null,
      });
    } else {
      const strike = 1000 * (1 + (i % 200));
      const cp = i % 2 === 0 ? 'CALL' : 'PUT';
      out.push({
        key: `DERIBIT:OPTION:${base}-USD-${strike}-${yymmdd}-${cp}-${i}`,
        type: 'OPTION',
        base,
        expiryUs,
        strike,
        optionType: cp === 'CALL' ? 'call' : 'put',
      });
    }
  }
  return out;
}

const enc = new TextEncoder();

function utf8(values: (string | null)[]): Column {
  const parts = values.map((v) => enc.encode(v ?? ''));
  const offsets = new Int32Array(values.length + 1);
  let n = 0;
  parts.forEach((p, i) => {
    n += p.length;
    offsets[i + 1] = n;
  });
  const data = new Uint8Array(n);
  parts.forEach((p, i) => {
    data.set(p, offsets[i]!);
  });
  const validity = values.some((v) => v === null)
    ? Uint8Array.from(values, (v) => (v === null ? 0 : 1))
    : null;
  return { kind: 'utf8', offsets, data, validity };
}

function dict(values: (string | null)[]): Column {
  const dictionary: string[] = [];
  const idx = new Map<string, number>();
  const indices = new Int32Array(values.length);
  values.forEach((v, i) => {
    if (v === null) return;
    let k = idx.get(v);
    if (k === undefined) {
      k = dictionary.length;
      dictionary.push(v);
      idx.set(v, k);
    }
    indices[i] = k;
  });
  const validity = values.some((v) => v === null)
    ? Uint8Array.from(values, (v) => (v === null ? 0 : 1))
    : null;
  return { kind: 'dict', indices, dictionary, validity };
}

function nums(kind: 'float64' | 'timestamp', values: (number | null)[]): Column {
  const validity = values.some((v) => v === null)
    ? Uint8Array.from(values, (v) => (v === null ? 0 : 1))
    : null;
  return { kind, values: Float64Array.from(values, (v) => v ?? 0), validity };
}

export function availabilityBatch(list: GenInstrument[]): ColumnBatch {
  const n = list.length;
  const col = (f: (x: GenInstrument) => string | null) => list.map(f);
  const columns: Record<string, Column> = {
    instrument_key: utf8(col((x) => x.key)),
    venue: dict(col(() => 'DERIBIT')),
    instrument_type: dict(col((x) => x.type)),
    base_asset: dict(col((x) => x.base)),
    quote_asset: dict(col(() => 'USD')),
    settle_asset: dict(col((x) => x.base)),
    expiry: nums(
      'timestamp',
      list.map((x) => x.expiryUs),
    ),
    strike: nums(
      'float64',
      list.map((x) => x.strike),
    ),
    option_type: dict(col((x) => x.optionType)),
    inverse: { kind: 'bool', values: new Uint8Array(n).fill(1), validity: null },
    contract_multiplier: nums(
      'float64',
      list.map(() => 1),
    ),
    tick_size: nums(
      'float64',
      list.map(() => 0.0005),
    ),
    lot_size: nums(
      'float64',
      list.map(() => 0.1),
    ),
    min_size: nums(
      'float64',
      list.map(() => 0.1),
    ),
    maker_fee: nums(
      'float64',
      list.map(() => 0.0003),
    ),
    taker_fee: nums(
      'float64',
      list.map(() => 0.0003),
    ),
    listing: nums(
      'timestamp',
      list.map(() => null),
    ),
    available_from: nums(
      'timestamp',
      list.map(() => null),
    ),
    available_to: nums(
      'timestamp',
      list.map((x) => x.expiryUs),
    ),
    active: { kind: 'bool', values: new Uint8Array(n).fill(1), validity: null },
    data_types: dict(col(() => 'trades,quotes,book_snapshot_25')),
    vendor: dict(col(() => 'tardis')),
    vendor_exchange: dict(col(() => 'deribit')),
    vendor_symbol: utf8(col((x) => x.key.split(':')[2]!)),
    vendor_dataset_symbol: utf8(col(() => null)),
  };
  return { length: n, columns };
}

/**
 * Write the generated list for `day` into the lake at its availability path and record it in the
 * catalog (as instrument sync does); returns the list.
 */
export async function writeAvailability(
  lakeDir: string,
  day: string,
  n: number,
  catalog?: Catalog,
): Promise<GenInstrument[]> {
  const list = genInstruments(day, n);
  const path = join(lakeDir, instrumentAvailabilityPath(day));
  await mkdir(dirname(path), { recursive: true });
  const fh = await open(path, 'w');
  try {
    let position = 0;
    const sink = {
      get position() {
        return position;
      },
      async write(chunk: Uint8Array) {
        await fh.write(chunk, 0, chunk.length, position);
        position += chunk.length;
      },
    };
    const w = new ParquetWriter(sink, {
      schema: AVAILABILITY_SCHEMA,
      codec: 'zstd',
      keyValueMetadata: { 'ticklake.generated': 'true' },
    });
    await w.write(availabilityBatch(list));
    await w.close();
  } finally {
    await fh.close();
  }
  if (catalog) {
    const bytes = await readFile(path);
    await catalog.putFiles([
      {
        path: instrumentAvailabilityPath(day),
        dataset: 'instrument_availability',
        dataType: null,
        instrumentKey: null,
        day,
        rows: n,
        bytes: bytes.length,
        minTs: null,
        maxTs: null,
        checksum: createHash('sha256').update(bytes).digest('hex'),
        schemaVersion: 1,
        codec: 'zstd',
        vendor: null,
        vendorExchange: null,
        vendorSymbol: null,
        sourceUrl: null,
        sourceChecksum: null,
        sourceBytes: null,
        generated: true,
        codeVersion: VERSION,
        createdAt: Date.now(),
      },
    ]);
  }
  return list;
}
