/**
 * Typed errors. Every error the project raises on purpose is a `TicklakeError` with a stable `code`,
 * a one-line message that names the thing and the problem, and (where there is one) a `hint` that says
 * what to do. The CLI prints `message` (+ hint) on one line and exits with `exitCode`.
 *
 * Messages never contain secrets: build them from names, paths and URLs, never from headers or config.
 */

export type ErrorCode =
  | 'USAGE'
  | 'CONFIG'
  | 'UNKNOWN_EXCHANGE'
  | 'UNKNOWN_DATA_TYPE'
  | 'INVALID_INSTRUMENT_KEY'
  | 'UNSUPPORTED_INSTRUMENT'
  | 'DUPLICATE_INSTRUMENT_KEY'
  | 'VENDOR_AUTH'
  | 'VENDOR_NOT_FOUND'
  | 'VENDOR_RATE_LIMIT'
  | 'VENDOR_SERVER'
  | 'VENDOR_BAD_REQUEST'
  | 'NETWORK'
  | 'CORRUPTED_SOURCE'
  | 'SCHEMA_MISMATCH'
  | 'MISSING_REQUIRED_COLUMN'
  | 'DATA_TYPE_VALIDATION'
  | 'TOO_MANY_BAD_ROWS'
  | 'CORRUPTED_FILE'
  | 'UNSUPPORTED_FILE'
  | 'STORAGE_FULL'
  | 'STORAGE_ACCESS'
  | 'STORAGE'
  | 'CATALOG'
  | 'CATALOG_UNAVAILABLE'
  | 'NOT_FOUND'
  | 'CANCELLED'
  | 'JOB_STATE'
  | 'SQL'
  | 'SQL_FORBIDDEN'
  | 'QUERY_TIMEOUT'
  | 'RESULT_TOO_LARGE'
  | 'UNAUTHORIZED'
  | 'INTERNAL';

export interface TicklakeErrorOptions {
  hint?: string;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class TicklakeError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: TicklakeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  /** Process exit status for the CLI. 2 = bad usage/config, 1 = everything else. */
  get exitCode(): number {
    return this.code === 'USAGE' || this.code === 'CONFIG' ? 2 : 1;
  }

  /** The one line a user sees. */
  oneLine(): string {
    return this.hint ? `${this.message}. ${this.hint}` : this.message;
  }

  /** Plain data for crossing a thread boundary (postMessage). The `cause` is left behind. */
  serialize(): SerializedTicklakeError {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      hint: this.hint,
      details: cloneableDetails(this.details),
    };
  }

  /**
   * Rebuild an error sent by `serialize()` (e.g. from a Worker): same code, message, hint, details
   * and name. It is a plain `TicklakeError`, not the original subclass, so callers test `code`.
   */
  static fromSerialized(s: SerializedTicklakeError): TicklakeError {
    const e = new TicklakeError(s.code, s.message, {
      ...(s.hint === undefined ? {} : { hint: s.hint }),
      ...(s.details === undefined ? {} : { details: s.details }),
    });
    e.name = s.name;
    return e;
  }
}

export interface SerializedTicklakeError {
  name: string;
  code: ErrorCode;
  message: string;
  hint: string | undefined;
  details: Record<string, unknown> | undefined;
}

/** `details` as plain JSON data (so structured clone cannot fail on a stray function or handle). */
function cloneableDetails(d: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (d === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(d)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export class UsageError extends TicklakeError {
  constructor(message: string, options?: TicklakeErrorOptions) {
    super('USAGE', message, options);
  }
}

export class ConfigError extends TicklakeError {
  constructor(message: string, options?: TicklakeErrorOptions) {
    super('CONFIG', message, options);
  }
}

export class UnknownExchangeError extends TicklakeError {
  constructor(exchange: string, known: readonly string[]) {
    super('UNKNOWN_EXCHANGE', `unknown exchange "${exchange}"`, {
      hint: `known exchanges: ${known.join(', ')}`,
      details: { exchange },
    });
  }
}

export class UnknownDataTypeError extends TicklakeError {
  constructor(dataType: string, known: readonly string[]) {
    super('UNKNOWN_DATA_TYPE', `unknown data type "${dataType}"`, {
      hint: `known data types: ${known.join(', ')}`,
      details: { dataType },
    });
  }
}

export class InvalidInstrumentKeyError extends TicklakeError {
  constructor(key: string, problem: string) {
    super('INVALID_INSTRUMENT_KEY', `invalid instrument key "${key}": ${problem}`, {
      hint: 'keys look like VENUE:TYPE:SYMBOL, e.g. BINANCE:SPOT_PAIR:BTC-USDT (see docs/INSTRUMENT_KEY.md)',
      details: { key },
    });
  }
}

export class UnsupportedInstrumentError extends TicklakeError {
  constructor(message: string, options?: TicklakeErrorOptions) {
    super('UNSUPPORTED_INSTRUMENT', message, options);
  }
}

/** 401/403 from a vendor. `hadKey` tells whether a key was sent (rejected) or missing (needed). */
export class VendorAuthError extends TicklakeError {
  readonly hadKey: boolean;
  constructor(url: string, status: number, hadKey: boolean) {
    super(
      'VENDOR_AUTH',
      hadKey ? `${url}: API key rejected (HTTP ${status})` : `${url}: needs an API key (HTTP ${status})`,
      {
        hint: hadKey
          ? 'check TARDIS_API_KEY (or tardis.apiKey in ticklake.yaml) and that your plan covers this exchange and date'
          : 'only the first day of each month is free; set TARDIS_API_KEY or tardis.apiKey in ticklake.yaml',
        details: { url, status },
      },
    );
    this.hadKey = hadKey;
  }
}

export class VendorNotFoundError extends TicklakeError {
  constructor(url: string) {
    super('VENDOR_NOT_FOUND', `${url}: not found at the vendor (HTTP 404)`, {
      hint: 'the vendor has no such file: check the exchange, symbol and date',
      details: { url, status: 404 },
    });
  }
}

export class VendorRateLimitError extends TicklakeError {
  constructor(url: string, attempts: number) {
    super('VENDOR_RATE_LIMIT', `${url}: rate limited (HTTP 429) after ${attempts} attempts`, {
      hint: 'lower --concurrency or retry later',
      details: { url, status: 429, attempts },
    });
  }
}

export class VendorServerError extends TicklakeError {
  constructor(url: string, status: number, attempts: number) {
    super('VENDOR_SERVER', `${url}: vendor server error (HTTP ${status}) after ${attempts} attempts`, {
      hint: 'the vendor is failing; retry later (completed tasks are kept)',
      details: { url, status, attempts },
    });
  }
}

export class VendorBadRequestError extends TicklakeError {
  constructor(url: string, status: number) {
    super('VENDOR_BAD_REQUEST', `${url}: vendor rejected the request (HTTP ${status})`, {
      hint: 'check the exchange, data type, symbol and date',
      details: { url, status },
    });
  }
}

export class NetworkError extends TicklakeError {
  constructor(url: string, problem: string, attempts: number, cause?: unknown) {
    super('NETWORK', `${url}: network error after ${attempts} attempts: ${problem}`, {
      hint: 'check the connection and the endpoint (TARDIS_DATASETS_URL); rerun to resume',
      details: { url, attempts },
      cause,
    });
  }
}

/** The vendor file itself is damaged: truncated gzip, not gzip, unreadable bytes. */
export class CorruptedSourceError extends TicklakeError {
  constructor(source: string, problem: string, options: TicklakeErrorOptions = {}) {
    super('CORRUPTED_SOURCE', `${source}: ${problem}`, {
      hint: options.hint ?? 'rerun to download it again; if it persists the vendor file is damaged',
      ...options,
      details: { source, ...options.details },
    });
  }
}

export class SchemaMismatchError extends TicklakeError {
  constructor(message: string, options?: TicklakeErrorOptions) {
    super('SCHEMA_MISMATCH', message, options);
  }
}

export class MissingRequiredColumnError extends TicklakeError {
  constructor(message: string, options?: TicklakeErrorOptions) {
    super('MISSING_REQUIRED_COLUMN', message, options);
  }
}

export class DataTypeValidationError extends TicklakeError {
  constructor(message: string, options?: TicklakeErrorOptions) {
    super('DATA_TYPE_VALIDATION', message, options);
  }
}

export class TooManyBadRowsError extends TicklakeError {
  constructor(source: string, bad: number, total: number, maxShare: number, examples: readonly string[]) {
    const share = total === 0 ? 1 : bad / total;
    super(
      'TOO_MANY_BAD_ROWS',
      `${source}: ${bad} of ${total} rows could not be parsed (${(share * 100).toFixed(2)}% > ${(maxShare * 100).toFixed(2)}% allowed)` +
        (examples.length > 0 ? `; first: ${examples[0]}` : ''),
      {
        hint: 'the file is not in the expected format; raise quarantine.maxBadRowShare in ticklake.yaml only if the rows are truly expendable',
        details: { source, bad, total, maxShare, examples },
      },
    );
  }
}

export class CorruptedFileError extends TicklakeError {
  constructor(path: string, problem: string, options: TicklakeErrorOptions = {}) {
    super('CORRUPTED_FILE', `${path}: ${problem}`, {
      hint: options.hint ?? 'the file is damaged; re-ingest it with --force',
      ...options,
      details: { path, ...options.details },
    });
  }
}

export class StorageFullError extends TicklakeError {
  constructor(path: string, cause?: unknown) {
    super('STORAGE_FULL', `${path}: no space left on device`, {
      hint: 'free some space (or point --lake elsewhere) and rerun; nothing partial was published',
      cause,
      details: { path },
    });
  }
}

export class StorageAccessError extends TicklakeError {
  constructor(path: string, problem: string, cause?: unknown) {
    super('STORAGE_ACCESS', `${path}: ${problem}`, {
      hint: 'make the lake directory writable by this user, or choose another with --lake / TICKLAKE_LAKE',
      cause,
      details: { path },
    });
  }
}

/**
 * An object store (S3, GCS) refused access, or the bucket does not exist. Same code as
 * StorageAccessError (and an instance of it); names the bucket/key, never credentials.
 */
export class ObjectStoreAccessError extends StorageAccessError {
  override readonly hint: string | undefined;
  constructor(location: string, problem: string, hint: string, cause?: unknown) {
    super(location, problem, cause);
    this.hint = hint;
  }
}

export class StorageError extends TicklakeError {
  constructor(message: string, options?: TicklakeErrorOptions) {
    super('STORAGE', message, options);
  }
}

/** An object store kept failing (5xx, throttling, network) after retries, or answered nonsense. */
export class ObjectStoreError extends StorageError {
  constructor(location: string, problem: string, options: TicklakeErrorOptions = {}) {
    super(`${location}: ${problem}`, {
      hint:
        options.hint ??
        'the object store is failing or unreachable; check the endpoint and retry (nothing partial was published)',
      ...options,
      details: { location, ...options.details },
    });
  }
}

export class CatalogError extends TicklakeError {
  constructor(message: string, options?: TicklakeErrorOptions) {
    super('CATALOG', message, options);
  }
}

/** The catalog database cannot be reached or logged in to (PostgreSQL down, wrong host/user/db). */
export class CatalogUnavailableError extends TicklakeError {
  /** `location` must be credential-free (the URL without its password). */
  constructor(location: string, problem: string, cause?: unknown) {
    super('CATALOG_UNAVAILABLE', `catalog ${location}: cannot connect (${problem})`, {
      hint: 'check the PostgreSQL server is running and the host, port, database and user in --catalog / TICKLAKE_CATALOG',
      cause,
      details: { location },
    });
  }
}

export class NotFoundError extends TicklakeError {
  constructor(message: string, options?: TicklakeErrorOptions) {
    super('NOT_FOUND', message, options);
  }
}

export class CancelledError extends TicklakeError {
  constructor(message = 'cancelled') {
    super('CANCELLED', message);
  }
}

/** A managed job (src/jobs/) is not in a state that allows the operation (start a done job, ...). */
export class JobStateError extends TicklakeError {
  constructor(message: string, options?: TicklakeErrorOptions) {
    super('JOB_STATE', message, options);
  }
}

/** A SQL query failed (syntax, unknown column, ...): DuckDB's message, first line. */
export class SqlError extends TicklakeError {
  constructor(message: string, options?: TicklakeErrorOptions) {
    super('SQL', message, options);
  }
}

/** A SQL statement tried to leave the lake: another file, COPY/ATTACH/INSTALL/LOAD, writes, settings. */
export class SqlForbiddenError extends TicklakeError {
  constructor(message: string, options?: TicklakeErrorOptions) {
    super('SQL_FORBIDDEN', message, {
      hint: 'only read-only SELECT queries over the lake views are allowed (see `SHOW TABLES`)',
      ...options,
    });
  }
}

/** A query ran longer than its time limit and was interrupted. */
export class QueryTimeoutError extends TicklakeError {
  constructor(what: string, limitMs: number) {
    super('QUERY_TIMEOUT', `${what}: interrupted after ${limitMs} ms`, {
      hint: 'narrow the query (fewer days, instruments or columns) or raise the time limit',
      details: { limitMs },
    });
  }
}

/** A result (or a request) is larger than the configured limit. */
export class ResultTooLargeError extends TicklakeError {
  constructor(what: string, size: number, limit: number, unit: string) {
    super('RESULT_TOO_LARGE', `${what}: ${size} ${unit} exceeds the limit of ${limit} ${unit}`, {
      hint: 'narrow the request (shorter time range, fewer columns or instruments, LIMIT) or raise the limit',
      details: { size, limit, unit },
    });
  }
}

/** An HTTP request without the bearer token the server requires. */
export class UnauthorizedError extends TicklakeError {
  constructor(message = 'missing or wrong bearer token') {
    super('UNAUTHORIZED', message, {
      hint: 'send "Authorization: Bearer <token>" (the token given to ticklake serve --token / TICKLAKE_API_TOKEN)',
    });
  }
}

/** Map a Node.js filesystem error to a typed storage error (ENOSPC, EACCES, EROFS, ...). */
export function storageErrorFromFs(path: string, err: unknown): TicklakeError {
  if (err instanceof TicklakeError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new StorageFullError(path, err);
    case 'EACCES':
    case 'EPERM':
      return new StorageAccessError(path, 'permission denied', err);
    case 'EROFS':
      return new StorageAccessError(path, 'read-only file system', err);
    case 'ENOTDIR':
      return new StorageAccessError(path, 'a parent of this path is a file, not a directory', err);
    default:
      return new StorageError(`${path}: ${(err as Error | undefined)?.message ?? String(err)}`, {
        cause: err,
      });
  }
}

export function isTicklakeError(err: unknown): err is TicklakeError {
  return err instanceof TicklakeError;
}
