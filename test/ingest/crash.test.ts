/**
 * Crash test: SIGKILL the ingest at random points, again and again. After every kill: no partial file
 * is visible and every visible file is recorded in the catalog (committed, or as an intent with the
 * same checksum). A final rerun finishes, and the lake equals an uninterrupted run, byte for byte.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTardisDataset } from '../../src/dev/generate.js';
import { startTardisServer, type TardisServer } from '../../src/dev/tardis-server.js';
import { FileSource } from '../../src/lake/local-storage.js';
import { ParquetReader } from '../../src/parquet/reader.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { filesUnder, tempDir } from '../helpers/fixtures.js';

const KEY = 'tl-crash-key-77';
const DAYS = ['2024-08-01', '2024-08-02', '2024-08-03'];
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const KILLS = 24;

const parquetFiles = (lake: string) => filesUnder(lake, { ext: '.parquet', skip: ['_staging'] });
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Invariants that must hold at every instant. */
async function checkInvariants(lake: string): Promise<{ visible: number; committed: number }> {
  const files = parquetFiles(lake);
  const catalogPath = join(lake, 'catalog.sqlite');
  const recorded = new Map<string, Set<string>>();
  if (existsSync(catalogPath)) {
    const db = new Database(catalogPath, { readonly: true });
    try {
      for (const r of db.prepare('SELECT path, checksum FROM files').all() as {
        path: string;
        checksum: string;
      }[]) {
        recorded.set(r.path, new Set([r.checksum]));
      }
      const hasIntents = db.prepare("SELECT name FROM sqlite_master WHERE name = 'file_intents'").get();
      if (hasIntents) {
        for (const r of db.prepare('SELECT path, checksum FROM file_intents').all() as {
          path: string;
          checksum: string;
        }[]) {
          if (!recorded.has(r.path)) recorded.set(r.path, new Set());
          recorded.get(r.path)!.add(r.checksum);
        }
      }
    } finally {
      db.close();
    }
  }
  let committed = 0;
  for (const f of files) {
    const rel = relative(lake, f).split('\\').join('/');
    // Never partial: the file opens as Parquet and its row count matches its own footer.
    const src = await FileSource.open(f);
    try {
      const reader = await ParquetReader.open(src, f);
      expect(String(reader.metadata.numRows)).toBe(reader.metadata.keyValueMetadata['ticklake.rows']);
    } finally {
      await src.close();
    }
    // Never unrecorded.
    const sums = recorded.get(rel);
    expect(sums, `${rel} is visible but not in the catalog`).toBeDefined();
    expect(sums!.has(sha(f)), `${rel} is visible with a checksum the catalog does not know`).toBe(true);
    committed++;
  }
  return { visible: files.length, committed };
}

describe('crash safety', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let server: TardisServer;
  let env: NodeJS.ProcessEnv;
  let referenceMs = 0;
  const args = (lake: string) => [
    '--lake',
    lake,
    'ingest',
    '--exchange',
    'binance',
    '--data-types',
    'trades,book_ticker',
    '--symbols',
    SYMBOLS.join(','),
    '--from',
    DAYS[0]!,
    '--to',
    DAYS[DAYS.length - 1]!,
    '--concurrency',
    '2',
    '--json',
  ];

  beforeAll(async () => {
    tmp = await tempDir('ticklake-crash-');
    const vendor = join(tmp.path, 'vendor');
    let seed = 1;
    for (const day of DAYS)
      for (const symbol of SYMBOLS)
        for (const dataType of ['trades', 'book_ticker'] as const)
          await generateTardisDataset({
            dir: vendor,
            exchange: 'binance',
            dataType,
            symbol,
            day,
            rows: 60_000,
            seed: seed++,
          });
    server = await startTardisServer({ dir: vendor, port: 0, apiKeys: [KEY] });
    env = { TARDIS_DATASETS_URL: server.url, TARDIS_API_KEY: KEY };
    const t0 = Date.now();
    const ref = await runCli(args(join(tmp.path, 'reference')), env);
    referenceMs = Date.now() - t0;
    expect(ref.code, ref.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    await tmp?.cleanup();
  });

  it(`survives ${KILLS} SIGKILLs at random points and ends equal to an uninterrupted run`, async () => {
    const lake = join(tmp.path, 'crashed');
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    let kills = 0;
    let finishedEarly = 0;
    for (let attempt = 0; kills < KILLS && attempt < KILLS * 4; attempt++) {
      const child = spawnCli(args(lake), env);
      const delay = 150 + rand() * Math.max(500, referenceMs * 0.8);
      const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
      const timer = setTimeout(() => child.kill('SIGKILL'), delay);
      const code = await exited;
      clearTimeout(timer);
      if (code === null) kills++;
      else finishedEarly++;
      await checkInvariants(lake);
      if (code === 0) {
        // It completed: start over from an empty lake so later kills still hit real work.
        const { rmSync } = await import('node:fs');
        rmSync(lake, { recursive: true, force: true });
      }
    }
    expect(kills).toBeGreaterThanOrEqual(20);
    // The rerun finishes...
    const final = await runCli(args(lake), env);
    expect(final.code, final.stderr).toBe(0);
    await checkInvariants(lake);
    // ...and equals the uninterrupted run, file for file and byte for byte.
    const ref = join(tmp.path, 'reference');
    const refFiles = parquetFiles(ref).map((f) => relative(ref, f));
    const gotFiles = parquetFiles(lake).map((f) => relative(lake, f));
    expect(gotFiles).toEqual(refFiles);
    for (const f of refFiles) expect(sha(join(lake, f)), f).toBe(sha(join(ref, f)));
    // Idempotent: a second complete run downloads and writes nothing.
    const before = server.requests.length;
    const again = await runCli(args(lake), env);
    expect(again.code).toBe(0);
    expect(server.requests.length).toBe(before);
    const summary = JSON.parse(again.stdout.trim().split('\n').pop()!);
    expect(summary.skipped).toBe(DAYS.length * SYMBOLS.length * 2);
    expect(summary.done).toBe(0);
    void finishedEarly;
  }, 600_000);
});
