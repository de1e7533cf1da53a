import { DURATION_BUCKETS } from '../telemetry/buckets.ts';
import { emptySummary, type WindowSummary } from './live-window.ts';

/**
 * Judges a canary against the stable version of its deployment from in-memory request
 * statistics, both taken over the same interval, so that noise which hits the whole machine
 * (a build, a noisy neighbour, a burst of contention) hits both sides alike. Three checks:
 *
 * - error_burn_rate: the canary's error ratio has a Wilson lower bound (at `confidence`, 99%)
 *   above the page rate (the budget burning at `burnRateFactor`), and above the stable's upper
 *   bound where the stable burns that fast too (a shared outage is not the canary's fault);
 * - latency: a one-sided exceedance test. T is the stable's p95 over the interval, rounded up
 *   to a histogram bound. The share of canary requests slower than T must be significantly
 *   above the stable's share (Wilson bounds) by at least `minExcessShare`, the canary's p95
 *   must be above the stable's by both `maxLatencyRatio` and `minLatencyDeltaMs`, and the canary
 *   must be slower in most seconds (CONSISTENCY);
 * - output_agreement (optional): the share of mirrored requests whose answers agree.
 *
 * A single analysis decides, so each must be sure enough on its own, and noise of one version
 * (a process stalled for a second or two, a replica restarting) must not suffice: the error and
 * latency tests must also fail without the canary's worst seconds (error bursts: seconds whose
 * errors its own rate elsewhere does not explain), and latency on both disjoint parts of the
 * interval. docs/decisions/0006-canary-judgement.md gives the measured false-alarm and
 * detection rates. Pure: the caller takes the summaries at one instant.
 */

export interface AnalysisThresholds {
  /** Canary requests over the whole interval before errors are judged at all. */
  minRequests: number;
  /** Two-sided confidence of the Wilson score intervals, e.g. 0.95 (each part is tested). */
  confidence: number;
  /** Burn rate that every part must exceed, e.g. 14.4 (the SRE Workbook's fast-burn page). */
  burnRateFactor: number;
  /** Availability objective, e.g. 0.999: the error budget is 1 - objective. */
  objective: number;
  /** The canary's p95 must exceed the stable's p95 times this ratio... */
  maxLatencyRatio: number;
  /** ...and by this many milliseconds, for a latency failure. */
  minLatencyDeltaMs: number;
  /** Canary requests over the whole interval before latency is judged. */
  latencyMinRequests: number;
  /** The least excess share of canary requests slower than the stable's p95 bound, e.g. 0.1. */
  minExcessShare?: number;
  /** Least share of mirrored requests that must agree; null turns the gate off. */
  minAgreement: number | null;
  /** Mirrored comparisons needed before agreement is judged. */
  minMirrorSamples: number;
  /** Highest PSI of the canary's answers and inputs against the stable's; null turns the check off. */
  maxDrift?: number | null;
}

/** One version's requests over the whole interval and over its two disjoint parts. */
export interface IntervalSummaries {
  whole: WindowSummary;
  older: WindowSummary;
  newer: WindowSummary;
}

export interface AnalysisInput {
  /** The canary's requests per second over the interval judged, oldest first. */
  canary: WindowSummary[];
  /** The stable version's, over the same seconds. */
  stable: WindowSummary[];
  /** The newest part's length in seconds (at most half the interval). */
  shortSeconds: number;
  /**
   * Canary requests the latency check leaves out, with the seconds they fall in: the first
   * requests of a canary's first step, while its replicas still warm their caches. Errors are
   * judged from the first request.
   */
  warmRequests?: number;
  agreement?: { compared: number; agreed: number };
  /**
   * The canary's probe runs over the interval (serving/probes/): any failed run fails the canary,
   * whatever its traffic; left out when the deployment has no probes.
   */
  probes?: { runs: number; failed: number; lastFailure?: string };
  /** The canary's worst drift against the stable version (serving/drift/), when the check is on. */
  drift?: { psi: number | null; signal: string | null };
  thresholds: AnalysisThresholds;
  /** The interval's length and its newest part's, only to name them ("over 12 s"); optional. */
  windows?: { longSeconds: number; shortSeconds: number };
}

/** Seconds of the longest burst the judge tolerates in one version alone (at most a quarter of the interval). */
export const BURST_TOLERANCE_SECONDS = 2;

/** A second is an error burst when the canary's own rate elsewhere gives it less than this chance. */
export const BURST_P_VALUE = 0.01;

/** Over a longer interval, up to this share of its seconds may be bursts (several incidents). */
export const BURST_TOLERANCE_SHARE = 0.1;

/** Adds per-second summaries. */
export function sumSeconds(seconds: readonly WindowSummary[]): WindowSummary {
  const out = emptySummary();
  for (const s of seconds) {
    out.requests += s.requests;
    out.errors += s.errors;
    for (let i = 0; i < out.latencyCounts.length; i++) out.latencyCounts[i]! += s.latencyCounts[i] ?? 0;
  }
  return out;
}

/** The whole interval and its two disjoint parts: the newest `shortSeconds` and the rest. */
export function intervalParts(seconds: readonly WindowSummary[], shortSeconds: number): IntervalSummaries {
  const split = Math.max(0, seconds.length - Math.max(1, shortSeconds));
  return {
    whole: sumSeconds(seconds),
    older: sumSeconds(seconds.slice(0, split)),
    newer: sumSeconds(seconds.slice(split)),
  };
}

/**
 * The interval without the canary's worst seconds (by `badness`), on both sides: a stall or an
 * error burst of one version that lasts a second or two is left out, and what remains must
 * still show the canary worse. At most half of the interval is dropped.
 */
function trimmed(
  canarySeconds: readonly WindowSummary[],
  stableSeconds: readonly WindowSummary[],
  badness: (s: WindowSummary) => number,
  eligible: (s: WindowSummary, i: number) => boolean = (s) => badness(s) >= 1,
): { canary: WindowSummary; stable: WindowSummary } {
  const n = canarySeconds.length;
  const drop = Math.min(n - 1, Math.max(BURST_TOLERANCE_SECONDS, Math.ceil(n * BURST_TOLERANCE_SHARE)));
  const worst = new Set(
    canarySeconds
      .map((s, i) => [badness(s), i] as const)
      .filter(([, i]) => eligible(canarySeconds[i]!, i))
      .sort((a, b) => b[0] - a[0])
      .slice(0, drop)
      .map(([, i]) => i),
  );
  const keep = (_: WindowSummary, i: number) => !worst.has(i);
  return { canary: sumSeconds(canarySeconds.filter(keep)), stable: sumSeconds(stableSeconds.filter(keep)) };
}

export type CheckName = 'error_burn_rate' | 'latency' | 'output_agreement' | 'probes' | 'prediction_drift';

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
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface CanaryAnalysis {
  verdict: 'pass' | 'fail' | 'inconclusive';
  checks: AnalysisCheck[];
  /** One line naming the numbers of the failing (or waiting, or passing) checks. */
  summary: string;
  canary: VersionNumbers;
  stable: VersionNumbers;
}

/**
 * Errors a canary must have (outside its worst seconds) before it can fail: with one or two, a
 * healthy canary that met the background error rate early would be judged on luck.
 */
export const MIN_CANARY_ERRORS = 3;
/** Of which, outside its worst seconds: a burst alone (a replica restarting) never suffices. */
export const MIN_CANARY_ERRORS_OUTSIDE_BURSTS = 2;

/** Likewise, slow canary requests (outside its worst seconds) before latency can fail. */
export const MIN_SLOW_CANARY_REQUESTS = 5;

/** The least share of seconds (with canary requests) in which the canary must be slower. */
export const CONSISTENCY = 0.75;

/** The default least excess share for the latency test. */
export const DEFAULT_MIN_EXCESS_SHARE = 0.1;
/** The stable quantile whose bound the latency test counts exceedances of. */
const LATENCY_QUANTILE = 0.95;

/** Analyses one instant of a canary against its stable version. */
export function analyzeCanary(input: AnalysisInput): CanaryAnalysis {
  const parts = {
    canary: intervalParts(input.canary, input.shortSeconds),
    stable: intervalParts(input.stable, input.shortSeconds),
  };
  const canary = numbersOf(parts.canary.whole);
  const stable = numbersOf(parts.stable.whole);
  let warm = 0;
  for (let seen = 0; warm < input.canary.length && seen < (input.warmRequests ?? 0); warm++)
    seen += input.canary[warm]!.requests;
  const warmInput = { ...input, canary: input.canary.slice(warm), stable: input.stable.slice(warm) };
  const warmParts = {
    canary: intervalParts(warmInput.canary, input.shortSeconds),
    stable: intervalParts(warmInput.stable, input.shortSeconds),
  };
  const checks = [errorBurnRateCheck(input, parts), latencyCheck(warmInput, warmParts, input.canary.length)];
  if (input.thresholds.minAgreement !== null)
    checks.push(agreementCheck(input.agreement, input.thresholds.minAgreement, input.thresholds.minMirrorSamples));
  if (input.probes) checks.push(probeCheck(input.probes));
  const maxDrift = input.thresholds.maxDrift ?? null;
  if (maxDrift !== null) checks.push(driftCheck(input.drift, maxDrift));

  const failed = checks.filter((c) => c.outcome === 'fail');
  const waiting = checks.filter((c) => c.outcome === 'inconclusive');
  if (failed.length > 0)
    return { verdict: 'fail', checks, summary: failed.map((c) => c.detail).join('; '), canary, stable };
  if (waiting.length > 0)
    return { verdict: 'inconclusive', checks, summary: waiting.map((c) => c.detail).join('; '), canary, stable };
  return { verdict: 'pass', checks, summary: passSummary(canary, stable, input.agreement), canary, stable };
}

/**
 * Known answers leave no room for statistics: one wrong answer is a wrong model. The check waits
 * for a run rather than passing on none, so a canary is never promoted unprobed.
 */
function probeCheck(p: { runs: number; failed: number; lastFailure?: string }): AnalysisCheck {
  if (p.failed > 0)
    return {
      name: 'probes',
      outcome: 'fail',
      value: p.failed,
      threshold: 0,
      detail: `${p.failed} of ${p.runs} probe runs failed (${p.lastFailure ?? 'no detail'})`,
    };
  if (p.runs === 0)
    return { name: 'probes', outcome: 'inconclusive', value: 0, threshold: 0, detail: 'no probe run yet' };
  return { name: 'probes', outcome: 'pass', value: 0, threshold: 0, detail: `${p.runs} probe runs passed` };
}

/** The canary's answers against the stable's on the same traffic: a different population of answers is a different model. */
function driftCheck(drift: { psi: number | null; signal: string | null } | undefined, max: number): AnalysisCheck {
  if (!drift || drift.psi === null)
    return {
      name: 'prediction_drift',
      outcome: 'inconclusive',
      value: null,
      threshold: max,
      detail: 'too few answers yet to compare with the stable version',
    };
  const detail = `PSI ${drift.psi.toFixed(3)} on ${drift.signal} against the stable version (max ${max})`;
  return {
    name: 'prediction_drift',
    outcome: drift.psi >= max ? 'fail' : 'pass',
    value: drift.psi,
    threshold: max,
    detail,
  };
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

/**
 * The error test on one part: the canary burns its budget faster than the page factor, with
 * confidence (its lower bound is above the page rate), and, where the stable burns that fast too
 * (a shared outage the canary must not be blamed for), its lower bound is above the stable's
 * upper bound as well.
 */
function errorTest(c: WindowSummary, s: WindowSummary, t: AnalysisThresholds) {
  const pageRate = pageRateOf(t);
  const burn = ratio(c.errors, c.requests) / (1 - t.objective);
  const stableBounds = wilsonInterval(s.errors, s.requests, t.confidence);
  const stableBurning = s.requests > 0 && stableBounds.lower > pageRate;
  const baseline = stableBurning ? Math.max(pageRate, stableBounds.upper) : pageRate;
  const lower = wilsonInterval(c.errors, c.requests, t.confidence).lower;
  return { burn, baseline, lower, stableBurning, failing: c.requests > 0 && lower > baseline };
}

/** The error ratio at which the budget burns at the page factor (1.44% for 99.9% and 14.4x). */
function pageRateOf(t: AnalysisThresholds): number {
  return (1 - t.objective) * t.burnRateFactor;
}

type Parts = { canary: IntervalSummaries; stable: IntervalSummaries };

function errorBurnRateCheck(input: AnalysisInput, p: Parts): AnalysisCheck {
  const { canary, stable } = p;
  const t = input.thresholds;
  const base = { name: 'error_burn_rate' as const, threshold: t.burnRateFactor };
  if (canary.whole.requests < t.minRequests) {
    return {
      ...base,
      outcome: 'inconclusive',
      value: null,
      detail: `waiting for ${t.minRequests} canary requests, have ${canary.whole.requests}`,
    };
  }
  // A burst lasts up to BURST_TOLERANCE_SECONDS: until the interval is longer, an error burst
  // cannot be told from a canary that fails.
  if (input.canary.length <= BURST_TOLERANCE_SECONDS) {
    return {
      ...base,
      outcome: 'inconclusive',
      value: null,
      detail: `waiting for ${BURST_TOLERANCE_SECONDS + 1} s of requests to judge errors, have ${input.canary.length} s`,
    };
  }
  const whole = errorTest(canary.whole, stable.whole, t);
  // A burst is a second with more errors than the canary's rate in its other seconds explains
  // (at least the page rate, so that a canary's first errors are not a burst of their own): a
  // canary failing steadily keeps its evidence, a replica restarting does not.
  const pageRate = pageRateOf(t);
  const isBurst = (s: WindowSummary) => {
    if (s.errors < 2) return false;
    const others = Math.max(
      pageRate,
      (canary.whole.errors - s.errors) / Math.max(1, canary.whole.requests - s.requests),
    );
    return binomialTail(s.errors, s.requests, others) < BURST_P_VALUE;
  };
  const cut = trimmed(input.canary, input.stable, (s) => s.errors, isBurst);
  const robust = errorTest(cut.canary, cut.stable, t);
  // Errors need no warm-up and no persistence test of their own: a canary that fails requests
  // is bad from its first, and leaving its bursts out already rules out a replica restarting.
  const failing =
    whole.failing &&
    robust.failing &&
    canary.whole.errors >= MIN_CANARY_ERRORS &&
    cut.canary.errors >= MIN_CANARY_ERRORS_OUTSIDE_BURSTS;
  const over = input.windows ? ` over ${seconds(input.windows.longSeconds)}` : '';
  const against = whole.stableBurning
    ? `stable's upper bound ${percent(whole.baseline)} (stable burns that fast too)`
    : `the page rate ${percent(whole.baseline)} (the budget burning at ${times(t.burnRateFactor)})`;
  const detail =
    `error_burn_rate: canary ${countsText(canary.whole)}${over}, burn rate ${times(whole.burn)}, ` +
    `vs stable ${countsText(stable.whole)} over the same interval; ` +
    `${confidencePercent(t.confidence)} lower bound ${percent(whole.lower)} vs ${against}: ` +
    `${whole.failing ? 'above' : 'not above'}; without its error bursts ${partText(cut.canary, robust.failing)}; ` +
    `limit: lower bound above that on the whole interval and without bursts, ` +
    `with ${MIN_CANARY_ERRORS} errors, ${MIN_CANARY_ERRORS_OUTSIDE_BURSTS} outside bursts`;
  return { ...base, outcome: failing ? 'fail' : 'pass', value: whole.burn, detail };
}

function partText(s: WindowSummary, failing: boolean): string {
  return `${s.errors}/${s.requests} ${failing ? 'above' : 'not above'}`;
}

/**
 * The exceedance test on one part: the share of canary requests slower than the stable's p95
 * bound, against the stable's share. Null when the stable has too few requests to set the bound.
 */
function exceedanceTest(c: WindowSummary, s: WindowSummary, t: AnalysisThresholds, minStable: number) {
  const stableTotal = sum(s.latencyCounts);
  const canaryTotal = sum(c.latencyCounts);
  if (stableTotal < minStable || canaryTotal === 0) return null;
  const slot = quantileSlot(s.latencyCounts, LATENCY_QUANTILE);
  const boundSeconds = slot < DURATION_BUCKETS.length ? DURATION_BUCKETS[slot]! : Number.POSITIVE_INFINITY;
  const canaryAbove = sum(c.latencyCounts.slice(slot + 1));
  const stableAbove = sum(s.latencyCounts.slice(slot + 1));
  const canaryShare = canaryAbove / canaryTotal;
  const stableShare = stableAbove / stableTotal;
  const lower = wilsonInterval(canaryAbove, canaryTotal, t.confidence).lower;
  const upper = wilsonInterval(stableAbove, stableTotal, t.confidence).upper;
  const excess = t.minExcessShare ?? DEFAULT_MIN_EXCESS_SHARE;
  return {
    boundSeconds,
    canaryAbove,
    canaryTotal,
    stableAbove,
    stableTotal,
    canaryShare,
    stableShare,
    lower,
    upper,
    failing: lower > upper && canaryShare - stableShare >= excess,
  };
}

function latencyCheck(input: AnalysisInput, p: Parts, intervalSeconds: number): AnalysisCheck {
  const { canary, stable } = p;
  const t = input.thresholds;
  const base = { name: 'latency' as const };
  if (canary.whole.requests < t.latencyMinRequests) {
    return {
      ...base,
      outcome: 'inconclusive',
      value: null,
      threshold: null,
      detail: `waiting for ${t.latencyMinRequests} canary requests to judge latency, have ${canary.whole.requests}`,
    };
  }
  // A slowdown shorter than the burst tolerance cannot be told from a stall: wait until the
  // interval is twice as long, and holds one second more than the tolerance after the warm-up,
  // so that what remains after dropping the worst seconds still shows the canary slower.
  const seconds = input.canary.length;
  if (intervalSeconds < 2 * BURST_TOLERANCE_SECONDS || seconds <= BURST_TOLERANCE_SECONDS) {
    return {
      ...base,
      outcome: 'inconclusive',
      value: null,
      threshold: null,
      detail:
        `waiting for ${2 * BURST_TOLERANCE_SECONDS} s of requests (${BURST_TOLERANCE_SECONDS + 1} s after ` +
        `the warm-up) to judge latency, have ${intervalSeconds} s (${seconds} s)`,
    };
  }
  // Each part needs a stable baseline of its own; half the whole's minimum keeps a short part
  // from being judged against a handful of stable requests.
  const minStable = Math.max(1, Math.floor(t.latencyMinRequests / 2));
  const whole = exceedanceTest(canary.whole, stable.whole, t, t.latencyMinRequests);
  const canaryP95 = quantileFromBuckets(canary.whole.latencyCounts, LATENCY_QUANTILE);
  if (!whole || canaryP95 === null) {
    return {
      ...base,
      outcome: 'pass',
      value: canaryP95 === null ? null : canaryP95 * 1000,
      threshold: null,
      detail:
        `canary p95 ${canaryP95 === null ? 'n/a' : ms(canaryP95 * 1000)}; no stable baseline over the same ` +
        `interval (stable has ${stable.whole.requests} requests, needs ${t.latencyMinRequests})`,
    };
  }
  const older = exceedanceTest(canary.older, stable.older, t, minStable);
  const newer = exceedanceTest(canary.newer, stable.newer, t, minStable);
  const bound = quantileSlot(stable.whole.latencyCounts, LATENCY_QUANTILE);
  const cut = trimmed(input.canary, input.stable, (s) => sum(s.latencyCounts.slice(bound + 1)));
  const robust = exceedanceTest(cut.canary, cut.stable, t, minStable);
  const stableP95Ms = quantileFromBuckets(stable.whole.latencyCounts, LATENCY_QUANTILE)! * 1000;
  const canaryP95Ms = canaryP95 * 1000;
  const limitMs = Math.max(stableP95Ms * t.maxLatencyRatio, stableP95Ms + t.minLatencyDeltaMs);
  const slower = canaryP95Ms > limitMs;
  const consistent = slowerSeconds(input.canary, input.stable, bound, t.minExcessShare ?? DEFAULT_MIN_EXCESS_SHARE);
  const consistentEnough = consistent.slower >= Math.ceil(CONSISTENCY * consistent.judged);
  const failing =
    slower &&
    consistentEnough &&
    whole.failing &&
    older?.failing === true &&
    newer?.failing === true &&
    robust?.failing === true &&
    robust.canaryAbove >= MIN_SLOW_CANARY_REQUESTS;
  const boundText = Number.isFinite(whole.boundSeconds) ? ms(whole.boundSeconds * 1000) : 'the largest bound';
  const part = (x: ReturnType<typeof exceedanceTest>, name: string) =>
    x ? `${name} ${percent(x.canaryShare)} vs ${percent(x.stableShare)}` : `${name} too few stable requests`;
  const delta = canaryP95Ms - stableP95Ms;
  const detail =
    `latency: canary p95 ${ms(canaryP95Ms)} vs stable p95 ${ms(stableP95Ms)} over the same interval ` +
    `(${delta >= 0 ? '+' : '-'}${ms(Math.abs(delta))}); ` +
    `${percent(whole.canaryShare)} of ${whole.canaryTotal} canary requests slower than stable's p95 bound ` +
    `${boundText} vs ${percent(whole.stableShare)} of ${whole.stableTotal} stable ` +
    `(${confidencePercent(t.confidence)} bounds ${percent(whole.lower)} > ${percent(whole.upper)}: ` +
    `${whole.failing ? 'yes' : 'no'}); ${part(older, 'older part')}, ${part(newer, 'newest part')}, ` +
    `${part(robust, "without the canary's worst seconds")}; ` +
    `slower in ${consistent.slower} of ${consistent.judged} seconds; ` +
    `limit: p95 > ${t.maxLatencyRatio}x and > +${ms(t.minLatencyDeltaMs)}, and ` +
    `${percent(t.minExcessShare ?? DEFAULT_MIN_EXCESS_SHARE)} more slow requests, significant on the whole interval, ` +
    `on both parts and without the canary's worst seconds, and slower in ${percent(CONSISTENCY)} of its seconds`;
  return { ...base, outcome: failing ? 'fail' : 'pass', value: canaryP95Ms, threshold: limitMs, detail };
}

/**
 * Seconds in which the canary is slower: its share of requests above the bound exceeds the
 * stable's share in the same second (or over the interval, when the stable had none then) by
 * `excess`. A slow canary is slower in nearly every second; a stall or two of one process only
 * in the seconds they last.
 */
function slowerSeconds(
  canarySeconds: readonly WindowSummary[],
  stableSeconds: readonly WindowSummary[],
  slot: number,
  excess: number,
): { judged: number; slower: number } {
  const stableAll = sumSeconds(stableSeconds);
  const overall = sum(stableAll.latencyCounts.slice(slot + 1)) / Math.max(1, sum(stableAll.latencyCounts));
  let judged = 0;
  let slower = 0;
  canarySeconds.forEach((c, i) => {
    const total = sum(c.latencyCounts);
    if (total === 0) return;
    judged++;
    const s = stableSeconds[i]!;
    const stableTotal = sum(s.latencyCounts);
    const stableShare = stableTotal > 0 ? sum(s.latencyCounts.slice(slot + 1)) / stableTotal : overall;
    if (sum(c.latencyCounts.slice(slot + 1)) / total - stableShare >= excess) slower++;
  });
  return { judged, slower };
}

/**
 * P(X >= k) for X ~ Binomial(n, p), summed upward from k (the terms fall past the mean, where a
 * burst lives), so that tiny tails keep their precision.
 */
export function binomialTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n || p <= 0) return 0;
  if (p >= 1) return 1;
  // log C(n, k) p^k (1-p)^(n-k), then each next term from the one before.
  let logTerm = k * Math.log(p) + (n - k) * Math.log1p(-p);
  for (let i = 1; i <= k; i++) logTerm += Math.log((n - k + i) / i);
  let term = Math.exp(logTerm);
  let total = 0;
  for (let i = k; i <= n && term > 0; i++) {
    total += term;
    if (term < total * 1e-15) break;
    term *= ((n - i) / (i + 1)) * (p / (1 - p));
  }
  return Math.min(1, total);
}

/** The histogram slot holding the q-quantile (rank ceil(q * n)). */
function quantileSlot(latencyCounts: number[], q: number): number {
  const rank = Math.max(1, Math.ceil(q * sum(latencyCounts)));
  let below = 0;
  for (let i = 0; i < latencyCounts.length; i++) {
    below += latencyCounts[i]!;
    if (below >= rank) return i;
  }
  return latencyCounts.length - 1;
}

function sum(xs: readonly number[]): number {
  let total = 0;
  for (const x of xs) total += x;
  return total;
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
  const detail =
    `canary agreed with stable on ${percent(share)} of mirrored requests ` +
    `(${agreement.agreed}/${compared}); limit: >= ${percent(minAgreement)}`;
  return { ...base, outcome: share < minAgreement ? 'fail' : 'pass', value: share, detail };
}

function numbersOf(s: WindowSummary): VersionNumbers {
  const p95 = quantileFromBuckets(s.latencyCounts, 0.95);
  const p99 = quantileFromBuckets(s.latencyCounts, 0.99);
  return {
    requests: s.requests,
    errors: s.errors,
    errorRatio: s.requests > 0 ? s.errors / s.requests : null,
    p95Ms: p95 === null ? null : p95 * 1000,
    p99Ms: p99 === null ? null : p99 * 1000,
  };
}

function passSummary(canary: VersionNumbers, stable: VersionNumbers, agreement: AnalysisInput['agreement']): string {
  const side = (v: VersionNumbers) => `${countsText(v)}, p95 ${v.p95Ms === null ? 'n/a' : ms(v.p95Ms)}`;
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
