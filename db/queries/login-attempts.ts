// Console login attempts, counted for the failed-login limits (serving/api/login-limits.ts).
import { and, eq, gt, inArray, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { loginAttempts, type LoginOutcome } from '../schema/index.ts';
import { withTransaction } from '../transaction.ts';

/** Serialises claims on every node sharing the database: count-then-insert is one step. */
const LOGIN_LOCK_KEY = 0x76_67_6c_01; // 'vgl' + 1

export interface LoginCountsRow {
  userAtAddress: { count: number; oldest: Date | null };
  address: { count: number; oldest: Date | null };
  user: { count: number; oldest: Date | null };
}

/**
 * Counts the recent unforgiven attempts for this user and address and, unless `refuse` says
 * no, records this one as pending, all under one lock. The attempt counts as a failure until
 * it is settled, so a burst of parallel guesses sees every earlier guess of the burst.
 */
export async function claimLoginAttempt<R>(
  db: Db,
  p: { username: string; address: string; since: Date; now: Date },
  refuse: (counts: LoginCountsRow) => R | null,
): Promise<{ id: number } | { refused: R }> {
  return withTransaction(db, async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${LOGIN_LOCK_KEY})`);
    const mine = and(eq(loginAttempts.username, p.username), eq(loginAttempts.address, p.address));
    const [row] = await tx
      .select({
        pair: sql<number>`count(*) filter (where ${mine})`.mapWith(Number),
        pairOldest: sql<string | null>`min(${loginAttempts.at}) filter (where ${mine})`,
        address: sql<number>`count(*) filter (where ${loginAttempts.address} = ${p.address})`.mapWith(Number),
        addressOldest: sql<
          string | null
        >`min(${loginAttempts.at}) filter (where ${loginAttempts.address} = ${p.address})`,
        user: sql<number>`count(*) filter (where ${loginAttempts.username} = ${p.username})`.mapWith(Number),
        userOldest: sql<
          string | null
        >`min(${loginAttempts.at}) filter (where ${loginAttempts.username} = ${p.username})`,
      })
      .from(loginAttempts)
      .where(
        and(
          gt(loginAttempts.at, p.since),
          inArray(loginAttempts.outcome, ['pending', 'failed']),
          or(eq(loginAttempts.username, p.username), eq(loginAttempts.address, p.address)),
        ),
      );
    const date = (v: string | null | undefined) => (v ? new Date(v) : null);
    const refused = refuse({
      userAtAddress: { count: row?.pair ?? 0, oldest: date(row?.pairOldest) },
      address: { count: row?.address ?? 0, oldest: date(row?.addressOldest) },
      user: { count: row?.user ?? 0, oldest: date(row?.userOldest) },
    });
    if (refused !== null) return { refused };
    const [created] = await tx
      .insert(loginAttempts)
      .values({ username: p.username, address: p.address, at: p.now, outcome: 'pending' })
      .returning({ id: loginAttempts.id });
    return { id: created!.id };
  });
}

/**
 * Records how a claimed attempt ended. A success forgives the earlier failures of the same user
 * from the same address, so a few typos do not linger against the next mistake.
 */
export async function settleLoginAttempt(
  db: Db,
  id: number,
  outcome: Exclude<LoginOutcome, 'pending' | 'cleared'>,
): Promise<void> {
  await withTransaction(db, async (tx) => {
    const [row] = await tx.update(loginAttempts).set({ outcome }).where(eq(loginAttempts.id, id)).returning();
    if (!row || outcome !== 'succeeded') return;
    await tx
      .update(loginAttempts)
      .set({ outcome: 'cleared' })
      .where(
        and(
          eq(loginAttempts.username, row.username),
          eq(loginAttempts.address, row.address),
          eq(loginAttempts.outcome, 'failed'),
        ),
      );
  });
}

/** Deletes attempts older than `before` (they no longer count against any limit). */
export async function pruneLoginAttempts(db: Db, before: Date): Promise<number> {
  const rows = await db.delete(loginAttempts).where(lt(loginAttempts.at, before)).returning({ id: loginAttempts.id });
  return rows.length;
}
