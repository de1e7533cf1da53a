import { bigserial, index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns.ts';

/**
 * Who changed what: one row per mutating action, written in the same transaction as the
 * change it describes (db/queries/audit.ts).
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamptz('at').notNull().defaultNow(),
    actor: text('actor').notNull(),
    /** A dotted verb, e.g. `rollout.promote`, `slo.update`. */
    action: text('action').notNull(),
    /** What was acted on, e.g. `deployment/cls`, `slo/cls-availability`. */
    target: text('target').notNull(),
    before: jsonb('before').$type<unknown>(),
    after: jsonb('after').$type<unknown>(),
  },
  (t) => [
    // The audit view pages newest first (`order by at desc, id desc`), unfiltered or filtered
    // by one of actor, action or target; each filter gets an index that, scanned backwards,
    // yields its rows already in that order. Ascending on purpose: drizzle's `.desc()` means
    // DESC NULLS LAST, which a plain `order by at desc` (NULLS FIRST) cannot use.
    index('audit_log_at_idx').on(t.at, t.id),
    index('audit_log_actor_at_idx').on(t.actor, t.at, t.id),
    index('audit_log_action_at_idx').on(t.action, t.at, t.id),
    index('audit_log_target_at_idx').on(t.target, t.at, t.id),
  ],
);

export type AuditEntry = typeof auditLog.$inferSelect;
export type NewAuditEntry = typeof auditLog.$inferInsert;
