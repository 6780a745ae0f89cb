/**
 * Vendor API directories for the instrument sync tests, served by the local Tardis server
 * (`_api/exchanges`, `_api/instruments`) and the exchange API server (Binance, Deribit).
 *
 * Real captures (../shared/data/real) are used in place where they exist: the Tardis instrument
 * objects (Deribit option, future, spot, combo; BitMEX XBTUSD with `changes[]`), the Deribit
 * `get_instruments` response and the Binance `exchangeInfo` responses (symlinked, never copied). No
 * real `/v1/exchanges/{exchange}` capture exists, so the exchange details below are HAND-WRITTEN in the
 * documented shape (docs/VENDOR_FORMATS.md), consistent with the real instrument objects; so is one
 * linear USDC perpetual (`BTC_USDC-PERPETUAL`, not in any capture) and one expired option.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REAL, tardisSample } from './real.js';

export const HAND_WRITTEN_USDC_PERP = {
  id: 'BTC_USDC-PERPETUAL',
  datasetId: 'BTC_USDC-PERPETUAL',
  exchange: 'deribit',
  baseCurrency: 'BTC',
  quoteCurrency: 'USDC',
  settlementCurrency: 'USDC',
  type: 'perpetual',
  active: true,
  availableSince: '2022-03-01T00:00:00.000Z',
  priceIncrement: '0.5',
  amountIncrement: '0.001',
  minTradeAmount: '0.001',
  makerFee: '0',
  takerFee: '0.0005',
  inverse: false,
  contractType: 'linear_perpetual',
  contractMultiplier: '1',
  changes: [{ until: '2025-02-12T10:00:00.000Z', priceIncrement: '1' }],
};

export const HAND_WRITTEN_EXPIRED_OPTION = {
  id: 'BTC-7FEB25-100000-C',
  datasetId: 'BTC-7FEB25-100000-C',
  exchange: 'deribit',
  baseCurrency: 'BTC',
  quoteCurrency: 'BTC',
  type: 'option',
  active: false,
  availableSince: '2025-01-24T00:00:00.000Z',
  availableTo: '2025-02-07T08:00:00.000Z',
  expiry: '2025-02-07T08:00:00.000Z',
  priceIncrement: 0.0001,
  amountIncrement: 0.1,
  minTradeAmount: 0.1,
  makerFee: 0.0003,
  takerFee: 0.0003,
  inverse: true,
  contractType: 'call_option',
  contractMultiplier: 1,
  strikePrice: 100000,
  optionType: 'call',
};

/** Hand-written `/v1/exchanges/deribit` (shape from docs/VENDOR_FORMATS.md). */
export function deribitExchangeDetails(): Record<string, unknown> {
  const sym = (id: string, type: string, since: string, to: string | null, dataTypes: string[]) => ({
    id,
    type,
    availableSince: since,
    ...(to ? { availableTo: to } : {}),
    dataTypes,
  });
  const book = [
    'trades',
    'incremental_book_L2',
    'quotes',
    'book_snapshot_25',
    'book_snapshot_5',
    'derivative_ticker',
  ];
  return {
    id: 'deribit',
    name: 'Deribit',
    enabled: true,
    availableSince: '2019-03-30T00:00:00.000Z',
    availableChannels: ['trades', 'book', 'ticker'],
    availableSymbols: [],
    incidentReports: [
      {
        from: '2025-02-12T14:00:00.000Z',
        to: '2025-02-12T15:30:00.000Z',
        status: 'resolved',
        details: 'Deribit WebSocket API outage: partial data',
      },
    ],
    datasets: {
      formats: ['csv'],
      exportedFrom: '2019-03-30T00:00:00.000Z',
      exportedUntil: '2025-03-01T00:00:00.000Z',
      symbols: [
        sym('BTC-25APR25-200000-P', 'option', '2025-01-31T00:00:00.000Z', null, [
          'trades',
          'quotes',
          'book_snapshot_5',
        ]),
        sym('BTC-7FEB25-100000-C', 'option', '2025-01-24T00:00:00.000Z', '2025-02-07T08:00:00.000Z', [
          'trades',
          'quotes',
        ]),
        sym('BTC-14FEB25', 'future', '2025-01-31T00:00:00.000Z', '2025-02-14T08:00:00.000Z', book),
        sym('BTC_USDC', 'spot', '2023-04-24T00:00:00.000Z', null, ['trades', 'quotes', 'book_snapshot_5']),
        sym('BTC_USDC-PERPETUAL', 'perpetual', '2022-03-01T00:00:00.000Z', null, book),
        sym('BTC-FS-28MAR25_PERP', 'combo', '2025-01-31T00:00:00.000Z', null, ['trades']),
        sym('OPTIONS', 'option', '2019-03-30T00:00:00.000Z', null, ['trades', 'quotes', 'options_chain']),
        sym('PERPETUALS', 'perpetual', '2019-03-30T00:00:00.000Z', null, ['trades', 'derivative_ticker']),
      ],
    },
  };
}

/** Hand-written `/v1/exchanges/bitmex` with the XBTUSD dataset symbol. */
export function bitmexExchangeDetails(): Record<string, unknown> {
  return {
    id: 'bitmex',
    name: 'BitMEX',
    enabled: true,
    availableSince: '2019-03-30T00:00:00.000Z',
    incidentReports: [],
    datasets: {
      formats: ['csv'],
      symbols: [
        {
          id: 'XBTUSD',
          type: 'perpetual',
          availableSince: '2019-03-30T00:00:00.000Z',
          dataTypes: ['trades', 'incremental_book_L2', 'quotes', 'derivative_ticker'],
        },
      ],
    },
  };
}

/** The Tardis API files: `_api/exchanges/{deribit,bitmex}.json`, `_api/instruments/{deribit,bitmex}.json`. */
export async function stageTardisApi(vendorDir: string): Promise<void> {
  await mkdir(join(vendorDir, '_api', 'exchanges'), { recursive: true });
  await mkdir(join(vendorDir, '_api', 'instruments'), { recursive: true });
  await writeFile(
    join(vendorDir, '_api', 'exchanges', 'deribit.json'),
    JSON.stringify(deribitExchangeDetails()),
  );
  await writeFile(
    join(vendorDir, '_api', 'exchanges', 'bitmex.json'),
    JSON.stringify(bitmexExchangeDetails()),
  );
  const deribit = [
    tardisSample('option'),
    tardisSample('future'),
    tardisSample('spot'),
    tardisSample('combo'),
    HAND_WRITTEN_USDC_PERP,
    HAND_WRITTEN_EXPIRED_OPTION,
  ];
  await writeFile(join(vendorDir, '_api', 'instruments', 'deribit.json'), JSON.stringify(deribit));
  await writeFile(
    join(vendorDir, '_api', 'instruments', 'bitmex.json'),
    JSON.stringify([tardisSample('perpetual')]),
  );
}

/** Native exchange lists: the real Binance and Deribit captures, symlinked in place. */
export async function stageNativeApis(dir: string): Promise<void> {
  await mkdir(join(dir, 'binance', 'spot'), { recursive: true });
  await mkdir(join(dir, 'binance', 'usdm'), { recursive: true });
  await mkdir(join(dir, 'deribit'), { recursive: true });
  await symlink(
    join(REAL, 'binance/rest/cryptofeed_binance_spot_exchangeInfo_2021-10-12.json'),
    join(dir, 'binance', 'spot', 'exchangeInfo.json'),
  );
  await symlink(
    join(REAL, 'binance/rest/nautilus_futures_exchange_info.json'),
    join(dir, 'binance', 'usdm', 'exchangeInfo.json'),
  );
  await symlink(
    join(REAL, 'deribit/cryptofeed_get_instruments_BTC_2021-07-22.json'),
    join(dir, 'deribit', 'get_instruments.json'),
  );
}
