import { z } from 'zod';
import { controlSchemas, limit, pathName, timestamp } from './common.ts';
import { route } from './route.ts';

export const alertStates = ['pending', 'firing', 'resolved'] as const;

export const alert = z
  .object({
    fingerprint: z.string(),
    source: z.enum(['vigil', 'alertmanager']),
    name: z.string().describe('e.g. VigilErrorBudgetBurn, VigilCanaryRolledBack'),
    severity: z.string().describe('page, ticket, ...'),
    sloId: z.string().nullable(),
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()).describe('summary, description, runbook, runbook_url'),
    state: z.enum(alertStates),
    startsAt: timestamp,
    endsAt: timestamp.nullable(),
    updatedAt: timestamp,
    acknowledgedBy: z.string().nullable(),
    acknowledgedAt: timestamp.nullable(),
    silencedUntil: timestamp.nullable(),
  })
  .register(controlSchemas, { id: 'Alert' });
export type Alert = z.infer<typeof alert>;

export const incident = z
  .object({
    id: z.number().int(),
    title: z.string(),
    status: z.enum(['open', 'resolved']),
    severity: z.string(),
    alertFingerprint: z.string().nullable(),
    openedAt: timestamp,
    resolvedAt: timestamp.nullable(),
  })
  .register(controlSchemas, { id: 'Incident' });

export const auditEntry = z
  .object({
    id: z.number().int(),
    at: timestamp,
    actor: z.string(),
    action: z.string(),
    target: z.string(),
    before: z.unknown(),
    after: z.unknown(),
  })
  .register(controlSchemas, { id: 'AuditEntry' });
export type AuditEntry = z.infer<typeof auditEntry>;

/** Alertmanager's webhook payload (version 4); vigil reads the alerts and the receiver. */
export const alertmanagerBody = z
  .object({
    version: z.string().optional(),
    status: z.string().optional(),
    receiver: z.string().optional(),
    alerts: z
      .array(
        z.object({
          status: z.enum(['firing', 'resolved']),
          labels: z.record(z.string(), z.string()),
          annotations: z.record(z.string(), z.string()).default({}),
          startsAt: z.string().optional(),
          endsAt: z.string().optional(),
          fingerprint: z.string().optional(),
          generatorURL: z.string().optional(),
        }),
      )
      .max(1000),
  })
  .register(controlSchemas, { id: 'AlertmanagerWebhook' });

/** `?state=pending,firing`: any of the states, comma-separated; unknown ones are refused. */
const stateList = z
  .string()
  .transform((s) => s.split(',').filter((x) => x !== ''))
  .pipe(z.array(z.enum(alertStates)))
  .optional()
  .describe('comma-separated: pending, firing, resolved');

const fingerprintParam = z.object({ fingerprint: pathName });

export const alertRoutes = {
  listAlerts: route({
    method: 'GET',
    path: '/api/v1/alerts',
    access: 'viewer',
    tag: 'alerts',
    summary: 'Alerts, vigil’s and Alertmanager’s (at most 500)',
    query: z.object({ state: stateList }),
    status: 200,
    response: z.object({ alerts: z.array(alert) }),
  }),
  receiveAlertmanager: route({
    method: 'POST',
    path: '/api/v1/alerts/alertmanager',
    access: 'alert-receiver',
    tag: 'alerts',
    summary: 'Alertmanager’s webhook receiver',
    body: alertmanagerBody,
    status: 200,
    response: z.object({
      stored: z.array(z.object({ fingerprint: z.string(), state: z.enum(alertStates) })),
    }),
  }),
  acknowledgeAlert: route({
    method: 'POST',
    path: '/api/v1/alerts/{fingerprint}/ack',
    access: 'operator',
    tag: 'alerts',
    summary: 'Acknowledge an alert',
    params: fingerprintParam,
    status: 200,
    response: alert,
  }),
  silenceAlert: route({
    method: 'POST',
    path: '/api/v1/alerts/{fingerprint}/silence',
    access: 'operator',
    tag: 'alerts',
    summary: 'Silence an alert until a time (null: unsilence)',
    params: fingerprintParam,
    body: z.strictObject({ until: z.iso.datetime({ offset: true }).nullable() }),
    status: 200,
    response: alert,
  }),
  listIncidents: route({
    method: 'GET',
    path: '/api/v1/incidents',
    access: 'viewer',
    tag: 'alerts',
    summary: 'Incidents, newest first',
    query: z.object({ status: z.enum(['open', 'resolved']).optional() }),
    status: 200,
    response: z.object({ incidents: z.array(incident) }),
  }),
  listAudit: route({
    method: 'GET',
    path: '/api/v1/audit',
    access: 'viewer',
    tag: 'audit',
    summary: 'The audit log, newest first',
    query: z.object({
      actor: z.string().optional(),
      action: z.string().optional(),
      target: z.string().optional(),
      limit,
    }),
    status: 200,
    response: z.object({ entries: z.array(auditEntry) }),
  }),
};
