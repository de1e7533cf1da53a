import { stringify as toYaml } from 'yaml';
import type { sloRoutes } from '../../contract/control/slos.ts';
import { deleteSlo, upsertSlo } from '../../db/queries/slos.ts';
import { isValidLatencyThreshold, type SloDefinition } from '../../slo/definition.ts';
import { parseDuration } from '../../slo/duration.ts';
import { fromOpenSlo, toOpenSlo } from '../../slo/openslo.ts';
import { sloToRow } from '../control-plane.ts';
import { isVigilError, VigilError } from '../errors.ts';
import type { ApiContext } from './api-context.ts';
import type { Actor } from './auth.ts';
import { audited } from './audited.ts';
import type { Handlers } from './handler.ts';
import { sloStatus } from './slo-status.ts';

/** SLOs: read with their live evaluation, written (audited) through the control plane. */
export const sloHandlers: Handlers<typeof sloRoutes> = {
  listSlos: async ({ ctx }) => {
    const evals = new Map(ctx.plane.engine.evaluations().map((e) => [e.slo.id, e]));
    const now = Date.now();
    return {
      slos: [...ctx.plane.slos.values()].map((s) =>
        sloStatus(s, evals.get(s.id), ctx.plane.collector.window, now, ctx.router.deployments.has(s.deployment)),
      ),
    };
  },
  importOpenSlo: async ({ ctx, actor, body }) => {
    let slo: SloDefinition;
    try {
      slo = fromOpenSlo(body);
    } catch (err) {
      if (isVigilError(err)) throw err;
      throw new VigilError('VIGIL_ERR_INVALID_BODY', (err as Error).message);
    }
    await saveSlo(ctx, actor, slo);
    return sloStatus(slo, undefined, ctx.plane.collector.window);
  },
  getSlo: async ({ ctx, params: { id } }) => {
    const slo = mustGet(ctx, id);
    return sloStatus(
      slo,
      ctx.plane.engine.evaluations().find((e) => e.slo.id === id),
      ctx.plane.collector.window,
      Date.now(),
      ctx.router.deployments.has(slo.deployment),
    );
  },
  exportOpenSlo: async ({ ctx, params: { id } }) => toYaml(toOpenSlo(mustGet(ctx, id)), { lineWidth: 0 }),
  putSlo: async ({ ctx, actor, params: { id }, body: b }) => {
    if (b.kind === 'latency' && (b.threshold_ms === undefined || !isValidLatencyThreshold(b.threshold_ms / 1000))) {
      throw new VigilError(
        'VIGIL_ERR_INVALID_BODY',
        'threshold_ms: a latency SLO needs a threshold that is one of the latency histogram bounds',
      );
    }
    const slo: SloDefinition = {
      id,
      deployment: b.deployment,
      version: b.version ?? null,
      kind: b.kind,
      objective: b.objective,
      windowSeconds: parseDuration(b.window),
      latencyThresholdSeconds: b.kind === 'latency' ? b.threshold_ms! / 1000 : null,
      description: b.description ?? null,
    };
    await saveSlo(ctx, actor, slo);
    return sloStatus(slo, undefined, ctx.plane.collector.window);
  },
  deleteSlo: async ({ ctx, actor, params: { id } }) => {
    const slo = mustGet(ctx, id);
    if (ctx.plane.configSloIds.has(id))
      throw new VigilError('VIGIL_ERR_CONFLICT', `SLO "${id}" is declared in vigil.yaml; remove it there`);
    await audited(ctx, actor, 'slo.delete', `slo/${id}`, async (tx) => ({
      before: slo,
      result: await deleteSlo(tx, id),
    }));
    ctx.plane.setSlo({ id, deleted: true });
  },
};

function mustGet(ctx: ApiContext, id: string): SloDefinition {
  const slo = ctx.plane.slos.get(id);
  if (!slo) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `SLO "${id.slice(0, 100)}"`);
  return slo;
}

async function saveSlo(ctx: ApiContext, actor: Actor, slo: SloDefinition): Promise<void> {
  const before = ctx.plane.slos.get(slo.id) ?? null;
  await audited(ctx, actor, before ? 'slo.update' : 'slo.create', `slo/${slo.id}`, async (tx) => {
    await upsertSlo(tx, sloToRow(slo));
    return { before, after: slo, result: undefined };
  });
  ctx.plane.setSlo(slo);
}
