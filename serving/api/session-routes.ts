import { z } from 'zod';
import { recordAudit } from '../../db/queries/audit.ts';
import { createSession, createUser, failedLoginsSince, findUserByName, listUsers, revokeSession } from '../../db/queries/users.ts';
import { withTransaction } from '../../db/transaction.ts';
import { VigilError } from '../errors.ts';
import { sendJson } from '../ingress/error-response.ts';
import type { Route } from './api-routes.ts';
import { audited } from './audited.ts';
import { authenticate, authorize, isLoopback, roles } from './auth.ts';
import { decoyHash, hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import { readJson } from './read-json.ts';

/** A console session lasts a working shift; after that the user logs in again. */
export const SESSION_TTL_SECONDS = 12 * 3600;
/** Five failed logins for one username within 15 minutes lock further attempts until the oldest ages out. */
export const LOGIN_FAILURE_LIMIT = 5;
export const LOGIN_FAILURE_WINDOW_MS = 15 * 60_000;

const loginBody = z.strictObject({ username: z.string().min(1).max(100), password: z.string().min(1).max(1024) });
export const usernameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, { error: 'usernames are 1-64 letters, digits, ".", "_", "@" or "-"' });
const userBody = z.strictObject({ username: usernameSchema, password: z.string(), role: z.enum(roles) });

/**
 * Where a login came from: the socket's address, or, when the console (on loopback) forwards
 * the browser's request, the address it reports in x-forwarded-for.
 */
function clientAddress(req: import('node:http').IncomingMessage): string | null {
  const socket = req.socket.remoteAddress ?? null;
  const forwarded = req.headers['x-forwarded-for'];
  if (isLoopback(socket ?? undefined) && typeof forwarded === 'string' && forwarded.length > 0) return forwarded.split(',')[0]!.trim().slice(0, 100);
  return socket;
}

export const sessionRoutes: Route[] = [
  {
    method: 'POST', pattern: /^\/api\/v1\/sessions$/, template: '/api/v1/sessions',
    handler: async (req, res, ctx) => {
      const b = await readJson(req, loginBody);
      const db = ctx.plane.database.db;
      const now = new Date();
      const address = clientAddress(req);
      const target = `user/${b.username}`;
      const failures = await failedLoginsSince(db, b.username, new Date(now.getTime() - LOGIN_FAILURE_WINDOW_MS));
      if (failures.count >= LOGIN_FAILURE_LIMIT) {
        const retryAfter = Math.max(1, Math.ceil(((failures.oldest?.getTime() ?? now.getTime()) + LOGIN_FAILURE_WINDOW_MS - now.getTime()) / 1000));
        await withTransaction(db, (tx) => recordAudit(tx, { actor: b.username, action: 'auth.login_rate_limited', target, after: { address, failures: failures.count } }));
        throw new VigilError('VIGIL_ERR_RATE_LIMITED', `retry in ${retryAfter} s`, { 'retry-after': String(retryAfter) });
      }
      const user = await findUserByName(db, b.username);
      // An unknown user costs the same argon2 verification as a wrong password, so timing does
      // not tell which usernames exist.
      const ok = await verifyPassword(user?.passwordHash ?? (await decoyHash()), b.password);
      if (!user || !ok || user.disabledAt) {
        await withTransaction(db, (tx) => recordAudit(tx, { actor: b.username, action: 'auth.login_failed', target, after: { address, reason: !user ? 'unknown user' : user.disabledAt ? 'disabled' : 'wrong password' } }));
        throw new VigilError('VIGIL_ERR_LOGIN_FAILED');
      }
      const { token, session } = await withTransaction(db, async (tx) => {
        const created = await createSession(tx, { userId: user.id, ttlSeconds: SESSION_TTL_SECONDS, clientAddress: address, now });
        await recordAudit(tx, { actor: user.username, action: 'auth.login', target, after: { address, session: created.session.id, role: user.role } });
        return created;
      });
      sendJson(res, 201, { token, csrf_token: session.csrfToken, expires_at: session.expiresAt.toISOString(), user: { name: user.username, role: user.role } });
    },
  },
  {
    method: 'GET', pattern: /^\/api\/v1\/sessions\/current$/, template: '/api/v1/sessions/current',
    handler: async (req, res, ctx) => {
      const actor = await authenticate(req, ctx.plane);
      sendJson(res, 200, { user: { name: actor.name, role: actor.role }, expires_at: actor.session?.expiresAt.toISOString() ?? null, csrf_token: actor.session?.csrfToken ?? null });
    },
  },
  {
    method: 'DELETE', pattern: /^\/api\/v1\/sessions\/current$/, template: '/api/v1/sessions/current',
    handler: async (req, res, ctx) => {
      const actor = await authenticate(req, ctx.plane);
      if (!actor.session) throw new VigilError('VIGIL_ERR_INVALID_BODY', 'only a console session can log out; revoke an API token with DELETE /api/v1/tokens/{id}');
      const session = actor.session;
      await audited(ctx, actor, 'auth.logout', `user/${actor.name}`, async (tx) => ({ after: { session: session.id }, result: await revokeSession(tx, session.id) }));
      res.writeHead(204).end();
    },
  },
  {
    method: 'GET', pattern: /^\/api\/v1\/users$/, template: '/api/v1/users',
    handler: async (req, res, ctx) => {
      await authorize(req, ctx.plane, 'admin');
      sendJson(res, 200, { users: await listUsers(ctx.plane.database.db) });
    },
  },
  {
    method: 'POST', pattern: /^\/api\/v1\/users$/, template: '/api/v1/users',
    handler: async (req, res, ctx) => {
      const actor = await authorize(req, ctx.plane, 'admin');
      const b = await readJson(req, userBody);
      const problem = passwordProblem(b.password);
      if (problem) throw new VigilError('VIGIL_ERR_INVALID_BODY', `password: ${problem}`);
      if (await findUserByName(ctx.plane.database.db, b.username)) throw new VigilError('VIGIL_ERR_CONFLICT', `user "${b.username}" exists`);
      const passwordHash = await hashPassword(b.password);
      const user = await audited(ctx, actor, 'user.create', `user/${b.username}`, async (tx) => {
        const u = await createUser(tx, { username: b.username, passwordHash, role: b.role });
        return { after: { id: u.id, username: u.username, role: u.role }, result: u };
      });
      sendJson(res, 201, { id: user.id, username: user.username, role: user.role });
    },
  },
];
