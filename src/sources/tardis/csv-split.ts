/**
 * The slow, RFC 4180 field splitter used for lines the hot loop cannot take (quotes, bad rows) and
 * for the header. Fields are copied unquoted (`""` → `"`) into `scratch`, each followed by a 0 byte
 * so number parsers can look one byte past a field.
 */
const QUOTE = 34;
const COMMA = 44;

export class FieldSplitter {
  scratch = new Uint8Array(256);
  /** Field i is `scratch[starts[i], ends[i])`. */
  readonly starts: number[] = [];
  readonly ends: number[] = [];

  /**
   * Split `buf[s, e)` (no line terminator) into fields, RFC 4180 style, copying them unquoted into
   * `scratch` (each followed by a 0 byte). Returns the field count, or -1 for an unterminated
   * quote, -2 for text after a closing quote.
   */
  split(buf: Uint8Array, s: number, e: number): number {
    if (this.scratch.length < 2 * (e - s) + 2) this.scratch = new Uint8Array(2 * (e - s) + 2);
    const out = this.scratch;
    let o = 0;
    let i = s;
    let count = 0;
    for (;;) {
      this.starts[count] = o;
      if (i < e && buf[i] === QUOTE) {
        i++;
        for (;;) {
          if (i >= e) return -1;
          const b = buf[i]!;
          if (b === QUOTE) {
            if (i + 1 < e && buf[i + 1] === QUOTE) {
              out[o++] = QUOTE;
              i += 2;
              continue;
            }
            i++;
            break;
          }
          out[o++] = b;
          i++;
        }
        if (i < e && buf[i] !== COMMA) return -2;
      } else {
        while (i < e && buf[i] !== COMMA) out[o++] = buf[i++]!;
      }
      this.ends[count] = o;
      out[o++] = 0;
      count++;
      if (i >= e) return count;
      i++;
    }
  }
}
