import { DURATION_BUCKETS } from '../telemetry/buckets.ts';
import type { WindowSummary } from './live-window.ts';

/**
 * Judges a canary against the stable version of its deployment from in-memory request
 * statistics: error burn rate (gated by Wilson intervals), p99 latency, and optionally the share
 * of mirrored requests whose answers agree. Pure: the caller takes the summaries at one instant.
 * The defaults and their reasoning are in docs/rollouts.md (see rolloutAnalysisSchema).
 */

export interface AnalysisThresholds {
  /** Canary requests in the long window before errors are judged at all. */
  minRequests: number;
  /** Two-sided confidence of the Wilson score intervals, e.g. 0.99. */
  confidence: number;
  /** Burn rate that both windows must exceed, e.g. 14.4 (the SRE Workbook's fast-burn page). */
  burnRateFactor: number;
  /** Availability objective, e.g. 0.999: the error budget is 1 - objective. */
  objective: number;
  /** The canary p99 fails above stable p99 times this ratio (and the delta floor). */
  maxLatencyRatio: number;
  /** ...and only when it is also this many milliseconds above the stable p99. */
  minLatencyDeltaMs: number;
  /** Requests needed on each side before p99s are compared. */
  latencyMinRequests: number;
  /** Least share of mirrored requests that must agree; null turns the gate off. */
  minAgreement: number | null;
  /** Mirrored comparisons needed before agreement is judged. */
  minMirrorSamples: number;
}

export interface AnalysisInput {
  /** Canary since the step began (capped by the long window). */
  canaryLong: WindowSummary;
  /** Canary over the short window. */
  canaryShort: WindowSummary;
  /** Stable version over the baseline window. */
  stable: WindowSummary;
  agreement?: { compared: number; agreed: number };
  thresholds: AnalysisThresholds;
  /** Window lengths, only to name them in the summary ("over 30 s"); optional. */
  windows?: { longSeconds: number; shortSeconds: number };
}

export type CheckName = 'error_burn_rate' | 'latency_p99' | 'output_agreement';

export interface AnalysisCheck {
  name: CheckName;
  outcome: 'pass' | 'fail' | 'inconclusive';
  value: number | null;
  threshold: number | null;
  detail: string;
}

export interface VersionNumbers {
  requests: number;
  errors: number;
  errorRatio: number | null;
  p99Ms: number | null;
}

export interface CanaryAnalysis {
  verdict: 'pass' | 'fail' | 'inconclusive';
  checks: AnalysisCheck[];
  /** One line naming the numbers, e.g. "canary error ratio 20.0% (40/200, burn rate 200x over 10 s and 200x over 30 s) vs stable 0.0% (0/1800); limit: burn > 14.4x and significantly above stable" */
  summary: string;
  canary: VersionNumbers;
  stable: VersionNumbers;
}

/** Analyses one tick of a canary against its stable version. */
export function analyzeCanary(input: AnalysisInput): CanaryAnalysis {
  const canary = numbersOf(input.canaryLong);
  const stable = numbersOf(input.stable);
  const checks = [errorBurnRateCheck(input), latencyCheck(input, canary.p99Ms, stable.p99Ms)];
  if (input.thresholds.minAgreement !== null)
    checks.push(agreementCheck(input.agreement, input.thresholds.minAgreement, input.thresholds.minMirrorSamples));

  const failed = checks.filter((c) => c.outcome === 'fail');
  const waiting = checks.filter((c) => c.outcome === 'inconclusive');
  if (failed.length > 0)
    return { verdict: 'fail', checks, summary: failed.map((c) => c.detail).join('; '), canary, stable };
  if (waiting.length > 0)
    return { verdict: 'inconclusive', checks, summary: waiting.map((c) => c.detail).join('; '), canary, stable };
  return { verdict: 'pass', checks, summary: passSummary(canary, stable, input.agreement), canary, stable };
}

/**
 * Wilson score interval for a binomial proportion at a two-sided `confidence`. Unlike the normal
 * approximation it stays inside [0, 1] and behaves at 0 or n events, which is exactly where a
 * young canary lives. With no trials nothing is known: [0, 1].
 */
export function wilsonInterval(
  successesOrEvents: number,
  trials: number,
  confidence: number,
): { lower: number; upper: number } {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must lie in (0, 1), got ${confidence}`);
  if (trials <= 0) return { lower: 0, upper: 1 };
  if (successesOrEvents < 0 || successesOrEvents > trials)
    throw new RangeError(`events must lie in [0, ${trials}], got ${successesOrEvents}`);
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const z2 = z * z;
  const p = successesOrEvents / trials;
  const denominator = 1 + z2 / trials;
  const center = (p + z2 / (2 * trials)) / denominator;
  const halfWidth = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  // Rounding can leave the bounds a hair outside [0, 1] (or past p) at 0 or n events.
  return { lower: Math.max(0, Math.min(p, center - halfWidth)), upper: Math.min(1, Math.max(p, center + halfWidth)) };
}

/**
 * The q-quantile in seconds of a histogram in LiveWindow's layout, interpolated linearly inside
 * its bucket as Prometheus' histogram_quantile does: the first bucket from 0, and the overflow
 * slot (no upper bound) answers the largest bound. Null when the histogram is empty.
 */
export function quantileFromBuckets(latencyCounts: number[], q: number): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must lie in [0, 1], got ${q}`);
  const total = latencyCounts.reduce((sum, c) => sum + c, 0);
  if (total <= 0) return null;
  const rank = q * total;
  const largestBound = DURATION_BUCKETS[DURATION_BUCKETS.length - 1]!;
  let below = 0;
  for (let i = 0; i < latencyCounts.length; i++) {
    const count = latencyCounts[i]!;
    // Skipping empty buckets makes q = 0 land on the lowest occupied bucket, not on bucket 0.
    if (count > 0 && below + count >= rank) {
      if (i >= DURATION_BUCKETS.length) return largestBound;
      const lowerBound = i === 0 ? 0 : DURATION_BUCKETS[i - 1]!;
      const upperBound = DURATION_BUCKETS[i]!;
      return lowerBound + ((upperBound - lowerBound) * (rank - below)) / count;
    }
    below += count;
  }
  return largestBound;
}

function errorBurnRateCheck(input: AnalysisInput): AnalysisCheck {
  const { canaryLong, canaryShort, stable, thresholds: t } = input;
  const base = { name: 'error_burn_rate' as const, threshold: t.burnRateFactor };
  if (canaryLong.requests < t.minRequests) {
    return {
      ...base,
      outcome: 'inconclusive',
      value: null,
      detail: `waiting for ${t.minRequests} canary requests, have ${canaryLong.requests}`,
    };
  }
  const budget = 1 - t.objective;
  const burnLong = ratio(canaryLong.errors, canaryLong.requests) / budget;
  const burnShort = ratio(canaryShort.errors, canaryShort.requests) / budget;
  // Without enough stable traffic to bound its error ratio (at the 100% step, or on a quiet
  // deployment), the baseline is the budget burning at the page factor: the bare budget (0.1%)
  // would roll back a healthy canary for one error in its first ~100 requests.
  const stableKnown = stable.requests >= t.minRequests;
  const baseline = stableKnown
    ? wilsonInterval(stable.errors, stable.requests, t.confidence).upper
    : budget * t.burnRateFactor;
  const canaryLower = wilsonInterval(canaryLong.errors, canaryLong.requests, t.confidence).lower;
  // The burn rate alone would roll back a healthy canary for one unlucky error in 50 requests.
  // Requiring the canary's lower bound to clear the stable's upper bound means a rollback needs a
  // real difference; a canary failing 20% of its requests still clears it within ~50 requests.
  const failing = burnLong > t.burnRateFactor && burnShort > t.burnRateFactor && canaryLower > baseline;

  const windows = input.windows;
  const burns = windows
    ? `burn rate ${times(burnLong)} over ${seconds(windows.longSeconds)} and ${times(burnShort)} over ${seconds(windows.shortSeconds)}`
    : `burn rate ${times(burnLong)} long and ${times(burnShort)} short`;
  const level = `${confidencePercent(t.confidence)} lower bound ${percent(canaryLower)}`;
  const against = stableKnown
    ? `stable's upper bound ${percent(baseline)}`
    : `the budget burning at ${times(t.burnRateFactor)}, ${percent(baseline)} (stable has ${stable.requests} requests, too few to compare)`;
  const detail =
    `canary error ratio ${percent(ratio(canaryLong.errors, canaryLong.requests))} (${canaryLong.errors}/${canaryLong.requests}, ${burns}) ` +
    `vs stable ${countsText(stable)}; limit: burn > ${times(t.burnRateFactor)} on both windows and canary's ${level} > ${against}`;
  return { ...base, outcome: failing ? 'fail' : 'pass', value: burnLong, detail };
}

function latencyCheck(input: AnalysisInput, canaryP99Ms: number | null, stableP99Ms: number | null): AnalysisCheck {
  const { canaryLong, stable, thresholds: t } = input;
  const base = { name: 'latency_p99' as const };
  if (canaryLong.requests < t.latencyMinRequests || canaryP99Ms === null) {
    return {
      ...base,
      outcome: 'inconclusive',
      value: null,
      threshold: null,
      detail: `waiting for ${t.latencyMinRequests} canary requests to compare p99, have ${canaryLong.requests}`,
    };
  }
  if (stable.requests < t.latencyMinRequests || stableP99Ms === null) {
    return {
      ...base,
      outcome: 'pass',
      value: canaryP99Ms,
      threshold: null,
      detail: `canary p99 ${ms(canaryP99Ms)}; no stable baseline (stable has ${stable.requests} requests, needs ${t.latencyMinRequests})`,
    };
  }
  // Both conditions as one limit: a 1.5x slowdown of a 2 ms model is noise, and so is +50 ms on
  // a 2 s one.
  const limitMs = Math.max(stableP99Ms * t.maxLatencyRatio, stableP99Ms + t.minLatencyDeltaMs);
  const failing = canaryP99Ms > stableP99Ms * t.maxLatencyRatio && canaryP99Ms - stableP99Ms > t.minLatencyDeltaMs;
  const slowdown = stableP99Ms > 0 ? `${(canaryP99Ms / stableP99Ms).toFixed(1)}x, ` : '';
  const delta = canaryP99Ms - stableP99Ms;
  const detail =
    `canary p99 ${ms(canaryP99Ms)} vs stable p99 ${ms(stableP99Ms)} (${slowdown}${delta >= 0 ? '+' : '-'}${ms(Math.abs(delta))}); ` +
    `limit: > ${t.maxLatencyRatio}x and > +${ms(t.minLatencyDeltaMs)}`;
  return { ...base, outcome: failing ? 'fail' : 'pass', value: canaryP99Ms, threshold: limitMs, detail };
}

function agreementCheck(
  agreement: AnalysisInput['agreement'],
  minAgreement: number,
  minSamples: number,
): AnalysisCheck {
  const base = { name: 'output_agreement' as const, threshold: minAgreement };
  const compared = agreement?.compared ?? 0;
  if (!agreement || compared < minSamples || compared === 0) {
    return {
      ...base,
      outcome: 'inconclusive',
      value: null,
      detail: `waiting for ${minSamples} mirrored comparisons, have ${compared}`,
    };
  }
  const share = agreement.agreed / compared;
  const detail = `canary agreed with stable on ${percent(share)} of mirrored requests (${agreement.agreed}/${compared}); limit: >= ${percent(minAgreement)}`;
  return { ...base, outcome: share < minAgreement ? 'fail' : 'pass', value: share, detail };
}

function numbersOf(s: WindowSummary): VersionNumbers {
  const p99 = quantileFromBuckets(s.latencyCounts, 0.99);
  return {
    requests: s.requests,
    errors: s.errors,
    errorRatio: s.requests > 0 ? s.errors / s.requests : null,
    p99Ms: p99 === null ? null : p99 * 1000,
  };
}

function passSummary(canary: VersionNumbers, stable: VersionNumbers, agreement: AnalysisInput['agreement']): string {
  const side = (v: VersionNumbers) => `${countsText(v)}, p99 ${v.p99Ms === null ? 'n/a' : ms(v.p99Ms)}`;
  const agreed =
    agreement && agreement.compared > 0
      ? `; agreement ${percent(agreement.agreed / agreement.compared)} (${agreement.agreed}/${agreement.compared})`
      : '';
  return `canary error ratio ${side(canary)} vs stable ${side(stable)}${agreed}`;
}

/** An empty window has no errors: burn 0, not NaN. */
function ratio(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}

function countsText(v: { requests: number; errors: number }): string {
  return v.requests > 0 ? `${percent(v.errors / v.requests)} (${v.errors}/${v.requests})` : 'no requests';
}

function percent(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function confidencePercent(c: number): string {
  return `${+(c * 100).toFixed(2)}%`;
}

function times(x: number): string {
  return `${+x.toFixed(1)}x`;
}

function seconds(s: number): string {
  return `${+s.toFixed(1)} s`;
}

function ms(x: number): string {
  return x >= 10 ? `${Math.round(x)} ms` : `${x.toFixed(1)} ms`;
}

/**
 * Inverse of the standard normal CDF (Acklam's rational approximation, relative error below
 * 1.2e-9): the z of a confidence level, without a statistics dependency for one function.
 */
function normalQuantile(p: number): number {
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  const pLow = 0.02425;
  if (p < pLow) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - pLow) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}
