/**
 * Book snapshots at bucket ends, built incrementally like the candle engine: push columnar batches of
 * `incremental_book_L2` in FEED order (the order messages arrived: `local_timestamp`, see
 * feed-order.ts) or of `book_snapshot_N` in timestamp order, get one row per bucket per timeframe with
 * the top N levels of the book as it stands at the bucket END.
 *
 * Rules (docs/SCHEMAS.md "Book snapshots"):
 * - Buckets are bucketed by exchange `timestamp`, aligned to UTC midnight; the row's `timestamp` is the
 *   bucket START (as for candles). The book of bucket `[start, end)` is the book just before the first
 *   row (in feed order) stamped `≥ end`: every update with `timestamp < end` that arrived before it is
 *   applied, and an update stamped exactly `end` belongs to the next bucket. When exchange timestamps
 *   never go backwards this is exactly "all updates with timestamp < end"; a late row (stamped before
 *   one already seen) is applied where it arrived and counted (`late`).
 *   `book_ts` is the latest exchange timestamp applied (it may lie before `start` in a quiet bucket).
 * - incremental_book_L2: a snapshot run (consecutive `is_snapshot` rows with one timestamp) clears the
 *   book at its first row; amount 0 removes a level; rows before the first snapshot are skipped (the
 *   book is unknown until then). book_snapshot_N: each row is the whole top-N book.
 * - Rows: every bucket from the one holding the first applied update (or the first bucket of the day
 *   when that update is from the day before) to the end of the day; none before the book exists. Rows
 *   stamped at or after the day's end are not applied.
 * - Level i columns are null when the side has fewer than i+1 levels. `mid` = (bid_price_0 +
 *   ask_price_0)/2 and `spread` = ask_price_0 − bid_price_0 (null when a side is empty);
 *   `imbalance` = (bid_amount_0 − ask_amount_0)/(bid_amount_0 + ask_amount_0), top level only, in
 *   [−1, 1]. `crossed` = levels overlapping the other side (0 unless best bid ≥ best ask); crossed
 *   books are kept as they are and counted, never repaired.
 */
import { Float64Builder, Int32Builder } from '../columns/builders.js';
import type {
  BoolColumn,
  Column,
  ColumnBatch,
  DictColumn,
  Field,
  Float64Column,
  Schema,
} from '../columns/types.js';
import { type Timeframe, TIMEFRAMES, timeframeMicros } from '../candles/timeframes.js';
import { DataTypeValidationError, MissingRequiredColumnError, UsageError } from '../errors.js';
import { dayStartMicros, MICROS_PER_DAY, type Day } from '../util/time.js';
import { ASK, BID, OrderBook } from './book.js';

export const DEFAULT_BOOK_LEVELS = 10;
export const MAX_BOOK_LEVELS = 1000;

/** The output schema for `levels` levels. */
export function bookSnapshotSchema(levels: number): Schema {
  const f64 = (name: string, description: string): Field => ({
    name,
    kind: 'float64',
    nullable: true,
    description,
  });
  const fields: Field[] = [
    { name: 'timestamp', kind: 'timestamp', nullable: false, description: 'bucket start (µs, UTC)' },
    {
      name: 'book_ts',
      kind: 'timestamp',
      nullable: false,
      description: 'exchange timestamp of the last update applied to the book (µs, UTC)',
    },
  ];
  for (let i = 0; i < levels; i++) {
    fields.push(
      f64(`bid_price_${i}`, `bid level ${i} price at bucket end (0 = best; null when the book is thinner)`),
      f64(`bid_amount_${i}`, `bid level ${i} amount`),
      f64(`ask_price_${i}`, `ask level ${i} price at bucket end (0 = best)`),
      f64(`ask_amount_${i}`, `ask level ${i} amount`),
    );
  }
  fields.push(
    f64('mid', '(bid_price_0 + ask_price_0) / 2; null when a side is empty'),
    f64('spread', 'ask_price_0 − bid_price_0; negative or 0 when crossed'),
    f64('imbalance', '(bid_amount_0 − ask_amount_0) / (bid_amount_0 + ask_amount_0)'),
    {
      name: 'crossed',
      kind: 'int32',
      nullable: false,
      description: 'levels overlapping the other side (0 unless best bid ≥ best ask); the book is kept as is',
    },
    {
      name: 'instrument_key',
      kind: 'dict',
      nullable: false,
      description: 'canonical instrument key VENUE:TYPE:SYMBOL',
    },
  );
  return { fields };
}

export function checkLevels(levels: number): number {
  if (!Number.isInteger(levels) || levels < 1 || levels > MAX_BOOK_LEVELS) {
    throw new UsageError(`book levels ${levels}: must be a whole number from 1 to ${MAX_BOOK_LEVELS}`, {
      hint: `use e.g. --levels ${DEFAULT_BOOK_LEVELS}`,
    });
  }
  return levels;
}

export interface BookSnapshotOptions {
  day: Day;
  timeframes: readonly Timeframe[];
  levels?: number;
  instrumentKey: string;
}

export interface BookSnapshotResult {
  /** One batch per requested timeframe (schema `bookSnapshotSchema(levels)`). */
  batches: Map<Timeframe, ColumnBatch>;
  /** Bucket ends of the finest requested timeframe at which the book was crossed. */
  crossed: number;
  /** Input rows applied to the book. */
  applied: number;
  /** Rows skipped because no snapshot had been seen yet. */
  skippedBeforeSnapshot: number;
  /** Rows stamped at or after the end of the day (not applied). */
  afterDay: number;
  /** Rows whose timestamp is below one already seen (feed order): applied to the open bucket. */
  late: number;
}

interface TfOut {
  tf: Timeframe;
  width: number;
  ts: Float64Builder;
  bookTs: Float64Builder;
  values: Float64Builder[];
  crossed: Int32Builder;
}

function col<K extends Column['kind']>(batch: ColumnBatch, name: string, kinds: readonly K[], what: string) {
  const c = batch.columns[name];
  if (!c || !(kinds as readonly string[]).includes(c.kind)) {
    throw new MissingRequiredColumnError(`${what}: column "${name}" (${kinds.join('/')}) is missing`, {
      hint: 'pass batches with the canonical schema (docs/SCHEMAS.md)',
    });
  }
  return c as Extract<Column, { kind: K }>;
}

export class BookSnapshotEngine {
  readonly levels: number;
  readonly schema: Schema;
  private readonly book = new OrderBook();
  private readonly outs: TfOut[];
  private readonly fine: number;
  private readonly dayStart: number;
  private readonly dayEnd: number;
  private started = false;
  private nextEnd = 0;
  private lastTs = Number.NEGATIVE_INFINITY;
  private lastAppliedTs = 0;
  private prevSnapshotTs = Number.NaN;
  private crossedInstants = 0;
  private applied = 0;
  private skipped = 0;
  private afterDay = 0;
  private late = 0;
  private done = false;
  /** book_snapshot_N source: the latest row, materialised only when a bucket ends. */
  private snapBatch: ColumnBatch | null = null;
  private snapRow = -1;
  private snapDepth = 0;
  private readonly scratch: Float64Array;

  constructor(private readonly o: BookSnapshotOptions) {
    this.levels = checkLevels(o.levels ?? DEFAULT_BOOK_LEVELS);
    if (o.timeframes.length === 0) {
      throw new UsageError('no timeframes given for book snapshots', {
        hint: `use ${TIMEFRAMES.join(', ')}`,
      });
    }
    const tfs = TIMEFRAMES.filter((t) => o.timeframes.includes(t));
    for (const t of o.timeframes) {
      if (!tfs.includes(t))
        throw new UsageError(`unknown timeframe "${t}"`, { hint: `use ${TIMEFRAMES.join(', ')}` });
    }
    this.schema = bookSnapshotSchema(this.levels);
    this.dayStart = dayStartMicros(o.day);
    this.dayEnd = this.dayStart + MICROS_PER_DAY;
    const nValues = this.levels * 4 + 3;
    this.scratch = new Float64Array(nValues);
    this.outs = tfs.map((tf) => ({
      tf,
      width: timeframeMicros(tf),
      ts: new Float64Builder('timestamp', 64),
      bookTs: new Float64Builder('timestamp', 64),
      values: Array.from({ length: nValues }, () => new Float64Builder('float64', 64)),
      crossed: new Int32Builder(64),
    }));
    this.fine = this.outs[0]!.width;
  }

  /**
   * Push a batch of canonical incremental_book_L2 rows (timestamp, is_snapshot, side, price, amount),
   * visited in `order` when given (row indices in feed order, see feed-order.ts), else as they are.
   */
  pushIncremental(batch: ColumnBatch, order: Uint32Array | null = null): void {
    const what = 'incremental_book_L2 batch';
    const ts = col(batch, 'timestamp', ['timestamp'], what).values;
    const snap = (col(batch, 'is_snapshot', ['bool'], what) as BoolColumn).values;
    const sideCol = col(batch, 'side', ['dict'], what) as DictColumn;
    const price = (col(batch, 'price', ['float64'], what) as Float64Column).values;
    const amount = (col(batch, 'amount', ['float64'], what) as Float64Column).values;
    const codes = sideCol.dictionary.map((s) => (s === 'bid' ? BID : s === 'ask' ? ASK : -1));
    const idx = sideCol.indices;
    const book = this.book;
    const n = order ? order.length : batch.length;
    if (this.done) {
      this.afterDay += n;
      return;
    }
    for (let k = 0; k < n; k++) {
      const i = order ? order[k]! : k;
      const t = ts[i]!;
      // Fast path of advance(): in order and inside the open bucket.
      if (t >= this.lastTs && t < this.nextEnd) this.lastTs = t;
      else {
        this.advance(t);
        if (this.done) {
          this.afterDay += n - k;
          return;
        }
      }
      const isSnap = snap[i] === 1;
      if (isSnap) {
        if (this.prevSnapshotTs !== t) {
          book.clear();
          this.prevSnapshotTs = t;
          if (!this.started) this.start(t);
        }
      } else {
        this.prevSnapshotTs = Number.NaN;
        if (!this.started) {
          this.skipped++;
          continue;
        }
      }
      const side = codes[idx[i]!]!;
      if (side < 0) {
        throw new DataTypeValidationError(
          `${this.o.instrumentKey} incremental_book_L2: side "${sideCol.dictionary[idx[i]!]}" is neither bid nor ask`,
          { hint: 're-ingest the day; the raw file does not follow the canonical schema' },
        );
      }
      book.set(side as 0 | 1, price[i]!, amount[i]!);
      if (t > this.lastAppliedTs) this.lastAppliedTs = t;
      this.applied++;
    }
  }

  /** Push a batch of canonical book_snapshot_N rows (bid_price_i, bid_amount_i, ask_price_i, ask_amount_i). */
  pushSnapshots(batch: ColumnBatch, depth: number): void {
    const ts = col(batch, 'timestamp', ['timestamp'], `book_snapshot_${depth} batch`).values;
    for (let l = 0; l < Math.min(depth, this.levels); l++) {
      for (const p of ['bid_price', 'bid_amount', 'ask_price', 'ask_amount']) {
        col(batch, `${p}_${l}`, ['float64'], `book_snapshot_${depth} batch`);
      }
    }
    for (let i = 0; i < batch.length; i++) {
      const t = ts[i]!;
      this.advance(t);
      if (this.done) {
        this.afterDay += batch.length - i;
        return;
      }
      if (!this.started) this.start(t);
      this.snapBatch = batch;
      this.snapRow = i;
      this.snapDepth = depth;
      if (t > this.lastAppliedTs) this.lastAppliedTs = t;
      this.applied++;
    }
  }

  /** Emit the remaining buckets up to the end of the day and return every timeframe's rows. */
  finish(): BookSnapshotResult {
    if (this.started && !this.done) this.emitUntil(this.dayEnd);
    this.done = true;
    const batches = new Map<Timeframe, ColumnBatch>();
    const names = this.schema.fields.map((f) => f.name);
    for (const out of this.outs) {
      const columns: Record<string, Column> = {};
      const n = out.ts.length;
      columns.timestamp = out.ts.finish();
      columns.book_ts = out.bookTs.finish();
      for (let v = 0; v < out.values.length; v++) columns[names[2 + v]!] = out.values[v]!.finish();
      columns.crossed = out.crossed.finish();
      columns.instrument_key = {
        kind: 'dict',
        indices: new Int32Array(n),
        dictionary: [this.o.instrumentKey],
        validity: null,
      };
      const ordered: Record<string, Column> = {};
      for (const name of names) ordered[name] = columns[name]!;
      batches.set(out.tf, { length: n, columns: ordered });
    }
    return {
      batches,
      crossed: this.crossedInstants,
      applied: this.applied,
      skippedBeforeSnapshot: this.skipped,
      afterDay: this.afterDay,
      late: this.late,
    };
  }

  private start(t: number): void {
    this.started = true;
    const from = Math.max(t, this.dayStart);
    this.nextEnd = this.dayStart + (Math.floor((from - this.dayStart) / this.fine) + 1) * this.fine;
  }

  /** Before applying a row stamped `t`: emit every bucket that ends at or before `t`. */
  private advance(t: number): void {
    if (t < this.lastTs) {
      // Late: an earlier exchange time arriving after a later one (feed order). It is applied now,
      // so it counts in the bucket that is open when it arrives.
      this.late++;
      return;
    }
    this.lastTs = t;
    if (!this.started || t < this.nextEnd) return;
    this.emitUntil(Math.min(t, this.dayEnd));
    if (t >= this.dayEnd) this.done = true;
  }

  /** Emit every bucket whose end is ≤ `limit`. */
  private emitUntil(limit: number): void {
    if (this.nextEnd > limit) return;
    this.capture();
    const s = this.scratch;
    const crossed = this.book.crossedLevels();
    for (let e = this.nextEnd; e <= limit; e += this.fine) {
      if (crossed > 0) this.crossedInstants++;
      const off = e - this.dayStart;
      for (const out of this.outs) {
        if (off % out.width !== 0) continue;
        out.ts.append(e - out.width);
        out.bookTs.append(this.lastAppliedTs);
        for (let v = 0; v < s.length; v++) {
          const x = s[v]!;
          if (Number.isNaN(x)) out.values[v]!.appendNull();
          else out.values[v]!.append(x);
        }
        out.crossed.append(crossed);
      }
      this.nextEnd = e + this.fine;
    }
  }

  /** The current book's top levels + mid/spread/imbalance into `scratch` (NaN = null). */
  private capture(): void {
    const book = this.book;
    if (this.snapBatch) this.loadSnapshotRow();
    const s = this.scratch;
    const n = this.levels;
    const { bids, asks } = book;
    for (let i = 0; i < n; i++) {
      s[i * 4] = bids.price(i);
      s[i * 4 + 1] = bids.amount(i);
      s[i * 4 + 2] = asks.price(i);
      s[i * 4 + 3] = asks.amount(i);
    }
    const bp = bids.price(0);
    const ap = asks.price(0);
    const ba = bids.amount(0);
    const aa = asks.amount(0);
    s[n * 4] = (bp + ap) / 2;
    s[n * 4 + 1] = ap - bp;
    s[n * 4 + 2] = (ba - aa) / (ba + aa);
  }

  private loadSnapshotRow(): void {
    const b = this.snapBatch!;
    const r = this.snapRow;
    const book = this.book;
    book.clear();
    for (let l = 0; l < Math.min(this.snapDepth, this.levels); l++) {
      for (const [side, p, a] of [
        [BID, `bid_price_${l}`, `bid_amount_${l}`],
        [ASK, `ask_price_${l}`, `ask_amount_${l}`],
      ] as const) {
        const pc = b.columns[p] as Float64Column;
        const ac = b.columns[a] as Float64Column;
        const present =
          (pc.validity === null || pc.validity[r] === 1) && (ac.validity === null || ac.validity[r] === 1);
        if (present && !Number.isNaN(pc.values[r]!)) book.set(side, pc.values[r]!, ac.values[r]!);
      }
    }
  }
}
