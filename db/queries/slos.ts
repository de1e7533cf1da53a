// SLO definitions, keyed by their id.
import { asc, eq } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { slos, type NewSlo, type Slo } from '../schema/index.ts';
import { notifyState } from './state-notify.ts';

export type SloInput = Omit<NewSlo, 'createdAt' | 'updatedAt'>;

/** Creates the SLO or replaces its definition (created_at is kept). */
export async function upsertSlo(db: Db, slo: SloInput): Promise<Slo> {
  const definition = {
    deployment: slo.deployment,
    version: slo.version ?? null,
    kind: slo.kind,
    objective: slo.objective,
    windowSeconds: slo.windowSeconds,
    latencyThresholdSeconds: slo.latencyThresholdSeconds ?? null,
    description: slo.description ?? null,
  };
  const [row] = await db
    .insert(slos)
    .values({ id: slo.id, ...definition })
    .onConflictDoUpdate({ target: slos.id, set: { ...definition, updatedAt: new Date() } })
    .returning();
  await notifyState(db, { kind: 'slos' });
  return row!;
}

/** All SLOs, or those of one deployment, by id. */
export function listSlos(db: Db, params: { deployment?: string } = {}): Promise<Slo[]> {
  return db
    .select()
    .from(slos)
    .where(params.deployment === undefined ? undefined : eq(slos.deployment, params.deployment))
    .orderBy(asc(slos.id));
}

export async function getSlo(db: Db, id: string): Promise<Slo | undefined> {
  const [row] = await db.select().from(slos).where(eq(slos.id, id));
  return row;
}

/** Deletes the SLO; true when it existed. Its SLI buckets are left to age out. */
export async function deleteSlo(db: Db, id: string): Promise<boolean> {
  const rows = await db.delete(slos).where(eq(slos.id, id)).returning({ id: slos.id });
  if (rows.length > 0) await notifyState(db, { kind: 'slos' });
  return rows.length > 0;
}
