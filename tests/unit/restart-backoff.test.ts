import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  delayForFailures,
  inCrashLoop,
  initialBackoff,
  recordFailure,
  recordSuccess,
  type BackoffState,
} from '../../serving/controller/restart-backoff.ts';

describe('restart back-off', () => {
  it('restarts at once after the first failure, then backs off from 0.5 s doubling to a 30 s cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 50].map(delayForFailures)).toEqual([
      0, 0, 500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('stays at the cap for absurd failure counts', () => {
    expect(delayForFailures(5000)).toBe(30_000);
    expect(delayForFailures(Number.MAX_SAFE_INTEGER)).toBe(30_000);
  });

  it('never decreases and never exceeds 30 s (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), (n) => {
        const d = delayForFailures(n);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(30_000);
        expect(delayForFailures(n + 1)).toBeGreaterThanOrEqual(d);
      }),
    );
  });

  it('records failures with notBefore = now + delay, without mutating the old state', () => {
    let state: BackoffState = initialBackoff;
    state = recordFailure(state, 1000);
    expect(state).toEqual({ consecutiveFailures: 1, notBefore: 1000 });
    const before = state;
    state = recordFailure(state, 2000);
    expect(state).toEqual({ consecutiveFailures: 2, notBefore: 2500 });
    expect(before).toEqual({ consecutiveFailures: 1, notBefore: 1000 });
    state = recordFailure(state, 3000);
    expect(state).toEqual({ consecutiveFailures: 3, notBefore: 4000 });
    expect(initialBackoff).toEqual({ consecutiveFailures: 0, notBefore: 0 });
  });

  it('detects a crash loop from the third failure in a row', () => {
    let state = initialBackoff;
    const loops: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      loops.push(inCrashLoop(state));
      state = recordFailure(state, 0);
    }
    loops.push(inCrashLoop(state));
    expect(loops).toEqual([false, false, false, true, true]);
  });

  it('resets on success', () => {
    let state = initialBackoff;
    for (let i = 0; i < 6; i++) state = recordFailure(state, 0);
    expect(inCrashLoop(state)).toBe(true);
    state = recordSuccess();
    expect(state).toEqual({ consecutiveFailures: 0, notBefore: 0 });
    expect(inCrashLoop(state)).toBe(false);
    expect(recordFailure(state, 10)).toEqual({ consecutiveFailures: 1, notBefore: 10 });
  });
});
