/**
 * The key-value metadata every lake file carries in its Parquet footer. The lake is self-describing:
 * `ticklake catalog rebuild` recreates the catalog from these keys alone.
 */
import type { FileRecord } from '../catalog/types.js';

export const FOOTER_PREFIX = 'ticklake.';

export interface LineageInput {
  /** Vendor URL (never with credentials) or lake path. */
  readonly url: string;
  readonly sha256: string;
  readonly bytes: number;
}

export interface FooterMetadata {
  dataset: string;
  dataType: string | null;
  schemaVersion: number;
  instrumentKey: string | null;
  day: string | null;
  vendor: string | null;
  vendorExchange: string | null;
  vendorSymbol: string | null;
  sourceUrl: string | null;
  sourceSha256: string | null;
  sourceBytes: number | null;
  rows: number;
  minTimestamp: number | null;
  maxTimestamp: number | null;
  codeVersion: string;
  generated: boolean;
  sortedBy: readonly string[];
  lineage: readonly LineageInput[];
  /** Dataset-specific keys (written as `ticklake.<name>`; names must not clash with the fields above). */
  extra?: Readonly<Record<string, string>>;
}

const KNOWN_KEYS = new Set([
  'dataset',
  'schema_version',
  'rows',
  'code_version',
  'generated',
  'sorted_by',
  'lineage',
  'data_type',
  'instrument_key',
  'day',
  'vendor',
  'vendor_exchange',
  'vendor_symbol',
  'source_url',
  'source_sha256',
  'source_bytes',
  'min_timestamp',
  'max_timestamp',
]);

export function encodeFooter(m: FooterMetadata): Record<string, string> {
  const kv: Record<string, string> = {
    dataset: m.dataset,
    schema_version: String(m.schemaVersion),
    rows: String(m.rows),
    code_version: m.codeVersion,
    generated: m.generated ? 'true' : 'false',
    sorted_by: m.sortedBy.join(','),
    lineage: JSON.stringify(m.lineage),
  };
  const opt: Record<string, string | number | null> = {
    data_type: m.dataType,
    instrument_key: m.instrumentKey,
    day: m.day,
    vendor: m.vendor,
    vendor_exchange: m.vendorExchange,
    vendor_symbol: m.vendorSymbol,
    source_url: m.sourceUrl,
    source_sha256: m.sourceSha256,
    source_bytes: m.sourceBytes,
    min_timestamp: m.minTimestamp,
    max_timestamp: m.maxTimestamp,
  };
  for (const [k, v] of Object.entries(opt)) if (v !== null) kv[k] = String(v);
  for (const [k, v] of Object.entries(m.extra ?? {})) if (!KNOWN_KEYS.has(k)) kv[k] = v;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(kv)) out[FOOTER_PREFIX + k] = v;
  return out;
}

/** Decode footer metadata; returns null when the file was not written by ticklake. */
export function decodeFooter(kv: Readonly<Record<string, string>>): FooterMetadata | null {
  const g = (k: string): string | undefined => kv[FOOTER_PREFIX + k];
  const dataset = g('dataset');
  if (dataset === undefined) return null;
  const n = (k: string): number | null => {
    const v = g(k);
    return v === undefined ? null : Number(v);
  };
  let lineage: LineageInput[] = [];
  try {
    lineage = JSON.parse(g('lineage') ?? '[]') as LineageInput[];
  } catch {
    lineage = [];
  }
  return {
    dataset,
    dataType: g('data_type') ?? null,
    schemaVersion: n('schema_version') ?? 0,
    instrumentKey: g('instrument_key') ?? null,
    day: g('day') ?? null,
    vendor: g('vendor') ?? null,
    vendorExchange: g('vendor_exchange') ?? null,
    vendorSymbol: g('vendor_symbol') ?? null,
    sourceUrl: g('source_url') ?? null,
    sourceSha256: g('source_sha256') ?? null,
    sourceBytes: n('source_bytes'),
    rows: n('rows') ?? 0,
    minTimestamp: n('min_timestamp'),
    maxTimestamp: n('max_timestamp'),
    codeVersion: g('code_version') ?? 'unknown',
    generated: g('generated') === 'true',
    sortedBy: (g('sorted_by') ?? '').split(',').filter((s) => s.length > 0),
    lineage,
    extra: extraKeys(kv),
  };
}

function extraKeys(kv: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(kv)) {
    if (!k.startsWith(FOOTER_PREFIX)) continue;
    const name = k.slice(FOOTER_PREFIX.length);
    if (!KNOWN_KEYS.has(name)) out[name] = v;
  }
  return out;
}

/** The catalog record of a file, from its footer plus what only the bytes tell (size, checksum). */
export function fileRecordFromFooter(
  path: string,
  m: FooterMetadata,
  file: { bytes: number; checksum: string; codec: string; createdAt: number },
): FileRecord {
  return {
    path,
    dataset: m.dataset,
    dataType: m.dataType,
    instrumentKey: m.instrumentKey,
    day: m.day,
    rows: m.rows,
    bytes: file.bytes,
    minTs: m.minTimestamp,
    maxTs: m.maxTimestamp,
    checksum: file.checksum,
    schemaVersion: m.schemaVersion,
    codec: file.codec,
    vendor: m.vendor,
    vendorExchange: m.vendorExchange,
    vendorSymbol: m.vendorSymbol,
    sourceUrl: m.sourceUrl,
    sourceChecksum: m.sourceSha256,
    sourceBytes: m.sourceBytes,
    generated: m.generated,
    codeVersion: m.codeVersion,
    createdAt: file.createdAt,
  };
}
