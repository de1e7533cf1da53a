import type { Db } from '../../db/client.ts';
import { recordAudit } from '../../db/queries/audit.ts';
import { parseDuration } from '../../slo/duration.ts';
import type { WebhookReceiver } from '../../slo/engine.ts';
import { raiseConditionAlert } from '../alerts/raise-alert.ts';
import type { HeatConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { coolState, decideHeat, type HeatInput, type HeatState, type HeatThresholds } from './heat-policy.ts';
import type { HostFiles } from './host-files.ts';
import { readHostSignals } from './host-signals.ts';

export const HEAT_ALERT = 'VigilNodeHot';
export const HEAT_RUNBOOK = 'node-hot';

export interface HeatGauges {
  sample(s: HeatInput): void;
  capped(reason: 'thermal' | 'pressure' | null): void;
}

export interface HeatMonitorOptions {
  config: HeatConfig;
  files: HostFiles;
  node: string;
  gauges: HeatGauges;
  db: Db;
  receivers: readonly WebhookReceiver[];
  externalUrl: string;
  log: Logger;
  /** Called on a cap or a lift, so the autoscaler acts at once. */
  afterChange?(): void;
  now?: () => number;
}

/**
 * Reads the machine's heat and pressure every `interval_s`, exports them, and decides (pure:
 * heat-policy.ts) whether this node's replica count is capped. Each cap and lift is logged,
 * audited and alerted (VigilNodeHot, ticket, runbook node-hot); the autoscaler reads `cap()`.
 */
export class HeatMonitor {
  private state: HeatState = coolState();
  private last: HeatInput | undefined;
  private lastThrottle: { at: number; count: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly thresholds: HeatThresholds;

  constructor(private readonly o: HeatMonitorOptions) {
    this.now = o.now ?? Date.now;
    const c = o.config;
    this.thresholds = {
      maxCelsius: c.max_celsius,
      minFrequencyRatio: c.min_frequency_ratio,
      cpuPressure: c.cpu_pressure_pct / 100,
      memoryPressure: c.memory_pressure_pct / 100,
      sustainMs: parseDuration(c.sustain) * 1000,
      recoverMs: parseDuration(c.recover) * 1000,
    };
  }

  start(): void {
    void this.tick();
    if (!this.o.config.enabled) return;
    this.timer = setInterval(() => void this.tick(), this.o.config.interval_s * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** What caps scale-ups now, for the autoscaler. */
  cap(): { cappedBy: 'thermal' | 'pressure'; detail: string } | null {
    return this.state.capped ? { cappedBy: this.state.capped, detail: this.state.detail ?? '' } : null;
  }

  /** The last readings and the cap, for the status and the console. */
  view() {
    return {
      signals: this.last ?? null,
      capped: this.state.capped,
      detail: this.state.capped ? this.state.detail : null,
    };
  }

  async tick(): Promise<void> {
    const now = this.now();
    const signals = readHostSignals(this.o.files);
    let throttleRate: number | null = null;
    if (signals.throttleCount !== null) {
      if (this.lastThrottle && now > this.lastThrottle.at)
        throttleRate = Math.max(
          0,
          (signals.throttleCount - this.lastThrottle.count) / ((now - this.lastThrottle.at) / 1000),
        );
      this.lastThrottle = { at: now, count: signals.throttleCount };
    }
    const input: HeatInput = { ...signals, throttleRate };
    this.last = input;
    this.o.gauges.sample(input);
    if (!this.o.config.enabled) return;
    const { state, change } = decideHeat(this.state, input, this.thresholds, now);
    const before = this.state;
    this.state = state;
    this.o.gauges.capped(state.capped);
    if (!change) return;
    const detail = change === 'cap' ? state.detail! : `every condition clear for ${this.o.config.recover}`;
    const reason = change === 'cap' ? state.capped! : before.capped!;
    this.o.log.warn(
      { change, reason, detail },
      change === 'cap' ? 'the node is hot: replica growth held' : 'the node cooled: replica growth resumes',
    );
    this.o.afterChange?.();
    try {
      await recordAudit(this.o.db, {
        actor: 'vigil/heat',
        action: change === 'cap' ? 'heat.cap' : 'heat.lift',
        target: `node/${this.o.node}`,
        before: { capped_by: before.capped },
        after: { capped_by: state.capped, reason, detail },
      });
      await raiseConditionAlert(
        this.o,
        {
          labels: { alertname: HEAT_ALERT, severity: 'ticket', node: this.o.node, capped_by: reason },
          summary: `Node ${this.o.node} is ${reason === 'thermal' ? 'hot or throttling' : 'under CPU or memory pressure'}: replica growth is held`,
          description: detail,
          runbook: HEAT_RUNBOOK,
          generatorPath: '/api/v1/status',
          details: { ...input },
        },
        change === 'cap',
        now,
      );
    } catch (err) {
      this.o.log.error({ err }, 'could not record the heat decision');
    }
  }
}
