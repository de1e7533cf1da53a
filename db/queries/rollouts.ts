// Rollouts. Status changes are compare-and-set on the status the caller last saw, so two
// writers (an API call and the analysis loop) cannot both act on one rollout.
import { and, desc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { activeRolloutStatuses, rollouts, type NewRollout, type Rollout, type RolloutStatus } from '../schema/index.ts';
import { notifyState } from './state-notify.ts';

export async function insertRollout(tx: Db, rollout: NewRollout): Promise<Rollout> {
  const [row] = await tx.insert(rollouts).values(rollout).returning();
  await notifyState(tx, { kind: 'rollouts', deployment: row!.deployment });
  return row!;
}

/** The Progressing or Paused rollout of each deployment (at most one each, by a unique index). */
export function listActiveRollouts(db: Db): Promise<Rollout[]> {
  return db
    .select()
    .from(rollouts)
    .where(inArray(rollouts.status, [...activeRolloutStatuses]))
    .orderBy(rollouts.id);
}

export function listRollouts(db: Db, params: { deployment?: string; limit: number }): Promise<Rollout[]> {
  return db
    .select()
    .from(rollouts)
    .where(params.deployment === undefined ? undefined : eq(rollouts.deployment, params.deployment))
    .orderBy(desc(rollouts.id))
    .limit(params.limit);
}

export async function getRollout(db: Db, id: number): Promise<Rollout | undefined> {
  const [row] = await db.select().from(rollouts).where(eq(rollouts.id, id));
  return row;
}

/** Whether a rollout of this deployment ever used this canary version (vigil.yaml rollouts start once). */
export async function hasRolloutOf(db: Db, deployment: string, canaryVersion: string): Promise<boolean> {
  const rows = await db
    .select({ id: rollouts.id })
    .from(rollouts)
    .where(and(eq(rollouts.deployment, deployment), eq(rollouts.canaryVersion, canaryVersion)))
    .limit(1);
  return rows.length > 0;
}

export type RolloutPatch = Partial<Pick<Rollout, 'status' | 'stepIndex' | 'canaryWeight' | 'reason' | 'analysis'>>;

/** Applies `patch` only if the rollout is still in `expected` status; undefined when it was not. */
export async function updateRollout(
  tx: Db,
  id: number,
  expected: RolloutStatus,
  patch: RolloutPatch,
): Promise<Rollout | undefined> {
  const [row] = await tx
    .update(rollouts)
    .set({ ...patch, updatedAt: new Date() })
    .where(and(eq(rollouts.id, id), eq(rollouts.status, expected)))
    .returning();
  if (row) await notifyState(tx, { kind: 'rollouts', deployment: row.deployment });
  return row;
}
