/** A histogram bucket as the API gives it: upper bound and a count. */
export interface Bucket {
  le: number | '+Inf';
  count: number;
}

/**
 * Counts per bucket (not cumulative), whichever way the API counted. Prometheus buckets are
 * cumulative (the last equals the total); per-bucket counts sum to the total. The two readings
 * only agree when every sample is in the last bucket, where they give the same answer.
 */
export function perBucket(buckets: Bucket[], total: number): Array<{ le: number | '+Inf'; count: number }> {
  const sorted = [...buckets].sort((a, b) => (a.le === '+Inf' ? 1 : b.le === '+Inf' ? -1 : a.le - b.le));
  const sum = sorted.reduce((acc, b) => acc + b.count, 0);
  const cumulative =
    sum !== total &&
    sorted.length > 0 &&
    sorted.at(-1)!.count === total &&
    sorted.every((b, i) => i === 0 || b.count >= sorted[i - 1]!.count);
  if (!cumulative) return sorted;
  return sorted.map((b, i) => ({ le: b.le, count: b.count - (i === 0 ? 0 : sorted[i - 1]!.count) }));
}

/** "≤ 4" or "> 8" for the last bucket, from its bound and the one before it. */
export function bucketLabel(le: number | '+Inf', previous: number | '+Inf' | undefined): string {
  if (le !== '+Inf') return `≤ ${le}`;
  return previous === undefined ? 'any' : `> ${previous}`;
}
