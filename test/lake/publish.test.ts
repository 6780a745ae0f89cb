/** The write protocol step by step: stage, verify, intent, publish, commit — and repair after a crash. */

import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteCatalog } from '../../src/catalog/sqlite/catalog.js';
import type { ColumnBatch } from '../../src/columns/types.js';
import { CorruptedFileError } from '../../src/errors.js';
import { LocalStorage } from '../../src/lake/local-storage.js';
import {
  publishStaged,
  repairIntents,
  stageLakeFile,
  type WriteLakeFileOptions,
} from '../../src/lake/publish.js';
import type { ByteSink, PendingObject, Storage } from '../../src/lake/storage.js';
import { CANONICAL_SCHEMAS } from '../../src/schema/datasets.js';
import { tempDir } from '../helpers/fixtures.js';

function trades(n: number): ColumnBatch {
  const ts = new Float64Array(n);
  const price = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ts[i] = 1722470400000000 + i * 1000;
    price[i] = 60000 + i / 100;
  }
  return {
    length: n,
    columns: {
      timestamp: { kind: 'timestamp', values: ts, validity: null },
      local_timestamp: { kind: 'timestamp', values: ts, validity: null },
      id: {
        kind: 'utf8',
        offsets: new Int32Array(n + 1),
        data: new Uint8Array(0),
        validity: new Uint8Array(n),
      },
      side: {
        kind: 'dict',
        indices: new Int32Array(n),
        dictionary: ['buy', 'sell', 'unknown'],
        validity: null,
      },
      price: { kind: 'float64', values: price, validity: null },
      amount: { kind: 'float64', values: new Float64Array(n).fill(0.5), validity: null },
      instrument_key: {
        kind: 'dict',
        indices: new Int32Array(n),
        dictionary: ['BINANCE:SPOT_PAIR:BTC-USDT'],
        validity: null,
      },
    },
  };
}

const footer = {
  dataset: 'raw_tick_data',
  dataType: 'trades',
  schemaVersion: 1,
  instrumentKey: 'BINANCE:SPOT_PAIR:BTC-USDT',
  day: '2024-08-01',
  vendor: 'tardis',
  vendorExchange: 'binance',
  vendorSymbol: 'BTCUSDT',
  sourceUrl: 'http://example/v1/x.csv.gz',
  sourceSha256: 'c'.repeat(64),
  sourceBytes: 1,
  generated: true,
  sortedBy: ['timestamp'],
  lineage: [],
};

describe('write protocol', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let storage: LocalStorage;
  let catalog: SqliteCatalog;
  let opts: WriteLakeFileOptions;
  beforeEach(async () => {
    tmp = await tempDir();
    storage = new LocalStorage(join(tmp.path, 'lake'));
    catalog = SqliteCatalog.open(join(tmp.path, 'catalog.sqlite'));
    opts = { storage, path: 'raw/a.parquet', schema: CANONICAL_SCHEMAS.trades, codec: 'zstd', footer };
  });
  afterEach(async () => {
    await catalog.close();
    await tmp.cleanup();
  });

  it('nothing is visible until publish; the record carries rows, times and the file checksum', async () => {
    const staged = await stageLakeFile([trades(1000), trades(500)], opts);
    expect(existsSync(join(storage.root, 'raw/a.parquet'))).toBe(false);
    expect(staged.record).toMatchObject({
      rows: 1500,
      minTs: 1722470400000000,
      maxTs: 1722470400000000 + 999 * 1000,
      generated: true,
    });
    await publishStaged(catalog, staged);
    expect(existsSync(join(storage.root, 'raw/a.parquet'))).toBe(true);
    expect((await catalog.listIntents()).map((r) => r.checksum)).toEqual([staged.record.checksum]);
    await catalog.commitFiles(['raw/a.parquet']);
    expect((await catalog.getFile('raw/a.parquet'))!.checksum).toBe(staged.record.checksum);
    expect(readdirSync(join(storage.root, '_staging'))).toEqual([]);
  });

  it('abort leaves no trace', async () => {
    const staged = await stageLakeFile([trades(10)], opts);
    await staged.pending.abort();
    expect(existsSync(join(storage.root, 'raw/a.parquet'))).toBe(false);
    expect(readdirSync(join(storage.root, '_staging'))).toEqual([]);
  });

  it('verification catches bytes that changed on their way to disk', async () => {
    // A storage whose sink flips one byte after the writer hashed it (a bad disk, a buggy backend).
    const flaky: Storage = Object.create(storage) as Storage;
    flaky.begin = async (finalPath: string): Promise<PendingObject> => {
      const p = await storage.begin(finalPath);
      let flipped = false;
      const sink: ByteSink = {
        get position() {
          return p.sink.position;
        },
        write: (chunk: Uint8Array) => {
          if (!flipped && chunk.length > 100) {
            flipped = true;
            const copy = Uint8Array.from(chunk);
            copy[50]! ^= 0xff;
            return p.sink.write(copy);
          }
          return p.sink.write(chunk);
        },
      };
      return { ...p, sink };
    };
    await expect(stageLakeFile([trades(1000)], { ...opts, storage: flaky })).rejects.toBeInstanceOf(
      CorruptedFileError,
    );
    expect(readdirSync(join(storage.root, '_staging'))).toEqual([]);
  });

  it('repair after a crash between publish and commit: a matching file is committed, others dropped', async () => {
    const a = await stageLakeFile([trades(100)], opts);
    await publishStaged(catalog, a); // crash here: visible, recorded only as an intent
    const b = await stageLakeFile([trades(200)], { ...opts, path: 'raw/b.parquet' });
    await catalog.recordIntent(b.record); // crash here: intent, never renamed
    await b.pending.abort();
    const c = await stageLakeFile([trades(300)], { ...opts, path: 'raw/c.parquet' });
    await publishStaged(catalog, c);
    writeFileSync(join(storage.root, 'raw/c.parquet'), 'overwritten by someone else');
    // This (live) process wrote a and c: by default they are in flight and left alone.
    expect(await repairIntents(storage, catalog)).toEqual({ committed: 0, dropped: 1 });
    // Once their writer is gone (here: past the grace period), they are settled.
    const r = await repairIntents(storage, catalog, { graceMs: 0 });
    expect(r).toEqual({ committed: 1, dropped: 1 });
    expect((await catalog.listFiles()).map((f) => f.path)).toEqual(['raw/a.parquet']);
    expect(await catalog.listIntents()).toEqual([]);
  });

  it("repair settles a dead writer's intent at once and leaves a live writer's alone", async () => {
    const a = await stageLakeFile([trades(100)], opts);
    await catalog.recordIntent({
      ...a.record,
      writer: { host: hostname(), pid: 999_999, at: Date.now() },
    } as never);
    await a.pending.publish();
    const b = await stageLakeFile([trades(200)], { ...opts, path: 'raw/b.parquet' });
    await catalog.recordIntent({
      ...b.record,
      writer: { host: 'other-host', pid: 1, at: Date.now() },
    } as never);
    await b.pending.publish();
    expect(await repairIntents(storage, catalog)).toEqual({ committed: 1, dropped: 0 });
    expect((await catalog.listIntents()).map((i) => i.path)).toEqual(['raw/b.parquet']);
    // The other machine's writer finishes its commit normally; a late repair commit is harmless too.
    await catalog.commitFiles(['raw/b.parquet']);
    await catalog.commitFiles(['raw/b.parquet']);
    expect((await catalog.listFiles()).map((f) => f.path).sort()).toEqual(['raw/a.parquet', 'raw/b.parquet']);
  });

  it('staging files of dead processes are cleaned, live ones kept', async () => {
    const staging = join(storage.root, '_staging');
    await storage.ensureWritable();
    writeFileSync(join(staging, '999999-deadbeef-x.parquet'), 'garbage');
    writeFileSync(join(staging, `${process.pid}-cafe-y.parquet`), 'mine');
    expect(await storage.cleanupStaging()).toBe(1);
    expect(readdirSync(staging)).toEqual([`${process.pid}-cafe-y.parquet`]);
  });
});
