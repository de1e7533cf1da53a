import { z } from 'zod';
import { getRollout, listRollouts } from '../../db/queries/rollouts.ts';
import { withTransaction } from '../../db/transaction.ts';
import { recordAudit } from '../../db/queries/audit.ts';
import { parseDuration } from '../../slo/duration.ts';
import { VigilError } from '../errors.ts';
import { sendJson } from '../ingress/error-response.ts';
import type { RolloutAction, RolloutSettings } from '../rollout/rollout-controller.ts';
import type { Route } from './api-routes.ts';
import { authorize } from './auth.ts';
import { readJson } from './read-json.ts';
import { restartReplica, scaleVersion, setWeights } from './actions.ts';

const weightsBody = z.strictObject({
  /** Versions in split order, e.g. {"v2": 10, "v1": 90}: routing keys fill the first version's range first. */
  weights: z
    .record(z.string(), z.number().int().min(0).max(1_000_000))
    .refine((w) => Object.keys(w).length > 0, { error: 'give at least one version' }),
});

const mirrorBody = z.strictObject({
  version: z.string().min(1),
  percent: z.number().min(0).max(100),
  tolerance: z.number().min(0).default(1e-4),
});

const replicasBody = z.strictObject({ replicas: z.number().int().min(0).max(1000) });

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
});

const rolloutBody = z.strictObject({
  version: z.string().min(1),
  steps: z
    .array(z.number().int().min(1).max(100))
    .min(1)
    .refine((s) => s.every((w, i) => i === 0 || w > s[i - 1]!), { error: 'steps must increase' })
    .default([5, 25, 50, 100]),
  interval: z
    .string()
    .regex(/^\d+(s|m|h)$/, { error: 'expected a duration like 30s or 5m' })
    .default('30s'),
  analysis: analysisOverrides.default({}),
});

function overridesFrom(a: z.infer<typeof analysisOverrides>): Partial<RolloutSettings> {
  const o: Partial<RolloutSettings> = {};
  if (a.min_requests !== undefined) o.minRequests = a.min_requests;
  if (a.confidence !== undefined) o.confidence = a.confidence;
  if (a.burn_rate_factor !== undefined) o.burnRateFactor = a.burn_rate_factor;
  if (a.short_window_s !== undefined) o.shortWindowS = a.short_window_s;
  if (a.objective !== undefined) o.objective = a.objective;
  if (a.max_latency_ratio !== undefined) o.maxLatencyRatio = a.max_latency_ratio;
  if (a.min_excess_share !== undefined) o.minExcessShare = a.min_excess_share;
  if (a.min_latency_delta_ms !== undefined) o.minLatencyDeltaMs = a.min_latency_delta_ms;
  if (a.latency_min_requests !== undefined) o.latencyMinRequests = a.latency_min_requests;
  if (a.min_agreement !== undefined) o.minAgreement = a.min_agreement;
  if (a.min_mirror_samples !== undefined) o.minMirrorSamples = a.min_mirror_samples;
  if (a.mirror_percent !== undefined) o.mirrorPercent = a.mirror_percent;
  return o;
}

const rolloutActions = ['pause', 'resume', 'promote', 'abort'] as const satisfies readonly RolloutAction[];

/**
 * Versions, traffic and rollouts. Changes to the split and the mirror are persisted (with their
 * audit row) before they apply, like every rollout step; a manual split change is refused while
 * a rollout owns the deployment's weights.
 */
export const deploymentRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/api\/v1\/deployments$/,
    template: '/api/v1/deployments',
    handler: async (req, res, ctx) => {
      await authorize(req, ctx.plane, 'viewer');
      sendJson(res, 200, { deployments: ctx.status().deployments });
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/deployments\/([^/]+)$/,
    template: '/api/v1/deployments/{name}',
    handler: async (req, res, ctx, [name]) => {
      await authorize(req, ctx.plane, 'viewer');
      const d = ctx.status().deployments.find((x) => x.name === name);
      if (!d) throw new VigilError('VIGIL_ERR_UNKNOWN_MODEL', `"${name!.slice(0, 100)}"`);
      sendJson(res, 200, d);
    },
  },
  {
    method: 'PUT',
    pattern: /^\/api\/v1\/deployments\/([^/]+)\/weights$/,
    template: '/api/v1/deployments/{name}/weights',
    handler: async (req, res, ctx, [name]) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      ctx.router.get(name!);
      const b = await readJson(req, weightsBody);
      sendJson(res, 200, await setWeights(ctx, actor, name!, b.weights));
    },
  },
  {
    method: 'PUT',
    pattern: /^\/api\/v1\/deployments\/([^/]+)\/mirror$/,
    template: '/api/v1/deployments/{name}/mirror',
    handler: async (req, res, ctx, [name]) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      const d = ctx.router.get(name!);
      const b = await readJson(req, mirrorBody);
      if (!d.pools.has(b.version))
        throw new VigilError(
          'VIGIL_ERR_UNKNOWN_VERSION',
          `deployment "${d.name}" has no version "${b.version.slice(0, 100)}"`,
        );
      const before = d.mirror ?? null;
      const apply = await withTransaction(ctx.plane.database.db, async (tx) => {
        const apply = await ctx.traffic.write(tx, d, { mirror: b, activate: [b.version] });
        await recordAudit(tx, {
          actor: actor.name,
          action: 'traffic.set_mirror',
          target: `deployment/${d.name}`,
          before,
          after: b,
        });
        return apply;
      });
      apply();
      sendJson(res, 200, { deployment: d.name, mirror: d.mirror });
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/api\/v1\/deployments\/([^/]+)\/mirror$/,
    template: '/api/v1/deployments/{name}/mirror',
    handler: async (req, res, ctx, [name]) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      const d = ctx.router.get(name!);
      const before = d.mirror ?? null;
      const apply = await withTransaction(ctx.plane.database.db, async (tx) => {
        const apply = await ctx.traffic.write(tx, d, { mirror: null });
        await recordAudit(tx, {
          actor: actor.name,
          action: 'traffic.clear_mirror',
          target: `deployment/${d.name}`,
          before,
          after: null,
        });
        return apply;
      });
      apply();
      res.writeHead(204).end();
    },
  },
  {
    method: 'PUT',
    pattern: /^\/api\/v1\/deployments\/([^/]+)\/versions\/([^/]+)\/replicas$/,
    template: '/api/v1/deployments/{name}/versions/{version}/replicas',
    handler: async (req, res, ctx, [name, version]) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      ctx.router.get(name!).pick({ version: version! });
      const b = await readJson(req, replicasBody);
      sendJson(res, 200, await scaleVersion(ctx, actor, name!, version!, b.replicas));
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/deployments\/([^/]+)\/versions\/([^/]+)\/replicas\/([^/]+)\/restart$/,
    template: '/api/v1/deployments/{name}/versions/{version}/replicas/{id}/restart',
    handler: async (req, res, ctx, [name, version, id]) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      sendJson(res, 202, await restartReplica(ctx, actor, name!, version!, id!));
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/deployments\/([^/]+)\/rollouts$/,
    template: '/api/v1/deployments/{name}/rollouts',
    handler: async (req, res, ctx, [name]) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      const b = await readJson(req, rolloutBody);
      const row = await ctx.rollouts.startRollout({
        deployment: name!,
        version: b.version,
        steps: b.steps,
        intervalSeconds: parseDuration(b.interval),
        overrides: overridesFrom(b.analysis),
        actor: actor.name,
      });
      sendJson(res, 201, row);
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/deployments\/([^/]+)\/rollout$/,
    template: '/api/v1/deployments/{name}/rollout',
    handler: async (req, res, ctx, [name]) => {
      await authorize(req, ctx.plane, 'viewer');
      const d = ctx.router.get(name!);
      const [latest] = await listRollouts(ctx.plane.database.db, { deployment: d.name, limit: 1 });
      sendJson(res, 200, { active: ctx.rolloutStatus(d.name), latest: latest ?? null });
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/deployments\/([^/]+)\/rollout\/([a-z]+)$/,
    template: '/api/v1/deployments/{name}/rollout/{action}',
    handler: async (req, res, ctx, [name, action]) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      if (!(rolloutActions as readonly string[]).includes(action!))
        throw new VigilError('VIGIL_ERR_NOT_FOUND', `rollout action "${action}"; use ${rolloutActions.join(', ')}`);
      const row = await ctx.rollouts.act(name!, action as RolloutAction, actor.name);
      sendJson(res, 200, row);
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/rollouts$/,
    template: '/api/v1/rollouts',
    handler: async (req, res, ctx, _p, url) => {
      await authorize(req, ctx.plane, 'viewer');
      const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit') ?? 100) || 100));
      sendJson(res, 200, {
        rollouts: await listRollouts(ctx.plane.database.db, {
          deployment: url.searchParams.get('deployment') ?? undefined,
          limit,
        }),
      });
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/rollouts\/(\d+)$/,
    template: '/api/v1/rollouts/{id}',
    handler: async (req, res, ctx, [id]) => {
      await authorize(req, ctx.plane, 'viewer');
      const row = await getRollout(ctx.plane.database.db, Number(id));
      if (!row) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `rollout ${id}`);
      sendJson(res, 200, row);
    },
  },
];
