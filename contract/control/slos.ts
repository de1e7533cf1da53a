import { z } from 'zod';
import { controlSchemas, duration, pathName, timestamp } from './common.ts';
import { route } from './route.ts';

const alertStatus = z.enum(['inactive', 'pending', 'firing', 'resolved']);

/** An SLO with its current evaluation, as /api/v1/slos and the console show it. */
export const sloStatus = z
  .object({
    id: z.string(),
    deployment: z.string(),
    deployment_served: z.boolean().describe('false: the deployment is no longer in this node’s config'),
    version: z.string().nullable(),
    kind: z.enum(['availability', 'latency', 'correctness']),
    objective: z.number(),
    window: z.string().describe('e.g. 28d'),
    latency_threshold_ms: z.number().nullable(),
    description: z.string().nullable(),
    evaluated_at: timestamp.nullable(),
    sli: z.number().nullable(),
    events: z.object({ good: z.number(), total: z.number() }).nullable(),
    error_budget_remaining: z.number().nullable().describe('fraction of the budget left, may be negative'),
    seconds_to_exhaustion: z.number().nullable().describe('at the current burn rate; null when not burning'),
    burn_rates: z.record(z.string(), z.number()).describe('window (5m, 1h, ...) → burn rate'),
    alerts: z.object({ page: alertStatus, ticket: alertStatus }),
    versions: z.record(
      z.string(),
      z.object({
        requests_1h: z.number(),
        error_ratio_1h: z.number(),
        burn_rate_1h: z.number(),
        burn_rate_5m: z.number(),
      }),
    ),
  })
  .register(controlSchemas, { id: 'SloStatus' });
export type SloStatus = z.infer<typeof sloStatus>;

export const sloBody = z
  .strictObject({
    deployment: z.string().min(1),
    kind: z.enum(['availability', 'latency', 'correctness']),
    objective: z.number().gt(0).lt(1),
    window: duration('s|m|h|d|w').default('28d'),
    threshold_ms: z.number().positive().optional().describe('latency SLOs: one of the histogram bounds'),
    version: z.string().min(1).nullable().optional(),
    description: z.string().max(1000).nullable().optional(),
  })
  .register(controlSchemas, { id: 'SloInput' });

/** A new SLO's id; existing ones are read by any id (OpenSLO imports and vigil.yaml name them). */
const newSloId = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { error: 'SLO ids are 1-63 letters, digits, ".", "_" or "-"' }),
});
const sloId = z.object({ id: pathName });

export const sloRoutes = {
  listSlos: route({
    method: 'GET',
    path: '/api/v1/slos',
    access: 'viewer',
    tag: 'slos',
    summary: 'SLOs with their error budgets, burn rates and alert states',
    status: 200,
    response: z.object({ slos: z.array(sloStatus) }),
  }),
  importOpenSlo: route({
    method: 'POST',
    path: '/api/v1/slos/openslo',
    access: 'operator',
    tag: 'slos',
    summary: 'Create or replace an SLO from an OpenSLO v1 document (JSON or YAML)',
    body: z.unknown().describe('an OpenSLO v1 SLO document'),
    yaml: true,
    status: 201,
    response: sloStatus,
  }),
  getSlo: route({
    method: 'GET',
    path: '/api/v1/slos/{id}',
    access: 'viewer',
    tag: 'slos',
    summary: 'One SLO',
    params: sloId,
    status: 200,
    response: sloStatus,
  }),
  exportOpenSlo: route({
    method: 'GET',
    path: '/api/v1/slos/{id}/openslo',
    access: 'viewer',
    tag: 'slos',
    summary: 'One SLO as an OpenSLO v1 document',
    params: sloId,
    status: 200,
    contentType: 'application/yaml',
    response: z.string(),
  }),
  putSlo: route({
    method: 'PUT',
    path: '/api/v1/slos/{id}',
    access: 'operator',
    tag: 'slos',
    summary: 'Create or replace an SLO',
    params: newSloId,
    body: sloBody,
    status: 200,
    response: sloStatus,
  }),
  deleteSlo: route({
    method: 'DELETE',
    path: '/api/v1/slos/{id}',
    access: 'operator',
    tag: 'slos',
    summary: 'Delete an SLO that vigil.yaml does not declare',
    params: sloId,
    status: 204,
  }),
};
