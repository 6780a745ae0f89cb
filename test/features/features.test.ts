/**
 * Feature sets over candles in a lake of generated trades (labelled generated): values equal an
 * independent computation (DuckDB window SQL over our candle files, textbook RSI/MACD in the test)
 * across day boundaries; no look-ahead (appending a future day changes no earlier value); versions
 * are separate and old versions stay readable; user sets register through the library.
 */
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCandles } from '../../src/candles/build.js';
import { buildFeatures } from '../../src/features/build.js';
import { getFeatureSet, registerFeatureSet } from '../../src/features/registry.js';
import '../../src/features/sets.js';
import { TicklakeError } from '../../src/errors.js';
import { GEN_KEY, generateDay, generatedLake, ingestDays } from '../candles/env.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import type { LakeEnv } from '../helpers/lake.js';

const DAYS = ['2024-08-01', '2024-08-02'];
const DAY3 = '2024-08-03';

function values(t: Table, name: string): (number | null)[] {
  const v = t.getChild(name)!;
  return Array.from({ length: t.numRows }, (_, i) => {
    const x = v.get(i);
    return x === null ? null : Number(x);
  });
}

function close(a: number | null, b: number | null, rel = 1e-9): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-300);
}

async function read(
  env: LakeEnv,
  set: string,
  tf: string,
  from: string,
  to: string,
  version?: number,
): Promise<Table> {
  return env.lake.read({ dataset: 'features', set, version, key: GEN_KEY, timeframe: tf, from, to });
}

describe('feature sets', () => {
  let env: LakeEnv;

  beforeAll(async () => {
    env = await generatedLake(DAYS, 4000);
    await buildCandles(env.lake, {
      from: DAYS[0]!,
      to: DAYS[1]!,
      books: false,
      timeframes: ['1m', '5m', '1h'],
    });
    for (const set of ['momentum', 'volatility', 'volume_profile']) {
      const s = await buildFeatures(env.lake, { set, from: DAYS[0]!, to: DAYS[1]! });
      expect(s.built).toBe(6); // 2 days × 3 timeframes with candles
    }
  }, 90_000);

  afterAll(async () => {
    await env?.close();
  });

  async function candleFiles(tf: string): Promise<string> {
    const files = await env.lake.files({
      dataset: 'processed_candles',
      instrumentKey: GEN_KEY,
      dataType: tf,
    });
    return `[${files.map((f) => sqlString(join(env.lakeDir, f.path))).join(', ')}]`;
  }

  it('volatility and volume_profile equal DuckDB window SQL over the candles, across the day boundary', async () => {
    for (const tf of ['1m', '5m']) {
      const ref = await duckRows(`
        WITH c AS (SELECT epoch_us("timestamp") AS ts, * EXCLUDE ("timestamp"), ln(close / lag(close) OVER w) AS r,
                   row_number() OVER w AS rn
                   FROM read_parquet(${await candleFiles(tf)}) WINDOW w AS (ORDER BY "timestamp"))
        SELECT ts,
          CASE WHEN rn > 30 THEN sqrt(sum(r * r) OVER w30) END AS rv_30,
          CASE WHEN rn > 60 THEN sqrt(sum(r * r) OVER w60) END AS rv_60,
          CASE WHEN rn >= 30 THEN sqrt(sum(ln(high / low) ^ 2) OVER w30 / (4 * ln(2) * 30)) END AS parkinson_30,
          CASE WHEN rn >= 30 THEN sqrt(greatest(0, sum(0.5 * ln(high / low) ^ 2 - (2 * ln(2) - 1) * ln(close / open) ^ 2) OVER w30 / 30)) END AS garman_klass_30,
          CASE WHEN rn >= 60 AND stddev_pop(volume) OVER w60 > 0 THEN (volume - avg(volume) OVER w60) / stddev_pop(volume) OVER w60 END AS volume_z_60,
          close / (sum(quote_volume) OVER w60 / sum(volume) OVER w60) - 1 AS vwap_distance_60,
          CASE WHEN volume > 0 THEN buy_volume / volume END AS buy_ratio
        FROM c
        WINDOW w30 AS (ORDER BY ts ROWS 29 PRECEDING), w60 AS (ORDER BY ts ROWS 59 PRECEDING)
        ORDER BY ts`);
      const vol = await read(env, 'volatility', tf, DAYS[0]!, DAY3);
      const prof = await read(env, 'volume_profile', tf, DAYS[0]!, DAY3);
      expect(vol.numRows).toBe(ref.length);
      for (const [t, cols] of [
        [vol, ['rv_30', 'rv_60', 'parkinson_30', 'garman_klass_30']],
        [prof, ['volume_z_60', 'buy_ratio']],
      ] as const) {
        for (const c of cols) {
          const ours = values(t, c);
          const bad = ours
            .map((v, i) => [i, v, ref[i]![c]] as const)
            .filter(([, v, r]) => !close(v, r as number | null, 1e-8));
          expect(bad.slice(0, 3), `${tf} ${c}`).toEqual([]);
        }
      }
      // vwap_distance_60 (close / vwap − 1 cancels, so compared absolutely): the reference window is
      // partial in the first 59 bars; ours is null there.
      const d = values(prof, 'vwap_distance_60');
      const badD = d
        .map((v, i) => [i, v, ref[i]!.vwap_distance_60] as const)
        .filter(([i, v, r]) => i >= 59 && (v === null || r === null || Math.abs(v - Number(r)) > 1e-12));
      expect(badD.slice(0, 3), `${tf} vwap_distance_60`).toEqual([]);
      expect(d.slice(0, 59).every((v) => v === null)).toBe(true);
    }
  });

  it('momentum equals a textbook RSI/MACD/returns computed in the test over the whole candle series', async () => {
    const candles = await env.lake.read({
      dataset: 'candles',
      key: GEN_KEY,
      timeframe: '5m',
      from: DAYS[0]!,
      to: DAY3,
    });
    const c = values(candles, 'close') as number[];
    // Wilder RSI 14.
    const rsi: (number | null)[] = c.map(() => null);
    let ag = 0;
    let al = 0;
    for (let i = 1; i < c.length; i++) {
      const d = c[i]! - c[i - 1]!;
      if (i <= 14) {
        ag += Math.max(d, 0) / 14;
        al += Math.max(-d, 0) / 14;
        if (i < 14) continue;
      } else {
        ag = (ag * 13 + Math.max(d, 0)) / 14;
        al = (al * 13 + Math.max(-d, 0)) / 14;
      }
      rsi[i] = al === 0 ? (ag === 0 ? 50 : 100) : 100 - 100 / (1 + ag / al);
    }
    const ema = (x: (number | null)[], n: number): (number | null)[] => {
      const out: (number | null)[] = x.map(() => null);
      const firstIdx = x.findIndex((v) => v !== null);
      if (firstIdx < 0 || firstIdx + n > x.length) return out;
      let e = x.slice(firstIdx, firstIdx + n).reduce((a, b) => a! + b!, 0)! / n;
      out[firstIdx + n - 1] = e;
      for (let i = firstIdx + n; i < x.length; i++) {
        e = (2 / (n + 1)) * x[i]! + (1 - 2 / (n + 1)) * e;
        out[i] = e;
      }
      return out;
    };
    const e12 = ema(c, 12);
    const e26 = ema(c, 26);
    const macd = c.map((_, i) => (e12[i] === null || e26[i] === null ? null : e12[i]! - e26[i]!));
    const signal = ema(macd, 9);
    const m = await read(env, 'momentum', '5m', DAYS[0]!, DAY3);
    expect(m.numRows).toBe(c.length);
    const check = (name: string, ref: (number | null)[]) => {
      const ours = values(m, name);
      const bad = ours
        .map((v, i) => [i, v, ref[i]] as const)
        .filter(([, v, r]) => !close(v, r ?? null, 1e-9));
      expect(bad.slice(0, 3), name).toEqual([]);
    };
    check('rsi_14', rsi);
    check('macd', macd);
    check('macd_signal', signal);
    for (const k of [1, 5, 15, 60])
      check(
        `ret_${k}`,
        c.map((v, i) => (i >= k ? Math.log(v / c[i - k]!) : null)),
      );
  });

  it('has no look-ahead: appending a future day changes no earlier value', async () => {
    const before = await Promise.all(
      ['momentum', 'volatility', 'volume_profile'].map((s) => read(env, s, '1m', DAYS[0]!, DAY3)),
    );
    await generateDay(env.vendorDir, DAY3, 4000, 77);
    await ingestDays(env, DAY3, DAY3);
    await buildCandles(env.lake, { from: DAY3, to: DAY3, books: false, timeframes: ['1m', '5m', '1h'] });
    for (const set of ['momentum', 'volatility', 'volume_profile']) {
      // Untouched days are skipped; force a full rebuild too and compare values.
      const s = await buildFeatures(env.lake, { set, from: DAYS[0]!, to: DAY3 });
      expect(s).toMatchObject({ built: 3, skipped: 6 });
      await buildFeatures(env.lake, { set, from: DAYS[0]!, to: DAY3, force: true });
    }
    const after = await Promise.all(
      ['momentum', 'volatility', 'volume_profile'].map((s) => read(env, s, '1m', DAYS[0]!, DAY3)),
    );
    for (let k = 0; k < 3; k++) {
      for (const f of before[k]!.schema.fields)
        expect(values(after[k]!, f.name), f.name).toEqual(values(before[k]!, f.name));
    }
    const withFuture = await read(env, 'momentum', '1m', DAYS[0]!, '2024-08-04');
    expect(withFuture.numRows).toBeGreaterThan(before[0]!.numRows);
  });

  it('a user set registers through the library; a new version leaves the old one readable', async () => {
    const v1 = registerFeatureSet({
      name: 'spread_test',
      version: 1,
      timeframes: ['1h'],
      warmupBars: 0,
      outputs: ['range'],
      compute: (c) => ({ range: c.columns.high!.map((h, i) => h - c.columns.low![i]!) }),
    });
    expect(getFeatureSet('spread_test')).toBe(v1);
    const b1 = await buildFeatures(env.lake, { set: 'spread_test', from: DAYS[0]!, to: DAYS[1]! });
    expect(b1).toMatchObject({ version: 1, built: 2 });
    const v1Files = await env.lake.files({ dataset: 'features' });
    const v1Sums = v1Files
      .filter((f) => f.path.startsWith('features/spread_test/v1/'))
      .map((f) => f.checksum);
    const old = values(await read(env, 'spread_test', '1h', DAYS[0]!, DAY3), 'range');
    // The same name and version with another definition is refused …
    expect(() =>
      registerFeatureSet({
        name: 'spread_test',
        version: 1,
        timeframes: ['1h'],
        warmupBars: 0,
        outputs: ['range'],
        compute: (c) => ({ range: c.columns.close! }),
      }),
    ).toThrow(/already registered with a different definition/);
    // … so it becomes v2.
    registerFeatureSet({
      name: 'spread_test',
      version: 2,
      timeframes: ['1h'],
      warmupBars: 0,
      outputs: ['range'],
      compute: (c) => ({ range: c.columns.high!.map((h, i) => (h - c.columns.low![i]!) * 2) }),
    });
    const b2 = await buildFeatures(env.lake, { set: 'spread_test', from: DAYS[0]!, to: DAYS[1]! });
    expect(b2).toMatchObject({ version: 2, built: 2 });
    const after = (await env.lake.files({ dataset: 'features' })).filter((f) =>
      f.path.startsWith('features/spread_test/v1/'),
    );
    expect(after.map((f) => f.checksum)).toEqual(v1Sums);
    expect(values(await read(env, 'spread_test', '1h', DAYS[0]!, DAY3, 1), 'range')).toEqual(old);
    const latest = values(await read(env, 'spread_test', '1h', DAYS[0]!, DAY3), 'range');
    expect(latest).toEqual(old.map((v) => (v === null ? null : v * 2)));
  });

  it('bad requests get clear typed errors', async () => {
    await expect(buildFeatures(env.lake, { set: 'nope', from: DAYS[0]!, to: DAYS[0]! })).rejects.toThrow(
      /unknown feature set "nope"/,
    );
    await expect(
      buildFeatures(env.lake, { set: 'momentum', from: DAYS[0]!, to: DAYS[0]!, timeframes: ['15s'] }),
    ).rejects.toThrow(/not built for 15s/);
    await expect(read(env, 'momentum', '1m', DAYS[0]!, DAY3, 7)).rejects.toThrow(
      /momentum v7 is not in the lake/,
    );
    const err = await env.lake
      .read({ dataset: 'candles', key: GEN_KEY, timeframe: '2m', from: DAYS[0]!, to: DAY3 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TicklakeError);
    expect((err as TicklakeError).code).toBe('USAGE');
    expect(() =>
      registerFeatureSet({
        name: 'Bad Name',
        version: 1,
        warmupBars: 0,
        outputs: ['x'],
        compute: () => ({}),
      }),
    ).toThrow(/not valid/);
  });
});
