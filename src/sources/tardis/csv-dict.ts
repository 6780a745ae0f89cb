/**
 * Open dictionaries keyed by a field's bytes: the instrument key of each `symbol` and the values
 * of `underlying_index`. The hot loop first compares a row's bytes with the previous row's
 * (`last*`); otherwise `idOf` finds them in a byte-keyed hash table (FNV-1a, open addressing), so
 * grouped files whose symbol changes on every row (`OPTIONS`) still make no string per row. A string
 * is made, and `resolve` called, once per distinct text.
 */

const decoder = new TextDecoder();

export class ByteDict {
  /** Bytes, length and id of the most recent successful lookup. */
  last = new Uint8Array(64);
  lastLen = -1;
  lastId = -1;
  /** Distinct texts seen, first-seen order (e.g. vendor symbols). */
  readonly texts: string[] = [];
  /** Dictionary values, first-seen order; a row stores the index. */
  readonly values: string[] = [];

  // Entry i (= index into `texts`) holds bytes arena[starts[i], starts[i + 1]) and dictionary id ids[i]
  // (-1 when `resolve` threw; failures[i] says why).
  private arena = new Uint8Array(1024);
  private starts: number[] = [0];
  private readonly ids: number[] = [];
  private readonly failures: (string | null)[] = [];
  private table = new Int32Array(64).fill(-1);
  private readonly byValue = new Map<string, number>();
  private snapshotCache: readonly string[] = [];

  /** `resolve` maps a text to its dictionary value once per distinct text; it may throw. */
  constructor(private readonly resolve: ((text: string) => string) | null) {}

  /** Dictionary index of the text in `buf[start, end)`, or -1 when `resolve` rejected it. */
  idOf(buf: Uint8Array, start: number, end: number): number {
    const entry = this.entryOf(buf, start, end);
    const id = this.ids[entry]!;
    if (id >= 0) {
      const len = end - start;
      if (len > this.last.length) this.last = new Uint8Array(len * 2);
      for (let i = 0; i < len; i++) this.last[i] = buf[start + i]!;
      this.lastLen = len;
      this.lastId = id;
    }
    return id;
  }

  /** Why the text in `buf[start, end)` was rejected (the message `resolve` threw). */
  failureOf(buf: Uint8Array, start: number, end: number): string {
    return this.failures[this.entryOf(buf, start, end)] ?? 'unknown error';
  }

  /** The dictionary as it is now (the same array until a value is added). */
  snapshot(): readonly string[] {
    if (this.snapshotCache.length !== this.values.length) this.snapshotCache = this.values.slice();
    return this.snapshotCache;
  }

  private entryOf(buf: Uint8Array, start: number, end: number): number {
    const len = end - start;
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    const table = this.table;
    const mask = table.length - 1;
    const arena = this.arena;
    const starts = this.starts;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const entry = table[slot]!;
      if (entry < 0) break;
      const s = starts[entry]!;
      if (starts[entry + 1]! - s !== len) continue;
      let i = 0;
      while (i < len && arena[s + i] === buf[start + i]) i++;
      if (i === len) return entry;
    }
    return this.add(buf, start, end, h);
  }

  private add(buf: Uint8Array, start: number, end: number, hash: number): number {
    const text = decoder.decode(buf.subarray(start, end));
    let id = -1;
    let failure: string | null = null;
    try {
      const value = this.resolve === null ? text : this.resolve(text);
      id = this.byValue.get(value) ?? -1;
      if (id < 0) {
        id = this.values.length;
        this.values.push(value);
        this.byValue.set(value, id);
      }
    } catch (err) {
      failure = err instanceof Error ? err.message : String(err);
    }
    const entry = this.texts.length;
    this.texts.push(text);
    this.ids.push(id);
    this.failures.push(failure);
    const from = this.starts[entry]!;
    const to = from + end - start;
    if (to > this.arena.length) {
      const next = new Uint8Array(Math.max(to, this.arena.length * 2));
      next.set(this.arena.subarray(0, from));
      this.arena = next;
    }
    this.arena.set(buf.subarray(start, end), from);
    this.starts.push(to);
    if (2 * this.texts.length > this.table.length) this.rehash();
    else this.insert(entry, hash);
    return entry;
  }

  private insert(entry: number, hash: number): void {
    const mask = this.table.length - 1;
    let slot = hash & mask;
    while (this.table[slot]! >= 0) slot = (slot + 1) & mask;
    this.table[slot] = entry;
  }

  private rehash(): void {
    this.table = new Int32Array(this.table.length * 4).fill(-1);
    for (let entry = 0; entry < this.texts.length; entry++) {
      let h = 0x811c9dc5;
      for (let i = this.starts[entry]!; i < this.starts[entry + 1]!; i++)
        h = Math.imul(h ^ this.arena[i]!, 0x01000193);
      this.insert(entry, h);
    }
  }
}
