// The leadership row: its epoch fences every leader write (see serving/cluster/leadership.ts).
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { leadership } from '../schema/index.ts';

/** Creates the single leadership row if it is missing (the first start on a database). */
export async function ensureLeadershipRow(db: Db): Promise<void> {
  await db.insert(leadership).values({ id: 1, epoch: 0 }).onConflictDoNothing({ target: leadership.id });
}

/**
 * Takes the next epoch for `instance` and returns it. The UPDATE waits for any transaction that
 * holds the row (a fenced write of the previous leader still in flight), so once this returns no
 * write of an older epoch can commit.
 */
export async function claimNextEpoch(db: Db, instance: string): Promise<number> {
  const [row] = await db
    .update(leadership)
    .set({ epoch: sql`${leadership.epoch} + 1`, holder: instance, acquiredAt: sql`now()`, renewedAt: sql`now()` })
    .where(eq(leadership.id, 1))
    .returning({ epoch: leadership.epoch });
  if (!row) throw new Error('the leadership row is missing (migrations not applied?)');
  return row.epoch;
}

/**
 * The compare-and-set every leader write makes inside its own transaction: true (and the row
 * locked until that transaction ends) when `epoch` is still the current one and `instance` holds it.
 */
export async function holdsEpoch(tx: Db, epoch: number, instance: string): Promise<boolean> {
  const rows = await tx
    .update(leadership)
    .set({ renewedAt: sql`now()` })
    .where(and(eq(leadership.id, 1), eq(leadership.epoch, epoch), eq(leadership.holder, instance)))
    .returning({ epoch: leadership.epoch });
  return rows.length === 1;
}

export async function readLeadership(
  db: Db,
): Promise<{ epoch: number; holder: string | null; acquiredAt: Date | null; renewedAt: Date | null } | undefined> {
  const [row] = await db.select().from(leadership).where(eq(leadership.id, 1));
  return row && { epoch: row.epoch, holder: row.holder, acquiredAt: row.acquiredAt, renewedAt: row.renewedAt };
}
