/**
 * Test fixtures: the real vendor recordings in ../shared/data/real (used in place, never copied into
 * the repo), temp directories, and a vendor directory in the Tardis server layout.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type DataType, isDataType } from '../../src/schema/datasets.js';

export const REPO_ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');
export const REAL_DATA = resolve(REPO_ROOT, '..', 'shared', 'data', 'real');
export const REAL_TARDIS = join(REAL_DATA, 'tardis');

/** Why real-data tests are skipped on a clone without ../shared (one line), or null when present. */
export const realDataMissing: string | null = existsSync(REAL_TARDIS)
  ? null
  : `real vendor data not found at ${REAL_TARDIS} (clone without ../shared): skipping real-data tests`;

export interface RealTardisFile {
  path: string;
  name: string;
  exchange: string;
  dataType: DataType;
  symbol: string;
  day: string;
}

const NAME_RE = /^([a-z0-9-]+)_(.+)_([A-Z0-9-]+)_(\d{4}-\d{2}-\d{2})\.csv$/;

/** Every real Tardis CSV sample with what its name says it is. */
export function realTardisFiles(): RealTardisFile[] {
  if (realDataMissing) return [];
  return readdirSync(REAL_TARDIS)
    .filter((n) => n.endsWith('.csv'))
    .sort()
    .map((name) => {
      const m = NAME_RE.exec(name);
      if (!m || !isDataType(m[2]!)) throw new Error(`unexpected real file name ${name}`);
      return {
        path: join(REAL_TARDIS, name),
        name,
        exchange: m[1]!,
        dataType: m[2] as DataType,
        symbol: m[3]!,
        day: m[4]!,
      };
    });
}

export async function tempDir(
  prefix = 'ticklake-test-',
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Path of a file in the Tardis server layout. */
export function vendorPath(
  dir: string,
  exchange: string,
  dataType: string,
  day: string,
  symbol: string,
): string {
  const [y, m, d] = day.split('-');
  return join(dir, exchange, dataType, y!, m!, d!, `${symbol}.csv.gz`);
}

/** Put CSV text or bytes, gzipped, at its server-layout path. */
export async function putVendorFile(
  dir: string,
  exchange: string,
  dataType: string,
  day: string,
  symbol: string,
  csv: string | Uint8Array,
): Promise<string> {
  const p = vendorPath(dir, exchange, dataType, day, symbol);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, gzipSync(typeof csv === 'string' ? Buffer.from(csv) : csv));
  return p;
}

/** Put raw bytes (not gzipped: for corrupt-input tests) at a server-layout path. */
export async function putRawVendorFile(
  dir: string,
  exchange: string,
  dataType: string,
  day: string,
  symbol: string,
  bytes: Uint8Array,
): Promise<string> {
  const p = vendorPath(dir, exchange, dataType, day, symbol);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, bytes);
  return p;
}

/** Gzip every real Tardis sample into `dir` in the server layout. */
export async function stageRealTardis(dir: string): Promise<RealTardisFile[]> {
  const files = realTardisFiles();
  for (const f of files)
    await putVendorFile(dir, f.exchange, f.dataType, f.day, f.symbol, await readFile(f.path));
  return files;
}

/**
 * Every file under `dir` (recursive, sorted; none when `dir` does not exist), optionally only those
 * ending in `ext`, never descending into folders named in `skip` (e.g. the lake's `_staging`).
 */
export function filesUnder(dir: string, opts: { ext?: string; skip?: readonly string[] } = {}): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (!opts.skip?.includes(e.name)) walk(p);
      } else if (opts.ext === undefined || e.name.endsWith(opts.ext)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}
