// Shared helpers for bench sections. Each section is `bench/sections/NN-name.mjs` exporting
// `bench(ctx)` → rows `{ what, ours, ref, refName, goal, unit? }` and optionally `notes` (strings).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTardisDataset } from '../dist/dev/generate.js';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const TMP = join(HERE, 'tmp');
export const QUICK = process.argv.includes('--quick');
export const DAY = '2024-08-01';
mkdirSync(TMP, { recursive: true });

export const log = (s) => process.stdout.write(`${s}\n`);

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median wall time (ms) of `runs` calls. */
export async function time(fn, runs = 3) {
  const ts = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

/** A generated (labelled generated) Tardis trades file for `symbol` on DAY, cached in bench/tmp. */
export async function ensureGenerated(symbol, rows, seed, exchange = 'binance') {
  const dir = join(TMP, 'vendor');
  const path = join(dir, exchange, 'trades', '2024', '08', '01', `${symbol}.csv.gz`);
  const sidecar = `${path}.generated.json`;
  if (existsSync(sidecar) && JSON.parse(readFileSync(sidecar, 'utf8')).rows === rows) return { dir, path };
  log(`generating ${rows.toLocaleString()} trade rows for ${symbol} (generated data, cached in bench/tmp)…`);
  await generateTardisDataset({ dir, exchange, dataType: 'trades', symbol, day: DAY, rows, seed });
  return { dir, path };
}
