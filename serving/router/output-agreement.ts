/**
 * Compares a candidate version's answer to mirrored (shadow) traffic with the stable version's
 * answer, to tell whether the candidate is safe to promote. The shadow answer is never returned
 * to the client; only the verdict is recorded.
 *
 * Classifiers are judged by their top-1 class per row, since a retrained model's scores move
 * while its decisions should not; everything else by the largest absolute difference.
 */
import type { Datatype, Tensor } from '../protocol/datatypes.ts';
import { halfToFloat } from '../protocol/infer-response.ts';

export interface OutputComparison {
  kind: 'top1' | 'max_abs_diff' | 'incomparable';
  /** Rows compared: N for a [N, C] classifier output, 1 otherwise. */
  rows: number;
  rowsAgreeing: number;
  /** Largest |primary - shadow| (Infinity for NaN or differing strings); null when incomparable. */
  maxAbsDiff: number | null;
  agree: boolean;
  detail?: string;
}

const floatTypes: ReadonlySet<Datatype> = new Set(['FP16', 'FP32', 'FP64']);

/** How many disagreeing rows a detail line names before it stops listing. */
const ROWS_LISTED = 5;

/**
 * Compares the shadow outputs with the primary ones, matched by name. Outputs only the shadow
 * has are ignored: clients read outputs by name, so an added output changes nothing they see.
 */
export function compareOutputs(
  primary: readonly Tensor[],
  shadow: readonly Tensor[],
  tolerance: number,
): OutputComparison {
  const byName = new Map(shadow.map((t) => [t.name, t]));
  const pairs: Array<[Tensor, Tensor]> = [];
  for (const p of primary) {
    const s = byName.get(p.name);
    const why = whyIncomparable(p, s);
    if (why !== null) return incomparable(why);
    pairs.push([p, s!]);
  }
  const first = pairs[0];
  if (first === undefined) return incomparable('the primary answer has no outputs');
  if (isClassifierOutput(first[0])) return compareTop1(first[0], first[1]);
  return compareMaxAbsDiff(pairs, tolerance);
}

/** A float [N, C] tensor with at least two classes: one score per class for each of N rows. */
export function isClassifierOutput(t: Tensor): boolean {
  return floatTypes.has(t.datatype) && t.shape.length === 2 && (t.shape[1] ?? 0) >= 2;
}

function whyIncomparable(p: Tensor, s: Tensor | undefined): string | null {
  if (s === undefined) return `output '${p.name}' is missing from the shadow answer`;
  if (s.datatype !== p.datatype)
    return `output '${p.name}' is ${p.datatype} in the primary answer but ${s.datatype} in the shadow answer`;
  if (!sameShape(p.shape, s.shape))
    return `output '${p.name}' has shape [${p.shape.join(', ')}] in the primary answer but [${s.shape.join(', ')}] in the shadow answer`;
  if (p.data.length !== s.data.length)
    return `output '${p.name}' holds ${p.data.length} elements in the primary answer but ${s.data.length} in the shadow answer`;
  return null;
}

function compareTop1(p: Tensor, s: Tensor): OutputComparison {
  const rows = p.shape[0] ?? 0;
  const classes = p.shape[1] ?? 0;
  const pv = numericReader(p);
  const sv = numericReader(s);
  const disagreeing: string[] = [];
  let rowsAgreeing = 0;
  for (let r = 0; r < rows; r++) {
    const a = argmax(pv, r * classes, classes);
    const b = argmax(sv, r * classes, classes);
    // A row with NaN has no meaningful top class, so it cannot agree.
    if (a !== null && a === b) rowsAgreeing++;
    else disagreeing.push(`row ${r}: ${a ?? 'NaN'} vs ${b ?? 'NaN'}`);
  }
  const { maxAbsDiff } = maxDifference([[p, s]]);
  const result: OutputComparison = { kind: 'top1', rows, rowsAgreeing, maxAbsDiff, agree: rowsAgreeing === rows };
  if (disagreeing.length > 0) {
    const more = disagreeing.length > ROWS_LISTED ? `, and ${disagreeing.length - ROWS_LISTED} more` : '';
    result.detail = `top-1 class of '${p.name}' differs on ${disagreeing.length} of ${rows} rows (${disagreeing.slice(0, ROWS_LISTED).join('; ')}${more})`;
  }
  return result;
}

function compareMaxAbsDiff(pairs: ReadonlyArray<[Tensor, Tensor]>, tolerance: number): OutputComparison {
  const { maxAbsDiff, worst } = maxDifference(pairs);
  // Infinity <= Infinity holds, so an unbounded tolerance must not let NaN or a string change pass.
  const agree = Number.isFinite(maxAbsDiff) ? maxAbsDiff <= tolerance : false;
  const result: OutputComparison = { kind: 'max_abs_diff', rows: 1, rowsAgreeing: agree ? 1 : 0, maxAbsDiff, agree };
  if (!agree && worst !== null) result.detail = `largest difference ${worst} (tolerance ${tolerance})`;
  return result;
}

/** The largest elementwise difference over the pairs, and where it is, for the detail line. */
function maxDifference(pairs: ReadonlyArray<[Tensor, Tensor]>): { maxAbsDiff: number; worst: string | null } {
  let maxAbsDiff = 0;
  let worst: string | null = null;
  for (const [p, s] of pairs) {
    if (Array.isArray(p.data) || Array.isArray(s.data)) {
      for (let i = 0; i < p.data.length; i++) {
        if (String(p.data[i]) === String(s.data[i])) continue;
        if (maxAbsDiff < Infinity) worst = `at '${p.name}'[${i}]: strings differ`;
        maxAbsDiff = Infinity;
        break;
      }
      continue;
    }
    const pv = numericReader(p);
    const sv = numericReader(s);
    for (let i = 0; i < p.data.length; i++) {
      const a = pv(i);
      const b = sv(i);
      const d = Number.isNaN(a) || Number.isNaN(b) ? Infinity : a === b ? 0 : Math.abs(a - b);
      if (d > maxAbsDiff) {
        maxAbsDiff = d;
        worst = `at '${p.name}'[${i}]: ${a} vs ${b}`;
      }
      if (maxAbsDiff === Infinity) break;
    }
  }
  return { maxAbsDiff, worst };
}

/** Element i of a numeric tensor as a number: FP16 bits decoded, 64-bit integers via Number. */
function numericReader(t: Tensor): (i: number) => number {
  const data = t.data;
  if (Array.isArray(data)) return (i) => Number(data[i]);
  if (t.datatype === 'FP16') return (i) => halfToFloat(Number(data[i]));
  return (i) => Number(data[i]);
}

/** Index of the largest of `count` values from `offset` (first one on ties); null when any is NaN. */
function argmax(value: (i: number) => number, offset: number, count: number): number | null {
  let best = 0;
  let bestValue = -Infinity;
  for (let c = 0; c < count; c++) {
    const v = value(offset + c);
    if (Number.isNaN(v)) return null;
    if (c === 0 || v > bestValue) {
      best = c;
      bestValue = v;
    }
  }
  return best;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function incomparable(detail: string): OutputComparison {
  return { kind: 'incomparable', rows: 0, rowsAgreeing: 0, maxAbsDiff: null, agree: false, detail };
}
