import type { alertRoutes } from '../../contract/control/alerts.ts';
import {
  acknowledgeAlert,
  EXTERNAL_FINGERPRINT_PREFIX,
  getAlert,
  listAlerts,
  upsertAlertState,
} from '../../db/queries/alerts.ts';
import { listAudit } from '../../db/queries/audit.ts';
import { listIncidents } from '../../db/queries/incidents.ts';
import { fingerprint } from '../../slo/alert-state.ts';
import { VigilError } from '../errors.ts';
import { silence } from './actions.ts';
import { audited } from './audited.ts';
import type { Handlers } from './handler.ts';

const validDate = (s: string | undefined): Date | null => (s && !Number.isNaN(Date.parse(s)) ? new Date(s) : null);

/** Alerts (vigil's and Alertmanager's), incidents and the audit log. */
export const alertHandlers: Handlers<typeof alertRoutes> = {
  listAlerts: async ({ ctx, query }) => ({
    alerts: await listAlerts(ctx.plane.database.db, {
      states: query.state?.length ? query.state : undefined,
      limit: 500,
    }),
  }),
  receiveAlertmanager: async ({ ctx, actor, body }) => {
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
          const endsAt = state === 'resolved' ? (validDate(a.endsAt) ?? new Date()) : null;
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
              startsAt: validDate(a.startsAt) ?? new Date(),
              endsAt,
            },
            { details: { receiver: body.receiver, generatorURL: a.generatorURL } },
          );
          out.push({ fingerprint: alert.fingerprint, state: alert.state });
        }
        return { after: out, result: out };
      },
    );
    return { stored };
  },
  acknowledgeAlert: async ({ ctx, actor, params: { fingerprint: fp } }) =>
    audited(ctx, actor, 'alert.acknowledge', `alert/${fp}`, async (tx) => {
      const before = await getAlert(tx, fp);
      if (!before) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `alert "${fp.slice(0, 100)}"`);
      const after = await acknowledgeAlert(tx, { fingerprint: fp, actor: actor.name });
      if (!after) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `alert "${fp.slice(0, 100)}"`);
      return {
        before: { acknowledgedBy: before.acknowledgedBy },
        after: { acknowledgedBy: after.acknowledgedBy },
        result: after,
      };
    }),
  silenceAlert: async ({ ctx, actor, params: { fingerprint: fp }, body: { until } }) => {
    const alert = await silence(ctx, actor, fp, until ? new Date(until) : null);
    if (!alert) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `alert "${fp.slice(0, 100)}"`);
    return alert;
  },
  listIncidents: async ({ ctx, query }) => ({
    incidents: await listIncidents(ctx.plane.database.db, { status: query.status }),
  }),
  listAudit: async ({ ctx, query }) => ({
    entries: await listAudit(ctx.plane.database.db, {
      actor: query.actor,
      action: query.action,
      target: query.target,
      limit: query.limit,
    }),
  }),
};
