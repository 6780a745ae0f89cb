/**
 * The write protocol (publish.ts) over every backend: a staged Parquet file is invisible until
 * publish, verification catches bytes changed on their way into staging, and intent repair after a
 * crash commits a matching object and drops one overwritten by someone else — on S3 and GCS as on disk.
 */

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteCatalog } from '../../src/catalog/sqlite/catalog.js';
import type { ColumnBatch } from '../../src/columns/types.js';
import { CorruptedFileError } from '../../src/errors.js';
import { publishStaged, repairIntents, stageLakeFile } from '../../src/lake/publish.js';
import type { ByteSink, PendingObject, Storage } from '../../src/lake/storage.js';
import { ParquetReader } from '../../src/parquet/reader.js';
import { CANONICAL_SCHEMAS } from '../../src/schema/datasets.js';
import { BACKENDS, type Backends, backends } from './servers.js';

let servers: Backends;
beforeAll(async () => {
  servers = await backends();
});
afterAll(async () => {
  await servers?.close();
});

// Generated rows (labelled generated).
function trades(n: number, t0 = 1722470400000000): ColumnBatch {
  const ts = new Float64Array(n);
  const price = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ts[i] = t0 + i * 1000;
    price[i] = 60000 + i / 100;
  }
  const dict = (d: string[]) => ({
    kind: 'dict' as const,
    indices: new Int32Array(n),
    dictionary: d,
    validity: null,
  });
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
      side: dict(['buy', 'sell', 'unknown']),
      price: { kind: 'float64', values: price, validity: null },
      amount: { kind: 'float64', values: new Float64Array(n).fill(0.5), validity: null },
      instrument_key: dict(['BINANCE:SPOT_PAIR:BTC-USDT']),
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

let n = 0;
describe.each(BACKENDS)('write protocol on %s', (name) => {
  const setup = () => {
    const k = ++n;
    const storage = servers.storage(name, `p${k}`);
    const catalog = SqliteCatalog.open(join(servers.tmp, `catalog-${k}.sqlite`));
    const opts = { storage, schema: CANONICAL_SCHEMAS.trades, codec: 'zstd' as const, footer };
    return { storage, catalog, opts, other: () => servers.storage(name, `p${k}`) };
  };

  it('stage → verify → intent → publish → commit; the published file reads back', async () => {
    const { storage, catalog, opts } = setup();
    const staged = await stageLakeFile([trades(1000), trades(500, 1722470401000000)], {
      ...opts,
      path: 'raw/a.parquet',
    });
    expect(await storage.stat('raw/a.parquet')).toBeNull();
    expect(staged.record).toMatchObject({ rows: 1500, minTs: 1722470400000000 });
    await publishStaged(catalog, staged);
    expect((await storage.stat('raw/a.parquet'))?.size).toBe(staged.record.bytes);
    await catalog.commitFiles(['raw/a.parquet']);
    const src = await storage.openRead('raw/a.parquet');
    const reader = await ParquetReader.open(src, 'raw/a.parquet');
    expect(reader.metadata.numRows).toBe(1500);
    await src.close();
    await catalog.close();
  });

  it('verification catches bytes changed on their way into staging; nothing is published', async () => {
    const { storage, catalog, opts } = setup();
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
    await expect(
      stageLakeFile([trades(1000)], { ...opts, storage: flaky, path: 'raw/x.parquet' }),
    ).rejects.toBeInstanceOf(CorruptedFileError);
    expect(await storage.stat('raw/x.parquet')).toBeNull();
    await catalog.close();
  });

  it('intent repair: a matching object is committed, an overwritten or missing one dropped', async () => {
    const { storage, catalog, opts, other } = setup();
    const a = await stageLakeFile([trades(100)], { ...opts, path: 'raw/a.parquet' });
    await publishStaged(catalog, a); // crash here: visible, recorded only as an intent
    const b = await stageLakeFile([trades(200)], { ...opts, path: 'raw/b.parquet' });
    await catalog.recordIntent(b.record); // crash here: intent, never published
    await b.pending.abort();
    const c = await stageLakeFile([trades(300)], { ...opts, path: 'raw/c.parquet' });
    await publishStaged(catalog, c);
    // Someone else overwrites c with other bytes of the same length.
    const bytes = Buffer.from(await storage.readAll('raw/c.parquet'));
    bytes[10]! ^= 0xff;
    const p = await other().begin('raw/c.parquet');
    await p.sink.write(bytes);
    await p.seal();
    await p.publish();
    expect(await repairIntents(storage, catalog, { graceMs: 0 })).toEqual({ committed: 1, dropped: 2 });
    expect((await catalog.listFiles()).map((f) => f.path)).toEqual(['raw/a.parquet']);
    await catalog.close();
  });
});
