import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify as toYaml } from 'yaml';
import { z } from 'zod';
import { acknowledgeAlert, getAlert, listAlerts, upsertAlertState } from '../../db/queries/alerts.ts';
import { listAudit } from '../../db/queries/audit.ts';
import { listIncidents } from '../../db/queries/incidents.ts';
import { deleteSlo, upsertSlo } from '../../db/queries/slos.ts';
import { createApiToken, listApiTokens, revokeApiToken } from '../../db/queries/tokens.ts';
import { alertStates } from '../../db/schema/alerts.ts';
import { fingerprint } from '../../slo/alert-state.ts';
import { isValidLatencyThreshold, type SloDefinition } from '../../slo/definition.ts';
import { parseDuration } from '../../slo/duration.ts';
import { fromOpenSlo, toOpenSlo } from '../../slo/openslo.ts';
import { sloToRow, type ControlPlane } from '../control-plane.ts';
import { VigilError } from '../errors.ts';
import { sendJson } from '../ingress/error-response.ts';
import { decodePathSegment } from '../ingress/decode-path.ts';
import { EXTERNAL_FINGERPRINT_PREFIX } from '../../db/queries/alerts.ts';
import type { DeploymentRouter } from '../router/deployment-router.ts';
import { authorize, roles, type Actor } from './auth.ts';
import { readJson } from './read-json.ts';
import { sloStatus } from './slo-status.ts';
import { deploymentRoutes } from './deployment-routes.ts';
import { runbookRoutes } from './runbook-routes.ts';
import { sessionRoutes } from './session-routes.ts';
import { audited } from './audited.ts';
import { setFaultInjection, silence } from './actions.ts';
import type { VersionPool } from '../router/version-pool.ts';
import type { ReplicaHandle } from '../controller/replica-handle.ts';
import type { VigilMetrics } from '../telemetry/metrics.ts';
import type { ConsoleConfig } from '../config/schema.ts';
import { consoleRoutes } from './console-routes.ts';
import { clusterRoutes } from './cluster-routes.ts';
import type { ClusterStatus } from '../cluster/cluster-status.ts';
import type { RolloutController } from '../rollout/rollout-controller.ts';
import type { DeploymentState } from '../traffic/deployment-state.ts';

export interface ApiContext {
  plane: ControlPlane;
  router: DeploymentRouter;
  rollouts: RolloutController;
  traffic: DeploymentState;
  /** The active rollout of a deployment with its live analysis, or null. */
  rolloutStatus(deployment: string): unknown;
  status(): { deployments: { name: string }[] } & Record<string, unknown>;
  requestShutdown(): void;
  /** Drains the replica; the controller starts its replacement. */
  restartReplica(pool: VersionPool, replica: ReplicaHandle): void;
  /** Restarts, crash loop and last error of a version's replicas (the controller's view). */
  replicaHealth(pool: VersionPool): { restarts: number; crashLoop: boolean; lastError: string | undefined };
  metrics: VigilMetrics;
  consoleConfig: ConsoleConfig;
  /** The nodes on this database and the leadership (GET /api/v1/cluster). */
  cluster(): Promise<ClusterStatus>;
}

export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ApiContext,
  params: string[],
  url: URL,
) => Promise<void>;

export interface Route {
  method: string;
  pattern: RegExp;
  /** The route template, used as the span's http.route. */
  template: string;
  handler: Handler;
}

const sloBody = z.strictObject({
  deployment: z.string().min(1),
  kind: z.enum(['availability', 'latency']),
  objective: z.number().gt(0).lt(1),
  window: z
    .string()
    .regex(/^\d+(s|m|h|d|w)$/)
    .default('28d'),
  threshold_ms: z.number().positive().optional(),
  version: z.string().min(1).nullable().optional(),
  description: z.string().max(1000).nullable().optional(),
});

const faultBody = z.strictObject({
  error_rate: z.number().min(0).max(1),
  added_latency_ms: z.number().min(0).max(600_000).default(0),
});

const silenceBody = z.strictObject({ until: z.iso.datetime({ offset: true }).nullable() });
const tokenBody = z.strictObject({ name: z.string().min(1).max(100), role: z.enum(roles) });

const alertmanagerBody = z.object({
  version: z.string().optional(),
  status: z.string().optional(),
  receiver: z.string().optional(),
  alerts: z
    .array(
      z.object({
        status: z.enum(['firing', 'resolved']),
        labels: z.record(z.string(), z.string()),
        annotations: z.record(z.string(), z.string()).default({}),
        startsAt: z.string().optional(),
        endsAt: z.string().optional(),
        fingerprint: z.string().optional(),
        generatorURL: z.string().optional(),
      }),
    )
    .max(1000),
});

const routes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/api\/v1\/status$/,
    template: '/api/v1/status',
    handler: async (req, res, ctx) => {
      await authorize(req, ctx.plane, 'viewer');
      sendJson(res, 200, ctx.status());
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/shutdown$/,
    template: '/api/v1/shutdown',
    handler: async (req, res, ctx) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      await audited(ctx, actor, 'node.shutdown', 'node', async () => ({ result: undefined }));
      sendJson(res, 202, { shutting_down: true });
      setImmediate(() => ctx.requestShutdown());
    },
  },
  {
    method: 'PUT',
    pattern: /^\/api\/v1\/deployments\/([^/]+)\/versions\/([^/]+)\/fault-injection$/,
    template: '/api/v1/deployments/{name}/versions/{version}/fault-injection',
    handler: async (req, res, ctx, [name, version]) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      ctx.router.get(name!).pick({ version: version! });
      const b = await readJson(req, faultBody);
      const fault = await setFaultInjection(ctx, actor, name!, version!, {
        errorRate: b.error_rate,
        addedLatencyMs: b.added_latency_ms,
      });
      sendJson(res, 200, {
        deployment: name,
        version: version,
        fault_injection: { error_rate: fault.errorRate, added_latency_ms: fault.addedLatencyMs },
      });
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/slos$/,
    template: '/api/v1/slos',
    handler: async (req, res, ctx) => {
      await authorize(req, ctx.plane, 'viewer');
      const evals = new Map(ctx.plane.engine.evaluations().map((e) => [e.slo.id, e]));
      sendJson(res, 200, {
        slos: [...ctx.plane.slos.values()].map((s) =>
          sloStatus(
            s,
            evals.get(s.id),
            ctx.plane.collector.window,
            Date.now(),
            ctx.router.deployments.has(s.deployment),
          ),
        ),
      });
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/slos\/openslo$/,
    template: '/api/v1/slos/openslo',
    handler: async (req, res, ctx) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      let slo;
      try {
        slo = fromOpenSlo(await readJson(req, z.unknown(), { yaml: true }));
      } catch (err) {
        if (err instanceof VigilError) throw err;
        throw new VigilError('VIGIL_ERR_INVALID_BODY', (err as Error).message);
      }
      await saveSlo(ctx, actor, slo);
      sendJson(res, 201, sloStatus(slo, undefined, ctx.plane.collector.window));
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/slos\/([^/]+)$/,
    template: '/api/v1/slos/{id}',
    handler: async (req, res, ctx, [id]) => {
      await authorize(req, ctx.plane, 'viewer');
      const slo = ctx.plane.slos.get(id!);
      if (!slo) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `SLO "${id}"`);
      sendJson(
        res,
        200,
        sloStatus(
          slo,
          ctx.plane.engine.evaluations().find((e) => e.slo.id === id),
          ctx.plane.collector.window,
          Date.now(),
          ctx.router.deployments.has(slo.deployment),
        ),
      );
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/slos\/([^/]+)\/openslo$/,
    template: '/api/v1/slos/{id}/openslo',
    handler: async (req, res, ctx, [id]) => {
      await authorize(req, ctx.plane, 'viewer');
      const slo = ctx.plane.slos.get(id!);
      if (!slo) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `SLO "${id}"`);
      const body = toYaml(toOpenSlo(slo), { lineWidth: 0 });
      res.writeHead(200, { 'content-type': 'application/yaml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    },
  },
  {
    method: 'PUT',
    pattern: /^\/api\/v1\/slos\/([^/]+)$/,
    template: '/api/v1/slos/{id}',
    handler: async (req, res, ctx, [id]) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(id!))
        throw new VigilError('VIGIL_ERR_INVALID_BODY', 'SLO ids are 1-63 letters, digits, ".", "_" or "-"');
      const b = await readJson(req, sloBody);
      if (b.kind === 'latency' && (b.threshold_ms === undefined || !isValidLatencyThreshold(b.threshold_ms / 1000))) {
        throw new VigilError(
          'VIGIL_ERR_INVALID_BODY',
          'threshold_ms: a latency SLO needs a threshold that is one of the latency histogram bounds',
        );
      }
      const slo = {
        id: id!,
        deployment: b.deployment,
        version: b.version ?? null,
        kind: b.kind,
        objective: b.objective,
        windowSeconds: parseDuration(b.window),
        latencyThresholdSeconds: b.kind === 'latency' ? b.threshold_ms! / 1000 : null,
        description: b.description ?? null,
      };
      await saveSlo(ctx, actor, slo);
      sendJson(res, 200, sloStatus(slo, undefined, ctx.plane.collector.window));
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/api\/v1\/slos\/([^/]+)$/,
    template: '/api/v1/slos/{id}',
    handler: async (req, res, ctx, [id]) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      const slo = ctx.plane.slos.get(id!);
      if (!slo) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `SLO "${id}"`);
      if (ctx.plane.configSloIds.has(id!))
        throw new VigilError('VIGIL_ERR_CONFLICT', `SLO "${id}" is declared in vigil.yaml; remove it there`);
      await audited(ctx, actor, 'slo.delete', `slo/${id}`, async (tx) => ({
        before: slo,
        result: await deleteSlo(tx, id!),
      }));
      ctx.plane.setSlo({ id: id!, deleted: true });
      res.writeHead(204).end();
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/alerts$/,
    template: '/api/v1/alerts',
    handler: async (req, res, ctx, _p, url) => {
      await authorize(req, ctx.plane, 'viewer');
      const states = url.searchParams
        .get('state')
        ?.split(',')
        .filter((s): s is (typeof alertStates)[number] => (alertStates as readonly string[]).includes(s));
      sendJson(res, 200, {
        alerts: await listAlerts(ctx.plane.database.db, { states: states?.length ? states : undefined, limit: 500 }),
      });
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/alerts\/alertmanager$/,
    template: '/api/v1/alerts/alertmanager',
    handler: async (req, res, ctx) => {
      const actor = await authorize(req, ctx.plane, 'alert-receiver');
      const body = await readJson(req, alertmanagerBody);
      const stored = await audited(
        ctx,
        actor,
        'alert.receive',
        `alertmanager/${body.receiver ?? 'unknown'}`,
        async (tx) => {
          const out = [];
          for (const a of body.alerts) {
            // Alertmanager's fingerprints live in a namespace of their own: a payload naming the
            // fingerprint of an alert vigil raised must not be able to resolve or rename it.
            const fp = `${EXTERNAL_FINGERPRINT_PREFIX}${a.fingerprint ?? fingerprint(a.labels)}`;
            // The alert's own status decides its state; endsAt (which Alertmanager sets in the
            // future for firing alerts) does not.
            const state = a.status;
            const startsAt = a.startsAt && !Number.isNaN(Date.parse(a.startsAt)) ? new Date(a.startsAt) : new Date();
            const endsAt =
              state === 'resolved' && a.endsAt && !Number.isNaN(Date.parse(a.endsAt))
                ? new Date(a.endsAt)
                : state === 'resolved'
                  ? new Date()
                  : null;
            const { alert } = await upsertAlertState(
              tx,
              {
                fingerprint: fp,
                source: 'alertmanager',
                name: a.labels.alertname ?? 'unnamed',
                severity: a.labels.severity ?? 'none',
                labels: a.labels,
                annotations: a.annotations,
                state,
                startsAt,
                endsAt,
              },
              { details: { receiver: body.receiver, generatorURL: a.generatorURL } },
            );
            out.push({ fingerprint: alert.fingerprint, state: alert.state });
          }
          return { after: out, result: out };
        },
      );
      sendJson(res, 200, { stored });
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/alerts\/([^/]+)\/ack$/,
    template: '/api/v1/alerts/{fingerprint}/ack',
    handler: async (req, res, ctx, [fp]) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      const alert = await audited(ctx, actor, 'alert.acknowledge', `alert/${fp}`, async (tx) => {
        const before = await getAlert(tx, fp!);
        if (!before) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `alert "${fp}"`);
        const after = await acknowledgeAlert(tx, { fingerprint: fp!, actor: actor.name });
        return {
          before: { acknowledgedBy: before.acknowledgedBy },
          after: { acknowledgedBy: after?.acknowledgedBy },
          result: after,
        };
      });
      sendJson(res, 200, alert);
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/alerts\/([^/]+)\/silence$/,
    template: '/api/v1/alerts/{fingerprint}/silence',
    handler: async (req, res, ctx, [fp]) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      const { until } = await readJson(req, silenceBody);
      const alert = await silence(ctx, actor, fp!, until ? new Date(until) : null);
      sendJson(res, 200, alert);
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/incidents$/,
    template: '/api/v1/incidents',
    handler: async (req, res, ctx, _p, url) => {
      await authorize(req, ctx.plane, 'viewer');
      const status = url.searchParams.get('status');
      sendJson(res, 200, {
        incidents: await listIncidents(ctx.plane.database.db, {
          status: status === 'open' || status === 'resolved' ? status : undefined,
        }),
      });
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/audit$/,
    template: '/api/v1/audit',
    handler: async (req, res, ctx, _p, url) => {
      await authorize(req, ctx.plane, 'viewer');
      const q = url.searchParams;
      const limit = Math.min(1000, Math.max(1, Number(q.get('limit') ?? 100) || 100));
      sendJson(res, 200, {
        entries: await listAudit(ctx.plane.database.db, {
          actor: q.get('actor') ?? undefined,
          action: q.get('action') ?? undefined,
          target: q.get('target') ?? undefined,
          limit,
        }),
      });
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/tokens$/,
    template: '/api/v1/tokens',
    handler: async (req, res, ctx) => {
      const actor = await authorize(req, ctx.plane, 'admin');
      const b = await readJson(req, tokenBody);
      const created = await audited(ctx, actor, 'token.create', `token/${b.name}`, async (tx) => {
        const c = await createApiToken(tx, { name: b.name, role: b.role });
        return { after: { id: c.row.id, name: c.row.name, role: c.row.role }, result: c };
      });
      await ctx.plane.refreshTokenPresence();
      sendJson(res, 201, { id: created.row.id, name: created.row.name, role: created.row.role, token: created.token });
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/tokens$/,
    template: '/api/v1/tokens',
    handler: async (req, res, ctx) => {
      await authorize(req, ctx.plane, 'admin');
      sendJson(res, 200, { tokens: await listApiTokens(ctx.plane.database.db) });
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/api\/v1\/tokens\/(\d+)$/,
    template: '/api/v1/tokens/{id}',
    handler: async (req, res, ctx, [id]) => {
      const actor = await authorize(req, ctx.plane, 'admin');
      const ok = await audited(ctx, actor, 'token.revoke', `token/${id}`, async (tx) => ({
        result: await revokeApiToken(tx, Number(id)),
      }));
      if (!ok) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `token ${id}`);
      await ctx.plane.refreshTokenPresence();
      res.writeHead(204).end();
    },
  },
  ...deploymentRoutes,
  ...runbookRoutes,
  ...sessionRoutes,
  ...consoleRoutes,
  ...clusterRoutes,
];

async function saveSlo(ctx: ApiContext, actor: Actor, slo: SloDefinition): Promise<void> {
  const before = ctx.plane.slos.get(slo.id) ?? null;
  await audited(ctx, actor, before ? 'slo.update' : 'slo.create', `slo/${slo.id}`, async (tx) => {
    await upsertSlo(tx, sloToRow(slo));
    return { before, after: slo, result: undefined };
  });
  ctx.plane.setSlo(slo);
}

/**
 * Matches a control-API request. Returns the route template and a promise of the response, or
 * undefined when no route matches (the caller answers 404 or 405).
 */
export function matchApi(
  method: string,
  path: string,
):
  | { template: string; run: (req: IncomingMessage, res: ServerResponse, ctx: ApiContext, url: URL) => Promise<void> }
  | { template: string; wrongMethod: true }
  | undefined {
  let template: string | undefined;
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    // Decoded before the method is checked: a bad encoding is a 400 whatever the method.
    const params = m.slice(1).map((p) => decodePathSegment(p));
    template = r.template;
    if (r.method !== method) continue;
    return { template: r.template, run: (req, res, ctx, url) => r.handler(req, res, ctx, params, url) };
  }
  return template ? { template, wrongMethod: true } : undefined;
}
