import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DURATION_BUCKETS } from '../../serving/telemetry/buckets.ts';
import { histogramQuantile } from '../../serving/telemetry/histogram-quantile.ts';
import { latencyBucketIndex, RequestHistory } from '../../serving/telemetry/request-history.ts';

describe('histogramQuantile', () => {
  it('interpolates inside the bucket that holds the rank, as Prometheus does', () => {
    // 10 observations in (0.01, 0.025]: the median sits halfway through that bucket.
    const counts = new Array(DURATION_BUCKETS.length + 1).fill(0);
    counts[DURATION_BUCKETS.indexOf(0.025)] = 10;
    expect(histogramQuantile(0.5, DURATION_BUCKETS, counts)).toBeCloseTo(0.0175, 10);
    expect(histogramQuantile(1, DURATION_BUCKETS, counts)).toBeCloseTo(0.025, 10);
  });

  it('is null when empty and capped at the last bound above it', () => {
    const counts = new Array(DURATION_BUCKETS.length + 1).fill(0);
    expect(histogramQuantile(0.99, DURATION_BUCKETS, counts)).toBeNull();
    counts[DURATION_BUCKETS.length] = 3;
    expect(histogramQuantile(0.99, DURATION_BUCKETS, counts)).toBe(30);
  });

  it('is monotonic in q and stays within the bucket bounds of the data', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.0001, max: 40, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (xs, a, b) => {
          const counts = new Array(DURATION_BUCKETS.length + 1).fill(0);
          for (const x of xs) counts[latencyBucketIndex(x)]++;
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const qlo = histogramQuantile(lo, DURATION_BUCKETS, counts)!;
          const qhi = histogramQuantile(hi, DURATION_BUCKETS, counts)!;
          expect(qlo).toBeLessThanOrEqual(qhi + 1e-12);
          // The true quantile's bucket upper bound is never below the estimate.
          const sorted = [...xs].sort((p, q) => p - q);
          const trueQ = sorted[Math.max(0, Math.ceil(hi * xs.length) - 1)]!;
          const bound = DURATION_BUCKETS[latencyBucketIndex(trueQ)] ?? 30;
          expect(qhi).toBeLessThanOrEqual(bound + 1e-12);
        },
      ),
    );
  });
});

describe('RequestHistory', () => {
  const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

  it('counts every request and error per window, and leaves out what is older', () => {
    const h = new RequestHistory();
    h.record('cls', 'v1', 200, 0.02, T0 - 2 * 3_600_000); // two hours ago: 24h and 7d only
    for (let i = 0; i < 7; i++) h.record('cls', 'v1', 200, 0.02, T0 - 1000);
    h.record('cls', 'v2', 500, 0.3, T0 - 1000);
    h.record('ocr', 'v1', 503, 0.001, T0 - 1000);
    const hour = h.totals(T0, 3_600_000);
    expect(hour).toMatchObject({ requests: 9, errors: 2 });
    expect(h.totals(T0, 86_400_000).requests).toBe(10);
    expect(h.totals(T0, 3_600_000, 'cls')).toMatchObject({ requests: 8, errors: 1 });
    expect(h.totals(T0 + 8 * 86_400_000, 7 * 86_400_000).requests).toBe(0);
  });

  it('credits CPU time and gives one point per minute, empty minutes included', () => {
    const h = new RequestHistory();
    h.record('cls', 'v1', 200, 0.02, T0 - 120_000);
    h.addCpu('cls', 'v1', 1.5, T0 - 1000);
    const s = h.series(T0, 15 * 60_000);
    expect(s).toHaveLength(1);
    expect(s[0]!.points).toHaveLength(15);
    expect(s[0]!.points.reduce((n, p) => n + p.requests, 0)).toBe(1);
    expect(s[0]!.points.filter((p) => p.requests === 0).every((p) => p.p99 === null)).toBe(true);
    expect(h.totals(T0, 3_600_000).cpuSeconds).toBe(1.5);
  });

  it('drains what is pending once, restores it on a failed write, and loads stored rows without re-sending them', () => {
    const h = new RequestHistory();
    h.record('cls', 'v1', 200, 0.02, T0);
    const rows = h.drain();
    expect(rows).toHaveLength(1);
    expect(h.drain()).toHaveLength(0);
    h.restore(rows);
    expect(h.drain()[0]!.total).toBe(1);
    const fresh = new RequestHistory();
    fresh.load(rows);
    expect(fresh.totals(T0 + 1000, 3_600_000).requests).toBe(1);
    expect(fresh.drain()).toHaveLength(0);
  });
});
