import type { IncomingMessage } from 'node:http';
import type { accessRoutes } from '../../contract/control/access.ts';
import { recordAudit } from '../../db/queries/audit.ts';
import { claimLoginAttempt, settleLoginAttempt } from '../../db/queries/login-attempts.ts';
import { createApiToken, listApiTokens, revokeApiToken } from '../../db/queries/tokens.ts';
import {
  countActiveAdmins,
  createSession,
  createUser,
  findUserByName,
  listUsers,
  revokeSession,
  revokeUserSessions,
  updateUser,
} from '../../db/queries/users.ts';
import type { UserRole } from '../../db/schema/index.ts';
import { withTransaction } from '../../db/transaction.ts';
import { VigilError } from '../errors.ts';
import { peerAddress } from '../ingress/peer-address.ts';
import { audited } from './audited.ts';
import { isLoopback } from './auth.ts';
import type { Handlers } from './handler.ts';
import { describeRefusal, LOGIN_WINDOW_MS, loginRefusal } from './login-limits.ts';
import { decoyHash, hashPassword, passwordProblem, verifyPassword } from './passwords.ts';

/** A console session lasts a working shift; after that the user logs in again. */
export const SESSION_TTL_SECONDS = 12 * 3600;

/** A user as the API shows it: never the password hash. */
function userView(u: { id: number; username: string; role: UserRole; disabledAt: Date | null }) {
  return { id: u.id, username: u.username, role: u.role, disabled: u.disabledAt !== null };
}

function checkPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new VigilError('VIGIL_ERR_INVALID_BODY', `password: ${problem}`);
}

/**
 * Where a login came from: the socket's address, or, for a call the console makes on a browser's
 * behalf (loopback, marked x-vigil-console), the browser's address it reports in
 * x-forwarded-for. The console sets that header from its own socket, never from the browser's
 * headers (app/server.mjs), so a browser cannot choose the address it is counted under.
 */
function clientAddress(req: IncomingMessage): string {
  const socket = peerAddress(req) ?? '';
  const forwarded = req.headers['x-forwarded-for'];
  const fromConsole = isLoopback(socket) && req.headers['x-vigil-console'] !== undefined;
  if (fromConsole && typeof forwarded === 'string' && forwarded.length > 0)
    return forwarded.split(',')[0]!.trim().slice(0, 100);
  return socket;
}

/** API tokens, console logins and users. */
export const accessHandlers: Handlers<typeof accessRoutes> = {
  createToken: async ({ ctx, actor, body: b }) => {
    const created = await audited(ctx, actor, 'token.create', `token/${b.name}`, async (tx) => {
      const c = await createApiToken(tx, { name: b.name, role: b.role });
      return { after: { id: c.row.id, name: c.row.name, role: c.row.role }, result: c };
    });
    await ctx.plane.refreshTokenPresence();
    return { id: created.row.id, name: created.row.name, role: created.row.role, token: created.token };
  },
  listTokens: async ({ ctx }) => ({ tokens: await listApiTokens(ctx.plane.database.db) }),
  revokeToken: async ({ ctx, actor, params: { id } }) => {
    const ok = await audited(ctx, actor, 'token.revoke', `token/${id}`, async (tx) => ({
      result: await revokeApiToken(tx, id),
    }));
    if (!ok) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `token ${id}`);
    await ctx.plane.refreshTokenPresence();
  },
  login: async ({ ctx, req, body: b }) => {
    const db = ctx.plane.database.db;
    const now = new Date();
    const address = clientAddress(req);
    const target = `user/${b.username}`;
    const claim = await claimLoginAttempt(
      db,
      { username: b.username, address, now, since: new Date(now.getTime() - LOGIN_WINDOW_MS) },
      (counts) => loginRefusal(counts, now),
    );
    if ('refused' in claim) {
      const r = claim.refused;
      await withTransaction(db, (tx) =>
        recordAudit(tx, {
          actor: b.username,
          action: 'auth.login_rate_limited',
          target,
          after: { address, limit: r.scope, failures: r.count },
        }),
      );
      throw new VigilError('VIGIL_ERR_RATE_LIMITED', describeRefusal(r), {
        'retry-after': String(r.retryAfterSeconds),
      });
    }
    const user = await findUserByName(db, b.username);
    // An unknown user costs the same argon2 verification as a wrong password, so timing does
    // not tell which usernames exist.
    const ok = await verifyPassword(user?.passwordHash ?? (await decoyHash()), b.password).catch(() => false);
    if (!user || !ok || user.disabledAt) {
      await settleLoginAttempt(db, claim.id, 'failed');
      const reason = !user ? 'unknown user' : user.disabledAt ? 'disabled' : 'wrong password';
      await withTransaction(db, (tx) =>
        recordAudit(tx, { actor: b.username, action: 'auth.login_failed', target, after: { address, reason } }),
      );
      throw new VigilError('VIGIL_ERR_LOGIN_FAILED');
    }
    await settleLoginAttempt(db, claim.id, 'succeeded');
    const { token, session } = await withTransaction(db, async (tx) => {
      const created = await createSession(tx, {
        userId: user.id,
        ttlSeconds: SESSION_TTL_SECONDS,
        clientAddress: address,
        now,
      });
      await recordAudit(tx, {
        actor: user.username,
        action: 'auth.login',
        target,
        after: { address, session: created.session.id, role: user.role },
      });
      return created;
    });
    return {
      token,
      csrf_token: session.csrfToken,
      expires_at: session.expiresAt,
      user: { name: user.username, role: user.role },
    };
  },
  getCurrentSession: async ({ actor }) => ({
    user: { name: actor.name, role: actor.role },
    expires_at: actor.session?.expiresAt ?? null,
    csrf_token: actor.session?.csrfToken ?? null,
  }),
  logout: async ({ ctx, actor }) => {
    const session = actor.session;
    if (!session)
      throw new VigilError(
        'VIGIL_ERR_INVALID_BODY',
        'only a console session can log out; revoke an API token with DELETE /api/v1/tokens/{id}',
      );
    await audited(ctx, actor, 'auth.logout', `user/${actor.name}`, async (tx) => ({
      after: { session: session.id },
      result: await revokeSession(tx, session.id),
    }));
  },
  listUsers: async ({ ctx }) => ({ users: await listUsers(ctx.plane.database.db) }),
  createUser: async ({ ctx, actor, body: b }) => {
    checkPassword(b.password);
    if (await findUserByName(ctx.plane.database.db, b.username))
      throw new VigilError('VIGIL_ERR_CONFLICT', `user "${b.username}" exists`);
    const passwordHash = await hashPassword(b.password);
    const user = await audited(ctx, actor, 'user.create', `user/${b.username}`, async (tx) => {
      const u = await createUser(tx, { username: b.username, passwordHash, role: b.role });
      return { after: { id: u.id, username: u.username, role: u.role }, result: u };
    });
    return { id: user.id, username: user.username, role: user.role };
  },
  updateUser: async ({ ctx, actor, params: { name }, body: b }) => {
    if (b.password !== undefined) checkPassword(b.password);
    const passwordHash = b.password === undefined ? undefined : await hashPassword(b.password);
    const changed = await audited(ctx, actor, 'user.update', `user/${name}`, async (tx) => {
      const user = await findUserByName(tx, name);
      if (!user) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `user "${name.slice(0, 100)}"`);
      const losesAdmin =
        user.role === 'admin' &&
        !user.disabledAt &&
        ((b.role !== undefined && b.role !== 'admin') || b.disabled === true);
      if (losesAdmin && (await countActiveAdmins(tx)) <= 1) {
        throw new VigilError(
          'VIGIL_ERR_CONFLICT',
          `"${name}" is the last admin who can log in; make another admin first`,
        );
      }
      const after = await updateUser(tx, user.id, { role: b.role, passwordHash, disabled: b.disabled });
      // A new role, a new password or a disabled account all mean: the old sessions end now.
      const ended = await revokeUserSessions(tx, user.id);
      const view = (u: typeof user) => ({ role: u.role, disabled: u.disabledAt !== null });
      return {
        before: view(user),
        after: { ...view(after), password_changed: passwordHash !== undefined, sessions_ended: ended },
        result: { user: after, ended },
      };
    });
    return { ...userView(changed.user), sessions_ended: changed.ended };
  },
  endUserSessions: async ({ ctx, actor, params: { name } }) => {
    const ended = await audited(ctx, actor, 'user.logout_everywhere', `user/${name}`, async (tx) => {
      const user = await findUserByName(tx, name);
      if (!user) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `user "${name.slice(0, 100)}"`);
      const n = await revokeUserSessions(tx, user.id);
      return { after: { sessions_ended: n }, result: n };
    });
    return { username: name, sessions_ended: ended };
  },
};
