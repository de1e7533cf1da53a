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
  /** Buckets since `since`, to refill the in-memory window after a restart. */
  sliBucketsSince(since: Date): Promise<PendingSliRow[]>;
  /** vigil's own alerts as last persisted. */
  loadAlerts(): Promise<EngineAlert[]>;
  /** Persists alert changes and the notifications they cause in one transaction. */
  applyAlertChanges(changes: AlertChange[], notifications: OutboundNotification[]): Promise<void>;
}
