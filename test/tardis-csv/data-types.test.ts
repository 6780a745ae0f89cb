/**
 * A generated CSV (built here, not a vendor file) for each of the nine data types parses into
 * exactly the canonical schema, with every value checked against its text.
 */
import { describe, expect, it } from 'vitest';
import { valueAt } from '../../src/columns/ops.js';
import { CANONICAL_SCHEMAS, DATA_TYPES, type DataType, tardisCsvColumns } from '../../src/schema/datasets.js';
import { expectCanonicalSchema, expectMatchesText, keyOf, parse } from './helpers.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE_US = 1_598_918_400_000_000;

/** Generated rows of `dataType`: text per Tardis column (null = empty field), some nulls in every nullable field. */
function generate(dataType: DataType, rows: number, seed = 1): Record<string, (string | null)[]> {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const num = () =>
    pick([
      `${Math.floor(r() * 100_000)}.${Math.floor(r() * 1000)}`,
      `${Math.floor(r() * 50)}`,
      `0.${Math.floor(r() * 1e8)}`,
      '1e-7',
      '-0.25',
    ]);
  const nullable = new Set(CANONICAL_SCHEMAS[dataType].fields.filter((f) => f.nullable).map((f) => f.name));
  const symbols =
    dataType === 'options_chain'
      ? ['BTC-27MAR20-5000-C', 'BTC-27MAR20-5000-P', 'ETH-27MAR20-200-C']
      : ['BTCUSDT', 'ETHUSDT'];
  const out: Record<string, (string | null)[]> = {};
  for (const col of tardisCsvColumns(dataType)) out[col] = [];
  for (let i = 0; i < rows; i++) {
    const local = BASE_US + i * 1000 + 7;
    for (const col of tardisCsvColumns(dataType)) {
      let v: string | null;
      const canonical = col.startsWith('asks[') || col.startsWith('bids[') ? 'level' : col;
      const mayBeNull = nullable.has(col) || canonical === 'level';
      if (mayBeNull && i % 11 === col.length % 11) v = null;
      else
        switch (col) {
          case 'exchange':
            v = 'deribit';
            break;
          case 'symbol':
            v = pick(symbols);
            break;
          case 'timestamp':
            v = i % 13 === 5 ? null : String(local - Math.floor(r() * 5000));
            break;
          case 'local_timestamp':
            v = String(local);
            break;
          case 'funding_timestamp':
          case 'expiration':
            v = String(BASE_US + 86_400_000_000 * (1 + Math.floor(r() * 30)));
            break;
          case 'id':
            v = pick([String(1_000_000 + i), `ccc3c1fa-212c-e8b0-1706-${i}`, `идент-${i}`]);
            break;
          case 'side':
            v = dataType === 'incremental_book_L2' ? pick(['bid', 'ask']) : pick(['buy', 'sell', 'unknown']);
            break;
          case 'is_snapshot':
            v = pick(['true', 'false']);
            break;
          case 'type':
            v = pick(['call', 'put']);
            break;
          case 'underlying_index':
            v = pick(['SYN.BTC-27MAR20', 'BTC-USD']);
            break;
          default:
            v = num();
        }
      out[col]!.push(v);
    }
  }
  return out;
}

function toCsv(text: Record<string, (string | null)[]>, header = Object.keys(text), eol = '\n'): string {
  const n = text[header[0]!]!.length;
  const lines = [header.join(',')];
  for (let i = 0; i < n; i++) lines.push(header.map((c) => text[c]?.[i] ?? '').join(','));
  return lines.join(eol) + eol;
}

describe('generated file of each data type → canonical schema', () => {
  for (const dataType of DATA_TYPES) {
    it(`${dataType} (generated)`, async () => {
      const text = generate(dataType, 500, dataType.length);
      const got = await parse(toCsv(text), dataType, [977, 13, 4096], { batchRows: 128, maxBadRowShare: 0 });
      expect(got.summary.badRows).toBe(0);
      expect(got.summary.rows).toBe(500);
      expect(got.batches.map((b) => b.length)).toEqual([128, 128, 128, 116]);
      for (const b of got.batches) expectCanonicalSchema(b, dataType);
      expectCanonicalSchema(got.batch, dataType);
      expectMatchesText(got.batch, text, dataType);
      // Every nullable field received nulls and says so; validity is present exactly then.
      for (const f of CANONICAL_SCHEMAS[dataType].fields) {
        if (f.nullable) expect(got.batch.columns[f.name]!.validity, f.name).not.toBeNull();
      }
      // resolveKey once per distinct symbol; dictionaries are the fixed ones.
      expect(new Set(got.resolved).size).toBe(got.resolved.length);
      expect(got.summary.symbols.map(keyOf).sort()).toEqual(
        [...new Set(text.symbol!.map((s) => keyOf(s!)))].sort(),
      );
      const side = got.batches[0]!.columns.side;
      if (side?.kind === 'dict') {
        expect(side.dictionary).toEqual(
          dataType === 'incremental_book_L2' ? ['bid', 'ask'] : ['buy', 'sell', 'unknown'],
        );
      }
      const optionType = got.batches[0]!.columns.option_type;
      if (optionType?.kind === 'dict') expect(optionType.dictionary).toEqual(['call', 'put']);
    });
  }

  it('maps columns by name in any order, ignores and reports extra columns', async () => {
    const text = generate('book_snapshot_5', 50, 3);
    const header = [...Object.keys(text), 'unexpected', 'exchange2'].reverse();
    const withExtra = {
      ...text,
      unexpected: text.symbol!.map(() => 'x'),
      exchange2: text.symbol!.map(() => ''),
    };
    const got = await parse(toCsv(withExtra, header), 'book_snapshot_5', 65_536, { maxBadRowShare: 0 });
    expect(got.summary.extraColumns).toEqual(['exchange2', 'unexpected']);
    expectCanonicalSchema(got.batch, 'book_snapshot_5');
    expectMatchesText(got.batch, text, 'book_snapshot_5');
  });

  it('options_chain keys every row by its own symbol', async () => {
    const text = generate('options_chain', 200, 5);
    const got = await parse(toCsv(text), 'options_chain');
    for (let i = 0; i < 200; i++) {
      expect(valueAt(got.batch.columns.instrument_key!, i)).toBe(keyOf(text.symbol![i]!));
    }
    expect(got.resolved.sort()).toEqual([...new Set(text.symbol)].sort());
  });

  it('a grouped file with thousands of interleaved symbols resolves each once (byte-keyed cache)', async () => {
    const header = tardisCsvColumns('options_chain').join(',');
    const lines = [header];
    const rest = ',1,2,3,4,5,6,7,8,9,10,SYN.BTC,11,12,13,14,15,16';
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 3000; k++) {
        const t = BASE_US + round * 1_000_000 + k;
        lines.push(
          `deribit,BTC-${k}-${k % 2 ? 'C' : 'P'},${t},${t},${k % 2 ? 'call' : 'put'},${k},${t}${rest}`,
        );
      }
    }
    const got = await parse(`${lines.join('\n')}\n`, 'options_chain', 65_536, { maxBadRowShare: 0 });
    expect(got.summary.rows).toBe(9000);
    expect(got.resolved).toHaveLength(3000);
    expect(got.summary.symbols).toHaveLength(3000);
    for (const i of [0, 1, 2999, 3000, 4567, 8999]) {
      const k = i % 3000;
      expect(valueAt(got.batch.columns.instrument_key!, i)).toBe(keyOf(`BTC-${k}-${k % 2 ? 'C' : 'P'}`));
      expect(valueAt(got.batch.columns.strike_price!, i)).toBe(k);
    }
  });
});
