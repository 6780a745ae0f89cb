/**
 * Retention and gc on a real lake built from generated vendor data (ingest → candles → three versions
 * of a feature set): raw days past retention go except the one a current candles file depends on
 * (its lineage is read independently with DuckDB), old feature versions beyond keepVersions go,
 * orphans are only reported unless asked, a crash between the catalog delete and the object delete is
 * finished by the next gc, and a current file with unreadable lineage keeps everything.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCandles } from '../../src/candles/build.js';
import { buildFeatures } from '../../src/features/build.js';
import { registerFeatureSet } from '../../src/features/registry.js';
import { GEN_KEY, generateDay, generatedLake, ingestDays } from '../candles/env.js';
import { runCli } from '../helpers/cli.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import { filesUnder } from '../helpers/fixtures.js';
import type { LakeEnv } from '../helpers/lake.js';

const DAYS = ['2024-08-01', '2024-08-02', '2024-08-03'];
const SET = 'gc_test';

describe('ticklake gc', () => {
  let env: LakeEnv;
  const all = async () => (await env.lake.files()).map((f) => f.path).sort();
  const onDisk = () =>
    filesUnder(env.lakeDir, { ext: '.parquet', skip: ['_staging'] })
      .map((f) =>
        f
          .slice(env.lakeDir.length + 1)
          .split('\\')
          .join('/'),
      )
      .sort();

  beforeAll(async () => {
    env = await generatedLake(DAYS, 3000); // generated data
    await buildCandles(env.lake, { from: DAYS[1]!, to: DAYS[1]!, books: false, timeframes: ['1h'] });
    for (const version of [1, 2, 3]) {
      registerFeatureSet({
        name: SET,
        version,
        timeframes: ['1h'],
        warmupBars: 0,
        outputs: ['range'],
        compute: (c) => ({ range: c.columns.high!.map((h, i) => (h - c.columns.low![i]!) * version) }),
        definition: `range × ${version}`,
      });
      const b = await buildFeatures(env.lake, { set: SET, version, from: DAYS[1]!, to: DAYS[1]! });
      expect(b.built).toBe(1);
    }
    // The cleaned layer: per-day tick data too, under raw retention (its lineage names the raw files).
    await env.lake.clean({ from: DAYS[0]!, to: DAYS[2]! });
  }, 120_000);

  afterAll(async () => {
    await env?.close();
  });

  it('deletes raw past retention and old versions, keeps what current files depend on', async () => {
    const files = await env.lake.files();
    const raw = files.filter((f) => f.dataset === 'raw_tick_data');
    expect(raw.map((f) => f.day)).toEqual(DAYS);
    const candles = files.filter((f) => f.dataset === 'processed_candles');
    expect(candles.length).toBe(1);
    // Independent check of the dependency: the candles footer (read by DuckDB) names the day-2 raw file.
    const kv = await duckRows(
      `SELECT decode(value) AS v FROM parquet_kv_metadata(${sqlString(join(env.lakeDir, candles[0]!.path))}) WHERE decode(key) = 'ticklake.lineage'`,
    );
    const lineage = JSON.parse(String(kv[0]!.v)) as { url: string; sha256: string }[];
    const needed = raw.filter((r) => lineage.some((l) => l.url === r.path && l.sha256 === r.checksum));
    expect(needed.map((r) => r.day)).toEqual([DAYS[1]]);
    const v1 = files.filter((f) => f.path.startsWith(`features/${SET}/v1/`)).map((f) => f.path);
    expect(v1.length).toBe(1);
    // An orphan: a copy the catalog does not know.
    const orphan = 'raw_tick_data/by_date/day=2024-08-09/data_type=trades/ORPHAN.parquet';
    mkdirSync(dirname(join(env.lakeDir, orphan)), { recursive: true });
    copyFileSync(join(env.lakeDir, raw[0]!.path), join(env.lakeDir, orphan));

    const cleaned = files.filter((f) => f.dataset === 'cleaned').map((f) => f.path);
    expect(cleaned.length).toBe(3);
    const expectedDeleted = [
      ...raw.filter((r) => r.day !== DAYS[1]).map((r) => r.path),
      ...v1,
      ...cleaned,
    ].sort();
    const before = await all();
    // Dry run (through the CLI with retention from a config file): reports, deletes nothing.
    const cfg = join(env.root, 'ticklake.yaml');
    writeFileSync(cfg, 'retention:\n  rawDays: 30\n  keepVersions: 2\n');
    const dry = await runCli(['--lake', env.lakeDir, '--config', cfg, 'gc', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const dr = JSON.parse(dry.stdout);
    expect(dr.deleted.map((d: { path: string }) => d.path).sort()).toEqual(expectedDeleted);
    expect(dr.kept).toEqual([{ path: needed[0]!.path, reason: 'retention', neededBy: [candles[0]!.path] }]);
    expect(dr.orphans).toEqual([{ path: orphan, bytes: raw[0]!.bytes }]);
    expect(await all()).toEqual(before);
    const human = await runCli(['--lake', env.lakeDir, '--config', cfg, 'gc', '--dry-run']);
    expect(human.stdout).toContain(`kept: ${needed[0]!.path} (retention) needed by ${candles[0]!.path}`);
    expect(human.stdout).toContain(`orphan: ${orphan}`);

    // The real run.
    const r = await env.lake.gc({ rawDays: 30, keepVersions: 2 });
    expect(r.deleted.map((d) => d.path).sort()).toEqual(expectedDeleted);
    expect(r.bytesFreed).toBe(
      files.filter((f) => expectedDeleted.includes(f.path)).reduce((n, f) => n + f.bytes, 0),
    );
    const after = before.filter((p) => !expectedDeleted.includes(p));
    expect(await all()).toEqual(after);
    expect(onDisk()).toEqual([...after, orphan].sort());
    // The kept raw day still reads.
    const t = await env.lake.read({ dataset: 'trades', key: GEN_KEY, from: DAYS[1]!, to: DAYS[2]! });
    expect(t.numRows).toBe(3000);
    // Idempotent; orphans go only when asked.
    const again = await env.lake.gc({ rawDays: 30, keepVersions: 2 });
    expect(again.deleted).toEqual([]);
    expect(again.kept.map((k) => k.path)).toEqual([needed[0]!.path]);
    const o = await env.lake.gc({ rawDays: 30, keepVersions: 2, orphans: true });
    expect(o.deleted).toEqual([{ path: orphan, reason: 'orphan', bytes: raw[0]!.bytes }]);
    expect(existsSync(join(env.lakeDir, orphan))).toBe(false);
  }, 60_000);

  it('finishes a deletion a crash interrupted, and never deletes a path published again', async () => {
    const [v2] = (await env.lake.files({ dataset: 'features' })).filter((f) => f.path.includes('/v2/'));
    const [v3] = (await env.lake.files({ dataset: 'features' })).filter((f) => f.path.includes('/v3/'));
    // "Crash" right after the catalog step of gc for both files…
    expect(
      await env.lake.catalog.beginDeletes([v2!, v3!].map((f) => ({ path: f.path, checksum: f.checksum }))),
    ).toEqual([v2!.path, v3!.path].sort());
    expect(existsSync(join(env.lakeDir, v2!.path))).toBe(true);
    // …then v3 is published again at the same path before the next gc.
    await env.lake.catalog.putFiles([v3!]);
    const r = await env.lake.gc({ keepVersions: 0 });
    expect(r.deleted).toEqual([{ path: v2!.path, reason: 'pending', bytes: v2!.bytes }]);
    expect(existsSync(join(env.lakeDir, v2!.path))).toBe(false);
    expect(existsSync(join(env.lakeDir, v3!.path))).toBe(true);
    expect(await env.lake.catalog.listPendingDeletes()).toEqual([]);
  });

  it('keeps every candidate when a current file lineage cannot be read', async () => {
    const [candles] = await env.lake.files({ dataset: 'processed_candles' });
    const [v3] = (await env.lake.files({ dataset: 'features' })).filter((f) => f.path.includes('/v3/'));
    writeFileSync(join(env.lakeDir, candles!.path), 'not parquet');
    const r = await env.lake.gc({ rawDays: 30, keepVersions: 1, dryRun: true });
    expect(r.deleted).toEqual([]);
    expect(r.warnings.length).toBe(1);
    expect(r.warnings[0]).toContain(candles!.path);
    expect(r.kept.map((k) => k.path)).toContain(
      `raw_tick_data/by_date/day=${DAYS[1]}/data_type=trades/${candles!.path.split('/').pop()}`,
    );
    void v3;
  });

  it('rejects bad retention values with a typed error', async () => {
    await expect(env.lake.gc({ rawDays: -1 })).rejects.toMatchObject({
      code: 'USAGE',
      message: 'retention.rawDays must be an integer >= 0, got -1',
    });
  });
});

describe('ticklake gc and raw snapshots', () => {
  let env: LakeEnv;
  const D1 = '2024-09-01';
  const D2 = '2024-09-02';

  beforeAll(async () => {
    env = await generatedLake([D1, D2], 2000); // generated data
    await buildCandles(env.lake, { from: D2, to: D2, books: false, timeframes: ['1h'] });
    // The vendor republishes day 2 with other content: the old raw file becomes a snapshot.
    await generateDay(env.vendorDir, D2, 2000, 999);
    await ingestDays(env, D2, D2, true);
  }, 120_000);

  afterAll(async () => {
    await env?.close();
  });

  it('keeps the snapshot a current file was built from (the only copy), deletes it once nothing needs it', async () => {
    const snaps = await env.lake.catalog.listSnapshots();
    expect(snaps.length).toBe(1);
    const snap = snaps[0]!;
    const [candles] = await env.lake.files({ dataset: 'processed_candles' });
    // keepVersions 2: live + 1 snapshot stay anyway.
    expect((await env.lake.gc({ keepVersions: 2, dryRun: true })).deleted).toEqual([]);
    // keepVersions 1: the snapshot is beyond it, but the candles still depend on that exact content.
    const r1 = await env.lake.gc({ keepVersions: 1 });
    expect(r1.deleted).toEqual([]);
    expect(r1.kept).toEqual([{ path: snap.snapshotPath, reason: 'old-version', neededBy: [candles!.path] }]);
    expect(existsSync(join(env.lakeDir, snap.snapshotPath))).toBe(true);
    // Rebuilt candles depend on the new live content: the snapshot is no longer needed.
    await buildCandles(env.lake, { from: D2, to: D2, books: false, timeframes: ['1h'] });
    const r2 = await env.lake.gc({ keepVersions: 1 });
    expect(r2.deleted).toEqual([{ path: snap.snapshotPath, reason: 'old-version', bytes: snap.bytes }]);
    expect(r2.kept).toEqual([]);
    expect(existsSync(join(env.lakeDir, snap.snapshotPath))).toBe(false);
    expect(await env.lake.catalog.listSnapshots()).toEqual([]);
    expect(await env.lake.catalog.getFile(snap.snapshotPath)).toBeNull();
    // The live file is untouched.
    const t = await env.lake.read({ dataset: 'trades', key: GEN_KEY, from: D2, to: '2024-09-03' });
    expect(t.numRows).toBe(2000);
  }, 60_000);
});
