import { z } from 'zod';
import { controlSchemas, pathName } from './common.ts';
import { route } from './route.ts';

/**
 * Probes: synthetic requests with known answers (serving/probes/). What `probes:` in vigil.yaml
 * expects, what a run found, and the routes that show, run and record them.
 */

/**
 * What a probe's answer must be. `top1`: the index of the largest value of an output (a
 * classifier's class), in every row; `allclose`: every value of an output within
 * `atol + rtol * |expected|` of the stored answer; `json`: the value at a path of a JSON answer
 * (a custom route's) equals the expected value; `check`: a TypeScript module beside vigil.yaml whose
 * default export judges the answer (`defineProbeCheck` in vigil/handler).
 */
export const probeExpectation = z
  .union([
    z.strictObject({ top1: z.number().int().min(0), output: z.string().optional() }),
    z.strictObject({
      allclose: z.array(z.number()).min(1),
      output: z.string().optional(),
      atol: z.number().min(0).default(1e-5),
      rtol: z.number().min(0).default(1e-3),
    }),
    z.strictObject({
      json: z.string().regex(/^\$(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*$/, {
        error: 'expected a path like $.lines[0].text',
      }),
      equals: z.unknown(),
    }),
    z.strictObject({ check: z.string().min(1).describe('a module path, relative to vigil.yaml') }),
  ])
  .register(controlSchemas, { id: 'ProbeExpectation' });
export type ProbeExpectation = z.output<typeof probeExpectation>;

export const probeResult = z
  .object({
    probe: z.string(),
    version: z.string(),
    at: z.iso.datetime(),
    result: z.enum(['pass', 'fail', 'error']).describe('fail: a wrong answer; error: no answer'),
    detail: z.string().describe('the answer against the expectation, or why there was none'),
    duration_ms: z.number(),
  })
  .register(controlSchemas, { id: 'ProbeResult' });

export const deploymentProbes = z
  .object({
    deployment: z.string(),
    probes: z.array(
      z.object({
        name: z.string(),
        interval: z.string(),
        timeout_ms: z.number(),
        versions: z.array(z.string()).nullable().describe('null: every live version'),
        expect: probeExpectation,
      }),
    ),
    results: z.array(probeResult).describe('the latest run of each probe on each version'),
  })
  .register(controlSchemas, { id: 'DeploymentProbes' });
export type DeploymentProbes = z.infer<typeof deploymentProbes>;

export const recordProbesBody = z
  .strictObject({
    expect: z.enum(['top1', 'allclose']).default('allclose').describe('the kind of expectation to make'),
    requests: z
      .array(z.strictObject({ name: z.string().min(1).max(63), request: z.record(z.string(), z.unknown()) }))
      .max(50)
      .optional()
      .describe('inference requests to record; left out, the configured probes'),
  })
  .register(controlSchemas, { id: 'RecordProbes' });

export const recordedProbes = z
  .object({
    deployment: z.string(),
    version: z.string(),
    probes: z.array(
      z.object({
        name: z.string(),
        expect: probeExpectation.nullable().describe('null when the version gave no usable answer'),
        problem: z.string().nullable(),
      }),
    ),
  })
  .register(controlSchemas, { id: 'RecordedProbes' });

const name = z.object({ name: pathName });
const nameVersion = z.object({ name: pathName, version: pathName });

export const probeRoutes = {
  getProbes: route({
    method: 'GET',
    path: '/api/v1/deployments/{name}/probes',
    access: 'viewer',
    tag: 'probes',
    summary: 'The deployment’s probes (known answers) and the latest result of each on each version',
    params: name,
    status: 200,
    response: deploymentProbes,
  }),
  runProbes: route({
    method: 'POST',
    path: '/api/v1/deployments/{name}/versions/{version}/probes/run',
    access: 'operator',
    tag: 'probes',
    summary: 'Run the deployment’s probes against one version now',
    params: nameVersion,
    status: 200,
    response: z.object({ results: z.array(probeResult) }),
  }),
  recordProbes: route({
    method: 'POST',
    path: '/api/v1/deployments/{name}/versions/{version}/probes/record',
    access: 'operator',
    tag: 'probes',
    summary: 'What a known-good version answers the probes now, as expectations to keep',
    params: nameVersion,
    body: recordProbesBody,
    status: 200,
    response: recordedProbes,
  }),
};
