import { z } from 'zod';
import { controlSchemas, pathName, weights } from './common.ts';
import { deploymentStatus } from './node.ts';
import { route } from './route.ts';

export const weightsBody = z
  .strictObject({
    weights: weights
      .refine((w) => Object.keys(w).length > 0, { error: 'give at least one version' })
      .describe('versions in split order, e.g. {"v2": 10, "v1": 90}: routing keys fill the first range first'),
  })
  .register(controlSchemas, { id: 'Weights' });

export const mirrorBody = z
  .strictObject({
    version: z.string().min(1),
    percent: z.number().min(0).max(100),
    tolerance: z.number().min(0).default(1e-4).describe('outputs within this are counted as agreeing'),
  })
  .register(controlSchemas, { id: 'Mirror' });

export const faultBody = z
  .strictObject({
    error_rate: z.number().min(0).max(1),
    added_latency_ms: z.number().min(0).max(600_000).default(0),
  })
  .register(controlSchemas, { id: 'FaultInjection' });

const split = z.array(z.object({ version: z.string(), weight: z.number() }));
const name = z.object({ name: pathName });
const nameVersion = z.object({ name: pathName, version: pathName });

export const deploymentRoutes = {
  listDeployments: route({
    method: 'GET',
    path: '/api/v1/deployments',
    access: 'viewer',
    tag: 'deployments',
    summary: 'Deployments with their split, versions and replicas',
    status: 200,
    response: z.object({ deployments: z.array(deploymentStatus) }),
  }),
  getDeployment: route({
    method: 'GET',
    path: '/api/v1/deployments/{name}',
    access: 'viewer',
    tag: 'deployments',
    summary: 'One deployment',
    params: name,
    status: 200,
    response: deploymentStatus,
  }),
  setWeights: route({
    method: 'PUT',
    path: '/api/v1/deployments/{name}/weights',
    access: 'operator',
    tag: 'deployments',
    summary: 'Set the traffic split (refused while a rollout owns it)',
    params: name,
    body: weightsBody,
    status: 200,
    response: z.object({ deployment: z.string(), split }),
  }),
  setMirror: route({
    method: 'PUT',
    path: '/api/v1/deployments/{name}/mirror',
    access: 'operator',
    tag: 'deployments',
    summary: 'Shadow a share of the traffic to a version and compare its answers',
    params: name,
    body: mirrorBody,
    status: 200,
    response: z.object({
      deployment: z.string(),
      mirror: z.object({ version: z.string(), percent: z.number(), tolerance: z.number() }).nullable(),
    }),
  }),
  clearMirror: route({
    method: 'DELETE',
    path: '/api/v1/deployments/{name}/mirror',
    access: 'operator',
    tag: 'deployments',
    summary: 'Stop shadowing',
    params: name,
    status: 204,
  }),
  scaleVersion: route({
    method: 'PUT',
    path: '/api/v1/deployments/{name}/versions/{version}/replicas',
    access: 'operator',
    tag: 'deployments',
    summary: 'Set a version’s replica count',
    params: nameVersion,
    body: z.strictObject({ replicas: z.number().int().min(0).max(1000) }),
    status: 200,
    response: z.object({ deployment: z.string(), version: z.string(), target_replicas: z.number().int() }),
  }),
  restartReplica: route({
    method: 'POST',
    path: '/api/v1/deployments/{name}/versions/{version}/replicas/{id}/restart',
    access: 'operator',
    tag: 'deployments',
    summary: 'Drain a replica; the controller starts its replacement',
    params: z.object({ name: pathName, version: pathName, id: pathName }),
    status: 202,
    response: z.object({ deployment: z.string(), version: z.string(), replica: z.string() }),
  }),
  setFaultInjection: route({
    method: 'PUT',
    path: '/api/v1/deployments/{name}/versions/{version}/fault-injection',
    access: 'operator',
    tag: 'deployments',
    summary: 'Inject errors and latency into a version (game days)',
    params: nameVersion,
    body: faultBody,
    status: 200,
    response: z.object({
      deployment: z.string(),
      version: z.string(),
      fault_injection: z.object({ error_rate: z.number(), added_latency_ms: z.number() }),
    }),
  }),
};
