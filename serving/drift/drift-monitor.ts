import type { Db } from '../../db/client.ts';
import { parseDuration } from '../../slo/duration.ts';
import type { WebhookReceiver } from '../../slo/engine.ts';
import { raiseConditionAlert } from '../alerts/raise-alert.ts';
import type { DriftConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { nextDriftAlert, type DriftAlertState } from './drift-alert-policy.ts';
import type { DriftObservation } from './drift-observer.ts';
import { type DriftFinding, DriftStore } from './drift-store.ts';

export const DRIFT_ALERT = 'VigilPredictionDrift';
export const DRIFT_RUNBOOK = 'prediction-drift';

export interface DriftMonitorOptions {
  config: DriftConfig;
  /** Each deployment's versions and weights now. */
  deployments(): { name: string; weights: Map<string, number> }[];
  gauge: { reset(): void; set(labels: { deployment: string; version: string; signal: string }, value: number): void };
  db: Db;
  /** Only the leader raises and clears the alert, so a cluster sends it once. */
  isLeader(): boolean;
  receivers: readonly WebhookReceiver[];
  externalUrl: string;
  log: Logger;
  now?: () => number;
}

/**
 * Prediction drift, on the primary: keeps the ingress processes' sketches (DriftStore), compares
 * every `evaluation_interval_s`, exports vigil_prediction_drift, and raises the ticket
 * VigilPredictionDrift (stored alert, webhooks, runbook) for a version whose drift stays high.
 */
export class DriftMonitor {
  readonly store: DriftStore;
  private readonly alerts = new Map<string, DriftAlertState>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private running = false;

  constructor(private readonly o: DriftMonitorOptions) {
    this.now = o.now ?? Date.now;
    this.store = new DriftStore(parseDuration(o.config.window) * 1000, o.config.min_samples);
  }

  record(list: readonly DriftObservation[]): void {
    if (this.o.config.enabled && list.length > 0) this.store.record(list, this.now());
  }

  start(): void {
    if (!this.o.config.enabled) return;
    this.timer = setInterval(() => void this.evaluate(), this.o.config.evaluation_interval_s * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** `ignorePins`: against the stable version whatever an operator pinned (the canary check). */
  findings(deployment: string, opts: { ignorePins?: boolean } = {}): DriftFinding[] {
    const d = this.o.deployments().find((x) => x.name === deployment);
    return d ? this.store.findings(d.name, d.weights, this.now(), opts) : [];
  }

  /** One evaluation: the gauge, then the alert of each version. */
  async evaluate(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const now = this.now();
      this.o.gauge.reset();
      const forMs = parseDuration(this.o.config.for) * 1000;
      for (const d of this.o.deployments()) {
        const byVersion = new Map<string, DriftFinding[]>();
        for (const f of this.store.findings(d.name, d.weights, now)) {
          if (f.psi !== null) this.o.gauge.set({ deployment: d.name, version: f.version, signal: f.signal }, f.psi);
          byVersion.set(f.version, [...(byVersion.get(f.version) ?? []), f]);
        }
        for (const [version, findings] of byVersion) {
          const worst = findings.reduce<DriftFinding | undefined>(
            (w, f) => (f.psi !== null && (w?.psi ?? -1) < f.psi ? f : w),
            undefined,
          );
          const key = `${d.name}\u0000${version}`;
          const previous = this.alerts.get(key) ?? { firing: false, since: undefined };
          const next = nextDriftAlert(previous, worst?.psi ?? null, now, this.o.config.threshold, forMs);
          this.alerts.set(key, next.state);
          if (next.change && this.o.isLeader()) await this.notify(d.name, version, next.change, worst, now);
        }
      }
    } catch (err) {
      this.o.log.error({ err }, 'drift evaluation failed; it will be retried');
    } finally {
      this.running = false;
    }
  }

  private async notify(
    deployment: string,
    version: string,
    change: 'fire' | 'resolve',
    worst: DriftFinding | undefined,
    now: number,
  ): Promise<void> {
    const against =
      worst?.baseline.kind === 'stable'
        ? `stable ${worst.baseline.version}`
        : worst?.baseline.kind === 'pinned'
          ? 'its pinned window'
          : 'its previous window';
    const description = worst
      ? `PSI ${worst.psi!.toFixed(3)} on ${worst.signal} against ${against} (threshold ${this.o.config.threshold})`
      : 'drift is back below its threshold';
    await raiseConditionAlert(
      this.o,
      {
        labels: { alertname: DRIFT_ALERT, severity: 'ticket', deployment, version },
        summary: `The answers or inputs of ${deployment} ${version} have drifted`,
        description,
        runbook: DRIFT_RUNBOOK,
        generatorPath: `/api/v1/deployments/${encodeURIComponent(deployment)}/drift`,
        details: { signal: worst?.signal, psi: worst?.psi },
      },
      change === 'fire',
      now,
    );
    this.o.log.warn(
      { deployment, version, change, description },
      `prediction drift alert ${change === 'fire' ? 'fired' : 'resolved'}`,
    );
  }
}
