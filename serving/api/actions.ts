import type { z } from 'zod';
import { actionTypes, type ActionPreview, runbookAction } from '../../contract/control/runbooks.ts';
import { getAlert, silenceAlert } from '../../db/queries/alerts.ts';
import { recordAudit } from '../../db/queries/audit.ts';
import { withTransaction } from '../../db/transaction.ts';
import { parseDuration } from '../../slo/duration.ts';
import { VigilError } from '../errors.ts';
import type { ApiContext } from './api-context.ts';
import type { Actor } from './auth.ts';
import { audited } from './audited.ts';

/**
 * The operator actions, in one place: the API routes and runbook steps both call these, so a
 * button in the console and a `curl` do exactly the same thing, with the same checks and the
 * same audit row. Each action can also describe itself without running (the console's
 * confirmation dialog shows that "before → after").
 */
/** An action as stored in a runbook step: any field may be missing, to be given when it runs. */
export const actionSpec = runbookAction;
export { actionTypes };
export type ActionType = (typeof actionTypes)[number];
export type ActionSpec = z.infer<typeof actionSpec>;

/**
 * The version an action acts on: the one named, or else the one taking the most traffic (the
 * stable one), never a weighted random pick, so that a preview and its run agree.
 */
function poolFor(ctx: ApiContext, deployment: string, version: string | undefined) {
  const d = ctx.router.get(deployment);
  if (version !== undefined) return d.pick({ version });
  const main = [...d.split.entries].sort((a, b) => b.weight - a.weight)[0];
  return d.pick(main ? { version: main.version } : {});
}

function need<K extends keyof ActionSpec>(a: ActionSpec, key: K): NonNullable<ActionSpec[K]> {
  const v = a[key];
  if (v === undefined || v === null)
    throw new VigilError('VIGIL_ERR_INVALID_BODY', `the ${a.type} action needs "${String(key)}"`);
  return v as NonNullable<ActionSpec[K]>;
}

/** Sets the traffic split of a deployment (refused while a rollout owns it). */
export async function setWeights(
  ctx: ApiContext,
  actor: Actor,
  deployment: string,
  weights: Record<string, number>,
): Promise<{ deployment: string; split: { version: string; weight: number }[] }> {
  const d = ctx.router.get(deployment);
  if (ctx.rollouts.describe(d.name)) throw new VigilError('VIGIL_ERR_ROLLOUT_ACTIVE', `"${d.name}"`);
  const split = Object.entries(weights).map(([version, weight]) => ({ version, weight }));
  if (split.length === 0) throw new VigilError('VIGIL_ERR_INVALID_BODY', 'weights: give at least one version');
  for (const e of split)
    if (!d.pools.has(e.version))
      throw new VigilError(
        'VIGIL_ERR_UNKNOWN_VERSION',
        `deployment "${d.name}" has no version "${e.version.slice(0, 100)}"`,
      );
  if (split.every((e) => e.weight === 0))
    throw new VigilError('VIGIL_ERR_INVALID_BODY', 'weights: at least one version needs a weight above 0');
  const before = ctx.traffic.rows(d);
  const apply = await withTransaction(ctx.plane.database.db, async (tx) => {
    // A version given traffic comes back from retirement; one set to 0 keeps its replicas (dark).
    const apply = await ctx.traffic.write(tx, d, {
      split,
      activate: split.filter((e) => e.weight > 0).map((e) => e.version),
    });
    await recordAudit(tx, {
      actor: actor.name,
      action: 'traffic.set_weights',
      target: `deployment/${d.name}`,
      before: { versions: before },
      after: { weights },
    });
    return apply;
  });
  apply();
  return { deployment: d.name, split: d.split.entries.map((e) => ({ version: e.version, weight: e.weight })) };
}

/**
 * Sets a version's replica count per node. It is shared state: stored with the deployment (and
 * its audit row) before it applies, and every node applies it; `replicas: null` in the store
 * means vigil.yaml's count again.
 */
export async function scaleVersion(
  ctx: ApiContext,
  actor: Actor,
  deployment: string,
  version: string | undefined,
  replicas: number,
): Promise<{ deployment: string; version: string; target_replicas: number }> {
  const pool = poolFor(ctx, deployment, version);
  if (pool.deployment.autoscaling)
    throw new VigilError(
      'VIGIL_ERR_CONFLICT',
      `"${pool.name}" is autoscaled (min ${pool.deployment.autoscaling.min_replicas}, max ${pool.deployment.autoscaling.max_replicas}); change its autoscaling bounds in vigil.yaml`,
    );
  if (pool.retired)
    throw new VigilError(
      'VIGIL_ERR_CONFLICT',
      `version "${pool.version}" is retired; give it traffic or start a rollout to revive it`,
    );
  const before = pool.targetReplicas;
  const d = ctx.router.get(pool.name);
  const apply = await withTransaction(ctx.plane.database.db, async (tx) => {
    const apply = await ctx.traffic.write(tx, d, { replicas: { [pool.version]: replicas } });
    await recordAudit(tx, {
      actor: actor.name,
      action: 'deployment.scale',
      target: `deployment/${pool.name}/${pool.version}`,
      before: { replicas: before },
      after: { replicas },
    });
    return apply;
  });
  apply();
  return { deployment: pool.name, version: pool.version, target_replicas: pool.targetReplicas };
}

/** Sets a version's fault injection on every node (stored, audited, then applied). */
export async function setFaultInjection(
  ctx: ApiContext,
  actor: Actor,
  deployment: string,
  version: string,
  fault: { errorRate: number; addedLatencyMs: number },
): Promise<{ errorRate: number; addedLatencyMs: number }> {
  const d = ctx.router.get(deployment);
  const pool = d.pick({ version });
  const before = { ...pool.fault };
  const apply = await withTransaction(ctx.plane.database.db, async (tx) => {
    const apply = await ctx.traffic.write(tx, d, { fault: { [pool.version]: fault } });
    await recordAudit(tx, {
      actor: actor.name,
      action: 'fault_injection.set',
      target: `deployment/${d.name}/${pool.version}`,
      before,
      after: fault,
    });
    return apply;
  });
  apply();
  return pool.fault;
}

/** Drains one replica and lets the controller start its replacement. */
export async function restartReplica(
  ctx: ApiContext,
  actor: Actor,
  deployment: string,
  version: string | undefined,
  replicaId: string | undefined,
): Promise<{ deployment: string; version: string; replica: string }> {
  const pool = poolFor(ctx, deployment, version);
  const r =
    replicaId === undefined
      ? pool.replicas.find((x) => x.state === 'RUNNING')
      : pool.replicas.find((x) => x.id === replicaId);
  if (!r || (r.state !== 'RUNNING' && r.state !== 'STARTING'))
    throw new VigilError(
      'VIGIL_ERR_NO_SUCH_RESOURCE',
      replicaId
        ? `replica "${replicaId.slice(0, 100)}" of ${pool.name} ${pool.version} is not running`
        : `${pool.name} ${pool.version} has no running replica`,
    );
  await withTransaction(ctx.plane.database.db, (tx) =>
    recordAudit(tx, {
      actor: actor.name,
      action: 'replica.restart',
      target: `deployment/${pool.name}/${pool.version}`,
      before: { replica: r.id, pid: r.pid ?? null, state: r.state },
      after: { replaced: true },
    }),
  );
  ctx.restartReplica(pool, r);
  return { deployment: pool.name, version: pool.version, replica: r.id };
}

/** Silences an alert for a while (or lifts the silence with `until: null`). */
export async function silence(ctx: ApiContext, actor: Actor, fp: string, until: Date | null) {
  return audited(ctx, actor, 'alert.silence', `alert/${fp}`, async (tx) => {
    const before = await getAlert(tx, fp);
    if (!before) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `alert "${fp.slice(0, 100)}"`);
    const after = await silenceAlert(tx, { fingerprint: fp, until });
    return {
      before: { silencedUntil: before.silencedUntil },
      after: { silencedUntil: after?.silencedUntil },
      result: after,
    };
  });
}

/** What the action would change, read from the live state, without changing it. */
export async function previewAction(ctx: ApiContext, a: ActionSpec): Promise<ActionPreview> {
  switch (a.type) {
    case 'rollback_rollout':
    case 'pause_rollout':
    case 'resume_rollout': {
      const d = ctx.router.get(need(a, 'deployment'));
      const r = ctx.rollouts.describe(d.name);
      if (!r) throw new VigilError('VIGIL_ERR_NO_ACTIVE_ROLLOUT', `"${d.name}"`);
      const verb = a.type === 'rollback_rollout' ? 'Roll back' : a.type === 'pause_rollout' ? 'Pause' : 'Resume';
      const after =
        a.type === 'rollback_rollout'
          ? { status: 'Aborted', weights: { [r.row.stableVersion]: 100, [r.row.canaryVersion]: 0 } }
          : { status: a.type === 'pause_rollout' ? 'Paused' : 'Progressing', canary_weight: r.row.canaryWeight };
      return {
        action: { ...a, deployment: d.name },
        target: `deployment/${d.name}`,
        description: `${verb} rollout ${r.row.id} of ${d.name} (canary ${r.row.canaryVersion} at ${r.row.canaryWeight}%, stable ${r.row.stableVersion})`,
        before: { status: r.row.status, canary_weight: r.row.canaryWeight },
        after,
      };
    }
    case 'set_weight': {
      const d = ctx.router.get(need(a, 'deployment'));
      const weights = need(a, 'weights');
      const before = Object.fromEntries(d.split.entries.map((e) => [e.version, e.weight]));
      return {
        action: { ...a, deployment: d.name },
        target: `deployment/${d.name}`,
        description: `Set the traffic split of ${d.name} to ${Object.entries(weights)
          .map(([v, w]) => `${v}=${w}`)
          .join(', ')}`,
        before,
        after: weights,
      };
    }
    case 'scale': {
      const pool = poolFor(ctx, need(a, 'deployment'), a.version);
      const replicas = need(a, 'replicas');
      return {
        action: { ...a, deployment: pool.name, version: pool.version },
        target: `deployment/${pool.name}/${pool.version}`,
        description: `Scale ${pool.name} ${pool.version} from ${pool.targetReplicas} to ${replicas} replicas`,
        before: { replicas: pool.targetReplicas },
        after: { replicas },
      };
    }
    case 'restart_replica': {
      const pool = poolFor(ctx, need(a, 'deployment'), a.version);
      const r =
        a.replica === undefined
          ? pool.replicas.find((x) => x.state === 'RUNNING')
          : pool.replicas.find((x) => x.id === a.replica);
      if (!r)
        throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `${pool.name} ${pool.version} has no such running replica`);
      return {
        action: { ...a, deployment: pool.name, version: pool.version, replica: r.id },
        target: `deployment/${pool.name}/${pool.version}`,
        description: `Restart replica ${r.id} (pid ${r.pid ?? '?'}) of ${pool.name} ${pool.version}: drain it, then start a replacement`,
        before: { replica: r.id, state: r.state },
        after: { replica: 'a new replica' },
      };
    }
    case 'silence_alert': {
      const fp = need(a, 'fingerprint');
      const alert = await getAlert(ctx.plane.database.db, fp);
      if (!alert) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `alert "${fp.slice(0, 100)}"`);
      const duration = a.duration ?? '1h';
      const until = new Date(Date.now() + parseDuration(duration) * 1000);
      return {
        action: { ...a, duration },
        target: `alert/${fp}`,
        description: `Silence ${alert.name} (${Object.entries(alert.labels)
          .filter(([k]) => k !== 'alertname')
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}) for ${duration}`,
        before: { silencedUntil: alert.silencedUntil },
        after: { silencedUntil: until.toISOString() },
      };
    }
  }
}

/** Runs the action through the same functions the API routes use. */
export async function runAction(ctx: ApiContext, actor: Actor, a: ActionSpec): Promise<Record<string, unknown>> {
  switch (a.type) {
    case 'rollback_rollout':
      return { rollout: await ctx.rollouts.act(need(a, 'deployment'), 'abort', actor.name) };
    case 'pause_rollout':
      return { rollout: await ctx.rollouts.act(need(a, 'deployment'), 'pause', actor.name) };
    case 'resume_rollout':
      return { rollout: await ctx.rollouts.act(need(a, 'deployment'), 'resume', actor.name) };
    case 'set_weight':
      return setWeights(ctx, actor, need(a, 'deployment'), need(a, 'weights'));
    case 'scale':
      return scaleVersion(ctx, actor, need(a, 'deployment'), a.version, need(a, 'replicas'));
    case 'restart_replica':
      return restartReplica(ctx, actor, need(a, 'deployment'), a.version, a.replica);
    case 'silence_alert': {
      const until = new Date(Date.now() + parseDuration(a.duration ?? '1h') * 1000);
      const alert = await silence(ctx, actor, need(a, 'fingerprint'), until);
      return { fingerprint: alert?.fingerprint, silenced_until: alert?.silencedUntil };
    }
  }
}
