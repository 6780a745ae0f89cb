/**
 * Raw snapshots (issue #6): a vendor file republished with one changed row yields two versions of the
 * raw file, both readable (lake.read default / asOf / snapshot, and DuckDB on both files), and the
 * snapshot step is crash-safe (a failure at either publish leaves one consistent version; the rerun
 * produces both). Uses the real binance-futures trades sample (copied to a temp vendor dir).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/types.js';
import { CatalogError, NotFoundError, StorageError, UsageError } from '../../src/errors.js';
import { tardisKeyForSymbol } from '../../src/keys/tardis.js';
import { Lake, openLake } from '../../src/lake/lake.js';
import { rawTickPath, SNAPSHOTS } from '../../src/lake/layout.js';
import { LocalStorage } from '../../src/lake/local-storage.js';
import { hashSource, repairIntents } from '../../src/lake/publish.js';
import { versionsOf } from '../../src/lake/snapshots.js';
import type { PendingObject, Storage } from '../../src/lake/storage.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import { filesUnder, putVendorFile, REAL_TARDIS, REPO_ROOT, realDataMissing } from '../helpers/fixtures.js';
import { type LakeEnv, lakeEnv, TEST_API_KEY } from '../helpers/lake.js';
import { lakeEnvOn } from '../storage/lake-env.js';

const EX = 'binance-futures';
const SYM = 'BTCUSDT';
const DAY = '2020-02-22';
const FILE = join(REAL_TARDIS, `${EX}_trades_${SYM}_${DAY}.csv`);
const KEY = tardisKeyForSymbol(EX, SYM);
const LIVE = rawTickPath(DAY, 'trades', KEY);
const CHANGED_LINE = 5000; // 1-based data line whose price the republished file changes

interface Trades {
  ts: number[];
  id: string[];
  price: number[];
}

/** The CSV's rows in the lake's order (stable sort by timestamp), parsed independently of ticklake. */
function parse(csv: string): Trades {
  const rows = csv
    .trim()
    .split('\n')
    .slice(1)
    .map((l, i) => {
      const c = l.split(',');
      return { i, ts: Number(c[2]), id: c[4]!, price: Number(c[6]) };
    })
    .sort((a, b) => a.ts - b.ts || a.i - b.i);
  return { ts: rows.map((r) => r.ts), id: rows.map((r) => r.id), price: rows.map((r) => r.price) };
}

function republish(csv: string): { csv: string; id: string; oldPrice: number; newPrice: number } {
  const lines = csv.trim().split('\n');
  const c = lines[CHANGED_LINE]!.split(',');
  const oldPrice = Number(c[6]);
  const newPrice = oldPrice + 0.5;
  c[6] = String(newPrice);
  lines[CHANGED_LINE] = c.join(',');
  return { csv: `${lines.join('\n')}\n`, id: c[4]!, oldPrice, newPrice };
}

const ingestOnce = (lake: LakeEnv['lake'], force = false) =>
  lake.ingest({ exchange: EX, dataTypes: ['trades'], symbols: [SYM], from: DAY, force });

const readAll = (lake: LakeEnv['lake'], extra: Record<string, unknown> = {}) =>
  lake.read({
    dataset: 'trades',
    key: KEY,
    from: DAY,
    to: '2020-02-23',
    columns: ['timestamp', 'id', 'price'],
    ...extra,
  });

function tableTrades(t: Awaited<ReturnType<typeof readAll>>): Trades {
  return {
    ts: Array.from(t.getChild('timestamp')!.toArray() as ArrayLike<number | bigint>, Number),
    id: t.getChild('id')!.toArray() as string[],
    price: Array.from(t.getChild('price')!.toArray() as Float64Array),
  };
}

describe.skipIf(realDataMissing !== null)('raw snapshots', () => {
  let env: LakeEnv | null = null;
  afterEach(async () => {
    await env?.close();
    env = null;
  });

  it('a republished file with one changed row yields two versions, both readable; asOf returns the old one', async () => {
    const original = readFileSync(FILE, 'utf8');
    const changed = republish(original);
    env = await lakeEnv((dir) => putVendorFile(dir, EX, 'trades', DAY, SYM, original).then(() => {}));
    expect((await ingestOnce(env.lake)).done).toBe(1);
    const first = (await env.lake.catalog.getFile(LIVE))!;
    // Same content again (forced): unchanged, no snapshot.
    expect((await ingestOnce(env.lake, true)).unchanged).toBe(1);
    expect(await env.lake.catalog.listSnapshots()).toEqual([]);

    await putVendorFile(env.vendorDir, EX, 'trades', DAY, SYM, changed.csv);
    const s2 = await ingestOnce(env.lake, true);
    expect(s2.done).toBe(1);
    const second = (await env.lake.catalog.getFile(LIVE))!;
    expect(second.checksum).not.toBe(first.checksum);
    expect(second.sourceChecksum).not.toBe(first.sourceChecksum);

    // Two versions: the snapshot (old bytes, old vendor checksum) and the current file.
    const [entry] = await env.lake.snapshots({ instrumentKey: KEY });
    expect(entry!.file.path).toBe(LIVE);
    const [old, cur] = entry!.versions;
    expect(entry!.versions).toHaveLength(2);
    expect(old).toMatchObject({
      current: false,
      checksum: first.checksum,
      sourceChecksum: first.sourceChecksum,
      validFrom: first.createdAt,
      validTo: second.createdAt,
      rows: first.rows,
    });
    expect(old!.storedAt.startsWith(`${SNAPSHOTS}/${LIVE.replace(/\.parquet$/, '')}/snapshot=`)).toBe(true);
    expect(cur).toMatchObject({ current: true, checksum: second.checksum, storedAt: LIVE, validTo: null });
    // The snapshot's bytes are the first version's bytes.
    const src = await env.lake.storage.openRead(old!.storedAt);
    expect(await hashSource(src)).toBe(first.checksum);
    await src.close();

    // Reads: default = new, asOf (old version's time) = old, asOf before anything = empty, snapshot id = old.
    const expectOld = parse(original);
    const expectNew = parse(changed.csv);
    const at = expectOld.id.indexOf(changed.id);
    expect(expectNew.price[at]).toBe(changed.newPrice);
    const latest = tableTrades(await readAll(env.lake));
    expect(latest).toEqual(expectNew);
    const asOfOld = tableTrades(await readAll(env.lake, { asOf: new Date(first.createdAt) }));
    expect(asOfOld).toEqual(expectOld);
    expect(asOfOld.price[at]).toBe(changed.oldPrice);
    const asOfLastOldMs = tableTrades(await readAll(env.lake, { asOf: new Date(second.createdAt - 1) }));
    expect(asOfLastOldMs.price[at]).toBe(changed.oldPrice);
    const asOfNew = tableTrades(await readAll(env.lake, { asOf: new Date(second.createdAt) }));
    expect(asOfNew.price[at]).toBe(changed.newPrice);
    expect((await readAll(env.lake, { asOf: new Date(first.createdAt - 1) })).numRows).toBe(0);
    expect(tableTrades(await readAll(env.lake, { snapshot: old!.snapshotId }))).toEqual(expectOld);
    expect(tableTrades(await readAll(env.lake, { snapshot: cur!.snapshotId }))).toEqual(expectNew);

    // DuckDB reads both files independently.
    const q = (p: string) =>
      duckRows(
        `SELECT count(*) AS n, max(CASE WHEN id = ${sqlString(changed.id)} THEN price END) AS p FROM read_parquet(${sqlString(join(env!.lakeDir, p))})`,
      );
    expect(await q(old!.storedAt)).toEqual([{ n: expectOld.ts.length, p: changed.oldPrice }]);
    expect(await q(LIVE)).toEqual([{ n: expectNew.ts.length, p: changed.newPrice }]);
    // SQL views see only the live version.
    const sql = await env.lake.sql(`SELECT count(*) AS n FROM trades WHERE id = ${sqlString(changed.id)}`);
    expect(Number(sql.getChild('n')!.get(0))).toBe(1);

    // Bad selectors are typed errors.
    await expect(readAll(env.lake, { snapshot: 'nope' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(readAll(env.lake, { snapshot: old!.snapshotId, asOf: new Date() })).rejects.toBeInstanceOf(
      UsageError,
    );
    await expect(readAll(env.lake, { asOf: 'yesterday-ish' })).rejects.toBeInstanceOf(UsageError);
  });

  for (const failAt of ['snapshot copy', 'snapshot commit', 'new live file'] as const) {
    it(`a failure publishing the ${failAt} leaves one consistent version; the rerun keeps both`, async () => {
      const original = readFileSync(FILE, 'utf8');
      const changed = republish(original);
      env = await lakeEnv((dir) => putVendorFile(dir, EX, 'trades', DAY, SYM, original).then(() => {}));
      expect((await ingestOnce(env.lake)).done).toBe(1);
      const first = (await env.lake.catalog.getFile(LIVE))!;
      await putVendorFile(env.vendorDir, EX, 'trades', DAY, SYM, changed.csv);
      await env.lake.close();

      // The same lake through a storage whose publish fails at the chosen step (a crash there), or a
      // catalog whose snapshot commit fails (a crash between the copy's publish and its commit).
      const failing = failingStorage(new LocalStorage(env.lakeDir), (p) =>
        failAt === 'snapshot copy' ? p.startsWith(`${SNAPSHOTS}/`) : failAt === 'new live file' && p === LIVE,
      );
      const opened = await openLake({
        root: env.lakeDir,
        storage: failing,
        config: { tardis: { datasetsUrl: env.server.url, apiKey: TEST_API_KEY } },
      });
      const crashed =
        failAt === 'snapshot commit'
          ? new Lake(opened.storage, failingCommitSnapshot(opened.catalog), opened.config)
          : opened;
      const s = await ingestOnce(crashed, true);
      expect(s.failed).toBe(1);
      expect(s.reports[0]!.error!.code).toBe(failAt === 'snapshot commit' ? 'CATALOG' : 'STORAGE');
      await crashed.close();

      // After the failure (and recovery on reopen): the old content is live and recorded, reads agree.
      // Recovery as a later process would do it (this process's own intents count as in flight).
      const lake = await env.reopen();
      await lake.recover();
      await repairIntents(lake.storage, lake.catalog, { graceMs: 0 });
      const live = (await lake.catalog.getFile(LIVE))!;
      expect(live.checksum).toBe(first.checksum);
      const src = await lake.storage.openRead(LIVE);
      expect(await hashSource(src)).toBe(first.checksum);
      await src.close();
      expect(await lake.catalog.listIntents()).toEqual([]);
      const versions = await versionsOf(lake.catalog, live);
      expect(versions).toHaveLength(1);
      const rows = await lake.catalog.listSnapshots();
      if (failAt === 'snapshot copy') {
        expect(rows).toEqual([]);
        expect((await lake.files({ dataset: SNAPSHOTS })).length).toBe(0);
      } else if (failAt === 'snapshot commit') {
        // Recovery committed the published copy's intent: a recorded leftover duplicating the live file.
        expect(rows).toEqual([]);
        const left = await lake.files({ dataset: SNAPSHOTS });
        expect(left.map((f) => f.checksum)).toEqual([first.checksum]);
      } else {
        // The snapshot was taken (a copy of the still-live content) before the publish failed.
        expect(rows).toHaveLength(1);
        expect(rows[0]!.checksum).toBe(first.checksum);
      }
      const expectOld = parse(original);
      expect(tableTrades(await readAll(lake))).toEqual(expectOld);
      expect(tableTrades(await readAll(lake, { asOf: new Date() }))).toEqual(expectOld);

      // The rerun completes the replacement: two versions, both readable.
      expect((await ingestOnce(lake, true)).done).toBe(1);
      const second = (await lake.catalog.getFile(LIVE))!;
      const after = await versionsOf(lake.catalog, second);
      expect(after.map((v) => v.checksum)).toEqual([first.checksum, second.checksum]);
      expect(after[0]!.validTo).toBe(second.createdAt);
      expect(tableTrades(await readAll(lake))).toEqual(parse(changed.csv));
      expect(tableTrades(await readAll(lake, { asOf: new Date(first.createdAt) }))).toEqual(expectOld);
      // One snapshot file (the rerun reused the interrupted one's path).
      expect((await lake.files({ dataset: SNAPSHOTS })).map((f) => f.path)).toEqual([after[0]!.storedAt]);
    });
  }
});

// A real crash: a child process SIGKILLs itself at each step of a replacement (no cleanup runs:
// staged files and intents stay behind), then this process reopens the lake and checks it.
const CHILD = `
import { Lake, openLake } from ${JSON.stringify(join(REPO_ROOT, 'dist/lake/lake.js'))};
const [root, url, key, step, live] = process.argv.slice(2);
const die = () => process.kill(process.pid, 'SIGKILL');
const lake0 = await openLake({ root, config: { tardis: { datasetsUrl: url, apiKey: key } } });
const storage = new Proxy(lake0.storage, {
  get(t, prop) {
    if (prop === 'begin') {
      return async (path) => {
        const p = await t.begin(path);
        const hit = step === 'copy' ? path.startsWith('snapshots/') : step === 'live' && path === live;
        if (!hit) return p;
        return { ...p, finalPath: p.finalPath, sink: p.sink, publish: async () => die() };
      };
    }
    const v = Reflect.get(t, prop);
    return typeof v === 'function' ? v.bind(t) : v;
  },
});
const catalog = new Proxy(lake0.catalog, {
  get(t, prop) {
    if (prop === 'commitSnapshot' && step === 'commit') return async () => die();
    const v = Reflect.get(t, prop);
    return typeof v === 'function' ? v.bind(t) : v;
  },
});
const lake = new Lake(storage, catalog, lake0.config);
await lake.ingest({ exchange: 'binance-futures', dataTypes: ['trades'], symbols: ['BTCUSDT'], from: '2020-02-22', force: true });
process.exit(3); // not reached when the step was hit
`;

describe.skipIf(realDataMissing !== null)('raw snapshots after a SIGKILL', () => {
  let env: LakeEnv | null = null;
  afterEach(async () => {
    await env?.close();
    env = null;
  });

  it.each(['copy', 'commit', 'live'] as const)(
    'killed at the %s step: the old version survives, the rerun keeps both',
    async (step) => {
      const original = readFileSync(FILE, 'utf8');
      const changed = republish(original);
      env = await lakeEnv((dir) => putVendorFile(dir, EX, 'trades', DAY, SYM, original).then(() => {}));
      expect((await ingestOnce(env.lake)).done).toBe(1);
      const first = (await env.lake.catalog.getFile(LIVE))!;
      await putVendorFile(env.vendorDir, EX, 'trades', DAY, SYM, changed.csv);
      await env.lake.close();
      const script = join(env.root, 'child.mjs');
      writeFileSync(script, CHILD);
      // Async: the vendor server runs in this process's event loop.
      const child = await runChild(process.execPath, [
        script,
        env.lakeDir,
        env.server.url,
        TEST_API_KEY,
        step,
        LIVE,
      ]);
      expect(
        child.signal,
        `the child did not reach the step (dist/ stale? npm run build) ${child.stderr}`,
      ).toBe('SIGKILL');

      const lake = await env.reopen();
      await lake.recover();
      expect(await lake.catalog.listIntents()).toEqual([]);
      const live = (await lake.catalog.getFile(LIVE))!;
      expect(live.checksum).toBe(first.checksum);
      const src = await lake.storage.openRead(LIVE);
      expect(await hashSource(src)).toBe(first.checksum);
      await src.close();
      expect(await versionsOf(lake.catalog, live)).toHaveLength(1);
      const expectOld = parse(original);
      expect(tableTrades(await readAll(lake))).toEqual(expectOld);
      expect(tableTrades(await readAll(lake, { asOf: new Date() }))).toEqual(expectOld);
      // No staging leftovers once recovered.
      expect(filesUnder(join(env.lakeDir, '_staging'), { ext: '.parquet' })).toEqual([]);

      expect((await ingestOnce(lake, true)).done).toBe(1);
      const second = (await lake.catalog.getFile(LIVE))!;
      const after = await versionsOf(lake.catalog, second);
      expect(after.map((v) => v.checksum)).toEqual([first.checksum, second.checksum]);
      expect(tableTrades(await readAll(lake))).toEqual(parse(changed.csv));
      expect(tableTrades(await readAll(lake, { asOf: new Date(first.createdAt) }))).toEqual(expectOld);
      expect((await lake.files({ dataset: SNAPSHOTS })).map((f) => f.path)).toEqual([after[0]!.storedAt]);
    },
  );
});

// Object stores: the snapshot copy goes through the same Storage interface (staged upload, verified).
describe.skipIf(realDataMissing !== null).each(['s3', 'gcs'] as const)('raw snapshots on %s', (backend) => {
  let env: LakeEnv | null = null;
  afterEach(async () => {
    await env?.close();
    env = null;
  });

  it('a republished file yields two readable versions; asOf returns the old one', async () => {
    const original = readFileSync(FILE, 'utf8');
    const changed = republish(original);
    env = await lakeEnvOn(backend, (dir) =>
      putVendorFile(dir, EX, 'trades', DAY, SYM, original).then(() => {}),
    );
    expect((await ingestOnce(env.lake)).done).toBe(1);
    const first = (await env.lake.catalog.getFile(LIVE))!;
    await putVendorFile(env.vendorDir, EX, 'trades', DAY, SYM, changed.csv);
    expect((await ingestOnce(env.lake, true)).done).toBe(1);
    const [entry] = await env.lake.snapshots({ instrumentKey: KEY });
    expect(entry!.versions.map((v) => v.current)).toEqual([false, true]);
    const src = await env.lake.storage.openRead(entry!.versions[0]!.storedAt);
    expect(await hashSource(src)).toBe(first.checksum);
    await src.close();
    expect(tableTrades(await readAll(env.lake))).toEqual(parse(changed.csv));
    expect(tableTrades(await readAll(env.lake, { asOf: new Date(first.createdAt) }))).toEqual(
      parse(original),
    );
  });
});

/** A storage whose `publish()` throws for paths matching `failOn` (the object stays unpublished). */
function failingStorage(inner: Storage, failOn: (path: string) => boolean): Storage {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'begin') {
        return async (path: string): Promise<PendingObject> => {
          const p = await target.begin(path);
          if (!failOn(path)) return p;
          return {
            finalPath: p.finalPath,
            sink: p.sink,
            seal: () => p.seal(),
            openStaged: () => p.openStaged(),
            abort: () => p.abort(),
            publish: async () => {
              throw new StorageError(`${path}: injected failure before publish`);
            },
          };
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** A catalog whose `commitSnapshot` fails (everything else works). */
function failingCommitSnapshot(inner: Catalog): Catalog {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'commitSnapshot') {
        return async () => {
          throw new CatalogError('injected failure before the snapshot commit');
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

function runChild(cmd: string, args: string[]): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    c.on('error', reject);
    c.on('close', (_code, signal) => resolve({ signal, stderr }));
  });
}
