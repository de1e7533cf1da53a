/**
 * Failed-login limits, as a pure policy. Three counts, each over the same window:
 *
 * - one user from one address: 5. The guessing limit. It is per address so that a stranger
 *   who knows a username cannot lock its owner out: five wrong passwords from the attacker's
 *   address stop the attacker, not the admin at their own desk.
 * - one address, any user: 20. Stops spraying one password across every username.
 * - one user, any address: 100. Bounds guessing spread over many addresses. A botnet can still
 *   lock a user out at this level; that is the price of bounding it at all, and 100 needs an
 *   attacker with many addresses rather than one browser tab.
 *
 * Attempts count from the moment they are claimed, before the password is checked (see
 * db/queries/login-attempts.ts), so parallel guesses cannot race past a limit.
 */
export const LOGIN_WINDOW_MS = 15 * 60_000;

export const LOGIN_LIMITS = { userAtAddress: 5, address: 20, user: 100 } as const;
export type LoginLimitScope = keyof typeof LOGIN_LIMITS;

/** Recent unforgiven attempts (pending or failed) in each scope, and the oldest of each. */
export interface LoginCounts {
  userAtAddress: { count: number; oldest: Date | null };
  address: { count: number; oldest: Date | null };
  user: { count: number; oldest: Date | null };
}

export interface LoginRefusal {
  scope: LoginLimitScope;
  count: number;
  /** Seconds until the oldest counted attempt in that scope leaves the window. */
  retryAfterSeconds: number;
}

/** Whether another attempt may be made now; the first scope at its limit refuses it. */
export function loginRefusal(counts: LoginCounts, now: Date): LoginRefusal | null {
  for (const scope of ['userAtAddress', 'address', 'user'] as const) {
    const { count, oldest } = counts[scope];
    if (count < LOGIN_LIMITS[scope]) continue;
    const frees = (oldest?.getTime() ?? now.getTime()) + LOGIN_WINDOW_MS;
    return { scope, count, retryAfterSeconds: Math.max(1, Math.ceil((frees - now.getTime()) / 1000)) };
  }
  return null;
}

/** Says which limit refused, in words a person at the login page understands. */
export function describeRefusal(r: LoginRefusal): string {
  const what = {
    userAtAddress: 'failed logins for this user from this address',
    address: 'failed logins from this address',
    user: 'failed logins for this user',
  }[r.scope];
  return `too many ${what} (${r.count} in ${LOGIN_WINDOW_MS / 60_000} min); retry in ${r.retryAfterSeconds} s`;
}
