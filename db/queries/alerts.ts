// Alert state as the SLO engine (and Alertmanager webhooks) see it, with one alert_events row
// per state change.
import { and, asc, desc, eq, gt, inArray, isNull, or } from 'drizzle-orm';
import type { Db } from '../client.ts';
import {
  alertEvents,
  alerts,
  type Alert,
  type AlertEvent,
  type AlertSeverity,
  type AlertSource,
  type AlertState,
} from '../schema/index.ts';
import { withTransaction } from '../transaction.ts';

/**
 * Fingerprints of alerts received from Alertmanager start with this; vigil's own are hex digests.
 * The two sources never share a row, so a received payload cannot resolve or rename an alert
 * that vigil raised.
 */
export const EXTERNAL_FINGERPRINT_PREFIX = 'am:';

export interface AlertInput {
  fingerprint: string;
  source: AlertSource;
  name: string;
  severity: AlertSeverity;
  sloId?: string | null;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  state: AlertState;
  startsAt: Date;
  endsAt?: Date | null;
}

export interface AlertTransition {
  /** When the change happened; defaults to now. Also written as the alert's updated_at. */
  at?: Date;
  /** Why it changed (burn rates, the rule's window...), kept on the event. */
  details?: Record<string, unknown>;
}

export interface UpsertAlertResult {
  alert: Alert;
  /** The event written for this call, when the state changed (or the alert is new). */
  event?: AlertEvent;
}

/**
 * Writes the alert's current state, and an alert_events row when the state differs from the
 * stored one (or the alert is new). Runs in a transaction (a savepoint inside `tx`), locking
 * the alert's row, so concurrent writers cannot record the same change twice. An alert that
 * comes back from resolved loses its acknowledgement: it is a new episode.
 */
export function upsertAlertState(
  tx: Db,
  alert: AlertInput,
  transition: AlertTransition = {},
): Promise<UpsertAlertResult> {
  const at = transition.at ?? new Date();
  const fields = {
    source: alert.source,
    name: alert.name,
    severity: alert.severity,
    sloId: alert.sloId ?? null,
    labels: alert.labels ?? {},
    annotations: alert.annotations ?? {},
    state: alert.state,
    startsAt: alert.startsAt,
    endsAt: alert.endsAt ?? null,
    updatedAt: at,
  };
  const event = (fromState: AlertState | null) => ({
    fingerprint: alert.fingerprint,
    fromState,
    toState: alert.state,
    at,
    details: transition.details ?? {},
  });

  return withTransaction(tx, async (t) => {
    // Insert-or-nothing first: against a concurrent insert of the same fingerprint this waits
    // for it to commit and then does nothing, so only one writer records the creation.
    const [created] = await t
      .insert(alerts)
      .values({ fingerprint: alert.fingerprint, ...fields })
      .onConflictDoNothing({ target: alerts.fingerprint })
      .returning();
    if (created) {
      const [written] = await t.insert(alertEvents).values(event(null)).returning();
      return { alert: created, event: written };
    }

    const [previous] = await t
      .select({ state: alerts.state, source: alerts.source })
      .from(alerts)
      .where(eq(alerts.fingerprint, alert.fingerprint))
      .for('update');
    // One source never writes over another's alert (see EXTERNAL_FINGERPRINT_PREFIX).
    if (previous && previous.source !== alert.source) {
      throw new Error(`alert ${alert.fingerprint} belongs to ${previous.source}; ${alert.source} cannot change it`);
    }
    const reopened = previous?.state === 'resolved' && alert.state !== 'resolved';
    const [updated] = await t
      .update(alerts)
      .set(reopened ? { ...fields, acknowledgedBy: null, acknowledgedAt: null } : fields)
      .where(eq(alerts.fingerprint, alert.fingerprint))
      .returning();
    // Only a concurrent delete between the two statements gets here.
    if (!previous || !updated) throw new Error(`alert ${alert.fingerprint} vanished while being updated`);
    if (previous.state === alert.state) return { alert: updated };
    const [written] = await t.insert(alertEvents).values(event(previous.state)).returning();
    return { alert: updated, event: written };
  });
}

/**
 * Alerts, most recently updated first, optionally only those in the given states. An event-like
 * alert stored with an end time (a canary rollback ends itself after an hour) counts as
 * resolved once that time has passed, so asking for pending or firing alerts leaves it out.
 */
export function listAlerts(
  db: Db,
  params: { states?: readonly AlertState[]; limit?: number; now?: Date } = {},
): Promise<Alert[]> {
  const states = params.states;
  const activeOnly = states !== undefined && !states.includes('resolved');
  const query = db
    .select()
    .from(alerts)
    .where(
      states === undefined
        ? undefined
        : and(
            inArray(alerts.state, [...states]),
            activeOnly ? or(isNull(alerts.endsAt), gt(alerts.endsAt, params.now ?? new Date())) : undefined,
          ),
    )
    .orderBy(desc(alerts.updatedAt), asc(alerts.fingerprint));
  return params.limit === undefined ? query : query.limit(params.limit);
}

export async function getAlert(db: Db, fingerprint: string): Promise<Alert | undefined> {
  const [row] = await db.select().from(alerts).where(eq(alerts.fingerprint, fingerprint));
  return row;
}

/** The alert's state changes, oldest first. */
export function listAlertEvents(db: Db, fingerprint: string): Promise<AlertEvent[]> {
  return db
    .select()
    .from(alertEvents)
    .where(eq(alertEvents.fingerprint, fingerprint))
    .orderBy(asc(alertEvents.at), asc(alertEvents.id));
}

/** Marks the alert acknowledged by `actor`; undefined when there is no such alert. */
export async function acknowledgeAlert(
  db: Db,
  params: { fingerprint: string; actor: string; at?: Date },
): Promise<Alert | undefined> {
  const [row] = await db
    .update(alerts)
    .set({ acknowledgedBy: params.actor, acknowledgedAt: params.at ?? new Date() })
    .where(eq(alerts.fingerprint, params.fingerprint))
    .returning();
  return row;
}

/** Silences the alert's notifications until `until` (null lifts the silence). */
export async function silenceAlert(
  db: Db,
  params: { fingerprint: string; until: Date | null },
): Promise<Alert | undefined> {
  const [row] = await db
    .update(alerts)
    .set({ silencedUntil: params.until })
    .where(eq(alerts.fingerprint, params.fingerprint))
    .returning();
  return row;
}
