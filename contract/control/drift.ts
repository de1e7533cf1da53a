import { z } from 'zod';
import { controlSchemas, pathName } from './common.ts';
import { route } from './route.ts';

/** One version's drift on one signal, with both distributions, bin by bin. */
export const driftFinding = z
  .object({
    version: z.string(),
    signal: z.string().describe('input.NAME.mean, input.NAME.rms, output.NAME.class or output.NAME.mean'),
    baseline: z
      .object({
        kind: z.enum(['pinned', 'stable', 'previous']),
        version: z.string().optional(),
        pinned_at: z.iso.datetime().optional(),
      })
      .describe(
        'pinned: a window an operator kept as the reference; stable: the version taking the most traffic, ' +
          'over the same window; previous: the window before',
      ),
    psi: z.number().nullable().describe('Population Stability Index; null until both sides have min_samples'),
    samples: z.object({ baseline: z.number().int(), recent: z.number().int() }),
    bins: z
      .array(z.object({ label: z.string(), baseline: z.number(), recent: z.number() }))
      .describe('shares of each side per bin: classes, or the baseline’s deciles'),
  })
  .register(controlSchemas, { id: 'DriftFinding' });
export type DriftFinding = z.infer<typeof driftFinding>;

export const deploymentDrift = z
  .object({
    deployment: z.string(),
    window: z.string(),
    threshold: z.number(),
    findings: z.array(driftFinding),
  })
  .register(controlSchemas, { id: 'DeploymentDrift' });
export type DeploymentDrift = z.infer<typeof deploymentDrift>;

const nameVersion = z.object({ name: pathName, version: pathName });

export const driftRoutes = {
  pinDriftBaseline: route({
    method: 'PUT',
    path: '/api/v1/deployments/{name}/versions/{version}/drift/baseline',
    access: 'operator',
    tag: 'probes',
    summary: 'Keep the version’s last drift window as its reference (in memory, until unpinned or a restart)',
    params: nameVersion,
    status: 200,
    response: z.object({
      deployment: z.string(),
      version: z.string(),
      pinned_at: z.iso.datetime(),
      signals: z.array(z.string()),
    }),
  }),
  unpinDriftBaseline: route({
    method: 'DELETE',
    path: '/api/v1/deployments/{name}/versions/{version}/drift/baseline',
    access: 'operator',
    tag: 'probes',
    summary: 'Go back to the stable version or the previous window as the reference',
    params: nameVersion,
    status: 204,
  }),
  getDrift: route({
    method: 'GET',
    path: '/api/v1/deployments/{name}/drift',
    access: 'viewer',
    tag: 'probes',
    summary: 'Prediction drift: each version’s answers and inputs against a baseline, with both distributions',
    params: z.object({ name: pathName }),
    status: 200,
    response: deploymentDrift,
  }),
};
