/**
 * Streaming parser and normalizer of Tardis CSV files (all nine data types) into canonical
 * columnar batches (`CANONICAL_SCHEMAS`). This is the hottest path of ingestion: bytes in,
 * typed arrays out, no string and no object per row.
 *
 * Parsing rules (docs/SCHEMAS.md quotes this block):
 * - Header: the first non-blank line (a UTF-8 BOM is ignored). Columns are matched by name, in any
 *   order. Every column of the data type's Tardis header except `exchange` is required; a missing one
 *   is a SchemaMismatchError naming the file, the missing columns, the data type and what was found.
 *   Unknown extra columns are ignored and listed in `ParseSummary.extraColumns`. No header at all
 *   (zero bytes or only blank lines) is a CorruptedSourceError "empty file"; gzip bytes are too.
 * - Lines end in `\n` or `\r\n`; the last line may lack its newline; chunks may split anywhere
 *   (inside a field, inside `\r\n`); blank lines are skipped but counted in line numbers (the header
 *   is line 1).
 * - Quotes: Tardis writes none. A line containing `"` is parsed by a slow RFC 4180 path (quoted
 *   fields may hold commas and `""`; a quoted field may not span lines).
 * - Decimals are parsed from bytes and are identical to `Number(text)` for every text of the
 *   grammar `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?` (so `.5`, `5.`, `+5`, `-0`,
 *   `1e-7` work): an integer mantissa < 2^53 with a net power of ten within ±22 takes one exact
 *   multiply/divide (correctly rounded); anything else falls back to `Number()` of the latin1 text.
 *   `nan`, `inf`, `infinity` (any case, optional sign) are read as NaN / ±Infinity and are accepted
 *   in nullable fields only. Texts `Number()` reads but a CSV should not hold (whitespace, hex,
 *   `1_000`, `1,5`) are bad values.
 * - Timestamps (`timestamp`, `local_timestamp`, `funding_timestamp`, `expiration`): 1–16 ASCII
 *   digits, integer µs since the Unix epoch, < 2^53 (exact). An empty `timestamp` takes the row's
 *   `local_timestamp` (Tardis semantics).
 * - Empty field = null in nullable fields; empty in a non-null field (`local_timestamp`,
 *   trade/liquidation/L2 `price` and `amount`, `strike_price`, `expiration`, `side`, `type`,
 *   `is_snapshot`, `symbol`) is a bad row. Trade `id` empty → null; ids are copied as UTF-8 bytes.
 * - Enums are exact and case-sensitive: trades/liquidations `side` ∈ buy|sell|unknown (dictionary
 *   ['buy','sell','unknown']); incremental_book_L2 `side` ∈ bid|ask (['bid','ask']) and
 *   `is_snapshot` ∈ true|false; options_chain `type` ∈ call|put → `option_type` (['call','put']).
 * - Renames: `symbol` → `instrument_key` = resolveKey(symbol), called once per distinct symbol (cached
 *   by the symbol's bytes; a row equal to the previous row's symbol skips the lookup); a symbol
 *   whose resolveKey throws makes its rows bad rows (reason = the error). book_snapshot_N
 *   `asks[i].price, asks[i].amount, bids[i].price, bids[i].amount` → `ask_price_i, ask_amount_i,
 *   bid_price_i, bid_amount_i`; quotes/book_ticker reorder into bid_price, bid_amount, ask_price,
 *   ask_amount; options_chain `underlying_index` is an open dictionary (nullable).
 * - Bad rows (wrong field count, unparsable number/timestamp, bad enum, empty required field) are
 *   reported via onBadRow(line, reason, raw) with a precise reason (`price "abc" is not a number`)
 *   and skipped; never silently dropped. At end(), bad/total > maxBadRowShare (default 0.001) throws
 *   TooManyBadRowsError; the parser fails early once more than 1000 rows are bad and the share so
 *   far is above the limit.
 * - Output: batches of exactly `batchRows` rows (the last one shorter) in file order, columns in schema
 *   order, `validity` null when a column has no null in the batch. `ParseSummary.sorted` tells whether
 *   `timestamp` never decreased; min/maxTimestamp are over `timestamp`.
 */
import type { Column, ColumnBatch, Validity } from '../../columns/types.js';
import { CorruptedSourceError, TooManyBadRowsError, UsageError } from '../../errors.js';
import type { DataType } from '../../schema/datasets.js';
import { ByteDict } from './csv-dict.js';
import { fastDecimal, fastTimestamp, parseDecimal, parseTimestamp, scanEnd } from './csv-number.js';
import {
  type CsvPlan,
  OP_BOOL,
  OP_DICT,
  OP_ENUM,
  OP_F64,
  OP_F64_NULL,
  OP_SKIP,
  OP_SYMBOL,
  OP_TS,
  OP_TS_MAIN,
  OP_TS_NULL,
  OP_UTF8,
  planFor,
} from './csv-plan.js';
import { FieldSplitter } from './csv-split.js';

export interface TardisCsvParserOptions {
  dataType: DataType;
  /** File name or URL, used in every error message. */
  source: string;
  /** Canonical instrument key of a vendor symbol; called once per distinct symbol. */
  resolveKey: (vendorSymbol: string) => string;
  /**
   * Receives batches in file order; a returned promise is awaited before parsing goes on (never two
   * calls at once). The batch's arrays are handed over: the parser does not reuse them.
   */
  onBatch: (batch: ColumnBatch) => void | Promise<void>;
  /** Quarantine callback for each bad row (1-based line number, header = line 1). */
  onBadRow?: (lineNumber: number, reason: string, rawLine: string) => void;
  /** Largest tolerated share of bad rows (default 0.001). */
  maxBadRowShare?: number;
  /** Rows per batch (default 65_536). */
  batchRows?: number;
}

export interface ParseSummary {
  rows: number;
  badRows: number;
  /** First ≤ 5 bad rows as `line N: reason: raw`. */
  examples: string[];
  /** Header columns that are not part of the data type (ignored). */
  extraColumns: string[];
  /** Smallest / largest `timestamp` (µs), null when there is no row. */
  minTimestamp: number | null;
  maxTimestamp: number | null;
  /** Distinct vendor symbols, first-seen order. */
  symbols: string[];
  /** Whether `timestamp` never decreased from one row to the next. */
  sorted: boolean;
}

export interface TardisCsvParser {
  /**
   * Parse a chunk. Returns a promise only when parsing waits on a promise returned by `onBatch`
   * (or on an earlier push that does); await it before pushing more (pushes made meanwhile are
   * queued in order) and do not modify the chunk until it resolves. Throws (or rejects) with the
   * parse's error; after an error every call fails with it.
   */
  push(chunk: Uint8Array): void | Promise<void>;
  /** Flush the last line and batch, check the bad-row share, and summarise. */
  end(): Promise<ParseSummary>;
}

export const DEFAULT_BATCH_ROWS = 65_536;
export const DEFAULT_MAX_BAD_ROW_SHARE = 0.001;
/** Bad rows after which the share is checked while parsing (fail early). */
export const EARLY_FAIL_BAD_ROWS = 1000;
/** A line longer than this means the input is not a Tardis CSV. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

export function createTardisCsvParser(options: TardisCsvParserOptions): TardisCsvParser {
  const parser = new CsvParser(options);
  return {
    push: (chunk) => parser.push(chunk),
    end: () => parser.end(),
  };
}

const LF = 10;
const CR = 13;
const COMMA = 44;
const QUOTE = 34;

/** Bytes that end an unquoted text field in the fast path (the quote sends the line to the slow path). */
const STOP = new Uint8Array(256);
STOP[LF] = 1;
STOP[CR] = 1;
STOP[COMMA] = 1;
STOP[QUOTE] = 1;

const EMPTY = new Uint8Array(0);
const MAX_EXAMPLES = 5;
const utf8 = new TextDecoder();

function isThenable(v: unknown): v is Promise<void> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function shown(buf: Uint8Array, start: number, end: number): string {
  const text = utf8.decode(buf.subarray(start, Math.min(end, start + 64)));
  return end - start > 64 ? `"${text}…"` : `"${text}"`;
}

class CsvParser {
  private readonly source: string;
  private readonly dataType: DataType;
  private readonly onBatch: (batch: ColumnBatch) => void | Promise<void>;
  private readonly onBadRow: ((lineNumber: number, reason: string, rawLine: string) => void) | undefined;
  private readonly maxShare: number;
  private readonly cap: number;

  private plan: CsvPlan | null = null;
  private dicts: ByteDict[] = [];
  private readonly keys: ByteDict;

  // Batch being filled: row `n` is written in place and committed by `n++`.
  private n = 0;
  private f64: Float64Array[] = [];
  private f64Valid: (Uint8Array | null)[] = [];
  private i32: Int32Array[] = [];
  private i32Valid: (Uint8Array | null)[] = [];
  private u8: Uint8Array[] = [];
  private utf8Offsets: Int32Array[] = [];
  private utf8Data: Uint8Array[] = [];
  private utf8Valid: (Uint8Array | null)[] = [];
  /** Set when a null was written into a slot this batch (then its validity is checked at flush). */
  private f64Null = new Uint8Array(0);
  private i32Null = new Uint8Array(0);
  private utf8Null = new Uint8Array(0);

  // Input state.
  private carry = new Uint8Array(1024);
  private carryLen = 0;
  private readonly qBuf: Uint8Array[] = [];
  private readonly qPos: number[] = [];
  private readonly qEnd: number[] = [];
  private qHead = 0;
  private lineNo = 0;
  private firstBytes = 0;

  // Results.
  private rowsFlushed = 0;
  private bad = 0;
  private readonly examples: string[] = [];
  private minTs = Number.POSITIVE_INFINITY;
  private maxTs = Number.NEGATIVE_INFINITY;
  private lastTs = Number.NEGATIVE_INFINITY;
  private sorted = true;

  // Slow path scratch: the fields of one line, unquoted, each followed by a 0 byte.
  private readonly fields = new FieldSplitter();
  private tsEmpty = false;

  private busy: Promise<void> | null = null;
  private ended = false;
  private error: unknown = null;

  constructor(o: TardisCsvParserOptions) {
    this.source = o.source;
    this.dataType = o.dataType;
    this.onBatch = o.onBatch;
    this.onBadRow = o.onBadRow;
    this.maxShare = o.maxBadRowShare ?? DEFAULT_MAX_BAD_ROW_SHARE;
    this.cap = Math.floor(o.batchRows ?? DEFAULT_BATCH_ROWS);
    if (!(this.maxShare >= 0 && this.maxShare <= 1)) {
      throw new UsageError(`maxBadRowShare must be between 0 and 1, got ${o.maxBadRowShare}`);
    }
    if (!(this.cap >= 1 && this.cap <= 2 ** 24)) {
      throw new UsageError(`batchRows must be between 1 and ${2 ** 24}, got ${o.batchRows}`);
    }
    this.keys = new ByteDict(o.resolveKey);
  }

  // ---- public surface ------------------------------------------------------------------------

  push(chunk: Uint8Array): void | Promise<void> {
    if (this.error !== null) throw this.error;
    if (this.ended) throw new UsageError(`${this.source}: push() after end()`);
    if (this.busy !== null) return this.track(this.busy.then(() => this.feed(chunk)));
    let r: void | Promise<void>;
    try {
      r = this.feed(chunk);
    } catch (err) {
      this.error = err;
      throw err;
    }
    if (isThenable(r)) return this.track(r);
  }

  async end(): Promise<ParseSummary> {
    this.ended = true;
    if (this.busy !== null) await this.busy;
    if (this.error !== null) throw this.error;
    try {
      if (this.carryLen > 0) {
        this.appendCarry(Uint8Array.of(LF), 0, 1);
        const last = this.carry.slice(0, this.carryLen);
        this.carryLen = 0;
        this.enqueue(last, 0, last.length);
        await this.drain();
      }
      if (this.plan === null) {
        throw new CorruptedSourceError(this.source, 'empty file (no header line)');
      }
      if (this.n > 0) await this.flush(true);
      const total = this.rowsFlushed + this.bad;
      if (this.bad > 0 && this.bad / total > this.maxShare) this.tooManyBadRows();
      const rows = this.rowsFlushed;
      return {
        rows,
        badRows: this.bad,
        examples: this.examples.slice(),
        extraColumns: this.plan.extraColumns.slice(),
        minTimestamp: rows > 0 ? this.minTs : null,
        maxTimestamp: rows > 0 ? this.maxTs : null,
        symbols: this.keys.texts.slice(),
        sorted: this.sorted,
      };
    } catch (err) {
      this.error = err;
      throw err;
    }
  }

  private track(p: Promise<void>): Promise<void> {
    this.busy = p;
    p.then(
      () => {
        if (this.busy === p) this.busy = null;
      },
      (err: unknown) => {
        this.error ??= err;
        if (this.busy === p) this.busy = null;
      },
    );
    return p;
  }

  // ---- chunking -------------------------------------------------------------------------------

  /** Queue the complete lines of `chunk` (joining the carried partial line) and parse them. */
  private feed(chunk: Uint8Array): void | Promise<void> {
    if (this.firstBytes < 2 && chunk.length > 0) this.checkMagic(chunk);
    let start = 0;
    if (this.carryLen > 0) {
      const lf = chunk.indexOf(LF);
      if (lf < 0) {
        this.appendCarry(chunk, 0, chunk.length);
        return;
      }
      this.appendCarry(chunk, 0, lf + 1);
      const joined = this.carry.slice(0, this.carryLen);
      this.carryLen = 0;
      this.enqueue(joined, 0, joined.length);
      start = lf + 1;
    }
    const last = chunk.lastIndexOf(LF);
    if (last >= start) {
      this.enqueue(chunk, start, last + 1);
      start = last + 1;
    }
    if (start < chunk.length) this.appendCarry(chunk, start, chunk.length);
    return this.drain();
  }

  private checkMagic(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length && this.firstBytes < 2; i++, this.firstBytes++) {
      const want = this.firstBytes === 0 ? 0x1f : 0x8b;
      if (chunk[i] !== want) {
        this.firstBytes = 2;
        return;
      }
      if (this.firstBytes === 1) {
        throw new CorruptedSourceError(this.source, 'is gzip-compressed data, not CSV text', {
          hint: 'decompress it before parsing; if it was decompressed, the vendor file is damaged',
        });
      }
    }
  }

  private appendCarry(src: Uint8Array, start: number, end: number): void {
    const need = this.carryLen + end - start;
    if (need > MAX_LINE_BYTES) {
      throw new CorruptedSourceError(
        this.source,
        `line ${this.lineNo + 1} is longer than ${MAX_LINE_BYTES} bytes: not a Tardis CSV`,
      );
    }
    if (need > this.carry.length) {
      const next = new Uint8Array(Math.max(need, this.carry.length * 2));
      next.set(this.carry.subarray(0, this.carryLen));
      this.carry = next;
    }
    this.carry.set(src.subarray(start, end), this.carryLen);
    this.carryLen = need;
  }

  private enqueue(buf: Uint8Array, start: number, end: number): void {
    this.qBuf.push(buf);
    this.qPos.push(start);
    this.qEnd.push(end);
  }

  /** Parse queued ranges; hand full batches to onBatch, pausing while its promise is pending. */
  private drain(): void | Promise<void> {
    while (this.qHead < this.qBuf.length) {
      const h = this.qHead;
      const end = this.qEnd[h]!;
      const p = this.parseRange(this.qBuf[h]!, this.qPos[h]!, end);
      this.qPos[h] = p;
      if (p >= end) {
        this.qBuf[h] = EMPTY;
        this.qHead++;
      }
      if (this.n >= this.cap) {
        const r = this.flush(false);
        if (r !== undefined) return r.then(() => this.drain());
      }
    }
    this.qBuf.length = 0;
    this.qPos.length = 0;
    this.qEnd.length = 0;
    this.qHead = 0;
  }

  // ---- lines ----------------------------------------------------------------------------------

  /** Parse the newline-terminated lines of `buf[p, end)` until the batch is full. */
  private parseRange(buf: Uint8Array, p: number, end: number): number {
    while (p < end && this.n < this.cap) {
      this.lineNo++;
      const b = buf[p]!;
      if (b === LF) {
        p++;
        continue;
      }
      if (b === CR && buf[p + 1] === LF) {
        p += 2;
        continue;
      }
      if (this.plan === null) {
        p = this.parseHeader(buf, p);
        continue;
      }
      const q = this.fastLine(buf, p);
      if (q > 0) {
        this.n++;
        p = q;
      } else {
        const lf = buf.indexOf(LF, p);
        this.slowLine(buf, p, lf);
        p = lf + 1;
      }
    }
    return p;
  }

  private parseHeader(buf: Uint8Array, p: number): number {
    const lf = buf.indexOf(LF, p);
    let s = p;
    let e = lf;
    if (e > s && buf[e - 1] === CR) e--;
    if (e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
    const count = this.fields.split(buf, s, e);
    const names: string[] = [];
    for (let i = 0; i < Math.max(count, 0); i++) {
      names.push(
        utf8.decode(this.fields.scratch.subarray(this.fields.starts[i]!, this.fields.ends[i]!)).trim(),
      );
    }
    if (count < 0) names.push(utf8.decode(buf.subarray(s, e)));
    this.plan = planFor(this.dataType, names, this.source);
    this.dicts = [this.keys];
    for (let d = 1; d < this.plan.dictCount; d++) this.dicts.push(new ByteDict(null));
    this.allocate();
    return lf + 1;
  }

  /**
   * Parse one clean line starting at `p` into row `n` in a single pass over its bytes. Returns the
   * position after its newline, or -1 when anything is unusual (the slow path then re-parses the
   * line and finds the reason or handles quotes / long numbers).
   */
  private fastLine(buf: Uint8Array, p: number): number {
    const plan = this.plan!;
    const ops = plan.ops;
    const slots = plan.slots;
    const last = ops.length - 1;
    const n = this.n;
    const f64 = this.f64;
    const f64Valid = this.f64Valid;
    const i32 = this.i32;
    let tsEmpty = false;
    for (let c = 0; c <= last; c++) {
      let b = buf[p]!;
      switch (ops[c]) {
        case OP_SKIP:
          while (STOP[b] === 0) b = buf[++p]!;
          break;
        case OP_F64: {
          const v = fastDecimal(buf, p);
          if (Number.isNaN(v)) return -1;
          f64[slots[c]!]![n] = v;
          p = scanEnd;
          b = buf[p]!;
          break;
        }
        case OP_F64_NULL: {
          const slot = slots[c]!;
          if (b === COMMA || b === LF || b === CR) {
            f64[slot]![n] = Number.NaN;
            f64Valid[slot]![n] = 0;
            this.f64Null[slot] = 1;
          } else {
            const v = fastDecimal(buf, p);
            if (Number.isNaN(v)) return -1;
            f64[slot]![n] = v;
            f64Valid[slot]![n] = 1;
            p = scanEnd;
            b = buf[p]!;
          }
          break;
        }
        case OP_TS_MAIN:
          if (b === COMMA || b === LF || b === CR) {
            tsEmpty = true;
          } else {
            const v = fastTimestamp(buf, p);
            if (v < 0) return -1;
            f64[slots[c]!]![n] = v;
            p = scanEnd;
            b = buf[p]!;
          }
          break;
        case OP_TS: {
          const v = fastTimestamp(buf, p);
          if (v < 0) return -1;
          f64[slots[c]!]![n] = v;
          p = scanEnd;
          b = buf[p]!;
          break;
        }
        case OP_TS_NULL: {
          const slot = slots[c]!;
          if (b === COMMA || b === LF || b === CR) {
            f64[slot]![n] = Number.NaN;
            f64Valid[slot]![n] = 0;
            this.f64Null[slot] = 1;
          } else {
            const v = fastTimestamp(buf, p);
            if (v < 0) return -1;
            f64[slot]![n] = v;
            f64Valid[slot]![n] = 1;
            p = scanEnd;
            b = buf[p]!;
          }
          break;
        }
        case OP_SYMBOL:
        case OP_DICT: {
          const s = p;
          while (STOP[b] === 0) b = buf[++p]!;
          const len = p - s;
          const slot = slots[c]!;
          if (len === 0) {
            if (plan.required[c] === 1) return -1;
            i32[slot]![n] = 0;
            this.i32Valid[slot]![n] = 0;
            this.i32Null[slot] = 1;
            break;
          }
          const dict = this.dicts[plan.dicts[c]!]!;
          let id = dict.lastId;
          if (len === dict.lastLen) {
            const prev = dict.last;
            for (let i = 0; i < len; i++) {
              if (buf[s + i] !== prev[i]) {
                id = -1;
                break;
              }
            }
          } else {
            id = -1;
          }
          if (id < 0) {
            id = dict.idOf(buf, s, p);
            if (id < 0) return -1;
          }
          i32[slot]![n] = id;
          const valid = this.i32Valid[slot] ?? null;
          if (valid !== null) valid[n] = 1;
          break;
        }
        case OP_ENUM:
        case OP_BOOL: {
          const words = plan.vocabs[c]!;
          let id = -1;
          for (let w = 0; w < words.length; w++) {
            const word = words[w]!;
            const len = word.length;
            let i = 0;
            while (i < len && buf[p + i] === word[i]) i++;
            if (i === len && STOP[buf[p + i]!] === 1) {
              id = w;
              p += len;
              break;
            }
          }
          if (id < 0) return -1;
          if (ops[c] === OP_ENUM) i32[slots[c]!]![n] = id;
          else this.u8[slots[c]!]![n] = id;
          b = buf[p]!;
          break;
        }
        case OP_UTF8: {
          const s = p;
          while (STOP[b] === 0) b = buf[++p]!;
          if (!this.putUtf8(slots[c]!, buf, s, p)) return -1;
          break;
        }
      }
      if (c < last) {
        if (b !== COMMA) return -1;
        p++;
      } else if (b === LF) {
        p++;
      } else if (b === CR && buf[p + 1] === LF) {
        p += 2;
      } else {
        return -1;
      }
    }
    if (tsEmpty) f64[plan.tsSlot]![n] = f64[plan.ltsSlot]![n]!;
    return p;
  }

  /** Write `buf[s, e)` as the utf8 value of row n (empty = null). False if empty but non-null. */
  private putUtf8(slot: number, buf: Uint8Array, s: number, e: number): boolean {
    const n = this.n;
    const offsets = this.utf8Offsets[slot]!;
    const off = offsets[n]!;
    const len = e - s;
    const valid = this.utf8Valid[slot] ?? null;
    if (len === 0) {
      if (valid === null) return false;
      offsets[n + 1] = off;
      valid[n] = 0;
      this.utf8Null[slot] = 1;
      return true;
    }
    let data = this.utf8Data[slot]!;
    if (off + len > data.length) {
      const next = new Uint8Array(Math.max(off + len, data.length * 2));
      next.set(data.subarray(0, off));
      this.utf8Data[slot] = data = next;
    }
    for (let i = 0; i < len; i++) data[off + i] = buf[s + i]!;
    offsets[n + 1] = off + len;
    if (valid !== null) valid[n] = 1;
    return true;
  }

  // ---- slow path ------------------------------------------------------------------------------

  /** Parse the line `buf[s, lf)` field by field, committing it or reporting why it is bad. */
  private slowLine(buf: Uint8Array, s: number, lf: number): void {
    const plan = this.plan!;
    let e = lf;
    if (e > s && buf[e - 1] === CR) e--;
    const count = this.fields.split(buf, s, e);
    const ncols = plan.ops.length;
    let reason: string | null = null;
    if (count === -1) reason = 'unterminated quoted field';
    else if (count === -2) reason = 'text after a closing quote';
    else if (count !== ncols) reason = `expected ${ncols} fields, found ${count}`;
    else {
      this.tsEmpty = false;
      const sb = this.fields.scratch;
      for (let c = 0; c < ncols && reason === null; c++) {
        reason = this.slowField(c, sb, this.fields.starts[c]!, this.fields.ends[c]!);
      }
    }
    if (reason !== null) {
      this.badRow(reason, buf, s, e);
      return;
    }
    if (this.tsEmpty) this.f64[plan.tsSlot]![this.n] = this.f64[plan.ltsSlot]![this.n]!;
    this.n++;
  }

  /** Parse field `c` from `sb[s, e)` into row n; returns a reason when the value is bad. */
  private slowField(c: number, sb: Uint8Array, s: number, e: number): string | null {
    const plan = this.plan!;
    const name = plan.names[c]!;
    const slot = plan.slots[c]!;
    const n = this.n;
    const empty = s === e;
    const required = plan.required[c] === 1;
    switch (plan.ops[c]) {
      case OP_SKIP:
        return null;
      case OP_TS_MAIN:
      case OP_TS:
      case OP_TS_NULL: {
        if (empty) {
          if (plan.ops[c] === OP_TS_MAIN) this.tsEmpty = true;
          else if (required) return `${name} is empty`;
          else {
            this.f64[slot]![n] = Number.NaN;
            this.f64Valid[slot]![n] = 0;
            this.f64Null[slot] = 1;
          }
          return null;
        }
        const v = parseTimestamp(sb, s, e);
        if (v === undefined) return `${name} ${shown(sb, s, e)} is not an integer µs timestamp`;
        this.f64[slot]![n] = v;
        const valid = this.f64Valid[slot] ?? null;
        if (valid !== null) valid[n] = 1;
        return null;
      }
      case OP_F64:
      case OP_F64_NULL: {
        if (empty) {
          if (required) return `${name} is empty`;
          this.f64[slot]![n] = Number.NaN;
          this.f64Valid[slot]![n] = 0;
          this.f64Null[slot] = 1;
          return null;
        }
        const v = parseDecimal(sb, s, e);
        if (v === undefined) return `${name} ${shown(sb, s, e)} is not a number`;
        if (required && !Number.isFinite(v)) return `${name} ${shown(sb, s, e)} is not a finite number`;
        this.f64[slot]![n] = v;
        const valid = this.f64Valid[slot] ?? null;
        if (valid !== null) valid[n] = 1;
        return null;
      }
      case OP_SYMBOL:
      case OP_DICT: {
        if (empty) {
          if (required) return `${name} is empty`;
          this.i32[slot]![n] = 0;
          this.i32Valid[slot]![n] = 0;
          this.i32Null[slot] = 1;
          return null;
        }
        const dict = this.dicts[plan.dicts[c]!]!;
        const id = dict.idOf(sb, s, e);
        if (id < 0) return `${name} ${shown(sb, s, e)} has no instrument key: ${dict.failureOf(sb, s, e)}`;
        this.i32[slot]![n] = id;
        const valid = this.i32Valid[slot] ?? null;
        if (valid !== null) valid[n] = 1;
        return null;
      }
      case OP_ENUM:
      case OP_BOOL: {
        const words = plan.vocabs[c]!;
        if (empty) return `${name} is empty`;
        let id = -1;
        for (let w = 0; w < words.length && id < 0; w++) {
          const word = words[w]!;
          if (word.length !== e - s) continue;
          let i = 0;
          while (i < word.length && sb[s + i] === word[i]) i++;
          if (i === word.length) id = w;
        }
        if (id < 0) {
          const list = words.map((w) => utf8.decode(w)).join('|');
          return `${name} ${shown(sb, s, e)} is not one of ${list}`;
        }
        if (plan.ops[c] === OP_ENUM) this.i32[slot]![n] = id;
        else this.u8[slot]![n] = id;
        return null;
      }
      case OP_UTF8:
        return this.putUtf8(slot, sb, s, e) ? null : `${name} is empty`;
    }
    return null;
  }

  private badRow(reason: string, buf: Uint8Array, s: number, e: number): void {
    this.bad++;
    const raw = utf8.decode(buf.subarray(s, e));
    if (this.examples.length < MAX_EXAMPLES) {
      this.examples.push(
        `line ${this.lineNo}: ${reason}: ${raw.length > 200 ? `${raw.slice(0, 200)}…` : raw}`,
      );
    }
    this.onBadRow?.(this.lineNo, reason, raw);
    if (this.bad > EARLY_FAIL_BAD_ROWS) {
      const total = this.rowsFlushed + this.n + this.bad;
      if (this.bad / total > this.maxShare) this.tooManyBadRows();
    }
  }

  private tooManyBadRows(): never {
    throw new TooManyBadRowsError(
      this.source,
      this.bad,
      this.rowsFlushed + this.n + this.bad,
      this.maxShare,
      this.examples.slice(),
    );
  }

  // ---- batches --------------------------------------------------------------------------------

  /** Fresh arrays for the next batch (the previous ones now belong to the consumer). */
  private allocate(): void {
    const plan = this.plan!;
    const cap = this.cap;
    const { counts, nullable } = plan;
    this.f64 = [];
    this.f64Valid = [];
    for (let i = 0; i < counts.f64; i++) {
      this.f64.push(new Float64Array(cap));
      this.f64Valid.push(nullable.f64[i] ? new Uint8Array(cap) : null);
    }
    this.i32 = [];
    this.i32Valid = [];
    for (let i = 0; i < counts.i32; i++) {
      this.i32.push(new Int32Array(cap));
      this.i32Valid.push(nullable.i32[i] ? new Uint8Array(cap) : null);
    }
    this.u8 = [];
    for (let i = 0; i < counts.u8; i++) this.u8.push(new Uint8Array(cap));
    this.utf8Offsets = [];
    this.utf8Data = [];
    this.utf8Valid = [];
    for (let i = 0; i < counts.utf8; i++) {
      this.utf8Offsets.push(new Int32Array(cap + 1));
      this.utf8Data.push(new Uint8Array(Math.min(cap, 65_536) * 16));
      this.utf8Valid.push(nullable.utf8[i] ? new Uint8Array(cap) : null);
    }
    this.f64Null = new Uint8Array(counts.f64);
    this.i32Null = new Uint8Array(counts.i32);
    this.utf8Null = new Uint8Array(counts.utf8);
  }

  /** Hand the filled rows to onBatch; `last` skips allocating arrays for a next batch. */
  private flush(last: boolean): Promise<void> | undefined {
    const batch = this.takeBatch();
    this.rowsFlushed += batch.length;
    this.n = 0;
    if (!last) this.allocate();
    const r = this.onBatch(batch);
    return isThenable(r) ? r : undefined;
  }

  private takeBatch(): ColumnBatch {
    const plan = this.plan!;
    const n = this.n;
    const ts = this.f64[plan.tsSlot]!;
    let { minTs, maxTs, lastTs, sorted } = this;
    for (let i = 0; i < n; i++) {
      const t = ts[i]!;
      if (t < minTs) minTs = t;
      if (t > maxTs) maxTs = t;
      if (t < lastTs) sorted = false;
      lastTs = t;
    }
    this.minTs = minTs;
    this.maxTs = maxTs;
    this.lastTs = lastTs;
    this.sorted = sorted;

    const columns: Record<string, Column> = {};
    for (const out of plan.outputs) {
      const { field, slot } = out;
      switch (out.store) {
        case 'f64': {
          const values = this.f64[slot]!.subarray(0, n);
          const validity = validityOf(this.f64Valid[slot] ?? null, this.f64Null[slot] === 1, n);
          columns[field.name] =
            field.kind === 'timestamp'
              ? { kind: 'timestamp', values, validity }
              : { kind: 'float64', values, validity };
          break;
        }
        case 'i32':
          columns[field.name] = {
            kind: 'dict',
            indices: this.i32[slot]!.subarray(0, n),
            dictionary: out.vocab ?? this.dicts[out.dict]!.snapshot(),
            validity: validityOf(this.i32Valid[slot] ?? null, this.i32Null[slot] === 1, n),
          };
          break;
        case 'u8':
          columns[field.name] = { kind: 'bool', values: this.u8[slot]!.subarray(0, n), validity: null };
          break;
        case 'utf8': {
          const offsets = this.utf8Offsets[slot]!.subarray(0, n + 1);
          columns[field.name] = {
            kind: 'utf8',
            offsets,
            data: this.utf8Data[slot]!.subarray(0, offsets[n]!),
            validity: validityOf(this.utf8Valid[slot] ?? null, this.utf8Null[slot] === 1, n),
          };
          break;
        }
      }
    }
    return { length: n, columns };
  }
}

/** The validity of rows [0, n), or null when none of them is null. */
function validityOf(valid: Uint8Array | null, nullSeen: boolean, n: number): Validity {
  if (valid === null || !nullSeen) return null;
  for (let i = 0; i < n; i++) if (valid[i] === 0) return valid.subarray(0, n);
  return null;
}
