/**
 * Growable column builders. Parsers append values; `finish()` returns exact-length views.
 * Capacity doubles on growth, so appends are amortised O(1) and allocation-free per row.
 */
import type {
  BoolColumn,
  Column,
  ColumnKind,
  DictColumn,
  Field,
  Float64Column,
  Int32Column,
  Int64Column,
  TimestampColumn,
  Utf8Column,
} from './types.js';

const INITIAL_CAPACITY = 1024;

function grow<T extends Float64Array | Int32Array | Uint8Array>(arr: T, minCapacity: number): T {
  let cap = Math.max(arr.length * 2, INITIAL_CAPACITY);
  while (cap < minCapacity) cap *= 2;
  const next = new (arr.constructor as new (n: number) => T)(cap);
  next.set(arr);
  return next;
}

/** Validity bytes, allocated lazily on the first null. */
class ValidityBuilder {
  private bytes: Uint8Array | null = null;

  /** Mark row `i` null; rows before it were all valid if nothing was allocated yet. */
  setNull(i: number, capacity: number): void {
    if (this.bytes === null) {
      this.bytes = new Uint8Array(Math.max(capacity, INITIAL_CAPACITY));
      this.bytes.fill(1, 0, i);
    } else if (i >= this.bytes.length) {
      this.bytes = grow(this.bytes, i + 1);
    }
    this.bytes[i] = 0;
  }

  setValid(i: number): void {
    if (this.bytes === null) return;
    if (i >= this.bytes.length) this.bytes = grow(this.bytes, i + 1);
    this.bytes[i] = 1;
  }

  finish(length: number): Uint8Array | null {
    return this.bytes === null ? null : this.bytes.subarray(0, length);
  }

  reset(): void {
    this.bytes = null;
  }
}

export class Float64Builder {
  values: Float64Array;
  length = 0;
  private readonly validity = new ValidityBuilder();

  constructor(
    readonly kind: 'float64' | 'timestamp' | 'int64' = 'float64',
    capacity = INITIAL_CAPACITY,
  ) {
    this.values = new Float64Array(capacity);
  }

  append(v: number): void {
    if (this.length === this.values.length) this.values = grow(this.values, this.length + 1);
    this.validity.setValid(this.length);
    this.values[this.length++] = v;
  }

  appendNull(): void {
    if (this.length === this.values.length) this.values = grow(this.values, this.length + 1);
    this.validity.setNull(this.length, this.values.length);
    this.values[this.length++] = Number.NaN;
  }

  finish(): Float64Column | TimestampColumn | Int64Column {
    const col = {
      kind: this.kind,
      values: this.values.subarray(0, this.length),
      validity: this.validity.finish(this.length),
    };
    return col as Float64Column | TimestampColumn | Int64Column;
  }
}

export class Int32Builder {
  values: Int32Array;
  length = 0;
  private readonly validity = new ValidityBuilder();

  constructor(capacity = INITIAL_CAPACITY) {
    this.values = new Int32Array(capacity);
  }

  append(v: number): void {
    if (this.length === this.values.length) this.values = grow(this.values, this.length + 1);
    this.validity.setValid(this.length);
    this.values[this.length++] = v;
  }

  appendNull(): void {
    if (this.length === this.values.length) this.values = grow(this.values, this.length + 1);
    this.validity.setNull(this.length, this.values.length);
    this.values[this.length++] = 0;
  }

  finish(): Int32Column {
    return {
      kind: 'int32',
      values: this.values.subarray(0, this.length),
      validity: this.validity.finish(this.length),
    };
  }
}

export class BoolBuilder {
  values: Uint8Array;
  length = 0;
  private readonly validity = new ValidityBuilder();

  constructor(capacity = INITIAL_CAPACITY) {
    this.values = new Uint8Array(capacity);
  }

  append(v: boolean | 0 | 1): void {
    if (this.length === this.values.length) this.values = grow(this.values, this.length + 1);
    this.validity.setValid(this.length);
    this.values[this.length++] = v ? 1 : 0;
  }

  appendNull(): void {
    if (this.length === this.values.length) this.values = grow(this.values, this.length + 1);
    this.validity.setNull(this.length, this.values.length);
    this.values[this.length++] = 0;
  }

  finish(): BoolColumn {
    return {
      kind: 'bool',
      values: this.values.subarray(0, this.length),
      validity: this.validity.finish(this.length),
    };
  }
}

export class Utf8Builder {
  offsets: Int32Array;
  data: Uint8Array;
  length = 0;
  private readonly validity = new ValidityBuilder();

  constructor(capacity = INITIAL_CAPACITY, byteCapacity = capacity * 16) {
    this.offsets = new Int32Array(capacity + 1);
    this.data = new Uint8Array(byteCapacity);
  }

  /** Append bytes `src[start, end)` (already UTF-8). */
  appendBytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    const pos = this.offsets[this.length]!;
    if (pos + n > this.data.length) this.data = grow(this.data, pos + n);
    for (let i = 0; i < n; i++) this.data[pos + i] = src[start + i]!;
    this.pushOffset(pos + n);
  }

  append(s: string): void {
    const pos = this.offsets[this.length]!;
    const max = s.length * 3;
    if (pos + max > this.data.length) this.data = grow(this.data, pos + max);
    const data = this.data;
    // ASCII fast path (symbols, keys): no allocation per string.
    let i = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      data[pos + i] = c;
    }
    if (i === s.length) {
      this.pushOffset(pos + i);
      return;
    }
    const n = Buffer.from(data.buffer, data.byteOffset, data.byteLength).write(s, pos, 'utf8');
    this.pushOffset(pos + n);
  }

  appendNull(): void {
    const pos = this.offsets[this.length]!;
    this.validity.setNull(this.length, this.offsets.length);
    this.length++;
    if (this.length + 1 > this.offsets.length) this.offsets = grow(this.offsets, this.length + 1);
    this.offsets[this.length] = pos;
  }

  private pushOffset(end: number): void {
    this.validity.setValid(this.length);
    this.length++;
    if (this.length + 1 > this.offsets.length) this.offsets = grow(this.offsets, this.length + 1);
    this.offsets[this.length] = end;
  }

  finish(): Utf8Column {
    const end = this.offsets[this.length]!;
    return {
      kind: 'utf8',
      offsets: this.offsets.subarray(0, this.length + 1),
      data: this.data.subarray(0, end),
      validity: this.validity.finish(this.length),
    };
  }
}

/**
 * Dictionary builder. Callers either append a known dictionary index (fast path, e.g. a fixed
 * `buy|sell|unknown` dictionary) or a string that is looked up / added.
 */
export class DictBuilder {
  indices: Int32Array;
  length = 0;
  readonly dictionary: string[];
  private readonly lookup = new Map<string, number>();
  private readonly validity = new ValidityBuilder();

  constructor(dictionary: readonly string[] = [], capacity = INITIAL_CAPACITY) {
    this.indices = new Int32Array(capacity);
    this.dictionary = [...dictionary];
    for (const [i, s] of this.dictionary.entries()) this.lookup.set(s, i);
  }

  /** Index of `s` in the dictionary, adding it if new. */
  idOf(s: string): number {
    let id = this.lookup.get(s);
    if (id === undefined) {
      id = this.dictionary.length;
      this.dictionary.push(s);
      this.lookup.set(s, id);
    }
    return id;
  }

  appendIndex(id: number): void {
    if (this.length === this.indices.length) this.indices = grow(this.indices, this.length + 1);
    this.validity.setValid(this.length);
    this.indices[this.length++] = id;
  }

  append(s: string): void {
    this.appendIndex(this.idOf(s));
  }

  appendNull(): void {
    if (this.length === this.indices.length) this.indices = grow(this.indices, this.length + 1);
    this.validity.setNull(this.length, this.indices.length);
    this.indices[this.length++] = 0;
  }

  finish(): DictColumn {
    return {
      kind: 'dict',
      indices: this.indices.subarray(0, this.length),
      dictionary: [...this.dictionary],
      validity: this.validity.finish(this.length),
    };
  }
}

export type AnyBuilder = Float64Builder | Int32Builder | BoolBuilder | Utf8Builder | DictBuilder;

/** A builder for a field of the given kind. */
export function builderFor(field: Field, capacity = INITIAL_CAPACITY): AnyBuilder {
  return builderForKind(field.kind, capacity);
}

export function builderForKind(kind: ColumnKind, capacity = INITIAL_CAPACITY): AnyBuilder {
  switch (kind) {
    case 'timestamp':
    case 'float64':
    case 'int64':
      return new Float64Builder(kind, capacity);
    case 'int32':
      return new Int32Builder(capacity);
    case 'bool':
      return new BoolBuilder(capacity);
    case 'utf8':
      return new Utf8Builder(capacity);
    case 'dict':
      return new DictBuilder([], capacity);
  }
}

export function finishBuilder(b: AnyBuilder): Column {
  return b.finish();
}
