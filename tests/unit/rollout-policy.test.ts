import { describe, expect, it } from 'vitest';
import type { CanaryAnalysis } from '../../serving/rollout/canary-analysis.ts';
import { decideRollout, type RolloutView } from '../../serving/rollout/rollout-policy.ts';

const numbers = { requests: 0, errors: 0, errorRatio: null, p95Ms: null, p99Ms: null };
const analysis = (verdict: CanaryAnalysis['verdict'], summary: string): CanaryAnalysis => ({
  verdict,
  checks: [],
  summary,
  canary: numbers,
  stable: numbers,
});
const PASS = analysis('pass', 'canary error ratio 0.0% (0/300) vs stable 0.0% (0/2700)');
const FAIL = analysis('fail', 'canary error ratio 20.0% (10/50, burn rate 200x)');
const WAIT = analysis('inconclusive', 'waiting for 50 canary requests, have 12');

const STARTED = 1_700_000_000_000;
const view = (over: Partial<RolloutView> = {}): RolloutView => ({
  status: 'Progressing',
  steps: [5, 25, 50, 100],
  stepIndex: 1,
  stepStartedAt: STARTED,
  intervalMs: 30_000,
  canaryReady: true,
  ...over,
});

describe('decideRollout', () => {
  it('advances to the next step once the interval has passed and the analysis passes', () => {
    expect(decideRollout(view(), PASS, STARTED + 30_000)).toMatchObject({ kind: 'advance', stepIndex: 2, weight: 50 });
    expect(decideRollout(view({ stepIndex: 0 }), PASS, STARTED + 45_000)).toMatchObject({
      kind: 'advance',
      stepIndex: 1,
      weight: 25,
    });
  });

  it('holds until the interval has passed, naming the step, weight and seconds', () => {
    const d = decideRollout(view(), PASS, STARTED + 12_400);
    expect(d).toEqual({ kind: 'hold', reason: 'step 2/4 at 25%: 12 s of 30 s elapsed' });
    expect(decideRollout(view(), PASS, STARTED + 29_999).kind).toBe('hold');
  });

  it('holds on an inconclusive analysis, or none, with the reason', () => {
    const d = decideRollout(view(), WAIT, STARTED + 60_000);
    expect(d.kind).toBe('hold');
    expect(d.reason).toContain('waiting for 50 canary requests, have 12');
    const none = decideRollout(view(), undefined, STARTED + 60_000);
    expect(none).toEqual({ kind: 'hold', reason: 'step 2/4 at 25%: no analysis yet' });
  });

  it('rolls back on a failing analysis on any tick, even early in the step', () => {
    expect(decideRollout(view(), FAIL, STARTED + 2_000)).toEqual({ kind: 'rollback', reason: FAIL.summary });
    expect(decideRollout(view({ stepIndex: 3 }), FAIL, STARTED + 60_000)).toEqual({
      kind: 'rollback',
      reason: FAIL.summary,
    });
  });

  it('promotes after the last step passes', () => {
    const d = decideRollout(view({ stepIndex: 3 }), PASS, STARTED + 30_000);
    expect(d.kind).toBe('promote');
    expect(d.reason).toContain('step 4/4 at 100%');
    // a single-step rollout promotes from its only step
    expect(decideRollout(view({ steps: [100], stepIndex: 0 }), PASS, STARTED + 30_000).kind).toBe('promote');
  });

  it('holds while paused, even on a failing analysis', () => {
    expect(decideRollout(view({ status: 'Paused' }), FAIL, STARTED + 60_000)).toEqual({
      kind: 'hold',
      reason: 'paused',
    });
    expect(decideRollout(view({ status: 'Paused' }), PASS, STARTED + 60_000)).toEqual({
      kind: 'hold',
      reason: 'paused',
    });
  });

  it('holds while no canary replica runs, before judging the analysis', () => {
    expect(decideRollout(view({ canaryReady: false }), PASS, STARTED + 60_000)).toEqual({
      kind: 'hold',
      reason: 'waiting for a running canary replica',
    });
    expect(decideRollout(view({ canaryReady: false }), FAIL, STARTED + 60_000).kind).toBe('hold');
  });
});
