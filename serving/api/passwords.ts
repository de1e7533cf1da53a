import { hash, verify } from '@node-rs/argon2';

/**
 * argon2id with the library's defaults (19 MiB memory, 2 passes: OWASP's minimum for argon2id).
 * A login costs ~20 ms of one core; the rate limit on failed logins keeps that from being a
 * lever for load.
 */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** A hash of a throwaway password, verified against when the user does not exist so both paths cost the same. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  return (decoy ??= hash('vigil-decoy-password'));
}

/** Console passwords: long enough to resist guessing; no composition rules (NIST 800-63B). */
export function passwordProblem(password: string): string | undefined {
  if (password.length < 12) return 'a password needs at least 12 characters';
  if (password.length > 1024) return 'a password may have at most 1024 characters';
  return undefined;
}
