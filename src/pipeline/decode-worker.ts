/**
 * Worker entry of the decode stage (see decode.ts for the protocol, decode-pool.ts for the main
 * side). Runs one job at a time: download + sha256 + gunzip + CSV parse, posting each batch with its
 * typed-array buffers transferred (zero copy), and waiting for acknowledgements so that at most
 * `maxInFlight` batches are in flight. Only the built `dist/pipeline/decode-worker.js` is run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Column, ColumnBatch } from '../columns/types.js';
import { CancelledError } from '../errors.js';
import {
  type BadRows,
  type DecodeWorkerData,
  decodeDataset,
  type FromWorker,
  type ToWorker,
  toTicklakeError,
} from './decode.js';

interface Running {
  id: number;
  controller: AbortController;
  inFlight: number;
  wake: (() => void) | null;
}

const port = parentPort;
if (port === null) throw new Error('decode-worker.js must run as a worker thread');
const { apiKey, maxInFlight } = workerData as DecodeWorkerData;
let running: Running | null = null;

const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'start':
      void run(m.id, m);
      break;
    case 'ack':
      if (running?.id === m.id) {
        running.inFlight--;
        wake(running);
      }
      break;
    case 'abort':
      if (running?.id === m.id) {
        running.controller.abort();
        wake(running);
      }
      break;
  }
});

function wake(r: Running): void {
  const w = r.wake;
  r.wake = null;
  w?.();
}

async function run(id: number, m: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const r: Running = { id, controller: new AbortController(), inFlight: 0, wake: null };
  running = r;
  let bad: BadRows | null = null;
  const takeBad = () => {
    const b = bad;
    bad = null;
    return b;
  };
  try {
    const result = await decodeDataset(m.job, {
      apiKey,
      signal: r.controller.signal,
      onBytes: (n) => post({ type: 'bytes', id, n }),
      onBadRow: (line, reason, raw) => {
        bad ??= { lines: [], reasons: [], raws: [] };
        bad.lines.push(line);
        bad.reasons.push(reason);
        bad.raws.push(raw);
      },
      onBatch: async (batch) => {
        while (r.inFlight >= maxInFlight && !r.controller.signal.aborted) {
          await new Promise<void>((resolve) => {
            r.wake = resolve;
          });
        }
        if (r.controller.signal.aborted) throw new CancelledError();
        r.inFlight++;
        const packed = packBatch(batch);
        post({ type: 'batch', id, batch: packed.batch, bad: takeBad() }, packed.transfer);
      },
    });
    post({ type: 'done', id, result, bad: takeBad() });
  } catch (err) {
    const e = r.controller.signal.aborted ? new CancelledError() : toTicklakeError(err);
    post({ type: 'error', id, error: e.serialize(), bad: takeBad() });
  } finally {
    if (running === r) running = null;
  }
}

/**
 * The batch and the buffers to transfer with it. The parser hands over one fresh set of arrays per
 * batch, each the sole view at offset 0 of its own ArrayBuffer: those buffers are transferred. Any
 * other array (a view into a shared or pooled buffer) is copied first, so nothing is detached under
 * another owner.
 */
function packBatch(batch: ColumnBatch): { batch: ColumnBatch; transfer: ArrayBuffer[] } {
  const transfer = new Set<ArrayBuffer>();
  const own = <T extends Float64Array | Int32Array | Uint8Array>(a: T): T => {
    const buf = a.buffer;
    if (a.byteOffset === 0 && buf instanceof ArrayBuffer && !Buffer.isBuffer(a) && !transfer.has(buf)) {
      transfer.add(buf);
      return a;
    }
    return a.slice() as T;
  };
  const ownValidity = (v: Uint8Array | null) => (v === null ? null : own(v));
  const columns: Record<string, Column> = {};
  for (const [name, c] of Object.entries(batch.columns)) {
    switch (c.kind) {
      case 'utf8':
        columns[name] = {
          ...c,
          offsets: own(c.offsets),
          data: own(c.data),
          validity: ownValidity(c.validity),
        };
        break;
      case 'dict':
        columns[name] = { ...c, indices: own(c.indices), validity: ownValidity(c.validity) };
        break;
      case 'int32':
        columns[name] = { ...c, values: own(c.values), validity: ownValidity(c.validity) };
        break;
      case 'bool':
        columns[name] = { ...c, values: own(c.values), validity: ownValidity(c.validity) };
        break;
      default:
        columns[name] = { ...c, values: own(c.values), validity: ownValidity(c.validity) };
        break;
    }
  }
  return { batch: { length: batch.length, columns }, transfer: [...transfer] };
}
