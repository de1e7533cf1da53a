/**
 * Crash-loop back-off for replica restarts: 0 s for the first failure, then 0.5 s doubling to a
 * 30 s cap. A replica that reaches RUNNING resets the count. Pure, with an injected clock.
 */
export interface BackoffState {
  consecutiveFailures: number;
  notBefore: number;
}

export const initialBackoff: BackoffState = { consecutiveFailures: 0, notBefore: 0 };

export function delayForFailures(n: number): number {
  if (n <= 1) return 0;
  return Math.min(30_000, 500 * 2 ** (n - 2));
}

export function recordFailure(state: BackoffState, now: number): BackoffState {
  const consecutiveFailures = state.consecutiveFailures + 1;
  return { consecutiveFailures, notBefore: now + delayForFailures(consecutiveFailures) };
}

export function recordSuccess(): BackoffState {
  return initialBackoff;
}

/** True when a crash loop is established (three failures in a row without a healthy replica). */
export function inCrashLoop(state: BackoffState): boolean {
  return state.consecutiveFailures >= 3;
}
