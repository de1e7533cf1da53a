import { z } from 'zod';
import { controlSchemas, duration, pathName, timestamp, weights } from './common.ts';
import { route } from './route.ts';

/**
 * Runbooks (/api/v1/runbooks): what the server takes and sends and the console reads. A step
 * runs through the same functions as the API's own actions (serving/api/actions.ts).
 */

export const actionTypes = [
  'rollback_rollout',
  'pause_rollout',
  'resume_rollout',
  'set_weight',
  'scale',
  'restart_replica',
  'silence_alert',
] as const;
export type RunbookActionType = (typeof actionTypes)[number];

const name = z.string().min(1).max(200);

/**
 * What an action step does. Fields left out are parameters asked for (or taken from the alert)
 * when the step runs: e.g. `{type: 'scale'}` asks for deployment, version and replicas.
 */
export const runbookAction = z
  .strictObject({
    type: z.enum(actionTypes),
    deployment: name.optional(),
    version: name.optional(),
    weights: weights.optional().describe('set_weight'),
    replicas: z.number().int().min(0).max(1000).optional().describe('scale'),
    replica: name.optional().describe('restart_replica: the replica id; left out, the first running one'),
    duration: duration('s|m|h|d').optional().describe('silence_alert, e.g. 1h'),
    fingerprint: name.optional().describe('silence_alert'),
  })
  .register(controlSchemas, { id: 'RunbookAction' });
export type RunbookAction = z.infer<typeof runbookAction>;

export const runbookStep = z
  .object({
    position: z.number().int().describe('1-based'),
    title: z.string(),
    kind: z.enum(['note', 'action']),
    action: runbookAction.nullable(),
  })
  .register(controlSchemas, { id: 'RunbookStep' });
export type RunbookStep = z.infer<typeof runbookStep>;

export const runbook = z
  .object({
    slug: z.string(),
    title: z.string(),
    body_md: z.string(),
    tags: z.array(z.string()),
    alert_names: z.array(z.string()),
    steps: z.array(runbookStep),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .register(controlSchemas, { id: 'Runbook' });
export type Runbook = z.infer<typeof runbook>;

export const runbookExecution = z
  .object({
    id: z.number().int(),
    runbook: z.string().describe('slug'),
    step: z.number().int().nullable().describe('position'),
    actor: z.string(),
    status: z.enum(['succeeded', 'failed']),
    request: z.record(z.string(), z.unknown()),
    result: z.record(z.string(), z.unknown()).nullable(),
    at: timestamp,
  })
  .register(controlSchemas, { id: 'RunbookExecution' });
export type RunbookExecution = z.infer<typeof runbookExecution>;

export const runbookDetail = runbook
  .extend({ executions: z.array(runbookExecution).describe('newest first, at most 50') })
  .register(controlSchemas, { id: 'RunbookDetail' });
export type RunbookDetail = z.infer<typeof runbookDetail>;

/** Slugs are URL path segments: lowercase letters and digits in words joined by single dashes. */
export const SLUG_MAX = 63;
const slug = z
  .string()
  .max(SLUG_MAX)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, { error: 'lowercase letters and digits, words joined by single "-"' });

/** Tags and alert names: trimmed, non-empty, without duplicates (order kept). */
const labels = z
  .array(z.string().trim().min(1).max(200))
  .max(50)
  .transform((a) => [...new Set(a)]);

const stepInput = z.discriminatedUnion('kind', [
  z.strictObject({ title: z.string().trim().min(1).max(300), kind: z.literal('note'), action: z.null().optional() }),
  z.strictObject({ title: z.string().trim().min(1).max(300), kind: z.literal('action'), action: runbookAction }),
]);

export const runbookInput = z
  .strictObject({
    slug: slug.optional().describe('POST only; made from the title when left out'),
    title: z.string().trim().min(1).max(200),
    body_md: z.string().max(200_000),
    tags: labels,
    alert_names: labels,
    steps: z.array(stepInput).max(100),
  })
  .register(controlSchemas, { id: 'RunbookInput' });
export type RunbookInput = z.input<typeof runbookInput>;

export const actionPreview = z
  .object({
    action: runbookAction.describe('the step’s action with the parameters filled in'),
    target: z.string().describe('e.g. deployment/cls/v1'),
    description: z.string().describe('e.g. Scale cls v1 from 1 to 2 replicas'),
    before: z.unknown(),
    after: z.unknown(),
  })
  .register(controlSchemas, { id: 'ActionPreview' });
export type ActionPreview = z.infer<typeof actionPreview>;

/** Fields a caller gives when the step leaves them out; `type` is always the step's. */
const actionParams = runbookAction.partial();
const slugParam = z.object({ slug: pathName });
const stepParams = z.object({ slug: pathName, position: z.coerce.number().int().min(1).max(999_999) });

export const runbookRoutes = {
  listRunbooks: route({
    method: 'GET',
    path: '/api/v1/runbooks',
    access: 'viewer',
    tag: 'runbooks',
    summary: 'Runbooks, optionally those with a tag or for an alert',
    query: z.object({ tag: z.string().optional(), alert: z.string().optional() }),
    status: 200,
    response: z.object({ runbooks: z.array(runbook) }),
  }),
  createRunbook: route({
    method: 'POST',
    path: '/api/v1/runbooks',
    access: 'operator',
    tag: 'runbooks',
    summary: 'Create a runbook',
    body: runbookInput,
    status: 201,
    response: runbook,
  }),
  getRunbook: route({
    method: 'GET',
    path: '/api/v1/runbooks/{slug}',
    access: 'viewer',
    tag: 'runbooks',
    summary: 'A runbook with its last executions',
    params: slugParam,
    status: 200,
    response: runbookDetail,
  }),
  replaceRunbook: route({
    method: 'PUT',
    path: '/api/v1/runbooks/{slug}',
    access: 'operator',
    tag: 'runbooks',
    summary: 'Replace a runbook (its slug stays)',
    params: slugParam,
    body: runbookInput,
    status: 200,
    response: runbook,
  }),
  deleteRunbook: route({
    method: 'DELETE',
    path: '/api/v1/runbooks/{slug}',
    access: 'operator',
    tag: 'runbooks',
    summary: 'Delete a runbook that never ran',
    params: slugParam,
    status: 204,
  }),
  previewStep: route({
    method: 'POST',
    path: '/api/v1/runbooks/{slug}/steps/{position}/preview',
    access: 'operator',
    tag: 'runbooks',
    summary: 'What running an action step would change',
    params: stepParams,
    body: z.strictObject({ params: actionParams.optional() }),
    status: 200,
    response: actionPreview,
  }),
  runStep: route({
    method: 'POST',
    path: '/api/v1/runbooks/{slug}/steps/{position}/run',
    access: 'operator',
    tag: 'runbooks',
    summary: 'Run an action step (needs "confirm": true)',
    params: stepParams,
    body: z.strictObject({ params: actionParams.optional(), confirm: z.boolean().optional() }),
    status: 201,
    response: runbookExecution,
  }),
};
