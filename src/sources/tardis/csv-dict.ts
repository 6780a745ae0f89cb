/**
 * Open dictionaries keyed by a field's bytes: the instrument key of each `symbol` and the values
 * of `underlying_index`. The hot loop compares a row's bytes with the previous row's (`last*`) and
 * only calls `idOf` (which makes a string) when they differ.
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
  private readonly byText = new Map<string, number>();
  private readonly byValue = new Map<string, number>();
  private readonly failures = new Map<string, string>();
  private snapshotCache: readonly string[] = [];

  /** `resolve` maps a text to its dictionary value once per distinct text; it may throw. */
  constructor(private readonly resolve: ((text: string) => string) | null) {}

  /** Dictionary index of the text in `buf[start, end)`, or -1 when `resolve` rejected it. */
  idOf(buf: Uint8Array, start: number, end: number): number {
    const text = decoder.decode(buf.subarray(start, end));
    let id = this.byText.get(text);
    if (id === undefined) {
      id = this.add(text);
      this.byText.set(text, id);
      this.texts.push(text);
    }
    if (id >= 0) {
      const len = end - start;
      if (len > this.last.length) this.last = new Uint8Array(len * 2);
      for (let i = 0; i < len; i++) this.last[i] = buf[start + i]!;
      this.lastLen = len;
      this.lastId = id;
    }
    return id;
  }

  /** Why `text` was rejected (the message `resolve` threw). */
  failureOf(buf: Uint8Array, start: number, end: number): string {
    return this.failures.get(decoder.decode(buf.subarray(start, end))) ?? 'unknown error';
  }

  /** The dictionary as it is now (the same array until a value is added). */
  snapshot(): readonly string[] {
    if (this.snapshotCache.length !== this.values.length) this.snapshotCache = this.values.slice();
    return this.snapshotCache;
  }

  private add(text: string): number {
    let value = text;
    if (this.resolve !== null) {
      try {
        value = this.resolve(text);
      } catch (err) {
        this.failures.set(text, err instanceof Error ? err.message : String(err));
        return -1;
      }
    }
    let id = this.byValue.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.byValue.set(value, id);
    }
    return id;
  }
}
