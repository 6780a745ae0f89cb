/**
 * Server metrics in the Prometheus text exposition format (version 0.0.4): request counts per
 * route/method/status, a latency histogram per route, rows and bytes served per route, streams cut
 * short by clients, in-flight requests, and the read cache (hits, misses, evictions, bytes, hit ratio).
 */
import type { CacheStats } from '../lake/cache.js';

/** Latency buckets (seconds). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

export class ServerMetrics {
  private readonly requests = new Map<string, { route: string; method: string; status: string; n: number }>();
  private readonly latency = new Map<string, Histogram>();
  private readonly rows = new Map<string, number>();
  private readonly bytes = new Map<string, number>();
  private readonly aborted = new Map<string, number>();
  inFlight = 0;

  observe(route: string, method: string, status: number, seconds: number): void {
    const key = `${route}\u0000${method}\u0000${status}`;
    const r = this.requests.get(key);
    if (r) r.n++;
    else this.requests.set(key, { route, method, status: String(status), n: 1 });
    let h = this.latency.get(route);
    if (!h) {
      h = { counts: new Array(LATENCY_BUCKETS.length).fill(0), sum: 0, count: 0 };
      this.latency.set(route, h);
    }
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]!) h.counts[i]!++;
    h.sum += seconds;
    h.count++;
  }

  served(route: string, rows: number, bytes: number, completed: boolean): void {
    this.rows.set(route, (this.rows.get(route) ?? 0) + rows);
    this.bytes.set(route, (this.bytes.get(route) ?? 0) + bytes);
    if (!completed) this.aborted.set(route, (this.aborted.get(route) ?? 0) + 1);
  }

  /** The exposition text; `cache` is the lake's read cache right now. */
  render(cache: CacheStats | null): string {
    const out: string[] = [];
    out.push('# HELP ticklake_http_requests_total HTTP requests by route, method and status.');
    out.push('# TYPE ticklake_http_requests_total counter');
    for (const r of this.requests.values()) {
      out.push(
        `ticklake_http_requests_total${labels({ route: r.route, method: r.method, status: r.status })} ${r.n}`,
      );
    }
    out.push('# HELP ticklake_http_request_duration_seconds Time to the end of the response, by route.');
    out.push('# TYPE ticklake_http_request_duration_seconds histogram');
    for (const [route, h] of this.latency) {
      LATENCY_BUCKETS.forEach((b, i) => {
        out.push(
          `ticklake_http_request_duration_seconds_bucket${labels({ route, le: String(b) })} ${h.counts[i]}`,
        );
      });
      out.push(`ticklake_http_request_duration_seconds_bucket${labels({ route, le: '+Inf' })} ${h.count}`);
      out.push(`ticklake_http_request_duration_seconds_sum${labels({ route })} ${h.sum}`);
      out.push(`ticklake_http_request_duration_seconds_count${labels({ route })} ${h.count}`);
    }
    out.push('# HELP ticklake_rows_served_total Rows sent in response bodies, by route.');
    out.push('# TYPE ticklake_rows_served_total counter');
    for (const [route, n] of this.rows) out.push(`ticklake_rows_served_total${labels({ route })} ${n}`);
    out.push('# HELP ticklake_bytes_served_total Response body bytes sent, by route.');
    out.push('# TYPE ticklake_bytes_served_total counter');
    for (const [route, n] of this.bytes) out.push(`ticklake_bytes_served_total${labels({ route })} ${n}`);
    out.push('# HELP ticklake_streams_aborted_total Responses cut short because the client disconnected.');
    out.push('# TYPE ticklake_streams_aborted_total counter');
    for (const [route, n] of this.aborted)
      out.push(`ticklake_streams_aborted_total${labels({ route })} ${n}`);
    out.push('# HELP ticklake_http_requests_in_flight Requests being served now.');
    out.push('# TYPE ticklake_http_requests_in_flight gauge');
    out.push(`ticklake_http_requests_in_flight ${this.inFlight}`);
    if (cache) {
      const lookups = cache.hits + cache.misses;
      out.push('# HELP ticklake_cache_hits_total Read-cache lookups served from memory.');
      out.push('# TYPE ticklake_cache_hits_total counter');
      out.push(`ticklake_cache_hits_total ${cache.hits}`);
      out.push('# HELP ticklake_cache_misses_total Read-cache lookups that went to storage.');
      out.push('# TYPE ticklake_cache_misses_total counter');
      out.push(`ticklake_cache_misses_total ${cache.misses}`);
      out.push('# HELP ticklake_cache_evictions_total Entries evicted to stay within cache.maxBytes.');
      out.push('# TYPE ticklake_cache_evictions_total counter');
      out.push(`ticklake_cache_evictions_total ${cache.evictions}`);
      out.push(
        '# HELP ticklake_cache_invalidations_total Entries dropped because their file was republished.',
      );
      out.push('# TYPE ticklake_cache_invalidations_total counter');
      out.push(`ticklake_cache_invalidations_total ${cache.invalidations}`);
      out.push('# HELP ticklake_cache_bytes Bytes held by the read cache.');
      out.push('# TYPE ticklake_cache_bytes gauge');
      out.push(`ticklake_cache_bytes ${cache.bytes}`);
      out.push('# HELP ticklake_cache_max_bytes The read cache budget (cache.maxBytes).');
      out.push('# TYPE ticklake_cache_max_bytes gauge');
      out.push(`ticklake_cache_max_bytes ${cache.maxBytes}`);
      out.push('# HELP ticklake_cache_hit_ratio hits / (hits + misses) since start (0 before any lookup).');
      out.push('# TYPE ticklake_cache_hit_ratio gauge');
      out.push(`ticklake_cache_hit_ratio ${lookups === 0 ? 0 : cache.hits / lookups}`);
    }
    return `${out.join('\n')}\n`;
  }
}
