// Console users and their sessions. Passwords are hashed by the caller (serving/api/passwords.ts)
// so that this module stays free of the argon2 native binding.
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, count, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { auditLog, sessions, users, type ApiTokenRole, type Session, type User } from '../schema/index.ts';

/** Session tokens start with this, so one is told apart from an API token (vgl_) at a glance. */
export const SESSION_PREFIX = 'vgs_';

export async function createUser(db: Db, u: { username: string; passwordHash: string; role: ApiTokenRole }): Promise<User> {
  const [row] = await db.insert(users).values(u).returning();
  return row!;
}

export async function findUserByName(db: Db, username: string): Promise<User | undefined> {
  const [row] = await db.select().from(users).where(eq(users.username, username));
  return row;
}

export function listUsers(db: Db): Promise<Pick<User, 'id' | 'username' | 'role' | 'createdAt' | 'disabledAt' | 'lastLoginAt'>[]> {
  return db.select({ id: users.id, username: users.username, role: users.role, createdAt: users.createdAt, disabledAt: users.disabledAt, lastLoginAt: users.lastLoginAt }).from(users).orderBy(asc(users.username));
}

export async function countUsers(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(users);
  return row?.n ?? 0;
}

function hashSessionToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Opens a session for a user; returns the token (shown once, kept in the cookie) and the row. */
export async function createSession(db: Db, params: { userId: number; ttlSeconds: number; clientAddress: string | null; now?: Date }): Promise<{ token: string; session: Session }> {
  const now = params.now ?? new Date();
  const token = SESSION_PREFIX + randomBytes(32).toString('base64url');
  const [session] = await db
    .insert(sessions)
    .values({ tokenHash: hashSessionToken(token), userId: params.userId, csrfToken: randomBytes(24).toString('base64url'), expiresAt: new Date(now.getTime() + params.ttlSeconds * 1000), clientAddress: params.clientAddress })
    .returning();
  await db.update(users).set({ lastLoginAt: now }).where(eq(users.id, params.userId));
  return { token, session: session! };
}

/** The live session (not expired, not revoked, user not disabled) a token names, with its user. */
export async function findSession(db: Db, token: string, now: Date = new Date()): Promise<{ session: Session; user: User } | undefined> {
  if (!token.startsWith(SESSION_PREFIX)) return undefined;
  const [row] = await db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, hashSessionToken(token)), isNull(sessions.revokedAt), gt(sessions.expiresAt, now), isNull(users.disabledAt)));
  return row;
}

export async function revokeSession(db: Db, id: number, at: Date = new Date()): Promise<void> {
  await db.update(sessions).set({ revokedAt: at }).where(eq(sessions.id, id));
}

/**
 * Failed logins for a username since `since`, read from the audit log (every login attempt is
 * recorded there, so the limit holds across restarts and, later, across nodes).
 */
export async function failedLoginsSince(db: Db, username: string, since: Date): Promise<{ count: number; oldest: Date | null }> {
  const [row] = await db
    .select({ n: count(), oldest: sql<string | null>`min(${auditLog.at})` })
    .from(auditLog)
    .where(and(eq(auditLog.target, `user/${username}`), eq(auditLog.action, 'auth.login_failed'), gt(auditLog.at, since)));
  return { count: row?.n ?? 0, oldest: row?.oldest ? new Date(row.oldest) : null };
}
