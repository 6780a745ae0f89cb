/**
 * The in-memory run of the external sorter: one growable typed array per column (reused across runs),
 * filled by copying row ranges of pushed batches. Dictionary columns are re-keyed onto one sorter-wide
 * dictionary per column, so every run (in memory or spilled) shares the same ids.
 */
import type { Column, ColumnBatch, Field, Validity } from '../columns/types.js';

/** A sorter-wide dictionary: strings in first-seen order. */
export class SharedDictionary {
  readonly values: string[] = [];
  private readonly lookup = new Map<string, number>();

  /** Map each entry of `dictionary` to its shared id (adding new strings). */
  remap(dictionary: readonly string[]): Int32Array {
    const out = new Int32Array(dictionary.length);
    for (let i = 0; i < dictionary.length; i++) {
      const s = dictionary[i]!;
      let id = this.lookup.get(s);
      if (id === undefined) {
        id = this.values.length;
        this.values.push(s);
        this.lookup.set(s, id);
      }
      out[i] = id;
    }
    return out;
  }
}

type FixedArray = Float64Array | Int32Array | Uint8Array;

interface FixedSlot {
  readonly kind: 'timestamp' | 'float64' | 'int64' | 'int32' | 'bool';
  values: FixedArray;
  validity: Uint8Array | null;
}

interface Utf8Slot {
  readonly kind: 'utf8';
  offsets: Int32Array;
  data: Uint8Array;
  validity: Uint8Array | null;
}

interface DictSlot {
  readonly kind: 'dict';
  indices: Int32Array;
  readonly dictionary: SharedDictionary;
  validity: Uint8Array | null;
}

type Slot = FixedSlot | Utf8Slot | DictSlot;

const MAX_UTF8_BYTES = 2 ** 31 - 1;

function grown<T extends FixedArray>(arr: T, capacity: number, used: number): T {
  const next = new (arr.constructor as new (n: number) => T)(capacity);
  next.set(arr.subarray(0, used));
  return next;
}

function newFixed(kind: FixedSlot['kind'], capacity: number): FixedArray {
  switch (kind) {
    case 'int32':
      return new Int32Array(capacity);
    case 'bool':
      return new Uint8Array(capacity);
    default:
      return new Float64Array(capacity);
  }
}

export class RunBuffer {
  length = 0;
  private capacity: number;
  private readonly slots: Slot[];

  constructor(
    private readonly fields: readonly Field[],
    dictionaries: ReadonlyMap<string, SharedDictionary>,
    private readonly maxRows: number,
  ) {
    this.capacity = Math.min(maxRows, 4096);
    const cap = this.capacity;
    this.slots = fields.map((f): Slot => {
      switch (f.kind) {
        case 'utf8':
          return {
            kind: 'utf8',
            offsets: new Int32Array(cap + 1),
            data: new Uint8Array(cap * 16),
            validity: null,
          };
        case 'dict': {
          const dictionary = dictionaries.get(f.name);
          if (dictionary === undefined) throw new Error(`no shared dictionary for ${f.name}`);
          return { kind: 'dict', indices: new Int32Array(cap), dictionary, validity: null };
        }
        default:
          return { kind: f.kind, values: newFixed(f.kind, cap), validity: null };
      }
    });
  }

  get full(): boolean {
    return this.length >= this.maxRows;
  }

  /** Copy rows `[start, end)` of `batch` (columns already checked against the schema). */
  append(batch: ColumnBatch, start: number, end: number): void {
    const n = end - start;
    const at = this.length;
    if (at + n > this.capacity) this.growRows(at + n);
    for (let c = 0; c < this.fields.length; c++) {
      const slot = this.slots[c]!;
      const col = batch.columns[this.fields[c]!.name]!;
      this.appendValidity(slot, col.validity, start, end, at);
      switch (slot.kind) {
        case 'utf8': {
          if (col.kind !== 'utf8') throw new Error('kind mismatch');
          const base = slot.offsets[at]!;
          const from = col.offsets[start]!;
          const bytes = col.offsets[end]! - from;
          if (base + bytes > MAX_UTF8_BYTES) {
            throw new RangeError(
              `sorter run holds more than 2 GiB of text in column ${this.fields[c]!.name}; lower runRows`,
            );
          }
          if (base + bytes > slot.data.length) {
            slot.data = grown(
              slot.data,
              Math.min(MAX_UTF8_BYTES, Math.max(slot.data.length * 2, base + bytes)),
              base,
            );
          }
          slot.data.set(col.data.subarray(from, from + bytes), base);
          const o = slot.offsets;
          const src = col.offsets;
          const shift = base - from;
          // offsets[at + 1 + i] = base + (src[start + 1 + i] - from)
          for (let i = 1; i <= n; i++) o[at + i] = src[start + i]! + shift;
          break;
        }
        case 'dict': {
          if (col.kind !== 'dict') throw new Error('kind mismatch');
          const remap = slot.dictionary.remap(col.dictionary);
          const out = slot.indices;
          const src = col.indices;
          const v = col.validity;
          for (let i = 0; i < n; i++) {
            const r = start + i;
            // Null slots may hold any index; keep them in range.
            out[at + i] = v !== null && v[r] === 0 ? 0 : (remap[src[r]!] ?? 0);
          }
          break;
        }
        default: {
          if (col.kind === 'utf8' || col.kind === 'dict') throw new Error('kind mismatch');
          (slot.values as Float64Array).set(col.values.subarray(start, end) as Float64Array, at);
        }
      }
    }
    this.length += n;
  }

  private appendValidity(slot: Slot, v: Validity, start: number, end: number, at: number): void {
    if (v === null) {
      if (slot.validity !== null) slot.validity.fill(1, at, at + end - start);
      return;
    }
    if (slot.validity === null) {
      slot.validity = new Uint8Array(this.capacity);
      slot.validity.fill(1, 0, at);
    }
    slot.validity.set(v.subarray(start, end), at);
  }

  private growRows(min: number): void {
    let cap = this.capacity;
    while (cap < min) cap *= 2;
    cap = Math.min(cap, Math.max(this.maxRows, min));
    const used = this.length;
    for (const slot of this.slots) {
      if (slot.validity !== null) slot.validity = grown(slot.validity, cap, used);
      switch (slot.kind) {
        case 'utf8':
          slot.offsets = grown(slot.offsets, cap + 1, used + 1);
          break;
        case 'dict':
          slot.indices = grown(slot.indices, cap, used);
          break;
        default:
          slot.values = grown(slot.values, cap, used);
      }
    }
    this.capacity = cap;
  }

  /**
   * The current rows as a batch of views (valid until the next `append` or `reset`). Dict columns
   * carry `dictionaries` (by name) when given, else the live shared dictionary.
   */
  view(dictionaries?: ReadonlyMap<string, readonly string[]>): ColumnBatch {
    const n = this.length;
    const columns: Record<string, Column> = {};
    for (let c = 0; c < this.fields.length; c++) {
      const name = this.fields[c]!.name;
      const slot = this.slots[c]!;
      const validity = slot.validity === null ? null : slot.validity.subarray(0, n);
      switch (slot.kind) {
        case 'utf8':
          columns[name] = {
            kind: 'utf8',
            offsets: slot.offsets.subarray(0, n + 1),
            data: slot.data.subarray(0, slot.offsets[n]!),
            validity,
          };
          break;
        case 'dict':
          columns[name] = {
            kind: 'dict',
            indices: slot.indices.subarray(0, n),
            dictionary: dictionaries?.get(name) ?? slot.dictionary.values,
            validity,
          };
          break;
        default:
          columns[name] = { kind: slot.kind, values: slot.values.subarray(0, n), validity } as Column;
      }
    }
    return { length: n, columns };
  }

  /** Empty the run, keeping the allocated arrays for the next one. */
  reset(): void {
    this.length = 0;
    for (const slot of this.slots) slot.validity = null;
  }
}
