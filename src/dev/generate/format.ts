/** Exact decimal text from integer units: no float noise in generated prices and amounts. */

export const POW10 = [
  1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
];

/** Integer `units` of 10^-decimals as a decimal string without trailing zeros (`96825, 1` → `9682.5`). */
export function formatUnits(units: number, decimals: number): string {
  if (decimals === 0 || units === 0) return String(units);
  const neg = units < 0;
  const u = neg ? -units : units;
  const p = POW10[decimals] ?? 10 ** decimals;
  const int = Math.floor(u / p);
  let frac = u - int * p;
  const sign = neg ? '-' : '';
  if (frac === 0) return sign + int;
  let d = decimals;
  while (frac % 10 === 0) {
    frac /= 10;
    d--;
  }
  return `${sign}${int}.${String(frac).padStart(d, '0')}`;
}

/** A float rounded to `decimals` places, printed exactly (via integer units). */
export function fixed(x: number, decimals: number): string {
  return formatUnits(Math.round(x * (POW10[decimals] ?? 10 ** decimals)), decimals);
}
