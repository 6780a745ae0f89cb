/**
 * Definition sources behind one small contract: `loadDefinitions(source, exchange, ctx)` fetches a
 * vendor's instrument list over HTTP and returns canonical definitions, the vendor instruments that
 * have no key, one-line notices (missing attributes, fallbacks), the vendor's incident reports and its
 * grouped dataset symbols (`OPTIONS`, ...).
 *
 * - `tardis`: `GET {tardis.apiUrl}/exchanges/{exchange}` always (availability, data types, incidents,
 *   grouped symbols); `GET {tardis.apiUrl}/instruments/{exchange}` when an API key is set (tick sizes,
 *   multipliers, strikes, expiries, `changes[]`). Without a key, or when the key is refused (401/403),
 *   definitions come from the exchange details alone, with a notice naming the missing attributes.
 * - `binance`: `exchangeInfo` of the market matching the exchange id (`binance` spot, `binance-futures`
 *   USDⓈ-M, `binance-delivery` COIN-M) at `binance.*ApiUrl`.
 * - `deribit`: `public/get_instruments?currency=any` (live and expired) at `deribit.apiUrl`.
 *
 * Native lists (binance, deribit) are today's lists: they know listing and expiry times but not data
 * availability or data types, and they cannot tell when a delisted instrument stopped trading; inactive
 * instruments without an expiry are left out (a notice counts them).
 */

import type { TicklakeConfig } from '../config.js';
import { UsageError, VendorAuthError, VendorNotFoundError } from '../errors.js';
import { assertTardisExchange } from '../keys/venues.js';
import type { LineageInput } from '../lake/footer.js';
import { GROUPED_SYMBOLS } from '../pipeline/ingest.js';
import { type GetJsonOptions, getJson } from '../sources/http-json.js';
import { type BinanceMarket, definitionsFromBinanceExchangeInfo } from './binance.js';
import { definitionsFromDeribitInstruments } from './deribit.js';
import { FieldReader, finishSet } from './json.js';
import { definitionsFromTardisExchange, definitionsFromTardisInstruments } from './tardis.js';
import type { DefinitionWithHistory, SkippedInstrument } from './types.js';

export const DEFINITION_SOURCES = ['tardis', 'binance', 'deribit'] as const;
export type DefinitionSourceName = (typeof DEFINITION_SOURCES)[number];

/** A known gap reported by the vendor (Tardis `incidentReports`). Times in ms. */
export interface IncidentReport {
  exchange: string;
  from: number;
  to: number | null;
  status: string;
  details: string;
}

/** A grouped dataset symbol (`OPTIONS`, `PERPETUALS`, ...) and what it offers. Times in ms. */
export interface GroupedSymbol {
  exchange: string;
  symbol: string;
  dataTypes: string[];
  availableFrom: number | null;
  availableTo: number | null;
}

export interface SourceResult {
  source: DefinitionSourceName;
  exchange: string;
  definitions: DefinitionWithHistory[];
  skipped: SkippedInstrument[];
  notices: string[];
  incidents: IncidentReport[];
  groups: GroupedSymbol[];
  /** The responses the definitions came from (URL without credentials, sha256, bytes). */
  inputs: LineageInput[];
}

export interface SourceContext {
  config: TicklakeConfig;
  signal?: AbortSignal;
}

/** Attributes that only the Tardis instruments endpoint has (named in the no-key notice). */
const TARDIS_KEY_ONLY =
  'tick_size, lot_size, min_size, contract_multiplier, fees, settle_asset, inverse, expiry time, listing';

/** The grouped dataset symbols (the ones ingest splits by instrument). */
export const GROUPED_SYMBOL_IDS: readonly string[] = GROUPED_SYMBOLS;

const BINANCE_MARKETS: Readonly<Record<string, BinanceMarket>> = {
  binance: 'spot',
  'binance-futures': 'usdm',
  'binance-delivery': 'coinm',
};

function jsonOptions(ctx: SourceContext, apiKey?: string): GetJsonOptions {
  const t = ctx.config.tardis;
  return {
    apiKey,
    maxRetries: t.maxRetries,
    baseDelayMs: t.retryBaseDelayMs,
    maxDelayMs: t.retryMaxDelayMs,
    signal: ctx.signal,
  };
}

const join = (base: string, path: string) => `${base.replace(/\/+$/, '')}${path}`;

/** Load one exchange's definitions from `source` (see the module comment). */
export async function loadDefinitions(
  source: DefinitionSourceName,
  exchange: string,
  ctx: SourceContext,
): Promise<SourceResult> {
  switch (source) {
    case 'tardis':
      return loadTardis(exchange, ctx);
    case 'binance':
      return loadBinance(exchange, ctx);
    case 'deribit':
      return loadDeribit(exchange, ctx);
    default:
      throw new UsageError(`unknown definition source "${source as string}"`, {
        hint: `use --source ${DEFINITION_SOURCES.join('|')}`,
      });
  }
}

/** The default source for an exchange: tardis. */
export function parseSource(s: string | undefined): DefinitionSourceName {
  if (s === undefined) return 'tardis';
  if (!(DEFINITION_SOURCES as readonly string[]).includes(s)) {
    throw new UsageError(`unknown definition source "${s}"`, {
      hint: `use --source ${DEFINITION_SOURCES.join('|')}`,
    });
  }
  return s as DefinitionSourceName;
}

function readIncidents(exchange: string, json: unknown): IncidentReport[] {
  const source = `tardis /v1/exchanges/${exchange}`;
  const top = FieldReader.of(source, '$', json);
  if (!top.has('incidentReports')) return [];
  return top.array('incidentReports').map((item, i) => {
    const r = FieldReader.of(source, `$.incidentReports[${i}]`, item);
    return {
      exchange,
      from: r.time('from'),
      to: r.optTime('to'),
      status: r.optStr('status') ?? '',
      details: r.optStr('details') ?? '',
    };
  });
}

function readGroups(exchange: string, json: unknown): GroupedSymbol[] {
  const source = `tardis /v1/exchanges/${exchange}`;
  const datasets = FieldReader.of(source, '$.datasets', FieldReader.of(source, '$', json).obj.datasets);
  const out: GroupedSymbol[] = [];
  datasets.array('symbols').forEach((item, i) => {
    const r = FieldReader.of(source, `$.datasets.symbols[${i}]`, item);
    const id = r.str('id');
    if (!GROUPED_SYMBOL_IDS.includes(id)) return;
    out.push({
      exchange,
      symbol: id,
      dataTypes: r.optStrings('dataTypes'),
      availableFrom: r.optTime('availableSince'),
      availableTo: r.optTime('availableTo'),
    });
  });
  return out;
}

/** Dataset symbols of exchange details by id: data types and data availability (ms). */
function datasetSymbols(exchange: string, json: unknown) {
  const source = `tardis /v1/exchanges/${exchange}`;
  const datasets = FieldReader.of(source, '$.datasets', FieldReader.of(source, '$', json).obj.datasets);
  const out = new Map<
    string,
    { dataTypes: string[]; from: number | null; to: number | null; raw: unknown }
  >();
  datasets.array('symbols').forEach((item, i) => {
    const r = FieldReader.of(source, `$.datasets.symbols[${i}]`, item);
    out.set(r.str('id'), {
      dataTypes: r.optStrings('dataTypes'),
      from: r.optTime('availableSince'),
      to: r.optTime('availableTo'),
      raw: item,
    });
  });
  return out;
}

async function loadTardis(exchange: string, ctx: SourceContext): Promise<SourceResult> {
  assertTardisExchange(exchange);
  const t = ctx.config.tardis;
  const detailsUrl = join(t.apiUrl, `/exchanges/${encodeURIComponent(exchange)}`);
  const details = await getJson(detailsUrl, jsonOptions(ctx));
  const incidents = readIncidents(exchange, details.json);
  const groups = readGroups(exchange, details.json);
  const inputs: LineageInput[] = [{ url: detailsUrl, sha256: details.sha256, bytes: details.bytes }];
  const notices: string[] = [];
  const notGroup = (x: SkippedInstrument) => !GROUPED_SYMBOL_IDS.includes(x.symbol);
  const detailsOnly = (why: string): SourceResult => {
    notices.push(
      `${exchange}: ${why}: definitions come from exchange details alone; missing: ${TARDIS_KEY_ONLY}`,
    );
    const fromDetails = definitionsFromTardisExchange(exchange, details.json);
    return {
      source: 'tardis',
      exchange,
      definitions: fromDetails.definitions,
      skipped: fromDetails.skipped.filter(notGroup),
      notices,
      incidents,
      groups,
      inputs,
    };
  };
  if (!t.apiKey) return detailsOnly('no Tardis API key (TARDIS_API_KEY)');
  const instrumentsUrl = join(t.apiUrl, `/instruments/${encodeURIComponent(exchange)}`);
  let instruments: Awaited<ReturnType<typeof getJson>>;
  try {
    instruments = await getJson(instrumentsUrl, jsonOptions(ctx, t.apiKey));
  } catch (err) {
    if (err instanceof VendorAuthError) {
      return detailsOnly(
        `the Tardis API refused the key for /instruments (HTTP ${err.details?.status ?? '401'})`,
      );
    }
    if (err instanceof VendorNotFoundError)
      return detailsOnly('the Tardis API has no /instruments list (HTTP 404)');
    throw err;
  }
  inputs.push({ url: instrumentsUrl, sha256: instruments.sha256, bytes: instruments.bytes });
  const full = definitionsFromTardisInstruments(exchange, instruments.json);
  // Data types and data availability come from the exchange details' dataset symbols.
  const symbols = datasetSymbols(exchange, details.json);
  const used = new Set<string>();
  const definitions = full.definitions;
  for (const dw of definitions) {
    const d = dw.definition;
    const id = symbols.has(d.vendorDatasetSymbol ?? '') ? d.vendorDatasetSymbol! : d.vendorSymbol;
    const ds = symbols.get(id);
    if (!ds) continue;
    used.add(id);
    d.dataTypes = ds.dataTypes;
    d.availableFrom = ds.from ?? d.availableFrom;
    d.availableTo = ds.to ?? d.availableTo;
  }
  for (const s of full.skipped) used.add(s.symbol);
  const skipped = [...full.skipped];
  // Dataset symbols the instruments list does not have: keyed from the symbol alone.
  const rest = [...symbols].filter(([id]) => !used.has(id)).map(([, v]) => v.raw);
  if (rest.length > 0) {
    const fromDetails = definitionsFromTardisExchange(exchange, { datasets: { symbols: rest } });
    const fullKeys = new Set(definitions.map((d) => d.definition.instrumentKey));
    let added = 0;
    for (const d of fromDetails.definitions) {
      if (fullKeys.has(d.definition.instrumentKey)) continue;
      definitions.push(d);
      added++;
    }
    for (const x of fromDetails.skipped.filter(notGroup))
      if (!skipped.some((y) => y.symbol === x.symbol)) skipped.push(x);
    if (added > 0) {
      notices.push(
        `${exchange}: ${added} dataset symbol(s) are not in /instruments; their attributes come from exchange details alone`,
      );
    }
    finishSet(definitions, skipped);
  }
  return { source: 'tardis', exchange, definitions, skipped, notices, incidents, groups, inputs };
}

function dropInactive(result: SourceResult): SourceResult {
  const kept = result.definitions.filter(
    (d) => !(d.definition.active === false && d.definition.expiry === null),
  );
  const dropped = result.definitions.length - kept.length;
  if (dropped > 0) {
    result.notices.push(
      `${result.exchange}: ${dropped} instrument(s) not trading now are left out: a native list cannot tell when they stopped (use --source tardis for history)`,
    );
  }
  return { ...result, definitions: kept };
}

async function loadBinance(exchange: string, ctx: SourceContext): Promise<SourceResult> {
  const market = BINANCE_MARKETS[exchange];
  if (!market) {
    throw new UsageError(
      `--source binance serves ${Object.keys(BINANCE_MARKETS).join(', ')}, not "${exchange}"`,
      {
        hint: 'use --exchange binance (spot), binance-futures (USDⓈ-M) or binance-delivery (COIN-M)',
      },
    );
  }
  const b = ctx.config.binance;
  const url =
    market === 'spot'
      ? join(b.spotApiUrl, '/api/v3/exchangeInfo')
      : market === 'usdm'
        ? join(b.usdmApiUrl, '/fapi/v1/exchangeInfo')
        : join(b.coinmApiUrl, '/dapi/v1/exchangeInfo');
  const res = await getJson(url, jsonOptions(ctx));
  const set = definitionsFromBinanceExchangeInfo(market, res.json);
  return dropInactive({
    source: 'binance',
    exchange,
    ...set,
    notices: [
      `${exchange}: Binance exchangeInfo has no data types or data availability; plans assume every data type`,
    ],
    incidents: [],
    groups: [],
    inputs: [{ url, sha256: res.sha256, bytes: res.bytes }],
  });
}

async function loadDeribit(exchange: string, ctx: SourceContext): Promise<SourceResult> {
  if (exchange !== 'deribit') {
    throw new UsageError(`--source deribit serves the exchange "deribit", not "${exchange}"`, {
      hint: 'use --exchange deribit',
    });
  }
  const base = ctx.config.deribit.apiUrl;
  const definitions: DefinitionWithHistory[] = [];
  const skipped: SkippedInstrument[] = [];
  const inputs: LineageInput[] = [];
  const seen = new Set<string>();
  for (const expired of ['false', 'true']) {
    const url = join(base, `/public/get_instruments?currency=any&expired=${expired}`);
    const res = await getJson(url, jsonOptions(ctx));
    inputs.push({ url, sha256: res.sha256, bytes: res.bytes });
    const set = definitionsFromDeribitInstruments(res.json);
    for (const d of set.definitions) {
      if (seen.has(d.definition.vendorSymbol)) continue;
      seen.add(d.definition.vendorSymbol);
      definitions.push(d);
    }
    for (const s of set.skipped) if (!skipped.some((x) => x.symbol === s.symbol)) skipped.push(s);
  }
  const set = finishSet(definitions, skipped);
  return dropInactive({
    source: 'deribit',
    exchange,
    ...set,
    notices: [
      'deribit: get_instruments has no data types or data availability; plans assume every data type',
    ],
    incidents: [],
    groups: [],
    inputs,
  });
}
