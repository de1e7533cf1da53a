/**
 * When prediction drift raises and clears its ticket: pure, with the clock passed in. Drift must
 * stay at or above `threshold` for `forMs` before the alert fires (a burst of odd traffic is not a
 * shifted population), and it clears only below `threshold × CLEAR_RATIO` (hysteresis), or when
 * there is too little traffic to tell for as long.
 */
export const CLEAR_RATIO = 0.8;

export interface DriftAlertState {
  firing: boolean;
  /** Since when drift has been high (while not firing) or low (while firing). */
  since: number | undefined;
}

export type DriftAlertChange = 'fire' | 'resolve' | undefined;

export function nextDriftAlert(
  state: DriftAlertState,
  psi: number | null,
  now: number,
  threshold: number,
  forMs: number,
): { state: DriftAlertState; change: DriftAlertChange } {
  const high = psi !== null && psi >= threshold;
  const low = psi === null || psi < threshold * CLEAR_RATIO;
  if (!state.firing) {
    if (!high) return { state: { firing: false, since: undefined }, change: undefined };
    const since = state.since ?? now;
    if (now - since >= forMs) return { state: { firing: true, since: undefined }, change: 'fire' };
    return { state: { firing: false, since }, change: undefined };
  }
  if (!low) return { state: { firing: true, since: undefined }, change: undefined };
  const since = state.since ?? now;
  if (now - since >= forMs) return { state: { firing: false, since: undefined }, change: 'resolve' };
  return { state: { firing: true, since }, change: undefined };
}
