/**
 * Shape checks shared by the definition sources: read fields of parsed vendor JSON and throw
 * `SchemaMismatchError` naming the source, the path and what was wrong. Numbers may arrive as strings.
 */
import { InvalidInstrumentKeyError, SchemaMismatchError, UnsupportedInstrumentError } from '../errors.js';
import { assertUniqueKeys, type InstrumentType, parseInstrumentKey } from '../keys/index.js';
import type { DefinitionWithHistory, SkippedInstrument } from './types.js';

export type JsonObject = Record<string, unknown>;

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads fields of one JSON object; errors name `source` and `path`. */
/** Instrument lists repeat a few thousand distinct times (expiries, listing days) many times over. */
const isoTimes = new Map<string, number>();

function parseIsoCached(v: string): number {
  let ms = isoTimes.get(v);
  if (ms === undefined) {
    ms = Date.parse(v);
    if (isoTimes.size > 200_000) isoTimes.clear();
    isoTimes.set(v, ms);
  }
  return ms;
}

export class FieldReader {
  constructor(
    readonly source: string,
    readonly path: string,
    readonly obj: JsonObject,
  ) {}

  static of(source: string, path: string, v: unknown): FieldReader {
    if (!isObject(v)) throw shapeError(source, path, `expected an object, got ${describeValue(v)}`);
    return new FieldReader(source, path, v);
  }

  fail(field: string, problem: string): SchemaMismatchError {
    return shapeError(this.source, `${this.path}.${field}`, problem);
  }

  has(field: string): boolean {
    const v = this.obj[field];
    return v !== undefined && v !== null;
  }

  str(field: string): string {
    const v = this.obj[field];
    if (typeof v !== 'string' || v.trim() === '')
      throw this.fail(field, `expected a non-empty string, got ${describeValue(v)}`);
    return v;
  }

  optStr(field: string): string | null {
    return this.has(field) ? this.str(field) : null;
  }

  /** A finite number, or a string holding one. */
  num(field: string): number {
    const v = this.obj[field];
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
    if (!Number.isFinite(n)) throw this.fail(field, `expected a number, got ${describeValue(v)}`);
    return n;
  }

  optNum(field: string): number | null {
    return this.has(field) ? this.num(field) : null;
  }

  optBool(field: string): boolean | null {
    const v = this.obj[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'boolean') throw this.fail(field, `expected true or false, got ${describeValue(v)}`);
    return v;
  }

  /** An ISO-8601 time (or epoch ms) → epoch ms. */
  time(field: string): number {
    const v = this.obj[field];
    const ms = typeof v === 'number' ? v : typeof v === 'string' ? parseIsoCached(v) : Number.NaN;
    if (!Number.isFinite(ms)) throw this.fail(field, `expected an ISO-8601 time, got ${describeValue(v)}`);
    return ms;
  }

  optTime(field: string): number | null {
    return this.has(field) ? this.time(field) : null;
  }

  array(field: string): unknown[] {
    const v = this.obj[field];
    if (!Array.isArray(v)) throw this.fail(field, `expected an array, got ${describeValue(v)}`);
    return v;
  }

  optStrings(field: string): string[] {
    if (!this.has(field)) return [];
    return this.array(field).map((x, i) => {
      if (typeof x !== 'string')
        throw this.fail(`${field}[${i}]`, `expected a string, got ${describeValue(x)}`);
      return x;
    });
  }
}

export function shapeError(source: string, path: string, problem: string): SchemaMismatchError {
  return new SchemaMismatchError(`${source}: ${path}: ${problem}`, {
    hint: 'the vendor response is not in the expected format (see docs/VENDOR_FORMATS.md); check the endpoint and capture',
    details: { source, path },
  });
}

/** The top-level array of a response (or `obj[field]` when the response wraps it). */
export function topArray(source: string, json: unknown, field?: string): unknown[] {
  if (field === undefined) {
    if (!Array.isArray(json)) throw shapeError(source, '$', `expected an array, got ${describeValue(json)}`);
    return json;
  }
  return FieldReader.of(source, '$', json).array(field);
}

/** Errors that mean "this vendor instrument has no key": reported as skipped, never thrown. */
export function isUnkeyable(err: unknown): err is UnsupportedInstrumentError | InvalidInstrumentKeyError {
  return err instanceof UnsupportedInstrumentError || err instanceof InvalidInstrumentKeyError;
}

/** `key`'s TYPE, BASE and QUOTE (the underlying pair for derivatives). */
export function keyCurrencies(key: string): { type: InstrumentType; base: string; quote: string } {
  const p = parseInstrumentKey(key);
  if (p.base === undefined || p.quote === undefined) {
    throw new InvalidInstrumentKeyError(key, 'a definition key needs base and quote');
  }
  return { type: p.type, base: p.base, quote: p.quote };
}

/** Throws `DuplicateInstrumentKeyError` when two vendor instruments share a key; returns the set. */
export function finishSet(definitions: DefinitionWithHistory[], skipped: SkippedInstrument[]) {
  assertUniqueKeys(
    definitions.map(({ definition: d }) => ({
      key: d.instrumentKey,
      vendorExchange: d.vendorExchange,
      vendorSymbol: d.vendorSymbol,
    })),
  );
  return { definitions, skipped };
}

/** Far-future placeholder expiries (Deribit perpetual 3000-01-01, Binance perpetual 2100-01-01) → null. */
export function realExpiry(ms: number | null): number | null {
  return ms === null || ms >= Date.UTC(2100, 0, 1) ? null : ms;
}
