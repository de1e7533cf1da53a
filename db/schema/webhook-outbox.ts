import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, timestamptz } from './columns.ts';

/**
 * Webhooks to send (alert notifications and the like), written in the transaction that
 * decided to send them and delivered afterwards by a sender loop: a crash between the two
 * delays a notification but never loses it.
 */
export const webhookOutbox = pgTable(
  'webhook_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    receiver: text('receiver').notNull(),
    url: text('url').notNull(),
    payload: jsonb('payload').$type<unknown>().notNull(),
    /** Same key, same notification: enqueueing it twice (a retried loop step) sends it once. */
    dedupeKey: text('dedupe_key').notNull().unique(),
    attempts: integer('attempts').notNull().default(0),
    /** When the next try may start; a sender claiming a row pushes this out as its lease. */
    nextAttemptAt: timestamptz('next_attempt_at').notNull().defaultNow(),
    deliveredAt: timestamptz('delivered_at'),
    lastError: text('last_error'),
    createdAt: createdAt(),
  },
  (t) => [
    // The sender polls for due rows every few seconds. Delivered rows are most of the table
    // and never due again, so the index leaves them out and stays small.
    index('webhook_outbox_due_idx').on(t.nextAttemptAt).where(sql`${t.deliveredAt} is null`),
  ],
);

export type WebhookOutboxRow = typeof webhookOutbox.$inferSelect;
export type NewWebhookOutboxRow = typeof webhookOutbox.$inferInsert;
