/**
 * The q-quantile of a histogram given as per-bucket (non-cumulative) counts, where counts[i]
 * holds observations at or below bounds[i] (and above bounds[i-1]), and the last count holds
 * those above every bound. Linear interpolation inside the bucket, as Prometheus'
 * histogram_quantile does, so the console and a Grafana panel over the same data agree. A
 * quantile that falls above the last bound returns that bound (nothing better is known).
 * null when the histogram is empty.
 */
export function histogramQuantile(q: number, bounds: readonly number[], counts: readonly number[]): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > 0 && seen + c >= rank) {
      if (i >= bounds.length) return bounds[bounds.length - 1]!;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + (bounds[i]! - lower) * ((rank - seen) / c);
    }
    seen += c;
  }
  return bounds[bounds.length - 1]!;
}
