// Deletes rows that have outlived their retention (serving/retention/retention-job.ts).
import { and, isNotNull, lt, notInArray, or, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../client.ts';
import {
  activeRolloutStatuses,
  auditLog,
  loginAttempts,
  requestRollups,
  rollouts,
  sessions,
  sliBuckets,
  webhookOutbox,
} from '../schema/index.ts';

/**
 * Rows deleted per statement. A year of audit rows deleted at once would hold its locks and
 * bloat one transaction; batches keep each statement short, so writers never wait long.
 */
const BATCH = 5000;

async function deleteInBatches(db: Db, table: PgTable, where: SQL): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await db.execute(
      sql`delete from ${table} where ctid in (select ctid from ${table} where ${where} limit ${BATCH})`,
    );
    const n = affectedRows(result);
    total += n;
    if (n < BATCH) return total;
  }
}

/** postgres.js reports `count`, PGlite `affectedRows`. */
function affectedRows(result: unknown): number {
  const r = result as { count?: number; affectedRows?: number };
  return Number(r.count ?? r.affectedRows ?? 0);
}

export interface RetentionCutoffs {
  sliBuckets: Date;
  requestRollups: Date;
  auditLog: Date;
  deliveredWebhooks: Date;
  finishedRollouts: Date;
  loginAttempts: Date;
  sessions: Date;
}

export type PrunedCounts = Record<keyof RetentionCutoffs, number>;

/** Deletes every row older than its table's cutoff; returns how many went from each. */
export async function pruneExpiredRows(db: Db, c: RetentionCutoffs): Promise<PrunedCounts> {
  return {
    sliBuckets: await deleteInBatches(db, sliBuckets, lt(sliBuckets.bucketStart, c.sliBuckets)),
    requestRollups: await deleteInBatches(db, requestRollups, lt(requestRollups.bucketStart, c.requestRollups)),
    auditLog: await deleteInBatches(db, auditLog, lt(auditLog.at, c.auditLog)),
    deliveredWebhooks: await deleteInBatches(
      db,
      webhookOutbox,
      and(isNotNull(webhookOutbox.deliveredAt), lt(webhookOutbox.deliveredAt, c.deliveredWebhooks))!,
    ),
    finishedRollouts: await deleteInBatches(
      db,
      rollouts,
      and(notInArray(rollouts.status, [...activeRolloutStatuses]), lt(rollouts.updatedAt, c.finishedRollouts))!,
    ),
    loginAttempts: await deleteInBatches(db, loginAttempts, lt(loginAttempts.at, c.loginAttempts)),
    sessions: await deleteInBatches(
      db,
      sessions,
      or(lt(sessions.expiresAt, c.sessions), lt(sessions.revokedAt, c.sessions))!,
    ),
  };
}
