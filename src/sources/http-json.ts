/**
 * GET a JSON document from a vendor API (Tardis `/v1/exchanges`, `/v1/instruments`, Binance
 * `exchangeInfo`, Deribit `get_instruments`): retries with jittered backoff on network errors, 429
 * (honouring Retry-After) and 5xx; never retries 4xx. Every failure is a typed error naming the URL
 * (without credentials): 401/403 `VendorAuthError`, 404 `VendorNotFoundError`, other 4xx
 * `VendorBadRequestError`, exhausted retries `VendorRateLimitError` / `VendorServerError` /
 * `NetworkError`, a body that is not JSON `CorruptedSourceError`. The API key travels only in the
 * Authorization header.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';
import {
  CancelledError,
  CorruptedSourceError,
  NetworkError,
  TicklakeError,
  VendorAuthError,
  VendorBadRequestError,
  VendorNotFoundError,
  VendorRateLimitError,
  VendorServerError,
} from '../errors.js';
import { backoffDelay, DEFAULT_USER_AGENT, httpGet, parseRetryAfter, safeUrl, sleep } from './tardis/http.js';

export interface GetJsonOptions {
  /** Sent as `Authorization: Bearer <apiKey>` when set. */
  apiKey?: string | undefined;
  maxRetries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  onRetry?: (info: { url: string; retry: number; delayMs: number; problem: string }) => void;
}

export interface JsonResponse {
  json: unknown;
  /** Bytes of the body as received (after content decoding), and their sha256 (hex). */
  bytes: number;
  sha256: string;
  requests: number;
}

type Attempt =
  | { ok: true; body: Buffer }
  | { ok: false; problem: string; status?: number; retryAfterMs?: number };

async function readBody(res: IncomingMessage): Promise<Buffer> {
  const enc = String(res.headers['content-encoding'] ?? '').toLowerCase();
  const stream = enc === 'gzip' ? res.pipe(createGunzip()) : res;
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function attempt(url: URL, options: GetJsonOptions, shown: string): Promise<Attempt> {
  const headers: Record<string, string> = {
    'user-agent': DEFAULT_USER_AGENT,
    accept: 'application/json',
    'accept-encoding': 'gzip',
  };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const { res, dispose } = await httpGet(url, {
    headers,
    signal: options.signal,
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
  });
  try {
    const status = res.statusCode ?? 0;
    if (status === 200) return { ok: true, body: await readBody(res) };
    res.resume();
    if (status === 401 || status === 403)
      throw new VendorAuthError(shown, status, options.apiKey !== undefined);
    if (status === 404) throw new VendorNotFoundError(shown);
    if (status === 429 || status >= 500) {
      return {
        ok: false,
        status,
        problem: `HTTP ${status}`,
        retryAfterMs: parseRetryAfter(res.headers['retry-after']),
      };
    }
    throw new VendorBadRequestError(shown, status);
  } finally {
    dispose();
  }
}

/** GET `url` and parse its JSON body, with retries and typed errors (see the module comment). */
export async function getJson(url: string, options: GetJsonOptions = {}): Promise<JsonResponse> {
  const target = new URL(url);
  const shown = safeUrl(target);
  const maxRetries = options.maxRetries ?? 5;
  let requests = 0;
  for (let retry = 1; ; retry++) {
    if (options.signal?.aborted) throw new CancelledError();
    requests++;
    let outcome: Attempt;
    try {
      outcome = await attempt(target, options, shown);
    } catch (err) {
      if (options.signal?.aborted || err instanceof CancelledError) throw new CancelledError();
      if (err instanceof TicklakeError) throw err;
      const e = err as NodeJS.ErrnoException;
      outcome = { ok: false, problem: e?.code ? `${e.message} (${e.code})` : String(e?.message ?? err) };
    }
    if (outcome.ok) {
      const text = outcome.body.toString('utf8');
      try {
        const json: unknown = JSON.parse(text);
        const sha256 = createHash('sha256').update(outcome.body).digest('hex');
        return { json, bytes: outcome.body.length, sha256, requests };
      } catch (err) {
        throw new CorruptedSourceError(shown, `the response is not valid JSON (${(err as Error).message})`, {
          hint: 'the vendor sent a truncated or non-JSON body; retry later, or check the endpoint URL in the config',
        });
      }
    }
    if (retry > maxRetries) {
      if (outcome.status === 429) throw new VendorRateLimitError(shown, requests);
      if (outcome.status !== undefined) throw new VendorServerError(shown, outcome.status, requests);
      throw new NetworkError(shown, outcome.problem, requests);
    }
    let delayMs = backoffDelay(retry, options.baseDelayMs ?? 1000, options.maxDelayMs ?? 60_000);
    if (outcome.retryAfterMs !== undefined) delayMs = Math.max(delayMs, outcome.retryAfterMs);
    options.onRetry?.({ url: shown, retry, delayMs, problem: outcome.problem });
    await sleep(delayMs, options.signal);
  }
}
