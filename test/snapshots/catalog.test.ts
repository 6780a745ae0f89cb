/**
 * The snapshot part of the catalog (migration 4) on every backend (SQLite, PostgreSQL):
 * commitSnapshot commits the copy's intent and the snapshot row in one transaction, is idempotent,
 * refuses a snapshot with neither intent nor file record, lists in order, and deleteSnapshot removes
 * the row and the copy's file record together.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlCatalog } from '../../src/catalog/sql/catalog.js';
import type { FileRecord, FileSnapshot } from '../../src/catalog/types.js';
import { CatalogError } from '../../src/errors.js';
import { BACKENDS } from '../catalog/backends.js';

const LIVE = 'raw_tick_data/by_date/day=2024-08-01/data_type=trades/BINANCE_SPOT_PAIR_BTC-USDT.parquet';

function rec(path: string, checksum: string, createdAt: number): FileRecord {
  return {
    path,
    dataset: path.startsWith('snapshots/') ? 'snapshots' : 'raw_tick_data',
    dataType: 'trades',
    instrumentKey: 'BINANCE:SPOT_PAIR:BTC-USDT',
    day: '2024-08-01',
    rows: 10,
    bytes: 1234,
    minTs: 1722470400000000,
    maxTs: 1722556799999999,
    checksum,
    schemaVersion: 1,
    codec: 'zstd',
    vendor: 'tardis',
    vendorExchange: 'binance',
    vendorSymbol: 'BTCUSDT',
    sourceUrl: 'http://x/v1/binance/trades/2024/08/01/BTCUSDT.csv.gz',
    sourceChecksum: 'b'.repeat(64),
    sourceBytes: 99,
    generated: false,
    codeVersion: '0.1.0',
    createdAt,
  };
}

function snap(id: string, checksum: string, validFrom: number, validTo: number): FileSnapshot {
  return {
    path: LIVE,
    snapshotId: id,
    snapshotPath: `snapshots/${LIVE.replace(/\.parquet$/, '')}/snapshot=${id}.parquet`,
    checksum,
    sourceChecksum: 'c'.repeat(64),
    rows: 10,
    bytes: 1234,
    validFrom,
    validTo,
    createdAt: validTo,
  };
}

describe.each(BACKENDS)('file snapshots in the catalog on $name', (backend) => {
  const test = it.skipIf(backend.skip !== null);
  const opened: SqlCatalog[] = [];
  beforeAll(async () => {
    if (!backend.skip) await backend.setup();
  });
  afterAll(async () => {
    for (const c of opened) await c.close().catch(() => {});
    if (!backend.skip) await backend.teardown();
  });

  test('commit, list, idempotent re-commit, refusal without intent, delete', async () => {
    const cat = await backend.fresh();
    opened.push(cat);
    const s1 = snap('20240801T000000.000Z', '1'.repeat(64), 1000, 2000);
    const s2 = snap('20240801T000002.000Z', '2'.repeat(64), 2000, 3000);
    // Neither an intent nor a file record for the copy: refused, nothing written.
    await expect(cat.commitSnapshot(s1)).rejects.toBeInstanceOf(CatalogError);
    expect(await cat.listSnapshots()).toEqual([]);

    for (const s of [s2, s1]) {
      await cat.recordIntent(rec(s.snapshotPath, s.checksum, s.createdAt));
      await cat.commitSnapshot(s);
    }
    expect(await cat.listIntents()).toEqual([]);
    expect(await cat.listSnapshots({ path: LIVE })).toEqual([s1, s2]);
    expect(await cat.listSnapshots({ path: 'other.parquet' })).toEqual([]);
    expect((await cat.getFile(s1.snapshotPath))!.checksum).toBe(s1.checksum);
    // Re-committing (a rerun after a crash): the file record already exists; the row is updated.
    const s1b = { ...s1, validTo: 2500 };
    await cat.commitSnapshot(s1b);
    expect(await cat.listSnapshots()).toEqual([s1b, s2]);

    await cat.deleteSnapshot(LIVE, s1.snapshotId);
    expect(await cat.listSnapshots()).toEqual([s2]);
    expect(await cat.getFile(s1.snapshotPath)).toBeNull();
    expect((await cat.getFile(s2.snapshotPath))!.dataset).toBe('snapshots');
    await cat.deleteSnapshot(LIVE, 'no-such-id'); // a no-op
    expect(await cat.listSnapshots()).toEqual([s2]);
  });
});
