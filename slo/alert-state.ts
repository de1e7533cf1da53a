import { createHash } from 'node:crypto';

/**
 * The alert state machine, pure and clock-injected: inactive → pending → firing → resolved.
 * `for` works as in Prometheus: an alert fires at the first evaluation at which its condition has
 * held for at least `forSeconds` since it became active, so vigil and the rules it emits agree.
 */
export type AlertState = 'inactive' | 'pending' | 'firing' | 'resolved';

export interface AlertStatus {
  state: AlertState;
  /** When the condition last became true (epoch ms). */
  activeAt: number | null;
  firedAt: number | null;
  resolvedAt: number | null;
}

export interface Transition {
  from: AlertState;
  to: AlertState;
  at: number;
}

export const inactiveAlert: AlertStatus = { state: 'inactive', activeAt: null, firedAt: null, resolvedAt: null };

export function stepAlert(
  status: AlertStatus,
  conditionTrue: boolean,
  now: number,
  forSeconds: number,
): { status: AlertStatus; transitions: Transition[] } {
  const transitions: Transition[] = [];
  let s = status;
  const move = (to: AlertState, patch: Partial<AlertStatus>) => {
    transitions.push({ from: s.state, to, at: now });
    s = { ...s, ...patch, state: to };
  };
  if (conditionTrue) {
    if (s.state === 'inactive' || s.state === 'resolved')
      move('pending', { activeAt: now, firedAt: null, resolvedAt: null });
    if (s.state === 'pending' && now - s.activeAt! >= forSeconds * 1000) move('firing', { firedAt: now });
  } else if (s.state === 'pending') {
    move('inactive', { activeAt: null });
  } else if (s.state === 'firing') {
    move('resolved', { resolvedAt: now, activeAt: null });
  }
  return { status: s, transitions };
}

/** A deterministic fingerprint of a label set: the same labels always name the same alert. */
export function fingerprint(labels: Record<string, string>): string {
  const canonical = Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
