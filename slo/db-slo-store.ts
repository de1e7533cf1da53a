import type { Db } from '../db/client.ts';
import { getAlert, listAlerts, upsertAlertState } from '../db/queries/alerts.ts';
import { openIncidentForAlert, resolveIncidentForAlert } from '../db/queries/incidents.ts';
import { enqueueWebhook } from '../db/queries/outbox.ts';
import { addSliCounts, sliBucketsBetween, sliBucketsChanged } from '../db/queries/sli-buckets.ts';
import { withTransaction } from '../db/transaction.ts';
import type { AlertStatus } from './alert-state.ts';
import type { Counts } from './burn-rate.ts';
import type { PendingSliRow } from './sli-collector.ts';
import type { AlertChange, EngineAlert, OutboundNotification, SloStore } from './slo-store.ts';

/**
 * The SLO engine's storage over Drizzle. The engine's 'inactive' (a pending alert that cleared)
 * is stored as 'resolved': in the table both mean "no longer active".
 */
export class DbSloStore implements SloStore {
  constructor(
    private readonly db: Db,
    /** This node's instance: the node label of the counts it adds. */
    private readonly node = '',
    /** Called first in the alert transaction: the leader's fence (serving/cluster/leadership.ts). */
    private readonly fence: (tx: Db) => Promise<void> = async () => {},
  ) {}

  addSliCounts(rows: PendingSliRow[]): Promise<void> {
    return addSliCounts(
      this.db,
      rows.map((r) => ({ ...r, node: this.node })),
    );
  }

  async sliTotalsBetween(sloId: string, from: Date, to: Date, version?: string): Promise<Counts> {
    const out = { good: 0, total: 0 };
    for (const r of await sliBucketsBetween(this.db, { sloId, from, to })) {
      if (version !== undefined && r.version !== version) continue;
      out.good += r.good;
      out.total += r.total;
    }
    return out;
  }

  async sliBucketsChanged(
    since: Date | undefined,
    fromStart: Date,
  ): Promise<Array<PendingSliRow & { node: string; updatedAt: Date }>> {
    const rows = await sliBucketsChanged(this.db, { excludeNode: this.node, since, fromStart });
    return rows.map((r) => ({
      sloId: r.sloId,
      deployment: r.deployment,
      version: r.version,
      node: r.node,
      bucketStart: r.bucketStart,
      bucketSeconds: r.bucketSeconds,
      good: r.good,
      total: r.total,
      updatedAt: r.updatedAt,
    }));
  }

  async loadAlerts(): Promise<EngineAlert[]> {
    const rows = await listAlerts(this.db, { limit: 10_000 });
    return rows
      .filter((a) => a.source === 'vigil' && a.sloId !== null && (a.severity === 'page' || a.severity === 'ticket'))
      .map((a) => {
        const started = a.startsAt.getTime();
        const status: AlertStatus =
          a.state === 'firing'
            ? { state: 'firing', activeAt: started, firedAt: started, resolvedAt: null }
            : a.state === 'pending'
              ? { state: 'pending', activeAt: started, firedAt: null, resolvedAt: null }
              : { state: 'resolved', activeAt: null, firedAt: null, resolvedAt: a.endsAt?.getTime() ?? started };
        return {
          fingerprint: a.fingerprint,
          name: a.name,
          severity: a.severity as 'page' | 'ticket',
          sloId: a.sloId!,
          labels: a.labels,
          annotations: a.annotations,
          status,
        };
      });
  }

  async applyAlertChanges(changes: AlertChange[], notifications: OutboundNotification[]): Promise<void> {
    await withTransaction(this.db, async (tx) => {
      await this.fence(tx);
      for (const { alert, transitions, details } of changes) {
        const s = alert.status;
        const state = s.state === 'inactive' ? 'resolved' : s.state;
        const at = new Date(transitions.at(-1)!.at);
        const startsAt = new Date(s.state === 'firing' ? s.firedAt! : (s.activeAt ?? s.resolvedAt ?? at.getTime()));
        await upsertAlertState(
          tx,
          {
            fingerprint: alert.fingerprint,
            source: 'vigil',
            name: alert.name,
            severity: alert.severity,
            sloId: alert.sloId,
            labels: alert.labels,
            annotations: alert.annotations,
            state,
            startsAt,
            endsAt: state === 'resolved' ? at : null,
          },
          { at, details: { ...details, transitions } },
        );
        // A page is an incident until it resolves.
        if (alert.severity === 'page' && s.state === 'firing')
          await openIncidentForAlert(tx, {
            fingerprint: alert.fingerprint,
            title: alert.annotations.summary ?? alert.name,
            severity: 'page',
            at,
          });
        if (state === 'resolved') await resolveIncidentForAlert(tx, { fingerprint: alert.fingerprint, at });
      }
      const now = new Date();
      for (const n of notifications) {
        // A silenced alert changes state as usual but notifies nobody until the silence ends.
        const fp = n.payload.alerts[0]?.fingerprint;
        const row = fp ? await getAlert(tx, fp) : undefined;
        if (row?.silencedUntil && row.silencedUntil > now) continue;
        await enqueueWebhook(tx, { receiver: n.receiver, url: n.url, payload: n.payload, dedupeKey: n.dedupeKey });
      }
    });
  }
}
