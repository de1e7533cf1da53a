/**
 * Compact, mergeable summaries of what a model answers and what it is asked, for prediction
 * drift (issue 20). Bounded whatever the traffic:
 * - `classes`: counts per top-1 class (a classifier's answers), at most MAX_KEYS classes;
 * - `values`: a log-bucketed histogram of a number (an input's mean or norm, an output's mean)
 *   with 2% relative accuracy, as DDSketch does, at most MAX_KEYS buckets (the closest to zero
 *   merge first when it overflows, so the tails stay exact).
 * Sketches travel as JSON from the ingress processes and merge by adding counts.
 */

export type SketchKind = 'classes' | 'values';

export interface Sketch {
  kind: SketchKind;
  /** key → count; for `values` the key is a bucket index (sign × log-γ position, 0 for ≈0). */
  counts: Map<number, number>;
  total: number;
}

export interface SketchJson {
  kind: SketchKind;
  counts: [number, number][];
}

export const MAX_KEYS = 512;
/** Relative accuracy of a `values` bucket: each covers [γ^(k-1), γ^k) of |v|. */
const GAMMA = 1.02;
const LOG_GAMMA = Math.log(GAMMA);
/** Below this magnitude a value counts as zero. */
const ZERO = 1e-9;
/** Bucket offset so that keys of tiny magnitudes (k < 0) stay on the right side of zero. */
const OFFSET = Math.ceil(-Math.log(ZERO) / LOG_GAMMA) + 1;

export function emptySketch(kind: SketchKind): Sketch {
  return { kind, counts: new Map(), total: 0 };
}

/** The bucket of a value: ordered as the values are, so bins can be cut by key. */
export function bucketOf(v: number): number {
  if (!Number.isFinite(v)) return v > 0 ? Number.MAX_SAFE_INTEGER : v < 0 ? -Number.MAX_SAFE_INTEGER : 0;
  const m = Math.abs(v);
  if (m < ZERO) return 0;
  const k = Math.ceil(Math.log(m) / LOG_GAMMA) + OFFSET;
  return v > 0 ? k : -k;
}

/** A representative value of a bucket (its geometric middle), for showing bins. */
export function bucketValue(bucket: number): number {
  if (bucket === 0) return 0;
  const m = GAMMA ** (Math.abs(bucket) - OFFSET - 0.5);
  return bucket > 0 ? m : -m;
}

export function add(s: Sketch, key: number, count = 1): void {
  s.counts.set(key, (s.counts.get(key) ?? 0) + count);
  s.total += count;
  if (s.counts.size > MAX_KEYS) shrink(s);
}

export function addValue(s: Sketch, v: number): void {
  if (Number.isNaN(v)) return;
  add(s, bucketOf(v));
}

export function merge(into: Sketch, from: Sketch | SketchJson): void {
  const entries = from.counts instanceof Map ? from.counts.entries() : from.counts;
  for (const [k, c] of entries) add(into, k, c);
}

export function toJson(s: Sketch): SketchJson {
  return { kind: s.kind, counts: [...s.counts] };
}

/** Keeps MAX_KEYS keys: classes keep the largest counts; values fold the smallest magnitudes inward. */
function shrink(s: Sketch): void {
  const keys = [...s.counts.keys()];
  if (s.kind === 'classes') {
    // The rarest classes go to an "other" key (-1), which is itself a class for the comparison.
    keys.sort((a, b) => s.counts.get(a)! - s.counts.get(b)!);
    for (const victim of keys) {
      if (s.counts.size <= MAX_KEYS) break;
      if (victim === -1) continue;
      const c = s.counts.get(victim)!;
      s.counts.delete(victim);
      s.counts.set(-1, (s.counts.get(-1) ?? 0) + c);
    }
    return;
  }
  keys.sort((a, b) => Math.abs(a) - Math.abs(b) || a - b);
  const [a, b] = [keys[0]!, keys[1]!];
  const c = s.counts.get(a)!;
  s.counts.delete(a);
  s.counts.set(b, s.counts.get(b)! + c);
}
