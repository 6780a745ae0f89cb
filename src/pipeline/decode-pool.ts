/**
 * Main-thread side of the decode stage: runs `decodeDataset` (decode.ts) in `worker_threads`
 * Workers, so that download + sha256 + gunzip + CSV parse overlap with sorting and Parquet writing
 * on the main thread.
 *
 * - One worker per concurrent task: an idle worker is reused by the next task, a new one is spawned
 *   when none is idle; `close()` terminates them all. Idle workers are unref'd (they never keep the
 *   process alive); a worker is terminated rather than reused after any failure on the main side, a
 *   crash, or a cancellation it did not answer.
 * - Backpressure: the worker keeps at most `MAX_IN_FLIGHT` batches unacknowledged; the main thread
 *   acknowledges a batch once `onBatch` (the sorter push) has settled. Batches are handled strictly
 *   in order, one at a time.
 * - Errors: the worker posts `TicklakeError.serialize()`; it is rebuilt here with
 *   `TicklakeError.fromSerialized` (same code, message, hint, details): callers test `code`, not the
 *   subclass. The API key is given once in `workerData` and never appears in a message.
 * - Cancellation: when `signal` aborts, the worker is told (`abort`); it aborts its download and
 *   answers with a CANCELLED error. If it does not answer within `ABORT_GRACE_MS` it is terminated.
 *
 * The worker needs a JavaScript file: `decodeWorkerUrl()` finds `decode-worker.js` next to this
 * module when this module is itself JavaScript (the built dist/). Running from TypeScript sources
 * (vitest), there is none, and ingest decodes in-process with the same `decodeDataset`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CancelledError, TicklakeError } from '../errors.js';
import type {
  BadRows,
  DecodeHooks,
  DecodeJob,
  DecodeResult,
  DecodeWorkerData,
  FromWorker,
  ToWorker,
} from './decode.js';

/**
 * Unacknowledged batches a worker may have posted (each 64 Ki rows, ≈ 3.5 MB of trades). Enough to
 * cover the main thread's longest synchronous step (sorting and spilling a 1 Mi-row run, a few hundred
 * ms) so the worker does not stall meanwhile; a constant, so memory stays bounded whatever the file size.
 */
export const MAX_IN_FLIGHT = 8;
const ABORT_GRACE_MS = 5_000;

/** The worker script, or null when there is no JavaScript worker file (running from .ts sources). */
export function decodeWorkerUrl(): URL | null {
  if (!import.meta.url.endsWith('.js')) return null;
  const url = new URL('./decode-worker.js', import.meta.url);
  try {
    if (url.protocol !== 'file:' || !existsSync(fileURLToPath(url))) return null;
  } catch {
    return null;
  }
  return url;
}

export type PoolHooks = Omit<DecodeHooks, 'apiKey'>;

export class DecodePool {
  private readonly idle: Worker[] = [];
  private readonly live = new Set<Worker>();
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly url: URL,
    private readonly apiKey: string | undefined,
  ) {}

  private acquire(): Worker {
    const reused = this.idle.pop();
    if (reused) {
      reused.ref();
      return reused;
    }
    const data: DecodeWorkerData = { apiKey: this.apiKey, maxInFlight: MAX_IN_FLIGHT };
    const worker = new Worker(this.url, { workerData: data });
    this.live.add(worker);
    worker.once('exit', () => {
      this.live.delete(worker);
      const i = this.idle.indexOf(worker);
      if (i >= 0) this.idle.splice(i, 1);
    });
    // An idle worker's crash has nobody to report to; a busy one's is reported by decode().
    worker.on('error', () => {});
    return worker;
  }

  private release(worker: Worker, reusable: boolean): void {
    if (reusable && !this.closed && this.live.has(worker)) {
      worker.unref();
      this.idle.push(worker);
    } else {
      this.live.delete(worker);
      void worker.terminate();
    }
  }

  /** Decode one file in a worker; resolves like `decodeDataset`, after the last `onBatch` settled. */
  decode(job: DecodeJob, hooks: PoolHooks): Promise<DecodeResult> {
    if (this.closed) return Promise.reject(new CancelledError('decode pool closed'));
    const worker = this.acquire();
    const id = ++this.nextId;
    const send = (m: ToWorker) => worker.postMessage(m);
    return new Promise<DecodeResult>((resolve, reject) => {
      let settled = false;
      let failed = false;
      let graceTimer: NodeJS.Timeout | undefined;
      // Batches, bad rows and the end are handled in order, one at a time.
      let chain: Promise<void> = Promise.resolve();
      const finish = (err: unknown, result: DecodeResult | undefined, reusable: boolean) => {
        if (settled) return;
        settled = true;
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        hooks.signal?.removeEventListener('abort', onAbort);
        if (graceTimer !== undefined) clearTimeout(graceTimer);
        this.release(worker, reusable);
        if (err !== null) reject(err);
        else resolve(result!);
      };
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        finish(err, undefined, false);
      };
      const deliverBad = (bad: BadRows | null) => {
        if (bad === null) return;
        for (let i = 0; i < bad.lines.length; i++)
          hooks.onBadRow(bad.lines[i]!, bad.reasons[i]!, bad.raws[i]!);
      };
      const enqueue = (step: () => void | Promise<void>) => {
        chain = chain.then(() => (failed || settled ? undefined : step())).catch(fail);
      };
      const onMessage = (m: FromWorker) => {
        if (m.id !== id) return;
        switch (m.type) {
          case 'bytes':
            if (!failed) hooks.onBytes(m.n);
            break;
          case 'batch':
            enqueue(async () => {
              deliverBad(m.bad);
              await hooks.onBatch(m.batch);
              if (!settled) send({ type: 'ack', id });
            });
            break;
          case 'done':
            enqueue(() => {
              deliverBad(m.bad);
              finish(null, m.result, true);
            });
            break;
          case 'error':
            enqueue(() => {
              deliverBad(m.bad);
              finish(TicklakeError.fromSerialized(m.error), undefined, true);
            });
            break;
        }
      };
      const onError = (err: Error) =>
        fail(
          new TicklakeError('INTERNAL', `decode worker crashed: ${err?.message ?? String(err)}`, {
            hint: 'please report this at the project issue tracker with --verbose output',
            details: { url: job.url },
          }),
        );
      const onExit = (code: number) =>
        fail(
          new TicklakeError('INTERNAL', `decode worker exited unexpectedly (code ${code})`, {
            hint: 'please report this at the project issue tracker with --verbose output',
            details: { url: job.url },
          }),
        );
      const onAbort = () => {
        if (settled) return;
        send({ type: 'abort', id });
        graceTimer = setTimeout(() => fail(new CancelledError()), ABORT_GRACE_MS);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      send({ type: 'start', id, job });
      if (hooks.signal?.aborted) onAbort();
      else hooks.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Terminate every worker. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.live];
    this.live.clear();
    this.idle.length = 0;
    await Promise.all(all.map((w) => w.terminate()));
  }
}
