/**
 * The catalog methods managed jobs and gc rely on (migration 5), on SQLite and PostgreSQL: job
 * insert/update with compare-and-set, the cancel flag seen by another connection, listing and
 * deletion (task rows kept, detached), and pending gc deletions. Raw SQL checks the stored rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileRecord } from '../../src/catalog/types.js';
import { BACKENDS } from '../catalog/backends.js';

const file = (path: string, checksum: string): FileRecord => ({
  path,
  dataset: 'raw_tick_data',
  dataType: 'trades',
  instrumentKey: 'BINANCE:SPOT_PAIR:BTC-USDT',
  day: '2024-08-01',
  rows: 1,
  bytes: 10,
  minTs: 1,
  maxTs: 1,
  checksum,
  schemaVersion: 1,
  codec: 'zstd',
  vendor: 'tardis',
  vendorExchange: 'binance',
  vendorSymbol: 'BTCUSDT',
  sourceUrl: null,
  sourceChecksum: null,
  sourceBytes: null,
  generated: true,
  codeVersion: 'test',
  createdAt: 1,
});

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip !== null)(`job and gc catalog methods (${backend.name})`, () => {
    beforeAll(() => backend.setup());
    afterAll(() => backend.teardown());

    it('creates, claims (compare-and-set), cancels across connections, lists and deletes jobs', async () => {
      const cat = await backend.fresh();
      const other = await backend.reopen();
      try {
        const id = await cat.insertJob('ingest-job', 'created', { exchange: 'binance' });
        expect(
          await cat.updateJob(
            id,
            { status: 'running', ownerPid: 42, ownerHost: 'h', heartbeatAt: 1000 },
            { statuses: ['created'] },
          ),
        ).toBe(true);
        // A second claim of a created job fails; a resume CAS with a stale heartbeat value fails too.
        expect(await other.updateJob(id, { status: 'running' }, { statuses: ['created'] })).toBe(false);
        expect(await other.updateJob(id, { ownerPid: 7 }, { statuses: ['running'], heartbeatAt: 999 })).toBe(
          false,
        );
        expect(await other.updateJob(id, { ownerPid: 7 }, { statuses: ['running'], heartbeatAt: 1000 })).toBe(
          true,
        );
        const before = Date.now();
        await other.updateJob(id, { status: 'cancelling', cancelRequested: true });
        const j = await cat.getJob(id);
        expect(j).toMatchObject({
          status: 'cancelling',
          cancelRequested: true,
          ownerPid: 7,
          ownerHost: 'h',
          heartbeatAt: 1000,
        });
        expect(j!.cancelRequestedAt).toBeGreaterThanOrEqual(before);
        await cat.updateJob(id, { status: 'cancelled', finishedAt: 5000, progress: { tasksTotal: 3 } });
        const run = await cat.createJob('ingest', { job: id });
        await cat.finishJob(run, 'done', {});
        await cat.startTask(
          { vendor: 'tardis', exchange: 'binance', dataType: 'trades', symbol: 'BTCUSDT', day: '2024-08-01' },
          run,
        );
        expect((await cat.listJobs({ kinds: ['ingest-job'] })).map((x) => x.id)).toEqual([id]);
        expect((await cat.listJobs()).map((x) => x.id)).toEqual([run, id]);
        expect((await cat.listJobs({ finishedBefore: 6000 })).map((x) => x.id)).toEqual([id]);
        expect((await cat.getJob(id))!.progress).toEqual({ tasksTotal: 3 });
        expect(await cat.deleteJobs([id, run])).toBe(2);
        expect(await cat.listJobs()).toEqual([]);
        expect(await backend.sql('SELECT job_id FROM ingest_tasks')).toEqual([{ job_id: null }]);
      } finally {
        await other.close();
        await cat.close();
      }
    });

    it('records pending deletions with the catalog delete, only for an unchanged checksum', async () => {
      const cat = await backend.fresh();
      try {
        await cat.putFiles([file('a.parquet', 'aa'), file('b.parquet', 'bb')]);
        expect(
          await cat.beginDeletes([
            { path: 'a.parquet', checksum: 'aa' },
            { path: 'b.parquet', checksum: 'changed' },
          ]),
        ).toEqual(['a.parquet']);
        expect((await cat.listFiles()).map((f) => f.path)).toEqual(['b.parquet']);
        expect(await cat.listPendingDeletes()).toEqual([{ path: 'a.parquet', checksum: 'aa' }]);
        await cat.finishDelete('a.parquet');
        expect(await backend.sql('SELECT count(*) AS n FROM gc_deletes')).toEqual([
          { n: backend.name === 'sqlite' ? 0 : '0' },
        ]);
      } finally {
        await cat.close();
      }
    });
  });
}
