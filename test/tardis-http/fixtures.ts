/**
 * Test fixtures: real Tardis sample files from ../shared (gzipped into a temp server layout at test
 * time, never copied into the repo) and small helpers.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REAL_TARDIS_DIR = path.resolve(here, '../../../shared/data/real/tardis');
export const HAVE_REAL = existsSync(REAL_TARDIS_DIR);
export const NO_REAL_REASON = `real Tardis samples not found at ${REAL_TARDIS_DIR}`;

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `ticklake-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Write `gz` at the server layout path; returns the URL path under /v1. */
export async function putDataset(
  dir: string,
  exchange: string,
  dataType: string,
  day: string,
  symbol: string,
  gz: Uint8Array,
): Promise<string> {
  const [y, m, d] = day.split('-');
  const rel = path.join(exchange, dataType, y ?? '', m ?? '', d ?? '', `${symbol}.csv.gz`);
  await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
  await writeFile(path.join(dir, rel), gz);
  return `/v1/${rel.split(path.sep).join('/')}`;
}

/** The real binance-futures trades sample, gzipped. */
export async function realTradesGz(): Promise<Buffer> {
  const csv = await readFile(path.join(REAL_TARDIS_DIR, 'binance-futures_trades_BTCUSDT_2020-02-22.csv'));
  return gzipSync(csv, { level: 6 });
}

/** Deterministic bytes that do not compress, for range/resume tests. */
export function noise(n: number, seed = 7): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Collects every chunk a download delivers. */
export function collector(): { onChunk: (c: Uint8Array) => void; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  return { onChunk: (c) => void parts.push(Buffer.from(c)), bytes: () => Buffer.concat(parts) };
}
