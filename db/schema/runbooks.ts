import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, serial, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, oneOf, timestamptz, updatedAt } from './columns.ts';

/** A step is either prose for the responder, or an action vigil can run (scale, roll back...). */
export const runbookStepKinds = ['note', 'action'] as const;
export type RunbookStepKind = (typeof runbookStepKinds)[number];

export const runbooks = pgTable(
  'runbooks',
  {
    id: serial('id').primaryKey(),
    slug: text('slug').notNull().unique(),
    title: text('title').notNull(),
    bodyMd: text('body_md').notNull().default(''),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    /** Alert names this runbook answers; the alert view links to it. */
    alertNames: text('alert_names').array().notNull().default(sql`'{}'::text[]`),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // A firing alert looks up its runbooks with `alert_names @> array[name]`; GIN serves @>.
    index('runbooks_alert_names_idx').using('gin', t.alertNames),
    // The runbook list filters by tag the same way.
    index('runbooks_tags_idx').using('gin', t.tags),
  ],
);

export const runbookSteps = pgTable(
  'runbook_steps',
  {
    id: serial('id').primaryKey(),
    runbookId: integer('runbook_id')
      .notNull()
      .references(() => runbooks.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    title: text('title').notNull(),
    kind: text('kind').$type<RunbookStepKind>().notNull(),
    /** For 'action' steps: what to run, validated by the API before it is stored. */
    action: jsonb('action').$type<Record<string, unknown>>(),
  },
  (t) => [
    // Steps are read in order and two steps cannot share a position; this also covers the
    // foreign key for the cascade.
    uniqueIndex('runbook_steps_runbook_position_idx').on(t.runbookId, t.position),
    check('runbook_steps_kind_check', oneOf(t.kind, runbookStepKinds)),
  ],
);

/** Each run of a runbook action: who ran it, what was asked, what came back. */
export const runbookExecutions = pgTable(
  'runbook_executions',
  {
    id: serial('id').primaryKey(),
    // No cascade: execution history outlives edits, and a runbook that has run is archived
    // rather than deleted.
    runbookId: integer('runbook_id')
      .notNull()
      .references(() => runbooks.id),
    stepId: integer('step_id').references(() => runbookSteps.id, { onDelete: 'set null' }),
    actor: text('actor').notNull(),
    status: text('status').notNull(),
    request: jsonb('request').$type<Record<string, unknown>>().notNull(),
    result: jsonb('result').$type<Record<string, unknown>>(),
    at: timestamptz('at').notNull().defaultNow(),
  },
  (t) => [
    // A runbook's page shows its recent executions, newest first (a backward scan).
    index('runbook_executions_runbook_at_idx').on(t.runbookId, t.at),
    // Deleting a step sets step_id to null; without an index that scans the table.
    index('runbook_executions_step_idx').on(t.stepId),
  ],
);

export type Runbook = typeof runbooks.$inferSelect;
export type NewRunbook = typeof runbooks.$inferInsert;
export type RunbookStep = typeof runbookSteps.$inferSelect;
export type NewRunbookStep = typeof runbookSteps.$inferInsert;
export type RunbookExecution = typeof runbookExecutions.$inferSelect;
export type NewRunbookExecution = typeof runbookExecutions.$inferInsert;
