import type { IncomingMessage } from 'node:http';
import { findToken } from '../../db/queries/tokens.ts';
import { VigilError } from '../errors.ts';
import type { ControlPlane } from '../control-plane.ts';

export const roles = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof roles)[number];

/** Who is calling the control API: a token's name, or `local` on a node without tokens. */
export interface Actor {
  name: string;
  role: Role;
}

export function isLoopback(addr: string | undefined): boolean {
  return addr === '::1' || addr === '::ffff:127.0.0.1' || (addr?.startsWith('127.') ?? false);
}

/**
 * Authenticates a control-API call and checks its role: reads need viewer, changes operator,
 * token management admin. Until the first token exists the API trusts loopback callers only
 * (as admin, named `local`), so a fresh install is usable on the machine and closed beyond it.
 */
export async function authorize(req: IncomingMessage, plane: ControlPlane, need: Role): Promise<Actor> {
  const header = req.headers.authorization;
  let actor: Actor;
  if (header === undefined && !plane.hasTokens) {
    if (!isLoopback(req.socket.remoteAddress)) {
      throw new VigilError('VIGIL_ERR_UNAUTHORIZED', 'no API token exists yet, so only loopback callers are served; create one with `vigil token create`');
    }
    actor = { name: 'local', role: 'admin' };
  } else {
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!m) throw new VigilError('VIGIL_ERR_UNAUTHORIZED');
    const token = await findToken(plane.database.db, m[1]!);
    if (!token) throw new VigilError('VIGIL_ERR_UNAUTHORIZED', 'unknown or revoked token');
    actor = { name: token.name, role: token.role };
  }
  if (roles.indexOf(actor.role) < roles.indexOf(need)) {
    throw new VigilError('VIGIL_ERR_FORBIDDEN', `this needs the ${need} role; the token has ${actor.role}`);
  }
  return actor;
}
