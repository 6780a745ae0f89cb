import { describe, expect, it } from 'vitest';
import { CancelledError } from '../../src/errors.js';
import {
  backoffDelay,
  parseRetryAfter,
  pLimit,
  Semaphore,
  safeUrl,
  sleep,
} from '../../src/sources/tardis/http.js';

describe('retry helpers', () => {
  it('parses Retry-After as seconds or an HTTP-date', () => {
    const now = Date.parse('2024-03-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(['0'], now)).toBe(0);
    expect(parseRetryAfter('Fri, 01 Mar 2024 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Thu, 29 Feb 2024 00:00:10 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('backs off exponentially with full jitter, capped', () => {
    expect(backoffDelay(1, 1000, 60_000, () => 0.999)).toBe(999);
    expect(backoffDelay(3, 1000, 60_000, () => 0.5)).toBe(2000);
    expect(backoffDelay(20, 1000, 60_000, () => 0.5)).toBe(30_000);
    expect(backoffDelay(2, 1000, 60_000, () => 0)).toBe(0);
  });

  it('strips user-info from URLs shown in messages', () => {
    expect(safeUrl('https://me:pw@datasets.tardis.dev/v1/x')).toBe('https://datasets.tardis.dev/v1/x');
  });
});

describe('sleep', () => {
  it('waits and can be aborted', async () => {
    const t0 = Date.now();
    await sleep(30);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 10);
    await expect(sleep(10_000, ac.signal)).rejects.toBeInstanceOf(CancelledError);
    await expect(sleep(10, AbortSignal.abort())).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('Semaphore / pLimit', () => {
  it('never runs more than the limit, in FIFO order', async () => {
    const sem = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        sem.run(async () => {
          running++;
          peak = Math.max(peak, running);
          order.push(i);
          await sleep(5);
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(sem.running).toBe(0);
    expect(sem.pending).toBe(0);
  });

  it('releases on failure, and an aborted waiter leaves the queue', async () => {
    const sem = new Semaphore(1);
    await expect(sem.run(async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    const release = await sem.acquire();
    const ac = new AbortController();
    const waiting = sem.acquire(ac.signal);
    expect(sem.pending).toBe(1);
    ac.abort();
    await expect(waiting).rejects.toBeInstanceOf(CancelledError);
    expect(sem.pending).toBe(0);
    release();
    release(); // idempotent
    expect(sem.running).toBe(0);
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });

  it('pLimit limits concurrency', async () => {
    const limit = pLimit(3);
    let running = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        limit(async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(2);
          running--;
          return i * 2;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(results).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  });
});
