import { totalmem } from 'node:os';
import type { AutoscalerConfig, AutoscalingConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { DeploymentRouter } from '../router/deployment-router.ts';
import type { VersionPool } from '../router/version-pool.ts';
import { capByMemory, decideScale, initialAutoscaleState, type AutoscaleDecision, type AutoscaleState, type AutoscalingSettings, type OngoingSample } from './autoscale-policy.ts';

export function settingsFromConfig(a: AutoscalingConfig): AutoscalingSettings {
  return {
    minReplicas: a.min_replicas,
    maxReplicas: a.max_replicas,
    initialReplicas: a.initial_replicas ?? a.min_replicas,
    targetOngoingRequests: a.target_ongoing_requests,
    upscaleDelayS: a.upscale_delay_s,
    downscaleDelayS: a.downscale_delay_s,
    lookBackPeriodS: a.look_back_period_s,
  };
}

/** The node's replica memory budget: the configured bytes, or a fraction of this machine's memory. */
export function memoryBudgetBytes(c: AutoscalerConfig, machineBytes = totalmem()): number {
  return c.memory_budget_bytes ?? Math.floor(machineBytes * c.memory_budget_fraction);
}

interface Scaled {
  pool: VersionPool;
  settings: AutoscalingSettings;
  state: AutoscaleState;
  samples: OngoingSample[];
  /** Largest RSS one replica of this version has reported: the cost of starting another. */
  perReplicaBytes: number | undefined;
  last: AutoscaleDecision | undefined;
}

export interface AutoscalerOptions {
  router: DeploymentRouter;
  config: AutoscalerConfig;
  log: Logger;
  /** Writes the audit row of a decision that changed a target. */
  audit(pool: VersionPool, decision: AutoscaleDecision): Promise<void>;
  /** Called after a target changed, so the controller starts or drains replicas at once. */
  afterChange?(): void;
  machineMemoryBytes?: number;
  now?: () => number;
}

/**
 * Drives the pure policy (autoscale-policy.ts) for every deployment version with `autoscaling`:
 * samples ongoing requests each interval, decides, and applies the target to the pool, which the
 * replica controller then reconciles. A retired version is left at 0. Each changed decision is
 * logged, audited and exported (vigil_target_replicas and vigil_autoscaler_memory_capped).
 */
export class Autoscaler {
  private readonly scaled = new Map<VersionPool, Scaled>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  readonly budgetBytes: number;

  constructor(private readonly o: AutoscalerOptions) {
    this.now = o.now ?? Date.now;
    this.budgetBytes = memoryBudgetBytes(o.config, o.machineMemoryBytes);
    for (const pool of o.router.pools()) {
      const cfg = pool.deployment.autoscaling;
      if (!cfg) continue;
      const settings = settingsFromConfig(cfg);
      this.scaled.set(pool, { pool, settings, state: initialAutoscaleState(settings), samples: [], perReplicaBytes: undefined, last: undefined });
      pool.scalesFromZero = settings.minReplicas === 0;
      if (!pool.retired) pool.targetReplicas = settings.initialReplicas;
      pool.onDemand = () => this.coldStart(pool);
    }
  }

  /** The replica target for a version becoming active (a canary): at least one, so it can be judged. */
  targetFor(pool: VersionPool): number {
    const s = this.scaled.get(pool);
    if (!s) return pool.versionConfig.num_replicas;
    const target = Math.max(1, s.state.target, s.settings.initialReplicas);
    s.state = { target, proposal: null };
    return target;
  }

  /** Status for the API and the console. */
  describe(pool: VersionPool): { target: number; desired: number | null; reason: string | null; capped_by: string | null; cap_detail: string | null; min: number; max: number } | undefined {
    const s = this.scaled.get(pool);
    if (!s) return undefined;
    return { target: pool.targetReplicas, desired: s.last?.desired ?? null, reason: s.last?.reason ?? null, capped_by: s.last?.cappedBy ?? null, cap_detail: s.last?.capDetail ?? null, min: s.settings.minReplicas, max: s.settings.maxReplicas };
  }

  memoryCapped(pool: VersionPool): boolean {
    return this.scaled.get(pool)?.last?.cappedBy === 'memory_budget';
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.o.config.interval_s * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  tick(): void {
    const now = this.now();
    const usedBytes = this.usedBytes();
    for (const s of this.scaled.values()) {
      try {
        this.step(s, now, usedBytes);
      } catch (err) {
        this.o.log.error({ err, deployment: s.pool.name, version: s.pool.version }, 'autoscaling step failed');
      }
    }
  }

  private step(s: Scaled, now: number, usedBytes: number): void {
    const { pool } = s;
    for (const r of pool.replicas) if (r.stats && r.stats.rssBytes > (s.perReplicaBytes ?? 0)) s.perReplicaBytes = r.stats.rssBytes;
    s.samples.push({ at: now, ongoing: pool.inFlight });
    const horizon = now - s.settings.lookBackPeriodS * 1000;
    while (s.samples.length && s.samples[0]!.at < horizon) s.samples.shift();
    if (pool.retired) return;
    // The policy's target follows what is actually wanted of the pool (a rollout may have set it).
    s.state = { ...s.state, target: pool.targetReplicas };
    const { decision, state } = decideScale(s.settings, { samples: s.samples, liveReplicas: pool.live().length, queued: pool.queue.length, memory: { budgetBytes: this.budgetBytes, usedBytes, perReplicaBytes: s.perReplicaBytes } }, s.state, now);
    s.state = state;
    s.last = decision;
    if (decision.changed) this.apply(s, decision);
  }

  /** A request reached a version scaled to zero: start a replica now rather than after the delay. */
  private coldStart(pool: VersionPool): void {
    const s = this.scaled.get(pool);
    if (!s || pool.retired || pool.targetReplicas > 0) return;
    const cap = capByMemory(Math.min(s.settings.maxReplicas, Math.max(1, s.settings.minReplicas)), 0, pool.live().length, { budgetBytes: this.budgetBytes, usedBytes: this.usedBytes(), perReplicaBytes: s.perReplicaBytes });
    const decision: AutoscaleDecision = { target: cap.target, previousTarget: 0, desired: Math.max(1, s.settings.minReplicas), changed: cap.target > 0, reason: `scale from zero: a request is waiting (cold start)`, cappedBy: cap.cappedBy, capDetail: cap.capDetail };
    s.last = decision;
    if (!decision.changed) {
      this.o.log.warn({ deployment: pool.name, version: pool.version, cap: cap.capDetail }, 'cannot scale from zero: the memory budget is spent');
      return;
    }
    s.state = { target: cap.target, proposal: null };
    this.apply(s, decision);
  }

  private apply(s: Scaled, decision: AutoscaleDecision): void {
    const { pool } = s;
    pool.targetReplicas = decision.target;
    this.o.log.info({ deployment: pool.name, version: pool.version, from: decision.previousTarget, to: decision.target, reason: decision.reason, capped_by: decision.cappedBy, cap: decision.capDetail }, 'autoscaling decision');
    this.o.audit(pool, decision).catch((err) => this.o.log.error({ err }, 'could not write the autoscaling audit row'));
    this.o.afterChange?.();
  }

  private usedBytes(): number {
    let used = 0;
    for (const p of this.o.router.pools()) for (const r of p.live()) used += r.stats?.rssBytes ?? 0;
    return used;
  }
}
