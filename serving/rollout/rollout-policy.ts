import type { CanaryAnalysis } from './canary-analysis.ts';

/** What the policy needs to know about one rollout; times are epoch milliseconds. */
export interface RolloutView {
  status: 'Progressing' | 'Paused';
  /** Canary traffic weights in percent, increasing, e.g. [5, 25, 50, 100]. */
  steps: number[];
  stepIndex: number;
  stepStartedAt: number;
  /** The least time a step must last, passing, before the next one. */
  intervalMs: number;
  canaryReady: boolean;
}

export type RolloutDecision =
  | { kind: 'hold'; reason: string }
  | { kind: 'advance'; stepIndex: number; weight: number; reason: string }
  | { kind: 'promote'; reason: string }
  | { kind: 'rollback'; reason: string };

/**
 * One tick of a rollout: hold, go to the next step, promote, or roll back. Pure, with the clock
 * passed in as `now` (epoch ms), like the autoscaling policy.
 */
export function decideRollout(view: RolloutView, analysis: CanaryAnalysis | undefined, now: number): RolloutDecision {
  if (view.status === 'Paused') return { kind: 'hold', reason: 'paused' };
  if (!view.canaryReady) return { kind: 'hold', reason: 'waiting for a running canary replica' };
  // Failure is checked on every tick, before the step's interval: a bad canary must lose its
  // traffic as soon as the evidence is in, not when the step would have ended.
  if (analysis?.verdict === 'fail') return { kind: 'rollback', reason: analysis.summary };

  const step = `step ${view.stepIndex + 1}/${view.steps.length} at ${view.steps[view.stepIndex]}%`;
  const elapsedMs = now - view.stepStartedAt;
  if (elapsedMs < view.intervalMs) {
    return {
      kind: 'hold',
      reason: `${step}: ${wholeSeconds(elapsedMs)} s of ${wholeSeconds(view.intervalMs)} s elapsed`,
    };
  }
  if (!analysis) return { kind: 'hold', reason: `${step}: no analysis yet` };
  if (analysis.verdict === 'inconclusive') return { kind: 'hold', reason: `${step}: ${analysis.summary}` };

  const last = view.stepIndex >= view.steps.length - 1;
  if (last) return { kind: 'promote', reason: `${step} passed: ${analysis.summary}` };
  const next = view.stepIndex + 1;
  const weight = view.steps[next]!;
  return {
    kind: 'advance',
    stepIndex: next,
    weight,
    reason: `${step} passed, going to ${weight}%: ${analysis.summary}`,
  };
}

/** Rounded down, so a hold never claims a second that has not fully passed. */
function wholeSeconds(ms: number): number {
  return Math.max(0, Math.floor(ms / 1000));
}
