import { check, index, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { alerts, type AlertSeverity } from './alerts.ts';
import { oneOf, timestamptz } from './columns.ts';

export const incidentStatuses = ['open', 'resolved'] as const;
export type IncidentStatus = (typeof incidentStatuses)[number];

/** A human-facing incident, usually opened from a paging alert. */
export const incidents = pgTable(
  'incidents',
  {
    id: serial('id').primaryKey(),
    title: text('title').notNull(),
    status: text('status').$type<IncidentStatus>().notNull().default('open'),
    severity: text('severity').$type<AlertSeverity>().notNull(),
    alertFingerprint: text('alert_fingerprint').references(() => alerts.fingerprint, {
      onDelete: 'set null',
    }),
    openedAt: timestamptz('opened_at').notNull().defaultNow(),
    resolvedAt: timestamptz('resolved_at'),
  },
  (t) => [
    // The console lists incidents by status, newest first (a backward scan).
    index('incidents_status_opened_idx').on(t.status, t.openedAt),
    // When an alert fires again, vigil looks for the incident it already opened for it.
    index('incidents_alert_idx').on(t.alertFingerprint),
    check('incidents_status_check', oneOf(t.status, incidentStatuses)),
  ],
);

export type Incident = typeof incidents.$inferSelect;
export type NewIncident = typeof incidents.$inferInsert;
