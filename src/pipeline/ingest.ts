/**
 * Ingest: vendor files → canonical, sorted, verified Parquet in the lake, recorded in the catalog.
 *
 * Work is a list of idempotent tasks `(vendor, exchange, data_type, symbol, day)`. Each task streams
 * the vendor's gzipped CSV (download → sha256 + gunzip → CSV parser → bounded-memory sorter →
 * Parquet writer), stages and verifies each output file, then publishes them and commits them with the
 * task result in one catalog transaction. A task already done is skipped without any network request
 * (unless `force`); with `force`, a vendor file whose checksum equals the recorded one is not rewritten.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Catalog, QualityRecord, TaskKey, TaskResult } from '../catalog/types.js';
import { Float64Builder, Utf8Builder } from '../columns/builders.js';
import { sliceBatch } from '../columns/ops.js';
import type { ColumnBatch, DictColumn, Schema } from '../columns/types.js';
import type { TicklakeConfig } from '../config.js';
import { CancelledError, UnknownDataTypeError, UsageError } from '../errors.js';
import { underlyingOf } from '../keys/key.js';
import { tardisKeyForSymbol } from '../keys/tardis.js';
import { assertTardisExchange } from '../keys/venues.js';
import { decodeFooter } from '../lake/footer.js';
import { QUARANTINE, quarantinePath, RAW_TICK_DATA, rawTickPath } from '../lake/layout.js';
import { DOWNLOADS_DIR, LocalStorage, STAGING_DIR } from '../lake/local-storage.js';
import { publishStaged, repairIntents, type StagedFile, stageLakeFile } from '../lake/publish.js';
import { preserveReplaced } from '../lake/snapshots.js';
import { ExternalSorter } from '../lake/sort.js';
import type { Storage } from '../lake/storage.js';
import { StreamingSorter } from '../lake/stream-sort.js';
import { ParquetReader } from '../parquet/reader.js';
import { MetricsAccumulator } from '../quality/metrics.js';
import {
  CANONICAL_SCHEMAS,
  DATA_TYPES,
  type DataType,
  isDataType,
  RAW_SCHEMA_VERSION,
  sortKeyOf,
} from '../schema/datasets.js';
import { tardisDatasetUrl } from '../sources/tardis/datasets.js';
import { daysInclusive, parseDay } from '../util/time.js';
import { type DecodeJob, decodeDataset, toTicklakeError } from './decode.js';
import { DecodePool, decodeWorkerUrl, type PoolHooks } from './decode-pool.js';

export const GROUPED_SYMBOLS = ['SPOT', 'FUTURES', 'PERPETUALS', 'OPTIONS'] as const;

export interface IngestOptions {
  force?: boolean;
  concurrency?: number;
  signal?: AbortSignal;
  onEvent?: (e: IngestEvent) => void;
}

export interface IngestRequest extends IngestOptions {
  exchange: string;
  dataTypes: readonly string[];
  symbols: readonly string[];
  from: string;
  /** Inclusive (default: `from`). */
  to?: string;
}

/** Ingest an explicit list of tasks (a saved plan: `ticklake ingest --plan ID`). */
export interface IngestTasksRequest extends IngestOptions {
  tasks: readonly TaskKey[];
  /** Recorded with the job (e.g. `{ plan: 7 }`). */
  params?: Record<string, unknown>;
}

function isTasksRequest(req: IngestRequest | IngestTasksRequest): req is IngestTasksRequest {
  return Array.isArray((req as IngestTasksRequest).tasks);
}

export type TaskOutcome = 'done' | 'skipped' | 'absent' | 'failed' | 'unchanged';

export type IngestEvent =
  | { type: 'plan'; tasks: number }
  | { type: 'task-start'; task: TaskKey; url: string }
  | { type: 'task-progress'; task: TaskKey; bytes: number }
  | { type: 'task-retry'; task: TaskKey; attempt: number; delayMs: number; reason: string }
  | {
      type: 'task-end';
      task: TaskKey;
      outcome: TaskOutcome;
      rows: number;
      bytes: number;
      badRows: number;
      files: readonly string[];
      error?: { code: string; message: string };
      examples?: readonly string[];
    };

export interface IngestTaskReport {
  task: TaskKey;
  outcome: TaskOutcome;
  rows: number;
  /** Bytes written to the lake. */
  bytes: number;
  /** Bytes downloaded from the vendor. */
  downloaded: number;
  badRows: number;
  files: readonly string[];
  error?: { code: string; message: string };
}

export interface IngestSummary {
  jobId: number;
  tasks: number;
  done: number;
  skipped: number;
  unchanged: number;
  absent: number;
  failed: number;
  rows: number;
  bytes: number;
  downloaded: number;
  seconds: number;
  reports: IngestTaskReport[];
}

export interface IngestContext {
  storage: Storage;
  catalog: Catalog;
  config: TicklakeConfig;
  /** Directory for sort spill files (default: the lake's staging folder for a local lake, else the OS temp dir). */
  tmpDir: string;
}

/** Validate a request and expand it into tasks (exchange × data type × symbol × day). */
export function planIngest(req: IngestRequest): TaskKey[] {
  assertTardisExchange(req.exchange);
  if (req.dataTypes.length === 0)
    throw new UsageError('no data types given', { hint: `use --data-types ${DATA_TYPES.join(',')}` });
  for (const dt of req.dataTypes) if (!isDataType(dt)) throw new UnknownDataTypeError(dt, DATA_TYPES);
  if (req.symbols.length === 0)
    throw new UsageError('no symbols given', { hint: 'use --symbols BTCUSDT,ETHUSDT' });
  const from = parseDay(req.from, '--from');
  const to = parseDay(req.to ?? req.from, '--to');
  const tasks: TaskKey[] = [];
  for (const day of daysInclusive(from, to)) {
    for (const dataType of req.dataTypes) {
      for (const raw of req.symbols) {
        const symbol = raw.trim().toUpperCase();
        if (symbol.length === 0) continue;
        tasks.push({ vendor: 'tardis', exchange: req.exchange, dataType, symbol, day });
      }
    }
  }
  return tasks;
}

/** Repair what a crash may have left: staging files and unsettled catalog intents. */
export async function recoverLake(ctx: Pick<IngestContext, 'storage' | 'catalog'>): Promise<void> {
  await ctx.storage.cleanupStaging();
  await repairIntents(ctx.storage, ctx.catalog);
}

export async function ingest(
  ctx: IngestContext,
  req: IngestRequest | IngestTasksRequest,
): Promise<IngestSummary> {
  const tasks: TaskKey[] = isTasksRequest(req)
    ? req.tasks.map((t) => {
        assertTardisExchange(t.exchange);
        if (!isDataType(t.dataType)) throw new UnknownDataTypeError(t.dataType, DATA_TYPES);
        return { vendor: t.vendor, exchange: t.exchange, dataType: t.dataType, symbol: t.symbol, day: t.day };
      })
    : planIngest(req);
  const started = performance.now();
  await ctx.storage.ensureWritable();
  await recoverLake(ctx);
  const jobId = await ctx.catalog.createJob(
    'ingest',
    isTasksRequest(req)
      ? { ...(req.params ?? {}), tasks: tasks.length, force: req.force ?? false }
      : {
          exchange: req.exchange,
          dataTypes: req.dataTypes,
          symbols: req.symbols,
          from: req.from,
          to: req.to,
          force: req.force ?? false,
        },
  );
  req.onEvent?.({ type: 'plan', tasks: tasks.length });
  const reports: IngestTaskReport[] = new Array(tasks.length);
  const concurrency = Math.max(1, req.concurrency ?? ctx.config.concurrency);
  const pool = createDecodePool(ctx.config);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      if (req.signal?.aborted) {
        reports[i] = {
          task: tasks[i]!,
          outcome: 'failed',
          rows: 0,
          bytes: 0,
          downloaded: 0,
          badRows: 0,
          files: [],
          error: { code: 'CANCELLED', message: 'cancelled' },
        };
        continue;
      }
      reports[i] = await runTask(ctx, tasks[i]!, jobId, req, pool);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  } finally {
    await pool?.close();
  }
  const sum = (f: (r: IngestTaskReport) => number) => reports.reduce((s, r) => s + f(r), 0);
  const count = (o: TaskOutcome) => reports.filter((r) => r.outcome === o).length;
  const summary: IngestSummary = {
    jobId,
    tasks: tasks.length,
    done: count('done'),
    skipped: count('skipped'),
    unchanged: count('unchanged'),
    absent: count('absent'),
    failed: count('failed'),
    rows: sum((r) => r.rows),
    bytes: sum((r) => r.bytes),
    downloaded: sum((r) => r.downloaded),
    seconds: (performance.now() - started) / 1000,
    reports,
  };
  const { reports: _r, ...jobSummary } = summary;
  await ctx.catalog.finishJob(jobId, summary.failed > 0 ? 'failed' : 'done', jobSummary);
  return summary;
}

/**
 * Where the decode stage (download + sha256 + gunzip + CSV parse) runs. With `ingest.decodeInWorker`
 * (the default) it runs in worker threads, one per concurrent task, so that it overlaps with sorting
 * and Parquet writing on the main thread. When there is no JavaScript worker file (running from the
 * TypeScript sources, as under vitest) or the setting is false, it runs in-process: same function,
 * same batches, byte-identical files.
 */
function createDecodePool(config: TicklakeConfig): DecodePool | null {
  if (config.ingest.decodeInWorker === false) return null;
  const url = decodeWorkerUrl();
  return url === null ? null : new DecodePool(url, config.tardis.apiKey);
}

/** True when every output of a done task is committed in the catalog and present in storage. */
async function taskStillHolds(ctx: IngestContext, outputs: readonly string[]): Promise<boolean> {
  for (const p of outputs) {
    const rec = await ctx.catalog.getFile(p);
    if (!rec) return false;
    const info = await ctx.storage.stat(p);
    if (!info || info.size !== rec.bytes) return false;
  }
  return true;
}

function isGroupedTask(task: TaskKey): boolean {
  return task.dataType === 'options_chain' || (GROUPED_SYMBOLS as readonly string[]).includes(task.symbol);
}

async function runTask(
  ctx: IngestContext,
  task: TaskKey,
  jobId: number,
  req: IngestOptions,
  pool: DecodePool | null,
): Promise<IngestTaskReport> {
  const url = tardisDatasetUrl(
    ctx.config.tardis.datasetsUrl,
    task.exchange,
    task.dataType as DataType,
    task.day,
    task.symbol,
  );
  const base = { task, rows: 0, bytes: 0, downloaded: 0, badRows: 0, files: [] as string[] };
  const previous = await ctx.catalog.getTask(task);
  if (!req.force && previous?.status === 'done' && (await taskStillHolds(ctx, previous.outputs))) {
    const report: IngestTaskReport = {
      ...base,
      outcome: 'skipped',
      files: previous.outputs,
      rows: previous.rows ?? 0,
    };
    req.onEvent?.({
      type: 'task-end',
      task,
      outcome: 'skipped',
      rows: report.rows,
      bytes: 0,
      badRows: 0,
      files: previous.outputs,
    });
    return report;
  }
  await ctx.catalog.startTask(task, jobId);
  req.onEvent?.({ type: 'task-start', task, url });
  let downloaded = 0;
  try {
    const result = await ingestOne(
      ctx,
      task,
      url,
      req,
      previous?.status === 'done' ? previous.sourceChecksum : null,
      (n) => {
        downloaded = n;
        req.onEvent?.({ type: 'task-progress', task, bytes: n });
      },
      pool,
    );
    const report: IngestTaskReport = {
      task,
      outcome: result.outcome,
      rows: result.rows,
      bytes: result.bytes,
      downloaded,
      badRows: result.badRows,
      files: result.files,
    };
    req.onEvent?.({
      type: 'task-end',
      task,
      outcome: result.outcome,
      rows: result.rows,
      bytes: result.bytes,
      badRows: result.badRows,
      files: result.files,
      examples: result.examples,
    });
    return report;
  } catch (err) {
    const e = toTicklakeError(err);
    // By code, not class: an error from a decode worker is rebuilt as a plain TicklakeError.
    const absent = e.code === 'VENDOR_NOT_FOUND';
    const result: TaskResult = {
      status: absent ? 'absent' : 'failed',
      errorCode: e.code,
      error: e.oneLine(),
      sourceUrl: url,
    };
    await ctx.catalog.finishTask(task, result).catch(() => {});
    const outcome: TaskOutcome = absent ? 'absent' : 'failed';
    const error = { code: e.code, message: e.oneLine() };
    req.onEvent?.({ type: 'task-end', task, outcome, rows: 0, bytes: 0, badRows: 0, files: [], error });
    return { ...base, outcome, downloaded, error };
  }
}

interface OneResult {
  outcome: 'done' | 'unchanged';
  rows: number;
  bytes: number;
  badRows: number;
  files: string[];
  examples: string[];
}

const QUARANTINE_SCHEMA: Schema = {
  fields: [
    {
      name: 'line_number',
      kind: 'int64',
      nullable: false,
      description: '1-based line number in the vendor CSV',
    },
    { name: 'reason', kind: 'utf8', nullable: false, description: 'why the row could not be parsed' },
    { name: 'raw_line', kind: 'utf8', nullable: false, description: 'the line as the vendor wrote it' },
  ],
};

async function ingestOne(
  ctx: IngestContext,
  task: TaskKey,
  url: string,
  req: IngestOptions,
  previousSourceChecksum: string | null,
  onBytes: (n: number) => void,
  pool: DecodePool | null,
  allowStreaming = true,
): Promise<OneResult> {
  const dataType = task.dataType as DataType;
  const schema = CANONICAL_SCHEMAS[dataType];
  const grouped = isGroupedTask(task);
  const singleKey = grouped ? null : tardisKeyForSymbol(task.exchange, task.symbol);
  const sortKey = grouped ? ['instrument_key', 'timestamp'] : sortKeyOf(dataType);
  // One instrument: write while downloading (sliding-window sort); otherwise the external sort.
  const stream = !grouped && allowStreaming && ctx.config.ingest.streamingSort ? new StreamingSorter() : null;
  const sorter = stream
    ? null
    : new ExternalSorter({
        schema,
        sortKey,
        runRows: ctx.config.ingest.runRows,
        // Sorted output in row-group-sized batches: the Parquet writer then takes each batch as one row
        // group instead of concatenating 64 Ki-row pieces (less copying and GC on the main thread).
        outputBatchRows: ctx.config.ingest.rowGroupRows,
        tmpDir: ctx.tmpDir,
      });
  const bad = { lines: new Float64Builder('int64'), reasons: new Utf8Builder(), raw: new Utf8Builder() };
  const staged: StagedFile[] = [];
  let source: { sha256: string; bytes: number; generated: boolean } | null = null;
  const footerBase = () => {
    const d = source!;
    return {
      dataset: RAW_TICK_DATA,
      dataType,
      schemaVersion: RAW_SCHEMA_VERSION,
      day: task.day,
      vendor: 'tardis',
      vendorExchange: task.exchange,
      vendorSymbol: task.symbol,
      sourceUrl: url,
      sourceSha256: d.sha256,
      sourceBytes: d.bytes,
      generated: d.generated,
      lineage: [{ url, sha256: d.sha256, bytes: d.bytes }],
    };
  };
  const writeOpts = {
    storage: ctx.storage,
    schema,
    codec: ctx.config.ingest.compression,
    zstdLevel: ctx.config.ingest.zstdLevel,
    rowGroupRows: ctx.config.ingest.rowGroupRows,
  };
  // Quality metrics of each raw file, computed from the batches as they are written (no re-read).
  const metrics = new Map<string, MetricsAccumulator>();
  const observer = (path: string) => {
    if (dataType === 'options_chain') return undefined; // sorted by key first: timestamp metrics do not apply
    const acc = new MetricsAccumulator(dataType, task.day, ctx.config.quality);
    metrics.set(path, acc);
    return (b: ColumnBatch) => acc.push(b);
  };
  let writing: Promise<StagedFile> | null = null;
  if (stream) {
    const key = singleKey!;
    writing = stageLakeFile(stream.output(), {
      ...writeOpts,
      observe: observer(rawTickPath(task.day, dataType, key)),
      path: rawTickPath(task.day, dataType, key),
      footer: () => ({ ...footerBase(), instrumentKey: key, sortedBy: ['timestamp'] }),
      sortingColumns: ['timestamp'],
    });
    writing.catch(() => {});
  }
  try {
    const job: DecodeJob = {
      url,
      dataType,
      exchange: task.exchange,
      singleKey,
      maxBadRowShare: ctx.config.ingest.maxBadRowShare,
      maxRetries: ctx.config.tardis.maxRetries,
      retryBaseDelayMs: ctx.config.tardis.retryBaseDelayMs,
      retryMaxDelayMs: ctx.config.tardis.retryMaxDelayMs,
      // The redo after a failed streaming sort does not persist: the first attempt's worker may still be
      // shutting down with the partial file open.
      partialPath: allowStreaming ? partialDownloadPath(ctx.storage, url) : null,
    };
    const hooks: PoolHooks = {
      signal: req.signal,
      onBytes,
      onBatch: stream
        ? (batch: ColumnBatch) => stream.push(batch)
        : (batch: ColumnBatch) => sorter!.push(batch),
      onBadRow: (line: number, reason: string, raw: string) => {
        bad.lines.append(line);
        bad.reasons.append(reason);
        bad.raw.append(raw);
      },
    };
    let decoded: Awaited<ReturnType<typeof decodeDataset>>;
    try {
      decoded = pool
        ? await pool.decode(job, hooks)
        : await decodeDataset(job, { ...hooks, apiKey: ctx.config.tardis.apiKey });
    } catch (err) {
      if (stream) {
        stream.fail(err);
        await writing!.catch(() => {});
        if (stream.speculationFailed) {
          // Rows too far out of order for the window: redo this file with the external sort.
          return await ingestOne(ctx, task, url, req, previousSourceChecksum, onBytes, pool, false);
        }
      }
      throw err;
    }
    const { parsed, download } = decoded;
    source = download;
    stream?.end();
    if (writing) staged.push(await writing);
    if (previousSourceChecksum !== null && previousSourceChecksum === download.sha256) {
      const prev = await ctx.catalog.getTask(task);
      if (prev && (await taskStillHolds(ctx, prev.outputs))) {
        for (const s of staged) await s.pending.abort();
        await ctx.catalog.finishTask(task, {
          status: 'done',
          sourceUrl: url,
          sourceChecksum: download.sha256,
          sourceBytes: download.bytes,
          rows: prev.rows,
          badRows: prev.badRows,
          badExamples: prev.badExamples,
          outputs: prev.outputs,
        });
        return {
          outcome: 'unchanged',
          rows: prev.rows ?? 0,
          bytes: 0,
          badRows: prev.badRows ?? 0,
          files: [...prev.outputs],
          examples: [],
        };
      }
    }
    if (!stream && !grouped) {
      const key = singleKey!;
      staged.push(
        await stageLakeFile(sorter!.finish(), {
          ...writeOpts,
          observe: observer(rawTickPath(task.day, dataType, key)),
          path: rawTickPath(task.day, dataType, key),
          footer: { ...footerBase(), instrumentKey: key, sortedBy: ['timestamp'] },
          sortingColumns: ['timestamp'],
        }),
      );
    } else if (grouped) {
      const partitionOf = dataType === 'options_chain' ? underlyingOf : (key: string) => key;
      for await (const part of partitionSorted(sorter!.finish(), partitionOf)) {
        staged.push(
          await stageLakeFile(part.batches, {
            ...writeOpts,
            observe: observer(rawTickPath(task.day, dataType, part.key)),
            path: rawTickPath(task.day, dataType, part.key),
            footer: { ...footerBase(), instrumentKey: part.key, sortedBy: sortKeyOf(dataType) },
            sortingColumns: [...sortKeyOf(dataType)],
          }),
        );
      }
    }
    if (parsed.badRows > 0) {
      const qBatch: ColumnBatch = {
        length: bad.lines.length,
        columns: {
          line_number: bad.lines.finish(),
          reason: bad.reasons.finish(),
          raw_line: bad.raw.finish(),
        },
      };
      staged.push(
        await stageLakeFile([qBatch], {
          ...writeOpts,
          schema: QUARANTINE_SCHEMA,
          path: quarantinePath(task.day, dataType, 'tardis', task.exchange, task.symbol),
          footer: {
            ...footerBase(),
            dataset: QUARANTINE,
            instrumentKey: singleKey,
            sortedBy: ['line_number'],
          },
          timestampColumn: 'none',
        }),
      );
    }
    if (req.signal?.aborted) throw new CancelledError();
    // Raw is immutable: keep the current content of files about to be replaced (src/lake/snapshots.ts).
    await preserveReplaced(ctx, staged);
    for (const s of staged) await publishStaged(ctx.catalog, s);
    const files = staged.map((s) => s.path);
    const rawBytes = staged.reduce((n, s) => n + s.record.bytes, 0);
    await ctx.catalog.commitFiles(files, {
      key: task,
      result: {
        status: 'done',
        sourceUrl: url,
        sourceChecksum: download.sha256,
        sourceBytes: download.bytes,
        rows: parsed.rows,
        badRows: parsed.badRows,
        badExamples: parsed.examples,
        outputs: files,
      },
    });
    // Quality metrics of the new files (check quality computes any that are missing, so a failure
    // here loses nothing and does not fail the ingest).
    const quality: QualityRecord[] = [];
    for (const st of staged) {
      const acc = metrics.get(st.path);
      if (!acc || st.record.dataset !== RAW_TICK_DATA) continue;
      const r = st.record;
      quality.push({
        path: r.path,
        checksum: r.checksum,
        dataType: r.dataType,
        instrumentKey: r.instrumentKey,
        day: r.day,
        metrics: acc.finish(),
        computedAt: Date.now(),
      });
    }
    await ctx.catalog.putQualityMetrics(quality).catch(() => {});
    return {
      outcome: 'done',
      rows: parsed.rows,
      bytes: rawBytes,
      badRows: parsed.badRows,
      files,
      examples: parsed.examples,
    };
  } catch (err) {
    stream?.fail(err);
    if (writing) await writing.catch(() => {});
    for (const s of staged) await s.pending.abort().catch(() => {});
    throw err;
  } finally {
    await sorter?.close();
  }
}

/**
 * Where a local lake keeps the gzipped bytes of a download in progress, named by the URL, so a
 * killed ingest resumes that download instead of starting over. Null for other storages.
 */
export function partialDownloadPath(storage: Storage, url: string): string | null {
  if (!(storage instanceof LocalStorage)) return null;
  const id = createHash('sha256').update(url).digest('hex').slice(0, 32);
  return join(storage.root, STAGING_DIR, DOWNLOADS_DIR, `${id}.csv.gz`);
}

interface Partition {
  key: string;
  batches: AsyncIterable<ColumnBatch>;
}

/**
 * Split a stream sorted by instrument_key into consecutive partitions (by `partitionOf(key)`), one at
 * a time: the consumer must finish a partition's batches before asking for the next partition.
 */
async function* partitionSorted(
  source: AsyncIterable<ColumnBatch>,
  partitionOf: (key: string) => string,
): AsyncGenerator<Partition> {
  const it = source[Symbol.asyncIterator]();
  let pending: ColumnBatch | null = null;
  let exhausted = false;
  const cache = new Map<string, string>();
  const partAt = (b: ColumnBatch, i: number): string => {
    const col = b.columns.instrument_key as DictColumn;
    const k = col.dictionary[col.indices[i]!]!;
    let p = cache.get(k);
    if (p === undefined) {
      p = partitionOf(k);
      cache.set(k, p);
    }
    return p;
  };
  const pull = async (): Promise<ColumnBatch | null> => {
    if (pending) {
      const b = pending;
      pending = null;
      return b;
    }
    if (exhausted) return null;
    const r = await it.next();
    if (r.done) {
      exhausted = true;
      return null;
    }
    return r.value;
  };
  while (true) {
    let first = await pull();
    while (first && first.length === 0) first = await pull();
    if (!first) return;
    const key = partAt(first, 0);
    pending = first;
    let finished = false;
    const batches = async function* () {
      while (!finished) {
        const b = await pull();
        if (!b) {
          finished = true;
          return;
        }
        let end = 0;
        while (end < b.length && partAt(b, end) === key) end++;
        if (end === b.length) {
          yield b;
          continue;
        }
        finished = true;
        if (end > 0) yield sliceBatch(b, 0, end);
        pending = sliceBatch(b, end, b.length);
        return;
      }
    };
    yield { key, batches: batches() };
    // Drain anything the consumer left of this partition.
    if (!finished) for await (const _ of batches()) void _;
  }
}

/** Read the footer of a lake file (for `catalog rebuild` and `ls --verify`). */
export async function readFooter(storage: Storage, path: string) {
  const src = await storage.openRead(path);
  try {
    const reader = await ParquetReader.open(src, path);
    return { footer: decodeFooter(reader.metadata.keyValueMetadata), size: src.size };
  } finally {
    await src.close();
  }
}

/**
 * Where sort runs spill: the lake's own staging folder for a local lake (same disk, cleaned by
 * `cleanupStaging` once this process is gone, hence the pid prefix), else the OS temp dir.
 */
export function defaultTmpDir(storage: Storage): string {
  const base = storage instanceof LocalStorage ? join(storage.root, STAGING_DIR) : tmpdir();
  return join(base, `${process.pid}-sort`);
}
