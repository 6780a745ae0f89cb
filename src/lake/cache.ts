/**
 * The read cache (the third storage tier after object store and local disk): decoded Arrow column
 * chunks kept in memory, least recently used evicted first, bounded by bytes (`cache.maxBytes`).
 *
 * Entries are keyed by lake path + file checksum (from the catalog record), so a republished file
 * (new checksum) is never served stale: the first read that sees a new checksum for a path drops every
 * entry of the old one. Hits, misses, evictions and bytes are counted for `/metrics` and tests.
 */
import type { Data } from 'apache-arrow';

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  /** Entries dropped because their file's checksum changed. */
  invalidations: number;
  /** Bytes held now. */
  bytes: number;
  entries: number;
  maxBytes: number;
}

interface Entry {
  key: string;
  path: string;
  value: unknown;
  bytes: number;
}

/** Bytes held by an Arrow Data (values, offsets, validity, type ids, dictionary), children included. */
export function arrowDataBytes(d: Data): number {
  let n = 0;
  const seen = new Set<ArrayBufferView>();
  const add = (b: ArrayBufferView | undefined | null) => {
    if (b && !seen.has(b)) {
      seen.add(b);
      n += b.byteLength;
    }
  };
  const visit = (x: Data) => {
    add(x.values as ArrayBufferView | undefined);
    add(x.valueOffsets as ArrayBufferView | undefined);
    add(x.nullBitmap as ArrayBufferView | undefined);
    add(x.typeIds as ArrayBufferView | undefined);
    for (const c of x.children) visit(c);
    if (x.dictionary) for (const dd of x.dictionary.data) visit(dd);
  };
  visit(d);
  return n;
}

/**
 * LRU by bytes. A JavaScript `Map` keeps insertion order, so re-inserting on a hit makes the first
 * key the least recently used one.
 */
export class ReadCache {
  private readonly entries = new Map<string, Entry>();
  /** path → checksum the entries of that path belong to. */
  private readonly checksums = new Map<string, string>();
  /** path → keys of its entries (for invalidation). */
  private readonly byPath = new Map<string, Set<string>>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private invalidations = 0;

  constructor(readonly maxBytes: number) {}

  /**
   * Declare the checksum the catalog currently records for `path`. Entries of an older checksum are
   * dropped (the file was republished).
   */
  validate(path: string, checksum: string): void {
    const known = this.checksums.get(path);
    if (known === checksum) return;
    if (known !== undefined) {
      const keys = this.byPath.get(path);
      if (keys) {
        for (const k of [...keys]) {
          this.remove(k);
          this.invalidations++;
        }
      }
    }
    this.checksums.set(path, checksum);
  }

  /** The cached value of `part` of `path` at `checksum`, or undefined (counted as a miss). */
  get<T>(path: string, checksum: string, part: string): T | undefined {
    const key = `${checksum}|${path}|${part}`;
    const e = this.entries.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value as T;
  }

  /** Whether `part` is cached (not counted, not refreshed). */
  has(path: string, checksum: string, part: string): boolean {
    return this.entries.has(`${checksum}|${path}|${part}`);
  }

  /** Store `value` (of `bytes` bytes); values larger than the whole budget are not kept. */
  set(path: string, checksum: string, part: string, value: unknown, bytes: number): void {
    if (this.maxBytes <= 0 || bytes > this.maxBytes) return;
    this.validate(path, checksum);
    const key = `${checksum}|${path}|${part}`;
    if (this.entries.has(key)) this.remove(key);
    this.entries.set(key, { key, path, value, bytes });
    let keys = this.byPath.get(path);
    if (!keys) {
      keys = new Set();
      this.byPath.set(path, keys);
    }
    keys.add(key);
    this.bytes += bytes;
    while (this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.remove(oldest);
      this.evictions++;
    }
  }

  /** Drop everything (counters are kept). */
  clear(): void {
    this.entries.clear();
    this.byPath.clear();
    this.checksums.clear();
    this.bytes = 0;
  }

  stats(): CacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      invalidations: this.invalidations,
      bytes: this.bytes,
      entries: this.entries.size,
      maxBytes: this.maxBytes,
    };
  }

  private remove(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.bytes -= e.bytes;
    const keys = this.byPath.get(e.path);
    if (keys) {
      keys.delete(key);
      if (keys.size === 0) this.byPath.delete(e.path);
    }
  }
}
