/**
 * Reading the real Binance WebSocket captures (../shared/data/real/binance/ws_capture): one message a
 * line, `<receive time> <JSON>` (receive time in ns for the 2024 files, µs for the 2023 ones). Holds
 * `@depth` diffs, `@bookTicker`, `@trade`, and in three of the four files one REST depth snapshot
 * (`lastUpdateId`, 1000 levels a side) taken shortly after the streams started.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface DepthDiff {
  E: number;
  U: number;
  u: number;
  pu?: number;
  b: [string, string][];
  a: [string, string][];
}

export interface BookTicker {
  u: number;
  b: string;
  B: string;
  a: string;
  A: string;
}

export interface DepthSnapshot {
  lastUpdateId: number;
  E?: number;
  bids: [string, string][];
  asks: [string, string][];
}

export type CaptureItem =
  | { kind: 'diff'; recv: number; data: DepthDiff }
  | { kind: 'ticker'; recv: number; data: BookTicker }
  | { kind: 'snapshot'; recv: number; data: DepthSnapshot };

/** Depth diffs, bookTickers and the REST snapshot of a capture, in receive order (trades dropped). */
export function readCapture(path: string): CaptureItem[] {
  const out: CaptureItem[] = [];
  for (const line of gunzipSync(readFileSync(path)).toString('utf8').split('\n')) {
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    const recv = Number(line.slice(0, sp));
    const msg = JSON.parse(line.slice(sp + 1)) as { stream?: string; data?: unknown; lastUpdateId?: number };
    const stream = msg.stream ?? '';
    if (stream.includes('@depth')) out.push({ kind: 'diff', recv, data: msg.data as DepthDiff });
    else if (stream.includes('@bookTicker')) out.push({ kind: 'ticker', recv, data: msg.data as BookTicker });
    else if (msg.lastUpdateId !== undefined)
      out.push({ kind: 'snapshot', recv, data: msg as unknown as DepthSnapshot });
  }
  return out;
}
