import type { AlertStatus, Transition } from './alert-state.ts';
import type { Counts } from './burn-rate.ts';
import type { PendingSliRow } from './sli-collector.ts';
import type { WebhookPayload } from './alertmanager-payload.ts';

/** An alert of vigil's own as the engine persists it. */
export interface EngineAlert {
  fingerprint: string;
  name: string;
  severity: 'page' | 'ticket';
  sloId: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: AlertStatus;
}

export interface AlertChange {
  alert: EngineAlert;
  transitions: Transition[];
  details: Record<string, unknown>;
}

export interface OutboundNotification {
  receiver: string;
  url: string;
  payload: WebhookPayload;
  /** Unique per notification, so a retried enqueue never sends twice. */
  dedupeKey: string;
}

/**
 * What the SLO engine needs from storage. db/slo-store.ts implements it over Drizzle; keeping
 * the engine behind this interface keeps its loop free of SQL.
 */
export interface SloStore {
  addSliCounts(rows: PendingSliRow[]): Promise<void>;
  /** Good and total in [from, to), summed across versions and nodes (or one version). */
  sliTotalsBetween(sloId: string, from: Date, to: Date, version?: string): Promise<Counts>;
  /**
   * Other nodes' buckets (absolute counts, with the node and when the row last changed) that
   * changed after `since`, or all of them from `fromStart` on when `since` is undefined: what
   * refills the window after a restart and then keeps it up to date with the other nodes.
   */
  sliBucketsChanged(
    since: Date | undefined,
    fromStart: Date,
  ): Promise<Array<PendingSliRow & { node: string; updatedAt: Date }>>;
  /** vigil's own alerts as last persisted. */
  loadAlerts(): Promise<EngineAlert[]>;
  /** Persists alert changes and the notifications they cause in one transaction (fenced: the leader's write). */
  applyAlertChanges(changes: AlertChange[], notifications: OutboundNotification[]): Promise<void>;
}
