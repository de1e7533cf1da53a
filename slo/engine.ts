import type { Logger } from '../serving/logger.ts';
import { fingerprint, type AlertStatus } from './alert-state.ts';
import { buildWebhookPayload, ZERO_TIME, type WebhookAlert } from './alertmanager-payload.ts';
import type { BurnPolicy, Counts } from './burn-rate.ts';
import type { SloDefinition } from './definition.ts';
import { formatDuration } from './duration.ts';
import { evaluateSlo, type Severity, type SloEvaluation } from './evaluate-slo.ts';
import type { SliCollector } from './sli-collector.ts';
import type { AlertChange, EngineAlert, OutboundNotification, SloStore } from './slo-store.ts';
import type { PendingSliRow } from './sli-collector.ts';
import { RemoteRows } from '../serving/cluster/remote-rows.ts';

export interface WebhookReceiver {
  name: string;
  url: string;
}

export interface SloEngineOptions {
  store: SloStore;
  collector: SliCollector;
  slos: () => SloDefinition[];
  log: Logger;
  receivers: WebhookReceiver[];
  externalUrl: string;
  policy?: BurnPolicy;
  forSeconds?: Record<Severity, number>;
  evaluationIntervalMs?: number;
  flushIntervalMs?: number;
  /**
   * Whether this node decides alerts (the leader). Every node evaluates, for its API and
   * console, over the counts of all nodes; only the leader persists transitions and notifies,
   * and the others show the alert states it stored. Default: always (one node).
   */
  isLeader?: () => boolean;
  now?: () => number;
}

/** Other nodes' SLI rows older than this are settled: followed no further (bounds memory). */
const SETTLED_MS = 3_600_000;

/** How much SLI history the engine keeps in memory: the longest alerting window (3 d) and a margin. */
const MEMORY_MS = 3 * 86_400_000 + 3_600_000;

export const ALERT_NAMES: Record<Severity, string> = {
  page: 'VigilErrorBudgetBurnPage',
  ticket: 'VigilErrorBudgetBurnTicket',
};

/** The runbook each alert points to (seeded by the console issue). */
export function runbookFor(slo: SloDefinition): string {
  return slo.kind === 'latency' ? 'latency-burn' : slo.kind === 'correctness' ? 'wrong-answers' : 'error-budget-burn';
}

/**
 * The SLO engine loop: every few seconds it evaluates each SLO from the in-memory SLI window
 * (pure evaluateSlo), persists alert transitions with their history, and queues one webhook per
 * firing or resolved notification in the same transaction (the outbox sender delivers them).
 * SLI buckets are flushed in batches; window totals longer than memory come from the database.
 * Each step catches and logs its own errors: the loop never dies.
 */
export class SloEngine {
  private alerts = new Map<string, EngineAlert>();
  private latest = new Map<string, SloEvaluation>();
  private longWindow = new Map<string, { counts: Counts; refreshedAt: number }>();
  private evalTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private readonly now: () => number;
  private decidedLastTick = false;
  /** Other nodes' SLI buckets as last read, to add only what they counted since. */
  private readonly others = new RemoteRows<PendingSliRow & { node: string }>(
    (r) => `${r.node}\u0000${r.sloId}\u0000${r.version}\u0000${r.bucketStart.getTime()}`,
    (now, before) => {
      const total = now.total - (before?.total ?? 0);
      return total > 0 ? { ...now, total, good: now.good - (before?.good ?? 0) } : undefined;
    },
    10_000,
    // A node writes a bucket while it is current, or late only after failed flushes: an hour on, rows are settled.
    (r) => r.bucketStart.getTime() < this.now() - SETTLED_MS,
  );

  constructor(private readonly o: SloEngineOptions) {
    this.now = o.now ?? Date.now;
  }

  /**
   * Restores persisted state: alerts, and the SLI buckets of the longest alerting window that
   * other processes counted (other nodes, and this node before it restarted).
   */
  async start(): Promise<void> {
    await this.reloadAlerts();
    await this.followOtherNodes(this.now());
    this.evalTimer = setInterval(() => void this.tick(), this.o.evaluationIntervalMs ?? 5000);
    this.flushTimer = setInterval(() => void this.flush(), this.o.flushIntervalMs ?? 10_000);
    void this.tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.evalTimer);
    clearInterval(this.flushTimer);
    await this.ticking;
    await this.flush();
  }

  /** Latest evaluation of every SLO, for the API. */
  evaluations(): SloEvaluation[] {
    return [...this.latest.values()];
  }

  alertList(): EngineAlert[] {
    return [...this.alerts.values()];
  }

  private async reloadAlerts(): Promise<void> {
    const fresh = new Map<string, EngineAlert>();
    for (const a of await this.o.store.loadAlerts()) fresh.set(a.fingerprint, a);
    this.alerts = fresh;
  }

  /** Adds what other nodes counted since the last read to the window. */
  private async followOtherNodes(now: number): Promise<void> {
    const fromStart = new Date(now - MEMORY_MS);
    const rows = await this.o.store.sliBucketsChanged(this.others.since(), fromStart);
    const window = this.o.collector.window;
    const late = this.others.lateRows;
    for (const r of this.others.absorb(rows))
      window.add(`${r.sloId}|${r.version}`, r.bucketStart.getTime(), r.good, r.total);
    if (this.others.lateRows > late)
      this.o.log.warn(
        { rows: this.others.lateRows - late },
        'another node wrote SLI counts for buckets over an hour old (after failing to write for that long); they are stored, but this node adds them only after a restart',
      );
    this.others.forget();
  }

  /** Writes pending SLI counts; on failure they go back and are retried next time. */
  async flush(): Promise<void> {
    const rows = this.o.collector.drain();
    if (rows.length === 0) return;
    try {
      await this.o.store.addSliCounts(rows);
    } catch (err) {
      this.o.collector.restore(rows);
      this.o.log.error({ err, rows: rows.length }, 'could not flush SLI buckets; will retry');
    }
  }

  /** One evaluation of every SLO. Overlapping ticks are skipped, not queued. */
  tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = this.evaluateAll()
      .catch((err) => this.o.log.error({ err }, 'SLO evaluation failed'))
      .finally(() => {
        this.ticking = undefined;
      });
    return this.ticking;
  }

  private async evaluateAll(): Promise<void> {
    const now = this.now();
    try {
      await this.followOtherNodes(now);
    } catch (err) {
      this.o.log.warn({ err }, "could not read the other nodes' SLI counts; evaluating with what this node has");
    }
    this.o.collector.window.prune(now);
    const decides = this.o.isLeader?.() ?? true;
    // A follower shows the leader's alert states; a new leader starts from them.
    if (!decides || !this.decidedLastTick) await this.reloadAlerts();
    this.decidedLastTick = decides;
    const stored = new Map(this.alerts);
    const changes: AlertChange[] = [];
    const notifications: OutboundNotification[] = [];
    for (const slo of this.o.slos()) {
      const windowTotals = await this.longWindowTotals(slo, now);
      const previous: Partial<Record<Severity, AlertStatus>> = {};
      const labelsOf = (sev: Severity) => ({
        alertname: ALERT_NAMES[sev],
        slo_id: slo.id,
        deployment: slo.deployment,
        slo_kind: slo.kind,
        severity: sev,
      });
      for (const sev of ['page', 'ticket'] as const)
        previous[sev] = this.alerts.get(fingerprint(labelsOf(sev)))?.status;
      const e = evaluateSlo(slo, this.o.collector.window, now, previous, {
        policy: this.o.policy,
        forSeconds: this.o.forSeconds,
        windowTotals,
      });
      this.latest.set(slo.id, e);
      for (const sev of ['page', 'ticket'] as const) {
        const { status, transitions } = e.alerts[sev];
        if (transitions.length === 0) continue;
        const labels = labelsOf(sev);
        const alert: EngineAlert = {
          fingerprint: fingerprint(labels),
          name: ALERT_NAMES[sev],
          severity: sev,
          sloId: slo.id,
          labels,
          annotations: this.annotations(slo, e, sev),
          status,
        };
        this.alerts.set(alert.fingerprint, alert);
        changes.push({
          alert,
          transitions,
          details: { burn_rates: e.burn.burnRates, budget_remaining: e.budget.remaining },
        });
        const notify = transitions.some((t) => t.to === 'firing' || (t.from === 'firing' && t.to === 'resolved'));
        if (notify) notifications.push(...this.notificationsFor(alert, now));
      }
    }
    if (!decides) {
      // Transitions are the leader's to make: keep the states it stored.
      this.alerts = stored;
      return;
    }
    if (changes.length > 0) {
      try {
        await this.o.store.applyAlertChanges(changes, notifications);
      } catch (err) {
        // Not stored (a fenced write, or the database): forget them, the next tick decides again.
        await this.reloadAlerts().catch(() => undefined);
        throw err;
      }
    }
  }

  private annotations(slo: SloDefinition, e: SloEvaluation, sev: Severity): Record<string, string> {
    const pairs = e.burn.pairs[sev]
      .map(
        (p) =>
          `${formatDuration(p.longSeconds)}/${formatDuration(p.shortSeconds)}: ${p.longBurn.toFixed(2)}/${p.shortBurn.toFixed(2)} (>= ${p.factor})`,
      )
      .join(', ');
    return {
      summary: `${slo.deployment} is burning its ${slo.kind} error budget (${(slo.objective * 100).toPrecision(4)}% over ${formatDuration(slo.windowSeconds)})`,
      burn_rates: pairs,
      budget_remaining: e.budget.remaining.toFixed(4),
      runbook: runbookFor(slo),
      runbook_url: `${this.o.externalUrl.replace(/\/$/, '')}/runbooks/${runbookFor(slo)}`,
    };
  }

  private notificationsFor(alert: EngineAlert, now: number): OutboundNotification[] {
    const firing = alert.status.state === 'firing';
    const webhookAlert: WebhookAlert = {
      status: firing ? 'firing' : 'resolved',
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: new Date(alert.status.firedAt ?? alert.status.activeAt ?? now).toISOString(),
      endsAt: firing ? ZERO_TIME : new Date(alert.status.resolvedAt ?? now).toISOString(),
      generatorURL: `${this.o.externalUrl.replace(/\/$/, '')}/api/v1/slos/${alert.sloId}`,
      fingerprint: alert.fingerprint,
    };
    return this.o.receivers.map((r) => ({
      receiver: r.name,
      url: r.url,
      payload: buildWebhookPayload(r.name, this.o.externalUrl, [webhookAlert]),
      // One notification per receiver, alert, state and moment it started: retried enqueues dedupe.
      dedupeKey: `${r.name}:${alert.fingerprint}:${webhookAlert.status}:${webhookAlert.status === 'firing' ? webhookAlert.startsAt : webhookAlert.endsAt}`,
    }));
  }

  /**
   * Totals over the SLO window (e.g. 28 days). Memory holds the newest MEMORY_MS (restored from
   * the database after a restart); the older part comes from the database and changes slowly,
   * so it is re-read once a minute. The two parts never overlap.
   */
  private async longWindowTotals(slo: SloDefinition, now: number): Promise<Counts | undefined> {
    const windowMs = slo.windowSeconds * 1000;
    if (windowMs <= MEMORY_MS) return undefined;
    let cached = this.longWindow.get(slo.id);
    if (!cached || now - cached.refreshedAt >= 60_000) {
      try {
        const counts = await this.o.store.sliTotalsBetween(
          slo.id,
          new Date(now - windowMs),
          new Date(this.o.collector.window.bucketStart(now - MEMORY_MS)),
          slo.version ?? undefined,
        );
        cached = { counts, refreshedAt: now };
        this.longWindow.set(slo.id, cached);
      } catch (err) {
        this.o.log.warn({ err, slo: slo.id }, 'could not read older SLO window totals from the database');
      }
    }
    const key =
      slo.version === null
        ? (k: string) => k.startsWith(`${slo.id}|`)
        : (k: string) => k === `${slo.id}|${slo.version}`;
    const recent = this.o.collector.window.totals(now, MEMORY_MS, key);
    return { good: recent.good + (cached?.counts.good ?? 0), total: recent.total + (cached?.counts.total ?? 0) };
  }
}
