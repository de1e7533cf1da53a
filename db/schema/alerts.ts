import { bigserial, check, index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { oneOf, timestamptz } from './columns.ts';

/** Alert lifecycle, as in Prometheus: pending until `for` has passed, then firing, then resolved. */
export const alertStates = ['pending', 'firing', 'resolved'] as const;
export type AlertState = (typeof alertStates)[number];

/** Who raised the alert: vigil's own SLO engine, or an Alertmanager webhook. */
export const alertSources = ['vigil', 'alertmanager'] as const;
export type AlertSource = (typeof alertSources)[number];

/** The severities vigil itself uses; alerts from Alertmanager may carry any other string. */
export const alertSeverities = ['page', 'ticket'] as const;
export type AlertSeverity = (typeof alertSeverities)[number] | (string & {});

/** The current state of each alert, keyed by its label fingerprint. */
export const alerts = pgTable(
  'alerts',
  {
    fingerprint: text('fingerprint').primaryKey(),
    source: text('source').$type<AlertSource>().notNull(),
    name: text('name').notNull(),
    severity: text('severity').$type<AlertSeverity>().notNull(),
    sloId: text('slo_id'),
    labels: jsonb('labels').$type<Record<string, string>>().notNull().default({}),
    annotations: jsonb('annotations').$type<Record<string, string>>().notNull().default({}),
    state: text('state').$type<AlertState>().notNull(),
    startsAt: timestamptz('starts_at').notNull(),
    endsAt: timestamptz('ends_at'),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
    acknowledgedBy: text('acknowledged_by'),
    acknowledgedAt: timestamptz('acknowledged_at'),
    silencedUntil: timestamptz('silenced_until'),
  },
  (t) => [
    // The console's alert list filters by state (mostly pending/firing) newest first, while
    // resolved alerts pile up forever. A backward scan serves `updated_at desc`.
    index('alerts_state_updated_idx').on(t.state, t.updatedAt),
    // An SLO's page shows the alerts its burn-rate rules raised.
    index('alerts_slo_idx').on(t.sloId),
    check('alerts_state_check', oneOf(t.state, alertStates)),
    check('alerts_source_check', oneOf(t.source, alertSources)),
  ],
);

/** Every state change of an alert, written in the same transaction as the change. */
export const alertEvents = pgTable(
  'alert_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    fingerprint: text('fingerprint')
      .notNull()
      .references(() => alerts.fingerprint, { onDelete: 'cascade' }),
    /** null for the event that created the alert. */
    fromState: text('from_state').$type<AlertState>(),
    toState: text('to_state').$type<AlertState>().notNull(),
    at: timestamptz('at').notNull().defaultNow(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    // An alert's history is read as a timeline; this also covers the foreign key, so the
    // cascade from alerts does not scan the table.
    index('alert_events_fingerprint_at_idx').on(t.fingerprint, t.at),
    check('alert_events_to_state_check', oneOf(t.toState, alertStates)),
  ],
);

export type Alert = typeof alerts.$inferSelect;
export type NewAlert = typeof alerts.$inferInsert;
export type AlertEvent = typeof alertEvents.$inferSelect;
