// The audit trail. Write it in the same transaction as the change it records, so a change
// and its audit row commit or roll back together.
import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { auditLog, type AuditEntry } from '../schema/index.ts';

export interface AuditRecord {
  actor: string;
  action: string;
  target: string;
  before?: unknown;
  after?: unknown;
  /** Defaults to the database's now(). */
  at?: Date;
}

/** Appends one audit row; pass the transaction that makes the change. */
export async function recordAudit(tx: Db, record: AuditRecord): Promise<AuditEntry> {
  const [row] = await tx
    .insert(auditLog)
    .values({
      actor: record.actor,
      action: record.action,
      target: record.target,
      before: record.before ?? null,
      after: record.after ?? null,
      ...(record.at ? { at: record.at } : {}),
    })
    .returning();
  return row!;
}

/** Audit rows newest first, optionally filtered by actor, action and/or target. */
export function listAudit(
  db: Db,
  params: { actor?: string; action?: string; target?: string; limit: number },
): Promise<AuditEntry[]> {
  return db
    .select()
    .from(auditLog)
    .where(
      and(
        params.actor === undefined ? undefined : eq(auditLog.actor, params.actor),
        params.action === undefined ? undefined : eq(auditLog.action, params.action),
        params.target === undefined ? undefined : eq(auditLog.target, params.target),
      ),
    )
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(params.limit);
}
