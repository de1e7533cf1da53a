import type { deploymentRoutes } from '../../contract/control/deployments.ts';
import type { AnalysisOverrides, rolloutRoutes } from '../../contract/control/rollouts.ts';
import { recordAudit } from '../../db/queries/audit.ts';
import { getRollout, listRollouts } from '../../db/queries/rollouts.ts';
import { withTransaction } from '../../db/transaction.ts';
import { parseDuration } from '../../slo/duration.ts';
import { VigilError } from '../errors.ts';
import type { RolloutSettings } from '../rollout/rollout-controller.ts';
import { restartReplica, scaleVersion, setFaultInjection, setWeights } from './actions.ts';
import type { Handlers } from './handler.ts';

function overridesFrom(a: AnalysisOverrides): Partial<RolloutSettings> {
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
  if (a.max_drift !== undefined) o.maxDrift = a.max_drift;
  return o;
}

/**
 * Versions, traffic and rollouts. Changes to the split and the mirror are persisted (with their
 * audit row) before they apply, like every rollout step; a manual split change is refused while
 * a rollout owns the deployment's weights.
 */
export const deploymentHandlers: Handlers<typeof deploymentRoutes> = {
  listDeployments: async ({ ctx }) => ({ deployments: ctx.status().deployments }),
  getDeployment: async ({ ctx, params: { name } }) => {
    const d = ctx.status().deployments.find((x) => x.name === name);
    if (!d) throw new VigilError('VIGIL_ERR_UNKNOWN_MODEL', `"${name.slice(0, 100)}"`);
    return d;
  },
  setWeights: async ({ ctx, actor, params: { name }, body }) => {
    ctx.router.get(name);
    return setWeights(ctx, actor, name, body.weights);
  },
  setMirror: async ({ ctx, actor, params: { name }, body: b }) => {
    const d = ctx.router.get(name);
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
    return { deployment: d.name, mirror: d.mirror ?? null };
  },
  clearMirror: async ({ ctx, actor, params: { name } }) => {
    const d = ctx.router.get(name);
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
  },
  scaleVersion: async ({ ctx, actor, params: { name, version }, body }) => {
    ctx.router.get(name).pick({ version });
    return scaleVersion(ctx, actor, name, version, body.replicas);
  },
  restartReplica: async ({ ctx, actor, params: { name, version, id } }) =>
    restartReplica(ctx, actor, name, version, id),
  setFaultInjection: async ({ ctx, actor, params: { name, version }, body: b }) => {
    ctx.router.get(name).pick({ version });
    const fault = await setFaultInjection(ctx, actor, name, version, {
      errorRate: b.error_rate,
      addedLatencyMs: b.added_latency_ms,
    });
    return {
      deployment: name,
      version,
      fault_injection: { error_rate: fault.errorRate, added_latency_ms: fault.addedLatencyMs },
    };
  },
};

export const rolloutHandlers: Handlers<typeof rolloutRoutes> = {
  startRollout: async ({ ctx, actor, params: { name }, body: b }) =>
    ctx.rollouts.startRollout({
      deployment: name,
      version: b.version,
      steps: b.steps,
      intervalSeconds: parseDuration(b.interval),
      overrides: overridesFrom(b.analysis),
      actor: actor.name,
    }),
  getDeploymentRollout: async ({ ctx, params: { name } }) => {
    const d = ctx.router.get(name);
    const [latest] = await listRollouts(ctx.plane.database.db, { deployment: d.name, limit: 1 });
    return { active: ctx.rolloutStatus(d.name), latest: latest ?? null };
  },
  actOnRollout: async ({ ctx, actor, params: { name, action } }) => ctx.rollouts.act(name, action, actor.name),
  listRollouts: async ({ ctx, query }) => ({
    rollouts: await listRollouts(ctx.plane.database.db, { deployment: query.deployment, limit: query.limit }),
  }),
  getRollout: async ({ ctx, params: { id } }) => {
    const row = await getRollout(ctx.plane.database.db, id);
    if (!row) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `rollout ${id}`);
    return row;
  },
};
