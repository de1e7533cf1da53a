import type { Sketch } from './sketch.ts';
import { bucketValue } from './sketch.ts';

/**
 * The Population Stability Index of a recent distribution against a baseline: Σ (r − b) ln(r / b)
 * over bins, with proportions floored at EPSILON so an empty bin does not make it infinite. The
 * usual reading, from credit scoring where it comes from: below 0.1 no significant change, 0.1 to
 * 0.25 a moderate shift, above 0.25 a significant one. Classes are their own bins; a number's
 * bins are the baseline's deciles, so each holds a tenth of the baseline and the index weighs
 * every part of the range alike.
 */

export const EPSILON = 1e-4;
export const DECILES = 10;

export interface Bin {
  /** A class, or the range of values the bin covers. */
  label: string;
  baseline: number;
  recent: number;
}

export interface Comparison {
  psi: number;
  bins: Bin[];
}

export function compare(baseline: Sketch, recent: Sketch): Comparison {
  const bins = baseline.kind === 'classes' ? classBins(baseline, recent) : decileBins(baseline, recent);
  let psi = 0;
  for (const b of bins) {
    const p = Math.max(b.baseline, EPSILON);
    const q = Math.max(b.recent, EPSILON);
    psi += (q - p) * Math.log(q / p);
  }
  return { psi, bins };
}

function classBins(baseline: Sketch, recent: Sketch): Bin[] {
  const keys = [...new Set([...baseline.counts.keys(), ...recent.counts.keys()])].sort((a, b) => a - b);
  return keys.map((k) => ({
    label: k === -1 ? 'other' : `class ${k}`,
    baseline: (baseline.counts.get(k) ?? 0) / baseline.total,
    recent: (recent.counts.get(k) ?? 0) / recent.total,
  }));
}

function decileBins(baseline: Sketch, recent: Sketch): Bin[] {
  // Cut points: the baseline's bucket at each tenth of its mass (fewer bins when it is lumpy).
  const keys = [...baseline.counts.keys()].sort((a, b) => a - b);
  const cuts: number[] = [];
  let seen = 0;
  for (const k of keys) {
    seen += baseline.counts.get(k)!;
    const next = ((cuts.length + 1) * baseline.total) / DECILES;
    if (seen >= next && cuts.length < DECILES - 1) cuts.push(k);
  }
  const binOf = (k: number) => {
    let i = 0;
    while (i < cuts.length && k > cuts[i]!) i++;
    return i;
  };
  const counts = (s: Sketch) => {
    const out = new Array<number>(cuts.length + 1).fill(0);
    for (const [k, c] of s.counts) out[binOf(k)]! += c;
    return out.map((c) => c / s.total);
  };
  const b = counts(baseline);
  const r = counts(recent);
  const edge = (i: number) => round(bucketValue(cuts[i]!));
  return b.map((share, i) => ({
    label: i === 0 ? `≤ ${edge(0)}` : i === cuts.length ? `> ${edge(i - 1)}` : `${edge(i - 1)} – ${edge(i)}`,
    baseline: share,
    recent: r[i]!,
  }));
}

function round(v: number): string {
  if (v === 0) return '0';
  const digits = Math.max(0, 3 - Math.floor(Math.log10(Math.abs(v))));
  return String(Number(v.toFixed(Math.min(digits, 8))));
}
