/** The demo's small lake: which venues get which symbols and data types, plus exchange-info JSON. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DataType } from '../../schema/datasets.js';
import { type GeneratedDataset, generateTardisDataset } from './dataset.js';

interface VenueSample {
  symbol: string;
  type: 'spot' | 'perpetual' | 'option';
  dataTypes: readonly DataType[];
}

const BOOK_TYPES: readonly DataType[] = [
  'trades',
  'incremental_book_L2',
  'book_snapshot_25',
  'book_snapshot_5',
  'quotes',
];

/** What the demo generates per exchange (unknown exchanges get a spot pair). */
function venueSamples(exchange: string): VenueSample[] {
  switch (exchange) {
    case 'binance':
      return [{ symbol: 'BTCUSDT', type: 'spot', dataTypes: [...BOOK_TYPES, 'book_ticker'] }];
    case 'binance-futures':
      return [
        {
          symbol: 'BTCUSDT',
          type: 'perpetual',
          dataTypes: [...BOOK_TYPES, 'book_ticker', 'derivative_ticker', 'liquidations'],
        },
      ];
    case 'deribit':
      return [
        {
          symbol: 'BTC-PERPETUAL',
          type: 'perpetual',
          dataTypes: [...BOOK_TYPES, 'derivative_ticker', 'liquidations'],
        },
        { symbol: 'OPTIONS', type: 'option', dataTypes: ['options_chain'] },
      ];
    case 'bitmex':
      return [
        {
          symbol: 'XBTUSD',
          type: 'perpetual',
          dataTypes: [...BOOK_TYPES, 'derivative_ticker', 'liquidations'],
        },
      ];
    case 'coinbase':
      return [{ symbol: 'BTC-USD', type: 'spot', dataTypes: BOOK_TYPES }];
    default:
      return [{ symbol: 'BTCUSDT', type: 'spot', dataTypes: BOOK_TYPES }];
  }
}

export interface GenerateSampleOptions {
  dir: string;
  exchanges: readonly string[];
  /** Days to generate (default `['2024-03-01']`, a free first-of-month day). */
  days?: readonly string[];
  /** Rows per file (default 20 000; liquidations get a tenth, options_chain half). */
  rows?: number;
  seed?: number;
  /** Restrict to these data types. */
  dataTypes?: readonly DataType[];
  /** Also write a minimal `dir/_api/exchanges/{exchange}.json` (default true). */
  exchangeInfo?: boolean;
}

/** Generate a small lake-worth of files for the demo; returns every file written. */
export async function generateTardisSample(options: GenerateSampleOptions): Promise<GeneratedDataset[]> {
  const days = options.days ?? ['2024-03-01'];
  const rows = options.rows ?? 20_000;
  const seed = options.seed ?? 1;
  const written: GeneratedDataset[] = [];
  for (const exchange of options.exchanges) {
    const samples = venueSamples(exchange);
    for (const day of days) {
      for (const sample of samples) {
        for (const dataType of sample.dataTypes) {
          if (options.dataTypes && !options.dataTypes.includes(dataType)) continue;
          const n =
            dataType === 'liquidations'
              ? Math.max(1, Math.floor(rows / 10))
              : dataType === 'options_chain'
                ? Math.max(1, Math.floor(rows / 2))
                : rows;
          written.push(
            await generateTardisDataset({
              dir: options.dir,
              exchange,
              dataType,
              symbol: sample.symbol,
              day,
              rows: n,
              seed: fileSeed(seed, `${exchange}/${dataType}/${sample.symbol}/${day}`),
            }),
          );
        }
      }
    }
    if (options.exchangeInfo ?? true) await writeExchangeInfo(options.dir, exchange, samples, days);
  }
  return written;
}

/** FNV-1a of the file identity mixed with the seed: each file gets its own stream. */
function fileSeed(seed: number, id: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

async function writeExchangeInfo(
  dir: string,
  exchange: string,
  samples: readonly VenueSample[],
  days: readonly string[],
): Promise<void> {
  const sorted = [...days].sort();
  const since = `${sorted[0] ?? '2024-03-01'}T00:00:00.000Z`;
  const last = sorted[sorted.length - 1] ?? '2024-03-01';
  const until = new Date(Date.parse(`${last}T00:00:00Z`) + 86_400_000).toISOString();
  const info = {
    id: exchange,
    name: `${exchange} (generated)`,
    enabled: true,
    availableSince: since,
    availableChannels: [],
    availableSymbols: samples.map((s) => ({ id: s.symbol, type: s.type, availableSince: since })),
    incidentReports: [],
    datasets: {
      formats: ['csv'],
      exportedFrom: since,
      exportedUntil: until,
      symbols: samples.map((s) => ({
        id: s.symbol,
        type: s.type,
        availableSince: since,
        availableTo: until,
        dataTypes: s.dataTypes,
      })),
    },
    generated: true,
  };
  const file = path.join(dir, '_api', 'exchanges', `${exchange}.json`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(info, null, 2)}\n`);
}
