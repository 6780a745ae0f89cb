/**
 * `ticklake catalog rebuild`: recreate the catalog from the lake's Parquet footers alone. Every
 * ticklake file is self-describing (dataset, data type, key, day, vendor source and checksum, rows,
 * min/max timestamp, code version), so files and the ingestion tasks that produced them come back;
 * failed/absent task history, which lives only in the catalog, does not; neither do saved plans, jobs,
 * quality metrics (recomputed by `check quality`) and the snapshot index (snapshot files come back as
 * file records).
 */
import type { Catalog, FileRecord, TaskKey } from '../catalog/types.js';
import { ParquetReader } from '../parquet/reader.js';
import { decodeFooter, fileRecordFromFooter } from './footer.js';
import { QUARANTINE, RAW_TICK_DATA } from './layout.js';
import { hashSource } from './publish.js';
import type { Storage } from './storage.js';

export interface RebuildSummary {
  files: number;
  tasks: number;
  skipped: { path: string; reason: string }[];
}

export async function rebuildCatalog(storage: Storage, catalog: Catalog): Promise<RebuildSummary> {
  await storage.cleanupStaging();
  const records: FileRecord[] = [];
  const skipped: RebuildSummary['skipped'] = [];
  for await (const info of storage.list('')) {
    if (!info.path.endsWith('.parquet')) continue;
    const src = await storage.openRead(info.path);
    try {
      const reader = await ParquetReader.open(src, info.path);
      const footer = decodeFooter(reader.metadata.keyValueMetadata);
      if (!footer) {
        skipped.push({
          path: info.path,
          reason: 'not written by ticklake (no ticklake.* footer metadata)',
        });
        continue;
      }
      const codec = reader.metadata.codec ?? 'unknown';
      records.push(
        fileRecordFromFooter(info.path, footer, {
          bytes: info.size,
          checksum: await hashSource(src),
          codec,
          createdAt: Math.round(info.mtimeMs),
        }),
      );
    } catch (err) {
      skipped.push({ path: info.path, reason: (err as Error).message });
    } finally {
      await src.close();
    }
  }
  await catalog.clearForRebuild();
  await catalog.putFiles(records);
  // Tasks: group the files of each vendor file back into its task.
  const tasks = new Map<string, { key: TaskKey; files: FileRecord[] }>();
  for (const r of records) {
    if (r.dataset !== RAW_TICK_DATA && r.dataset !== QUARANTINE) continue;
    if (!r.vendor || !r.vendorExchange || !r.vendorSymbol || !r.dataType || !r.day) continue;
    const key: TaskKey = {
      vendor: r.vendor,
      exchange: r.vendorExchange,
      dataType: r.dataType,
      symbol: r.vendorSymbol,
      day: r.day,
    };
    const id = JSON.stringify(key);
    let t = tasks.get(id);
    if (!t) tasks.set(id, (t = { key, files: [] }));
    t.files.push(r);
  }
  for (const { key, files } of tasks.values()) {
    const raw = files.filter((f) => f.dataset === RAW_TICK_DATA);
    const q = files.filter((f) => f.dataset === QUARANTINE);
    await catalog.finishTask(key, {
      status: 'done',
      sourceUrl: files[0]!.sourceUrl,
      sourceChecksum: files[0]!.sourceChecksum,
      sourceBytes: files[0]!.sourceBytes,
      rows: raw.reduce((n, f) => n + f.rows, 0),
      badRows: q.reduce((n, f) => n + f.rows, 0),
      badExamples: [],
      outputs: files.map((f) => f.path).sort(),
    });
  }
  return { files: records.length, tasks: tasks.size, skipped };
}
