import { z } from 'zod';
import { controlSchemas, duration, limit, numericId, pathName, timestamp } from './common.ts';
import { route } from './route.ts';

export const rolloutStatuses = ['Progressing', 'Paused', 'Promoted', 'RolledBack', 'Aborted'] as const;
export const rolloutActions = ['pause', 'resume', 'promote', 'abort'] as const;

/** A rollout as stored: its history outlives the rollout. */
export const rollout = z
  .object({
    id: z.number().int(),
    deployment: z.string(),
    stableVersion: z.string(),
    canaryVersion: z.string(),
    status: z.enum(rolloutStatuses),
    steps: z.array(z.number().int()),
    stepIndex: z.number().int(),
    intervalSeconds: z.number().int(),
    canaryWeight: z.number().int(),
    reason: z.string().nullable(),
    analysis: z.record(z.string(), z.unknown()).nullable().describe('the last canary analysis'),
    settings: z.record(z.string(), z.unknown()).optional(),
    startedBy: z.string(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .register(controlSchemas, { id: 'Rollout' });
export type Rollout = z.infer<typeof rollout>;

const versionNumbers = z.object({
  requests: z.number(),
  errors: z.number(),
  errorRatio: z.number().nullable(),
  p95Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
});

/** One analysis of a canary against its stable version (serving/rollout/canary-analysis.ts). */
export const canaryAnalysis = z
  .object({
    verdict: z.enum(['pass', 'fail', 'inconclusive']),
    checks: z.array(
      z.object({
        name: z.enum(['error_burn_rate', 'latency', 'output_agreement', 'probes', 'prediction_drift']),
        outcome: z.enum(['pass', 'fail', 'inconclusive']),
        value: z.number().nullable(),
        threshold: z.number().nullable(),
        detail: z.string(),
      }),
    ),
    summary: z.string().describe('one line naming the numbers of the deciding checks'),
    canary: versionNumbers,
    stable: versionNumbers,
  })
  .register(controlSchemas, { id: 'CanaryAnalysis' });
export type CanaryAnalysis = z.infer<typeof canaryAnalysis>;

/** The rollout in progress, with its live analysis. */
export const activeRollout = z
  .object({
    id: z.number().int(),
    status: z.enum(rolloutStatuses).describe('Progressing or Paused while it runs'),
    stable: z.string(),
    canary: z.string(),
    steps: z.array(z.number().int()),
    step: z.number().int().describe('index into steps'),
    canary_weight: z.number(),
    interval_seconds: z.number(),
    step_elapsed_seconds: z.number(),
    decision: z
      .object({ kind: z.enum(['hold', 'advance', 'promote', 'rollback']), reason: z.string() })
      .catchall(z.unknown())
      .nullable(),
    analysis: canaryAnalysis.nullable(),
  })
  .register(controlSchemas, { id: 'ActiveRollout' });
export type ActiveRollout = z.infer<typeof activeRollout>;

const analysisOverrides = z.strictObject({
  min_requests: z.number().int().positive().optional(),
  confidence: z.number().min(0.5).lt(1).optional(),
  burn_rate_factor: z.number().positive().optional(),
  short_window_s: z.number().positive().optional(),
  objective: z.number().gt(0).lt(1).optional(),
  max_latency_ratio: z.number().positive().optional(),
  min_latency_delta_ms: z.number().min(0).optional(),
  latency_min_requests: z.number().int().positive().optional(),
  min_excess_share: z.number().gt(0).max(1).optional(),
  min_agreement: z.number().min(0).max(1).nullable().optional(),
  min_mirror_samples: z.number().int().positive().optional(),
  mirror_percent: z.number().min(0).max(100).optional(),
  max_drift: z.number().positive().nullable().optional(),
});
export type AnalysisOverrides = z.infer<typeof analysisOverrides>;

export const startRolloutBody = z
  .strictObject({
    version: z.string().min(1),
    steps: z
      .array(z.number().int().min(1).max(100))
      .min(1)
      .refine((s) => s.every((w, i) => i === 0 || w > s[i - 1]!), { error: 'steps must increase' })
      .default([5, 25, 50, 100])
      .describe('canary weights in percent, increasing'),
    interval: duration('s|m|h').default('30s').describe('time between analyses'),
    analysis: analysisOverrides.default({}).describe('overrides of the deployment’s canary thresholds'),
  })
  .register(controlSchemas, { id: 'StartRollout' });

const deploymentParam = z.object({ name: pathName });

export const rolloutRoutes = {
  startRollout: route({
    method: 'POST',
    path: '/api/v1/deployments/{name}/rollouts',
    access: 'operator',
    tag: 'rollouts',
    summary: 'Start a canary rollout of a version',
    params: deploymentParam,
    body: startRolloutBody,
    status: 201,
    response: rollout,
  }),
  getDeploymentRollout: route({
    method: 'GET',
    path: '/api/v1/deployments/{name}/rollout',
    access: 'viewer',
    tag: 'rollouts',
    summary: 'The active rollout with its live analysis, and the latest one stored',
    params: deploymentParam,
    status: 200,
    response: z.object({ active: activeRollout.nullable(), latest: rollout.nullable() }),
  }),
  actOnRollout: route({
    method: 'POST',
    path: '/api/v1/deployments/{name}/rollout/{action}',
    access: 'operator',
    tag: 'rollouts',
    summary: 'Pause, resume, promote or abort the active rollout',
    params: z.object({ name: pathName, action: z.enum(rolloutActions) }),
    status: 200,
    response: rollout,
  }),
  listRollouts: route({
    method: 'GET',
    path: '/api/v1/rollouts',
    access: 'viewer',
    tag: 'rollouts',
    summary: 'Rollouts, newest first',
    query: z.object({ deployment: z.string().min(1).optional(), limit }),
    status: 200,
    response: z.object({ rollouts: z.array(rollout) }),
  }),
  getRollout: route({
    method: 'GET',
    path: '/api/v1/rollouts/{id}',
    access: 'viewer',
    tag: 'rollouts',
    summary: 'One rollout',
    params: z.object({ id: numericId }),
    status: 200,
    response: rollout,
  }),
};
