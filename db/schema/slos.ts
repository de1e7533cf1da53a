import { sql } from 'drizzle-orm';
import { check, doublePrecision, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, oneOf, updatedAt } from './columns.ts';

/** What an SLO counts: successful requests, or requests faster than a threshold. */
export const sloKinds = ['availability', 'latency', 'correctness'] as const;
export type SloKind = (typeof sloKinds)[number];

export const slos = pgTable(
  'slos',
  {
    id: text('id').primaryKey(),
    deployment: text('deployment').notNull(),
    /** null: the SLO covers every version of the deployment. */
    version: text('version'),
    kind: text('kind').$type<SloKind>().notNull(),
    /** Target ratio of good events, e.g. 0.999. */
    objective: doublePrecision('objective').notNull(),
    windowSeconds: integer('window_seconds').notNull(),
    /** Only for latency SLOs: a request is good when it finishes within this. */
    latencyThresholdSeconds: doublePrecision('latency_threshold_seconds'),
    description: text('description'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // The console and the SLO engine list the SLOs of one deployment.
    index('slos_deployment_idx').on(t.deployment),
    check('slos_kind_check', oneOf(t.kind, sloKinds)),
    // 1.0 would leave no error budget, and burn rates divide by the budget.
    check('slos_objective_check', sql`${t.objective} > 0 and ${t.objective} < 1`),
    check('slos_window_check', sql`${t.windowSeconds} > 0`),
    // coalesce: a bare `threshold > 0` is null for a null threshold, and CHECK lets null pass.
    check('slos_latency_threshold_check', sql`${t.kind} <> 'latency' or coalesce(${t.latencyThresholdSeconds}, 0) > 0`),
  ],
);

export type Slo = typeof slos.$inferSelect;
export type NewSlo = typeof slos.$inferInsert;
