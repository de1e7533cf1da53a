import { z } from 'zod';
import { controlSchemas, pathName } from './common.ts';
import { route } from './route.ts';

/** One version's drift on one signal, with both distributions, bin by bin. */
export const driftFinding = z
  .object({
    version: z.string(),
    signal: z.string().describe('input.NAME.mean, input.NAME.rms, output.NAME.class or output.NAME.mean'),
    baseline: z
      .object({ kind: z.enum(['stable', 'previous']), version: z.string().optional() })
      .describe('stable: the version taking the most traffic, over the same window; previous: the window before'),
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

export const driftRoutes = {
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
