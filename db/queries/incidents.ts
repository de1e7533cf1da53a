import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { incidents, type IncidentStatus } from '../schema/incidents.ts';

export type Incident = typeof incidents.$inferSelect;

/** Opens an incident for a paging alert unless one is already open for it. */
export async function openIncidentForAlert(
  tx: Db,
  p: { fingerprint: string; title: string; severity: string; at: Date },
): Promise<Incident> {
  const [open] = await tx
    .select()
    .from(incidents)
    .where(and(eq(incidents.alertFingerprint, p.fingerprint), eq(incidents.status, 'open')))
    .limit(1);
  if (open) return open;
  const [row] = await tx
    .insert(incidents)
    .values({ title: p.title, severity: p.severity, alertFingerprint: p.fingerprint, status: 'open', openedAt: p.at })
    .returning();
  return row!;
}

/** Resolves the open incident of an alert, if any. */
export async function resolveIncidentForAlert(tx: Db, p: { fingerprint: string; at: Date }): Promise<void> {
  await tx
    .update(incidents)
    .set({ status: 'resolved', resolvedAt: p.at })
    .where(and(eq(incidents.alertFingerprint, p.fingerprint), eq(incidents.status, 'open')));
}

export function listIncidents(db: Db, p: { status?: IncidentStatus; limit?: number } = {}): Promise<Incident[]> {
  const q = db.select().from(incidents);
  return (p.status ? q.where(eq(incidents.status, p.status)) : q)
    .orderBy(desc(incidents.openedAt))
    .limit(p.limit ?? 100);
}
