import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { findToken } from '../../db/queries/tokens.ts';
import type { ApiTokenRole } from '../../db/schema/api-tokens.ts';
import { findSession, SESSION_PREFIX } from '../../db/queries/users.ts';
import { VigilError } from '../errors.ts';
import { peerAddress } from '../ingress/peer-address.ts';
import type { ControlPlane } from '../control-plane.ts';

export { apiTokenRoles as roles } from '../../db/schema/api-tokens.ts';
export type Role = ApiTokenRole;

/**
 * How much each role may do. People's roles are ranked; `alert-receiver` ranks below viewer, so
 * it passes only where it is named (the Alertmanager webhook), and reads nothing.
 */
const RANK: Record<Role, number> = { 'alert-receiver': 0, viewer: 1, operator: 2, admin: 3 };

/** Who is calling the control API: a token's name, a console user, or `local` on a node without tokens. */
export interface Actor {
  name: string;
  role: Role;
  /** Set when the caller is a console session (its row id and CSRF token). */
  session?: { id: number; csrfToken: string; expiresAt: Date };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isLoopback(addr: string | undefined): boolean {
  return addr === '::1' || addr === '::ffff:127.0.0.1' || (addr?.startsWith('127.') ?? false);
}

/**
 * Authenticates a control-API call and checks its role: reads need viewer, changes operator,
 * token and user management admin. Until the first token exists the API trusts loopback callers
 * only (as admin, named `local`), so a fresh install is usable on the machine and closed beyond
 * it. `alert-receiver` is met by that role or by operator and above.
 */
export async function authorize(req: IncomingMessage, plane: ControlPlane, need: Role): Promise<Actor> {
  const actor = await authenticate(req, plane);
  const allowed =
    need === 'alert-receiver'
      ? actor.role === need || RANK[actor.role] >= RANK.operator
      : RANK[actor.role] >= RANK[need];
  if (!allowed) {
    throw new VigilError(
      'VIGIL_ERR_FORBIDDEN',
      `this needs the ${need} role; ${actor.session ? `user "${actor.name}"` : 'the token'} has ${actor.role}`,
    );
  }
  return actor;
}

/**
 * Who the caller is. A console session (`Bearer vgs_...`) must also echo its CSRF token in
 * `x-vigil-csrf` on every change: the browser holds the session cookie, so a forged cross-site
 * request would carry it, but it cannot read the CSRF token. The console marks its calls with
 * `x-vigil-console`; such a call without a session is refused rather than trusted as loopback,
 * because the console itself runs on loopback.
 */
export async function authenticate(req: IncomingMessage, plane: ControlPlane): Promise<Actor> {
  const header = req.headers.authorization;
  if (header === undefined && req.headers['x-vigil-console'] === undefined && !(await plane.tokensExist())) {
    if (!isLoopback(peerAddress(req))) {
      throw new VigilError(
        'VIGIL_ERR_UNAUTHORIZED',
        'no API token exists yet, so only loopback callers are served; create one with `vigil token create`',
      );
    }
    return { name: 'local', role: 'admin' };
  }
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!m) throw new VigilError('VIGIL_ERR_UNAUTHORIZED');
  const bearer = m[1]!;
  if (bearer.startsWith(SESSION_PREFIX)) {
    const found = await findSession(plane.database.db, bearer);
    if (!found) throw new VigilError('VIGIL_ERR_UNAUTHORIZED', 'the session expired or was closed; log in again');
    if (!SAFE_METHODS.has(req.method ?? 'GET') && !sameSecret(req.headers['x-vigil-csrf'], found.session.csrfToken))
      throw new VigilError('VIGIL_ERR_CSRF');
    return {
      name: found.user.username,
      role: found.user.role,
      session: { id: found.session.id, csrfToken: found.session.csrfToken, expiresAt: found.session.expiresAt },
    };
  }
  const token = await findToken(plane.database.db, bearer);
  if (!token) throw new VigilError('VIGIL_ERR_UNAUTHORIZED', 'unknown or revoked token');
  return { name: token.name, role: token.role };
}

/** Constant-time comparison, so the CSRF check does not leak the token a byte at a time. */
function sameSecret(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
