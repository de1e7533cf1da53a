// The webhook outbox: enqueue in the transaction that decides to notify, deliver later.
// Delivery is at least once: a sender that dies after sending but before markDelivered()
// leaves the row to be sent again when its lease runs out, so receivers should dedupe on the
// payload's own key.
import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { webhookOutbox, type WebhookOutboxRow } from '../schema/index.ts';
import { withTransaction } from '../transaction.ts';

/** How long a claimed row stays invisible to other senders unless marked first. */
export const DEFAULT_CLAIM_LEASE_MS = 30_000;

export interface WebhookToSend {
  receiver: string;
  url: string;
  payload: unknown;
  /** Enqueueing the same key again is a no-op. */
  dedupeKey: string;
  /** Defaults to the database's now(). */
  notBefore?: Date;
}

/** Queues a webhook unless one with the same dedupe key exists; true when this call queued it. */
export async function enqueueWebhook(tx: Db, webhook: WebhookToSend): Promise<boolean> {
  const inserted = await tx
    .insert(webhookOutbox)
    .values({
      receiver: webhook.receiver,
      url: webhook.url,
      payload: webhook.payload,
      dedupeKey: webhook.dedupeKey,
      ...(webhook.notBefore ? { nextAttemptAt: webhook.notBefore } : {}),
    })
    .onConflictDoNothing({ target: webhookOutbox.dedupeKey })
    .returning({ id: webhookOutbox.id });
  return inserted.length > 0;
}

/**
 * Claims up to `limit` undelivered rows due at `now`, oldest first, and leases them: their
 * next_attempt_at moves to now + leaseMs in the same transaction. `FOR UPDATE SKIP LOCKED`
 * makes a concurrent claimer pass over rows being claimed instead of waiting for them, and
 * once the lease commits the rows are no longer due, so no two senders get the same row.
 */
export function claimDueWebhooks(
  db: Db,
  params: { now: Date; limit: number; leaseMs?: number; fence?: (tx: Db) => Promise<void> },
): Promise<WebhookOutboxRow[]> {
  const leaseUntil = new Date(params.now.getTime() + (params.leaseMs ?? DEFAULT_CLAIM_LEASE_MS));
  return withTransaction(db, async (tx) => {
    await params.fence?.(tx);
    const due = await tx
      .select({ id: webhookOutbox.id })
      .from(webhookOutbox)
      .where(and(isNull(webhookOutbox.deliveredAt), lte(webhookOutbox.nextAttemptAt, params.now)))
      .orderBy(asc(webhookOutbox.id))
      .limit(params.limit)
      .for('update', { skipLocked: true });
    if (due.length === 0) return [];
    const claimed = await tx
      .update(webhookOutbox)
      .set({ nextAttemptAt: leaseUntil })
      .where(
        inArray(
          webhookOutbox.id,
          due.map((row) => row.id),
        ),
      )
      .returning();
    // UPDATE ... RETURNING has no defined order.
    return claimed.sort((a, b) => a.id - b.id);
  });
}

/** Records a successful delivery; the row is never claimed again. */
export async function markDelivered(db: Db, id: number, at: Date): Promise<void> {
  await db
    .update(webhookOutbox)
    .set({ deliveredAt: at, attempts: sql`${webhookOutbox.attempts} + 1` })
    .where(eq(webhookOutbox.id, id));
}

/** Records a failed attempt and when to try again (the caller picks the back-off). */
export async function markFailed(db: Db, id: number, params: { error: string; nextAttemptAt: Date }): Promise<void> {
  await db
    .update(webhookOutbox)
    .set({
      attempts: sql`${webhookOutbox.attempts} + 1`,
      lastError: params.error,
      nextAttemptAt: params.nextAttemptAt,
    })
    .where(eq(webhookOutbox.id, id));
}
