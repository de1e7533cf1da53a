import type { Counts } from './burn-rate.ts';

/**
 * Good and total event counts in fixed time buckets (10 s by default), kept in memory for the
 * longest alerting window. The SLO engine reads window totals from here every few seconds; the
 * same buckets are flushed to the database in batches so that a restart loses at most one
 * flush interval. Times are epoch milliseconds from an injected clock.
 */
export class SliWindow {
  /** bucket start (ms) → key → counts */
  private readonly buckets = new Map<number, Map<string, Counts>>();

  constructor(
    readonly bucketMs = 10_000,
    private readonly retainMs = 3 * 86_400_000 + 3_600_000,
  ) {}

  bucketStart(at: number): number {
    return Math.floor(at / this.bucketMs) * this.bucketMs;
  }

  add(key: string, at: number, good: number, total: number): void {
    const start = this.bucketStart(at);
    let bucket = this.buckets.get(start);
    if (!bucket) this.buckets.set(start, (bucket = new Map()));
    const c = bucket.get(key);
    if (c) {
      c.good += good;
      c.total += total;
    } else {
      bucket.set(key, { good, total });
    }
  }

  /**
   * Totals over the last `windowMs` before `now`: every bucket that starts after now - windowMs
   * (the bucket containing that instant is left out, so a window never reaches back further
   * than asked). `keys` filters, e.g. to one version of an SLO.
   */
  totals(now: number, windowMs: number, keys?: (key: string) => boolean): Counts {
    const from = now - windowMs;
    const out = { good: 0, total: 0 };
    for (const [start, bucket] of this.buckets) {
      if (start < from || start > now) continue;
      for (const [key, c] of bucket) {
        if (keys && !keys(key)) continue;
        out.good += c.good;
        out.total += c.total;
      }
    }
    return out;
  }

  /** The keys seen since `since` that start with `prefix` (e.g. the versions of one SLO). */
  keysSince(since: number, prefix: string): Set<string> {
    const out = new Set<string>();
    for (const [start, bucket] of this.buckets) {
      if (start < since) continue;
      for (const key of bucket.keys()) if (key.startsWith(prefix)) out.add(key);
    }
    return out;
  }

  /** Drops buckets older than the retention. */
  prune(now: number): void {
    for (const start of this.buckets.keys()) if (start < now - this.retainMs) this.buckets.delete(start);
  }

  /** Loads persisted buckets (after a restart). */
  load(rows: Iterable<{ key: string; bucketStart: number; good: number; total: number }>): void {
    for (const r of rows) this.add(r.key, r.bucketStart, r.good, r.total);
  }
}
