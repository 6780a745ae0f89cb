/**
 * The built-in feature sets (docs/SCHEMAS.md "Features"): `momentum`, `volatility`,
 * `volume_profile`, each version 1. Every value at bar t uses bars ≤ t only. Rolling windows are
 * summed directly over their bars (no running sums), so a value does not depend on how much history
 * precedes its window; EMAs (RSI, MACD) start at the first bar of the history read (`warmupBars`
 * before the day, so they have converged to ~1e-10 by the day's first bar).
 */
import { type FeatureInput, type FeatureSet, registerFeatureSet } from './registry.js';

const nan = (n: number) => new Float64Array(n).fill(Number.NaN);

function colOf(input: FeatureInput, name: string): Float64Array {
  const c = input.columns[name];
  if (!c) throw new Error(`feature input has no column ${name}`);
  return c;
}

/** EMA with smoothing `alpha`, seeded with the mean of the first `n` finite values; NaN before. */
function ema(x: Float64Array, n: number, alpha: number): Float64Array {
  const out = nan(x.length);
  let seen = 0;
  let sum = 0;
  let e = Number.NaN;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (Number.isNaN(v)) continue;
    if (seen < n) {
      sum += v;
      seen++;
      if (seen === n) {
        e = sum / n;
        out[i] = e;
      }
      continue;
    }
    e = alpha * v + (1 - alpha) * e;
    out[i] = e;
  }
  return out;
}

/** Sum of f(j) over the window [i − w + 1, i]; NaN when the window starts before bar `first`. */
function windowSum(n: number, w: number, first: number, f: (j: number) => number): Float64Array {
  const out = nan(n);
  for (let i = first + w - 1; i < n; i++) {
    let s = 0;
    for (let j = i - w + 1; j <= i; j++) s += f(j);
    out[i] = s;
  }
  return out;
}

export const MOMENTUM_V1: FeatureSet = registerFeatureSet({
  name: 'momentum',
  version: 1,
  description: 'RSI 14 (Wilder), MACD 12/26/9, log returns over 1/5/15/60 bars',
  warmupBars: 300,
  outputs: ['rsi_14', 'macd', 'macd_signal', 'macd_hist', 'ret_1', 'ret_5', 'ret_15', 'ret_60'],
  definition:
    'rsi_14: Wilder RSI of close changes, averages seeded with the mean of the first 14 changes, 100 when no losses (50 when flat); ' +
    'macd: EMA12(close) − EMA26(close), EMAs alpha 2/(n+1) seeded with the mean of the first n closes; macd_signal: EMA9(macd) seeded alike; macd_hist = macd − macd_signal; ' +
    'ret_k = ln(close_t / close_{t−k}) for k = 1, 5, 15, 60',
  compute(input) {
    const n = input.length;
    const close = colOf(input, 'close');
    const rsi = nan(n);
    let ag = 0;
    let al = 0;
    for (let i = 1; i < n; i++) {
      const d = close[i]! - close[i - 1]!;
      const g = d > 0 ? d : 0;
      const l = d < 0 ? -d : 0;
      if (i <= 14) {
        ag += g / 14;
        al += l / 14;
        if (i < 14) continue;
      } else {
        ag = (ag * 13 + g) / 14;
        al = (al * 13 + l) / 14;
      }
      rsi[i] = al === 0 ? (ag === 0 ? 50 : 100) : 100 - 100 / (1 + ag / al);
    }
    const e12 = ema(close, 12, 2 / 13);
    const e26 = ema(close, 26, 2 / 27);
    const macd = nan(n);
    for (let i = 0; i < n; i++) macd[i] = e12[i]! - e26[i]!;
    const signal = ema(macd, 9, 2 / 10);
    const hist = nan(n);
    for (let i = 0; i < n; i++) hist[i] = macd[i]! - signal[i]!;
    const ret = (k: number) => {
      const out = nan(n);
      for (let i = k; i < n; i++) out[i] = Math.log(close[i]! / close[i - k]!);
      return out;
    };
    return {
      rsi_14: rsi,
      macd,
      macd_signal: signal,
      macd_hist: hist,
      ret_1: ret(1),
      ret_5: ret(5),
      ret_15: ret(15),
      ret_60: ret(60),
    };
  },
});

export const VOLATILITY_V1: FeatureSet = registerFeatureSet({
  name: 'volatility',
  version: 1,
  description:
    'realized volatility over 30 and 60 bars and their ratio; Parkinson and Garman–Klass over 30 bars',
  warmupBars: 60,
  outputs: ['rv_30', 'rv_60', 'rv_ratio', 'parkinson_30', 'garman_klass_30'],
  definition:
    'r_t = ln(close_t / close_{t−1}); rv_w = sqrt(Σ_{last w bars} r²) (w = 30, 60); rv_ratio = rv_30 / rv_60; ' +
    'parkinson_30 = sqrt(Σ_{30} ln(high/low)² / (4 ln 2 · 30)); ' +
    'garman_klass_30 = sqrt(max(0, Σ_{30} [0.5 ln(high/low)² − (2 ln 2 − 1) ln(close/open)²] / 30))',
  compute(input) {
    const n = input.length;
    const close = colOf(input, 'close');
    const high = colOf(input, 'high');
    const low = colOf(input, 'low');
    const open = colOf(input, 'open');
    const r2 = (j: number) => Math.log(close[j]! / close[j - 1]!) ** 2;
    const rv30 = windowSum(n, 30, 1, r2).map(Math.sqrt);
    const rv60 = windowSum(n, 60, 1, r2).map(Math.sqrt);
    const ratio = nan(n);
    for (let i = 0; i < n; i++) ratio[i] = rv60[i]! > 0 ? rv30[i]! / rv60[i]! : Number.NaN;
    const hl = (j: number) => Math.log(high[j]! / low[j]!) ** 2;
    const park = windowSum(n, 30, 0, hl).map((s) => Math.sqrt(s / (4 * Math.LN2 * 30)));
    const gk = windowSum(
      n,
      30,
      0,
      (j) => 0.5 * hl(j) - (2 * Math.LN2 - 1) * Math.log(close[j]! / open[j]!) ** 2,
    ).map((s) => (Number.isNaN(s) ? s : Math.sqrt(Math.max(0, s / 30))));
    return { rv_30: rv30, rv_60: rv60, rv_ratio: ratio, parkinson_30: park, garman_klass_30: gk };
  },
});

export const VOLUME_PROFILE_V1: FeatureSet = registerFeatureSet({
  name: 'volume_profile',
  version: 1,
  description: 'volume z-score over 60 bars, distance of close from the 60-bar VWAP, buy ratio',
  warmupBars: 60,
  outputs: ['volume_z_60', 'vwap_distance_60', 'buy_ratio'],
  definition:
    'volume_z_60 = (volume − mean_60) / std_60 (population std over the last 60 bars incl. this one; null when 0); ' +
    'vwap_distance_60 = close / (Σ_{60} quote_volume / Σ_{60} volume) − 1; buy_ratio = buy_volume / volume (null when volume is 0)',
  compute(input) {
    const n = input.length;
    const vol = colOf(input, 'volume');
    const qv = colOf(input, 'quote_volume');
    const buy = colOf(input, 'buy_volume');
    const close = colOf(input, 'close');
    const sum = windowSum(n, 60, 0, (j) => vol[j]!);
    const z = nan(n);
    for (let i = 59; i < n; i++) {
      const mean = sum[i]! / 60;
      let ss = 0;
      for (let j = i - 59; j <= i; j++) ss += (vol[j]! - mean) ** 2;
      const sd = Math.sqrt(ss / 60);
      z[i] = sd > 0 ? (vol[i]! - mean) / sd : Number.NaN;
    }
    const qsum = windowSum(n, 60, 0, (j) => qv[j]!);
    const dist = nan(n);
    for (let i = 0; i < n; i++) dist[i] = sum[i]! > 0 ? close[i]! / (qsum[i]! / sum[i]!) - 1 : Number.NaN;
    const ratio = nan(n);
    for (let i = 0; i < n; i++) ratio[i] = vol[i]! > 0 ? buy[i]! / vol[i]! : Number.NaN;
    return { volume_z_60: z, vwap_distance_60: dist, buy_ratio: ratio };
  },
});

export const BUILTIN_FEATURE_SETS: readonly FeatureSet[] = [MOMENTUM_V1, VOLATILITY_V1, VOLUME_PROFILE_V1];
