// Console users and their sessions. Passwords are hashed by the caller (serving/api/passwords.ts)
// so that this module stays free of the argon2 native binding.
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, count, eq, gt, isNull } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { sessions, users, type Session, type UserRole, type User } from '../schema/index.ts';

/** Session tokens start with this, so one is told apart from an API token (vgl_) at a glance. */
export const SESSION_PREFIX = 'vgs_';

export async function createUser(db: Db, u: { username: string; passwordHash: string; role: UserRole }): Promise<User> {
  const [row] = await db.insert(users).values(u).returning();
  return row!;
}

export async function findUserByName(db: Db, username: string): Promise<User | undefined> {
  const [row] = await db.select().from(users).where(eq(users.username, username));
  return row;
}

export function listUsers(
  db: Db,
): Promise<Pick<User, 'id' | 'username' | 'role' | 'createdAt' | 'disabledAt' | 'lastLoginAt'>[]> {
  return db
    .select({
      id: users.id,
      username: users.username,
      role: users.role,
      createdAt: users.createdAt,
      disabledAt: users.disabledAt,
      lastLoginAt: users.lastLoginAt,
    })
    .from(users)
    .orderBy(asc(users.username));
}

export async function countUsers(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(users);
  return row?.n ?? 0;
}

function hashSessionToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Opens a session for a user; returns the token (shown once, kept in the cookie) and the row. */
export async function createSession(
  db: Db,
  params: { userId: number; ttlSeconds: number; clientAddress: string | null; now?: Date },
): Promise<{ token: string; session: Session }> {
  const now = params.now ?? new Date();
  const token = SESSION_PREFIX + randomBytes(32).toString('base64url');
  const [session] = await db
    .insert(sessions)
    .values({
      tokenHash: hashSessionToken(token),
      userId: params.userId,
      csrfToken: randomBytes(24).toString('base64url'),
      expiresAt: new Date(now.getTime() + params.ttlSeconds * 1000),
      clientAddress: params.clientAddress,
    })
    .returning();
  await db.update(users).set({ lastLoginAt: now }).where(eq(users.id, params.userId));
  return { token, session: session! };
}

/** The live session (not expired, not revoked, user not disabled) a token names, with its user. */
export async function findSession(
  db: Db,
  token: string,
  now: Date = new Date(),
): Promise<{ session: Session; user: User } | undefined> {
  if (!token.startsWith(SESSION_PREFIX)) return undefined;
  const [row] = await db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        eq(sessions.tokenHash, hashSessionToken(token)),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, now),
        isNull(users.disabledAt),
      ),
    );
  return row;
}

export async function revokeSession(db: Db, id: number, at: Date = new Date()): Promise<void> {
  await db.update(sessions).set({ revokedAt: at }).where(eq(sessions.id, id));
}

/** Ends every open session of a user; returns how many were open. */
export async function revokeUserSessions(db: Db, userId: number, at: Date = new Date()): Promise<number> {
  const rows = await db
    .update(sessions)
    .set({ revokedAt: at })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, at)))
    .returning({ id: sessions.id });
  return rows.length;
}

/** Changes a user's role, password hash or disabled state; the fields left out stay. */
export async function updateUser(
  db: Db,
  userId: number,
  change: { role?: UserRole; passwordHash?: string; disabled?: boolean },
  at: Date = new Date(),
): Promise<User> {
  const set: Partial<typeof users.$inferInsert> = {};
  if (change.role !== undefined) set.role = change.role;
  if (change.passwordHash !== undefined) set.passwordHash = change.passwordHash;
  if (change.disabled !== undefined) set.disabledAt = change.disabled ? at : null;
  const [row] = await db.update(users).set(set).where(eq(users.id, userId)).returning();
  return row!;
}

/** Admins who can still log in, used to refuse taking the last one away. */
export async function countActiveAdmins(db: Db): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.role, 'admin'), isNull(users.disabledAt)));
  return row?.n ?? 0;
}
