/**
 * Rebuilds are incremental: a second build rewrites nothing; a changed input day is rebuilt alone;
 * footers carry the lineage (input paths and checksums, the parameters) that decides it.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCandles } from '../../src/candles/build.js';
import { decodeFooter } from '../../src/lake/footer.js';
import { ParquetReader } from '../../src/parquet/reader.js';
import type { LakeEnv } from '../helpers/lake.js';
import { GEN_KEY, generateDay, generatedLake, ingestDays } from './env.js';

const DAYS = ['2024-08-01', '2024-08-02'];

function mtimes(env: LakeEnv, paths: readonly string[]): number[] {
  return paths.map((p) => statSync(join(env.lakeDir, p)).mtimeMs);
}

describe('incremental candle builds', () => {
  let env: LakeEnv;
  let paths: string[];

  beforeAll(async () => {
    env = await generatedLake(DAYS, 3000);
    const first = await buildCandles(env.lake, { from: DAYS[0]!, to: DAYS[1]!, books: false });
    expect(first).toMatchObject({ built: 2, skipped: 0, files: 14 });
    paths = first.paths;
  }, 60_000);

  afterAll(async () => {
    await env?.close();
  });

  it('records input paths, checksums and parameters in the footer', async () => {
    const p = paths.find((x) => x.includes('day=2024-08-02/timeframe=1m/'))!;
    const src = await env.lake.storage.openRead(p);
    const meta = decodeFooter((await ParquetReader.open(src, p)).metadata.keyValueMetadata)!;
    await src.close();
    const raw = (await env.lake.files({ dataset: 'raw_tick_data', instrumentKey: GEN_KEY })).filter((f) =>
      meta.lineage.some((l) => l.url === f.path),
    );
    expect(raw.length).toBeGreaterThan(0);
    for (const f of raw) expect(meta.lineage.find((l) => l.url === f.path)!.sha256).toBe(f.checksum);
    const params = meta.lineage.find((l) => l.url.startsWith('ticklake:params?'))!;
    expect(params.url).toMatch(/engine=1&schema=1&prev_close=\d/);
    expect(meta.sourceSha256).toBe(params.sha256);
    expect(meta).toMatchObject({
      dataset: 'processed_candles',
      dataType: '1m',
      instrumentKey: GEN_KEY,
      day: '2024-08-02',
      generated: true,
    });
  });

  it('a second build rewrites nothing', async () => {
    const before = mtimes(env, paths);
    const again = await buildCandles(env.lake, { from: DAYS[0]!, to: DAYS[1]!, books: false });
    expect(again).toMatchObject({ built: 0, skipped: 2, files: 0 });
    expect(mtimes(env, paths)).toEqual(before);
  });

  it('a changed input rebuilds only that day', async () => {
    const day1 = paths.filter((p) => p.includes('day=2024-08-01/'));
    const before1 = mtimes(env, day1);
    const close = async () =>
      (
        await env.lake.read({
          dataset: 'candles',
          key: GEN_KEY,
          timeframe: '24h',
          from: DAYS[1]!,
          to: '2024-08-03',
        })
      )
        .getChild('volume')!
        .get(0);
    const oldVolume = await close();
    await generateDay(env.vendorDir, DAYS[1]!, 3500, 999);
    await ingestDays(env, DAYS[1]!, DAYS[1]!, true);
    const r = await buildCandles(env.lake, { from: DAYS[0]!, to: DAYS[1]!, books: false });
    expect(r).toMatchObject({ built: 1, skipped: 1, files: 7 });
    expect(r.paths.every((p) => p.includes('day=2024-08-02/'))).toBe(true);
    expect(mtimes(env, day1)).toEqual(before1);
    expect(await close()).not.toBe(oldVolume);
  });

  it('--force rebuilds, and a subset of timeframes builds only those files', async () => {
    const r = await buildCandles(env.lake, {
      from: DAYS[0]!,
      to: DAYS[0]!,
      books: false,
      force: true,
      timeframes: ['1h'],
    });
    expect(r).toMatchObject({ built: 1, files: 1 });
    expect(r.paths[0]).toContain('timeframe=1h/');
  });
});
