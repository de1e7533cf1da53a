import type { Db } from '../../db/client.ts';
import { upsertAlertState } from '../../db/queries/alerts.ts';
import { enqueueWebhook } from '../../db/queries/outbox.ts';
import { withTransaction } from '../../db/transaction.ts';
import { fingerprint } from '../../slo/alert-state.ts';
import { buildWebhookPayload, type WebhookAlert } from '../../slo/alertmanager-payload.ts';
import type { WebhookReceiver } from '../../slo/engine.ts';

export interface ConditionAlert {
  /** `alertname` and `severity` included; the fingerprint comes from these. */
  labels: Record<string, string> & { alertname: string; severity: string };
  summary: string;
  description: string;
  runbook: string;
  /** Path below external_url that shows the numbers, e.g. /api/v1/deployments/cls/drift. */
  generatorPath: string;
  details: Record<string, unknown>;
}

/**
 * Raises or clears an alert for a condition vigil watches (drift, heat): stored, so the console's
 * on-call page shows it with its runbook, and sent to every webhook receiver in Alertmanager's
 * format, in one transaction through the durable outbox. SLO burn alerts and the rollback alert
 * have their own writers; these are the conditions that fire and clear.
 */
export async function raiseConditionAlert(
  o: { db: Db; receivers: readonly WebhookReceiver[]; externalUrl: string },
  alert: ConditionAlert,
  firing: boolean,
  now: number,
): Promise<void> {
  const base = o.externalUrl.replace(/\/$/, '');
  const fp = fingerprint(alert.labels);
  const annotations = {
    summary: alert.summary,
    description: alert.description,
    runbook: alert.runbook,
    runbook_url: `${base}/runbooks/${alert.runbook}`,
  };
  const webhook: WebhookAlert = {
    status: firing ? 'firing' : 'resolved',
    labels: alert.labels,
    annotations,
    startsAt: new Date(now).toISOString(),
    endsAt: firing ? '0001-01-01T00:00:00Z' : new Date(now).toISOString(),
    generatorURL: `${base}${alert.generatorPath}`,
    fingerprint: fp,
  };
  await withTransaction(o.db, async (tx) => {
    await upsertAlertState(
      tx,
      {
        fingerprint: fp,
        source: 'vigil',
        name: alert.labels.alertname,
        severity: alert.labels.severity,
        labels: alert.labels,
        annotations,
        state: firing ? 'firing' : 'resolved',
        startsAt: new Date(now),
        endsAt: firing ? null : new Date(now),
      },
      { details: alert.details },
    );
    for (const r of o.receivers)
      await enqueueWebhook(tx, {
        receiver: r.name,
        url: r.url,
        payload: buildWebhookPayload(r.name, base, [webhook], Object.keys(alert.labels)),
        dedupeKey: `${r.name}:${fp}:${webhook.status}:${now}`,
      });
  });
}
