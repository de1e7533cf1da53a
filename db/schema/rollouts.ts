import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, serial, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, oneOf, updatedAt } from './columns.ts';

/** Rollout phases, named as Argo Rollouts names them. */
export const rolloutStatuses = ['Progressing', 'Paused', 'Promoted', 'RolledBack', 'Aborted'] as const;
export type RolloutStatus = (typeof rolloutStatuses)[number];

/** The statuses in which a rollout still owns its deployment's traffic weights. */
export const activeRolloutStatuses = ['Progressing', 'Paused'] as const satisfies readonly RolloutStatus[];

/** A canary rollout: walk `steps` (canary weights, percent) every `interval_seconds`. */
export const rollouts = pgTable(
  'rollouts',
  {
    id: serial('id').primaryKey(),
    deployment: text('deployment').notNull(),
    stableVersion: text('stable_version').notNull(),
    canaryVersion: text('canary_version').notNull(),
    status: text('status').$type<RolloutStatus>().notNull().default('Progressing'),
    steps: integer('steps').array().notNull(),
    stepIndex: integer('step_index').notNull().default(0),
    intervalSeconds: integer('interval_seconds').notNull(),
    canaryWeight: integer('canary_weight').notNull().default(0),
    /** Why it paused, rolled back or aborted. */
    reason: text('reason'),
    /** The last SLO analysis that decided a step. */
    analysis: jsonb('analysis').$type<Record<string, unknown>>(),
    /** The analysis thresholds this rollout is judged by (config defaults plus its overrides). */
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    /** Who started it: an API token's name, "vigil.yaml", or "cli". */
    startedBy: text('started_by').notNull().default('unknown'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // The rollout controller and the console look up a deployment's rollouts by status.
    index('rollouts_deployment_status_idx').on(t.deployment, t.status),
    // Two rollouts steering one deployment's weights would fight; the database refuses a
    // second active one even if two controllers race.
    uniqueIndex('rollouts_one_active_per_deployment_idx')
      .on(t.deployment)
      .where(sql`${t.status} in ('Progressing', 'Paused')`),
    check('rollouts_status_check', oneOf(t.status, rolloutStatuses)),
    check('rollouts_canary_weight_check', sql`${t.canaryWeight} between 0 and 100`),
  ],
);

export type Rollout = typeof rollouts.$inferSelect;
export type NewRollout = typeof rollouts.$inferInsert;
