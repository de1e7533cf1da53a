import { DURATION_BUCKETS } from './buckets.ts';
import { COUNTS_AS_SLI, type FinishedRequests } from './finished-requests.ts';
import { histogramQuantile } from './histogram-quantile.ts';

/** One minute of one deployment version. */
export interface RequestBucket {
  total: number;
  errors: number;
  /** Non-cumulative counts per DURATION_BUCKETS bound, plus one for above the last bound. */
  latency: number[];
  latencySum: number;
  cpuSeconds: number;
}

export interface HistoryRow {
  deployment: string;
  version: string;
  bucketStart: number;
  bucketSeconds: number;
  total: number;
  errors: number;
  latencyCounts: number[];
  latencySumSeconds: number;
  cpuSeconds: number;
}

export interface WindowTotals {
  requests: number;
  errors: number;
  latency: number[];
  cpuSeconds: number;
}

const emptyBucket = (): RequestBucket => ({
  total: 0,
  errors: 0,
  latency: new Array(DURATION_BUCKETS.length + 1).fill(0),
  latencySum: 0,
  cpuSeconds: 0,
});

function addInto(into: RequestBucket, b: Omit<RequestBucket, 'latency'> & { latency: readonly number[] }): void {
  into.total += b.total;
  into.errors += b.errors;
  into.latencySum += b.latencySum;
  into.cpuSeconds += b.cpuSeconds;
  for (let i = 0; i < into.latency.length; i++) into.latency[i]! += b.latency[i] ?? 0;
}

function countInto(b: RequestBucket, latencyIndex: number, error: number, seconds: number): void {
  b.total += 1;
  b.errors += error;
  b.latency[latencyIndex]! += 1;
  b.latencySum += seconds;
}

export function latencyBucketIndex(seconds: number): number {
  const i = DURATION_BUCKETS.findIndex((b) => seconds <= b);
  return i === -1 ? DURATION_BUCKETS.length : i;
}

/**
 * Every inference request per deployment version and minute, for the last 7 days: what the
 * console's executive numbers and charts read. Unlike the SLI window it counts every request,
 * covered by an SLO or not, with a latency histogram (the metric's bounds) and the replica CPU
 * time spent. Counts reach the database in batches (`drain`, flushed every 10 s by the node,
 * added with an upsert) and are loaded back at start, so a restart loses at most one flush.
 * Times are epoch milliseconds from the caller's clock.
 */
export class RequestHistory {
  /** `deployment\u0000version` → bucket start → bucket */
  private readonly keys = new Map<string, Map<number, RequestBucket>>();
  /** Not yet written to the database, same shape. */
  private pending = new Map<string, Map<number, RequestBucket>>();

  constructor(
    readonly bucketMs = 60_000,
    private readonly retainMs = 7 * 86_400_000 + 3_600_000,
  ) {}

  private bucketOf(map: Map<string, Map<number, RequestBucket>>, key: string, start: number): RequestBucket {
    let perKey = map.get(key);
    if (!perKey) map.set(key, (perKey = new Map()));
    let b = perKey.get(start);
    if (!b) perKey.set(start, (b = emptyBucket()));
    return b;
  }

  private add(key: string, at: number, delta: Omit<RequestBucket, 'latency'> & { latency: readonly number[] }): void {
    const start = Math.floor(at / this.bucketMs) * this.bucketMs;
    addInto(this.bucketOf(this.keys, key, start), delta);
    addInto(this.bucketOf(this.pending, key, start), delta);
  }

  /**
   * One finished inference request: an error when the status is 500 or above (as the
   * availability SLI). Called for every request, so it increments in place and allocates
   * nothing once the minute's buckets exist.
   */
  record(deployment: string, version: string, status: number, seconds: number, at: number): void {
    const key = `${deployment}\u0000${version}`;
    const start = Math.floor(at / this.bucketMs) * this.bucketMs;
    const i = latencyBucketIndex(seconds);
    const error = status >= 500 ? 1 : 0;
    countInto(this.bucketOf(this.keys, key, start), i, error, seconds);
    countInto(this.bucketOf(this.pending, key, start), i, error, seconds);
  }

  /** The SLI events (COUNTS_AS_SLI rows) of one block of finished requests, counted at `at`. */
  recordFinished(f: FinishedRequests, at: number): void {
    const key = `${f.deployment}\u0000${f.version}`;
    const start = Math.floor(at / this.bucketMs) * this.bucketMs;
    // Resolved at the first SLI row: a block of metrics-only rows (an unknown model) makes none.
    let live: RequestBucket | undefined;
    let pending: RequestBucket | undefined;
    for (let row = 0; row < f.length; row++) {
      if (!(f.counts[row]! & COUNTS_AS_SLI)) continue;
      live ??= this.bucketOf(this.keys, key, start);
      pending ??= this.bucketOf(this.pending, key, start);
      const seconds = f.durationSeconds[row]!;
      const i = latencyBucketIndex(seconds);
      const error = f.status[row]! >= 500 ? 1 : 0;
      countInto(live, i, error, seconds);
      countInto(pending, i, error, seconds);
    }
  }

  /** CPU time replicas of this version spent since the last report. */
  addCpu(deployment: string, version: string, cpuSeconds: number, at: number): void {
    if (!(cpuSeconds > 0)) return;
    this.add(`${deployment}\u0000${version}`, at, { total: 0, errors: 0, latency: [], latencySum: 0, cpuSeconds });
  }

  /** Totals over the buckets that start after now - windowMs, optionally for one deployment. */
  totals(now: number, windowMs: number, deployment?: string): WindowTotals {
    const out: WindowTotals = {
      requests: 0,
      errors: 0,
      latency: new Array(DURATION_BUCKETS.length + 1).fill(0),
      cpuSeconds: 0,
    };
    const from = now - windowMs;
    for (const [key, perKey] of this.keys) {
      if (deployment !== undefined && !key.startsWith(`${deployment}\u0000`)) continue;
      for (const [start, b] of perKey) {
        if (start <= from - this.bucketMs || start > now) continue;
        // The bucket that straddles the window's start is counted whole: minute resolution.
        out.requests += b.total;
        out.errors += b.errors;
        out.cpuSeconds += b.cpuSeconds;
        for (let i = 0; i < out.latency.length; i++) out.latency[i]! += b.latency[i]!;
      }
    }
    return out;
  }

  /** Per deployment version, one point per bucket from now - rangeMs to now, empty buckets included. */
  series(
    now: number,
    rangeMs: number,
    deployment?: string,
  ): Array<{
    deployment: string;
    version: string;
    points: Array<{
      t: number;
      requests: number;
      errors: number;
      p50: number | null;
      p95: number | null;
      p99: number | null;
    }>;
  }> {
    const last = Math.floor(now / this.bucketMs) * this.bucketMs;
    const first = last - Math.ceil(rangeMs / this.bucketMs) * this.bucketMs + this.bucketMs;
    const out = [];
    for (const [key, perKey] of [...this.keys].sort(([a], [b]) => a.localeCompare(b))) {
      const [dep, version] = key.split('\u0000') as [string, string];
      if (deployment !== undefined && dep !== deployment) continue;
      let any = false;
      const points = [];
      for (let t = first; t <= last; t += this.bucketMs) {
        const b = perKey.get(t);
        if (b && b.total > 0) any = true;
        points.push({
          t: t / 1000,
          requests: b?.total ?? 0,
          errors: b?.errors ?? 0,
          p50: b ? histogramQuantile(0.5, DURATION_BUCKETS, b.latency) : null,
          p95: b ? histogramQuantile(0.95, DURATION_BUCKETS, b.latency) : null,
          p99: b ? histogramQuantile(0.99, DURATION_BUCKETS, b.latency) : null,
        });
      }
      if (any) out.push({ deployment: dep, version, points });
    }
    return out;
  }

  /** The counts not yet written; they are forgotten here (put them back with `restore` on failure). */
  drain(): HistoryRow[] {
    const rows: HistoryRow[] = [];
    for (const [key, perKey] of this.pending) {
      const [deployment, version] = key.split('\u0000') as [string, string];
      for (const [start, b] of perKey) {
        rows.push({
          deployment,
          version,
          bucketStart: start,
          bucketSeconds: this.bucketMs / 1000,
          total: b.total,
          errors: b.errors,
          latencyCounts: b.latency,
          latencySumSeconds: b.latencySum,
          cpuSeconds: b.cpuSeconds,
        });
      }
    }
    this.pending = new Map();
    return rows;
  }

  restore(rows: readonly HistoryRow[]): void {
    for (const r of rows)
      addInto(this.bucketOf(this.pending, `${r.deployment}\u0000${r.version}`, r.bucketStart), {
        total: r.total,
        errors: r.errors,
        latency: r.latencyCounts,
        latencySum: r.latencySumSeconds,
        cpuSeconds: r.cpuSeconds,
      });
  }

  /** Rows read back from the database at start (not pending: they are stored already). */
  load(rows: Iterable<HistoryRow>): void {
    for (const r of rows)
      addInto(this.bucketOf(this.keys, `${r.deployment}\u0000${r.version}`, r.bucketStart), {
        total: r.total,
        errors: r.errors,
        latency: r.latencyCounts,
        latencySum: r.latencySumSeconds,
        cpuSeconds: r.cpuSeconds,
      });
  }

  prune(now: number): void {
    for (const perKey of this.keys.values())
      for (const start of perKey.keys()) if (start < now - this.retainMs) perKey.delete(start);
  }
}
