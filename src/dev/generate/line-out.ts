/** The row writer: ASCII lines built byte by byte into ~1 MiB chunks, handed to gzip with backpressure. */
import { once } from 'node:events';
import type { Gzip } from 'node:zlib';
import { POW10 } from './format.js';

const CHUNK_BYTES = 1 << 20;
/** Room for one more line after `full` turns true (the longest line is ~2 KB). */
const CHUNK_SLACK = 1 << 16;

/**
 * Lines are written as ASCII bytes straight into a chunk buffer (numbers digit by digit, no strings
 * per field); a full chunk goes to gzip and a fresh one takes its place (gzip may still hold the old).
 */
export class LineOut {
  private buf = Buffer.allocUnsafe(CHUNK_BYTES + CHUNK_SLACK);
  private pos = 0;
  constructor(private readonly gzip: Gzip) {}

  /** ASCII text (at most CHUNK_SLACK bytes between `full` checks). */
  str(s: string): void {
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
    this.pos = pos;
  }

  /** Pre-encoded ASCII. */
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  char(c: number): void {
    this.buf[this.pos++] = c;
  }

  /** A safe integer in decimal. Split at 10^8 so the digit loops run on int32 values. */
  int(value: number): void {
    let n = value;
    if (n < 0) {
      this.buf[this.pos++] = 45;
      n = -n;
    }
    if (n < 1e8) {
      this.small(n);
      return;
    }
    const hi = Math.floor(n / 1e8);
    if (hi < 1e8) this.small(hi);
    else this.int(hi);
    this.padded(n - hi * 1e8, 8);
  }

  /** 0 <= n < 10^8, no padding. */
  private small(value: number): void {
    const n = value | 0;
    let digits = 1;
    for (let t = 10; n >= t && digits < 8; t *= 10) digits++;
    this.padded(n, digits);
  }

  /** 0 <= n < 10^digits, left-padded with zeros to `digits`. */
  private padded(value: number, digits: number): void {
    const buf = this.buf;
    let n = value | 0;
    let end = this.pos + digits;
    this.pos = end;
    for (let i = 0; i < digits; i++) {
      const q = (n / 10) | 0;
      buf[--end] = 48 + n - q * 10;
      n = q;
    }
  }

  /** Integer `units` of 10^-decimals, like `formatUnits`. */
  units(value: number, decimals: number): void {
    const p = POW10[decimals] ?? 1;
    let n = value;
    if (n < 0) {
      this.buf[this.pos++] = 45;
      n = -n;
    }
    const int = Math.floor(n / p);
    let frac = n - int * p;
    this.int(int);
    if (frac === 0) return;
    let d = decimals;
    while (frac % 10 === 0) {
      frac /= 10;
      d--;
    }
    this.buf[this.pos++] = 46;
    if (d <= 8) {
      this.padded(frac, d);
      return;
    }
    const buf = this.buf;
    let end = this.pos + d;
    this.pos = end;
    for (let i = 0; i < d; i++) {
      const q = Math.floor(frac / 10);
      buf[--end] = 48 + (frac - q * 10);
      frac = q;
    }
  }

  /** A whole line of text (any length) plus newline. */
  line(s: string): void {
    if (this.pos + s.length + 1 > this.buf.length) this.grow(s.length + 1);
    this.str(s);
    this.buf[this.pos++] = 10;
  }

  get full(): boolean {
    return this.pos >= CHUNK_BYTES;
  }

  async flush(): Promise<void> {
    if (this.pos === 0) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(CHUNK_BYTES + CHUNK_SLACK);
    this.pos = 0;
    if (!this.gzip.write(chunk)) await once(this.gzip, 'drain');
  }

  async finish(): Promise<void> {
    await this.flush();
    this.gzip.end();
  }

  private grow(extra: number): void {
    const next = Buffer.allocUnsafe(this.pos + extra + CHUNK_SLACK);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

export const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');
