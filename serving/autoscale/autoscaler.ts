import type { CapReason } from './autoscale-policy.ts';
import { totalmem } from 'node:os';
import type { AutoscalerConfig, AutoscalingConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { DeploymentRouter } from '../router/deployment-router.ts';
import type { VersionPool } from '../router/version-pool.ts';
import {
  capByMemory,
  decideScale,
  initialAutoscaleState,
  type AutoscaleDecision,
  type AutoscaleState,
  type AutoscalingSettings,
  type OngoingSample,
} from './autoscale-policy.ts';

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
  /** The leader's view of the whole cluster: its samples and policy state (cluster mode). */
  cluster: { samples: OngoingSample[]; state: AutoscaleState | undefined; writing: boolean; lastDemandAt: number };
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
  /** This node is hot or under pressure now (serving/host/heat-monitor.ts): scale-ups are held. */
  heat?(): { cappedBy: 'thermal' | 'pressure'; detail: string } | null;
  now?: () => number;
  /**
   * Nodes sharing a database: the leader decides for the cluster, every node follows. Absent on
   * the embedded database, where this node decides for itself.
   */
  cluster?: ClusterAutoscaling;
}

/** One other node's load of one version, from its last heartbeat. */
export interface NodeLoad {
  ongoing: number;
  queued: number;
  live: number;
}

export interface ClusterAutoscaling {
  isLeader(): boolean;
  /** The other live nodes' load of this version (one entry per node that runs it). */
  othersLoad(pool: VersionPool): NodeLoad[];
  /** Stores the per-node target (fenced, with its audit row) and applies it on every node. */
  write(pool: VersionPool, perNode: number, decision: AutoscaleDecision): Promise<void>;
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
      this.scaled.set(pool, {
        pool,
        settings,
        state: initialAutoscaleState(settings),
        samples: [],
        cluster: { samples: [], state: undefined, writing: false, lastDemandAt: Number.NEGATIVE_INFINITY },
        perReplicaBytes: undefined,
        last: undefined,
      });
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
  describe(pool: VersionPool):
    | {
        target: number;
        desired: number | null;
        reason: string | null;
        capped_by: CapReason | null;
        cap_detail: string | null;
        min: number;
        max: number;
      }
    | undefined {
    const s = this.scaled.get(pool);
    if (!s) return undefined;
    return {
      target: pool.targetReplicas,
      desired: s.last?.desired ?? null,
      reason: s.last?.reason ?? null,
      capped_by: s.last?.cappedBy ?? null,
      cap_detail: s.last?.capDetail ?? null,
      min: s.settings.minReplicas,
      max: s.settings.maxReplicas,
    };
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
        if (this.o.cluster) this.clusterStep(s, this.o.cluster, now, usedBytes);
        else this.step(s, now, usedBytes);
      } catch (err) {
        this.o.log.error({ err, deployment: s.pool.name, version: s.pool.version }, 'autoscaling step failed');
      }
    }
  }

  private step(s: Scaled, now: number, usedBytes: number): void {
    const { pool } = s;
    for (const r of pool.replicas)
      if (r.stats && r.stats.rssBytes > (s.perReplicaBytes ?? 0)) s.perReplicaBytes = r.stats.rssBytes;
    s.samples.push({ at: now, ongoing: pool.inFlight });
    const horizon = now - s.settings.lookBackPeriodS * 1000;
    while (s.samples.length && s.samples[0]!.at < horizon) s.samples.shift();
    if (pool.retired) return;
    // The policy's target follows what is actually wanted of the pool (a rollout may have set it).
    s.state = { ...s.state, target: pool.targetReplicas };
    const { decision, state } = decideScale(
      s.settings,
      {
        samples: s.samples,
        liveReplicas: pool.live().length,
        queued: pool.queued,
        memory: { budgetBytes: this.budgetBytes, usedBytes, perReplicaBytes: s.perReplicaBytes },
        heat: this.o.heat?.() ?? null,
      },
      s.state,
      now,
    );
    s.state = state;
    s.last = decision;
    if (decision.changed) this.apply(s, decision);
  }

  /**
   * Cluster mode, every node: follow the leader's per-node target, within this node's memory
   * budget. A node with requests waiting keeps at least one replica until the leader, which
   * sees them in this node's next heartbeat, decides. The leader also decides (below).
   */
  private clusterStep(s: Scaled, cluster: ClusterAutoscaling, now: number, usedBytes: number): void {
    const { pool } = s;
    for (const r of pool.replicas)
      if (r.stats && r.stats.rssBytes > (s.perReplicaBytes ?? 0)) s.perReplicaBytes = r.stats.rssBytes;
    if (cluster.isLeader()) this.decideForCluster(s, cluster, now);
    else s.cluster.state = undefined;
    if (pool.retired) return;
    let wanted = pool.clusterAutoscaleTarget ?? s.settings.initialReplicas;
    // The leader sees this node's load only in heartbeats, and may miss a short burst: a node
    // that served requests lately keeps one replica for the downscale delay, as it would alone.
    if (pool.inFlight > 0) s.cluster.lastDemandAt = now;
    if (wanted === 0 && now - s.cluster.lastDemandAt < s.settings.downscaleDelayS * 1000) wanted = 1;
    if (wanted === pool.targetReplicas) return;
    // This node's own heat holds its growth, whatever the cluster's target.
    const heat = this.o.heat?.() ?? null;
    const cap =
      heat && wanted > pool.targetReplicas
        ? { target: pool.targetReplicas, cappedBy: heat.cappedBy, capDetail: heat.detail }
        : capByMemory(wanted, pool.targetReplicas, pool.live().length, {
            budgetBytes: this.budgetBytes,
            usedBytes,
            perReplicaBytes: s.perReplicaBytes,
          });
    s.last = {
      target: cap.target,
      previousTarget: pool.targetReplicas,
      desired: wanted,
      changed: cap.target !== pool.targetReplicas,
      reason: `the cluster's target is ${wanted} per node`,
      cappedBy: cap.cappedBy,
      capDetail: cap.capDetail,
    };
    if (!s.last.changed) return;
    pool.targetReplicas = cap.target;
    this.o.log.info(
      {
        deployment: pool.name,
        version: pool.version,
        from: s.last.previousTarget,
        to: cap.target,
        cluster_target: wanted,
        capped_by: cap.cappedBy,
        cap: cap.capDetail,
      },
      'following the cluster autoscaling target',
    );
    this.o.afterChange?.();
  }

  /**
   * The leader: Ray Serve's policy over the whole cluster. The load is every node's ongoing and
   * queued requests (this node's now, the others' from their last heartbeat); min, max and
   * initial replicas are per node, so the cluster's are N times them. The total is spread
   * evenly, ⌈total / N⌉ per node, since the load balancer spreads requests evenly. Memory stays
   * each node's own limit, applied where the replicas run.
   */
  private decideForCluster(s: Scaled, cluster: ClusterAutoscaling, now: number): void {
    const { pool, settings } = s;
    const others = cluster.othersLoad(pool);
    const n = 1 + others.length;
    const ongoing = pool.inFlight + others.reduce((t, o) => t + o.ongoing + o.queued, 0);
    const c = s.cluster;
    c.samples.push({ at: now, ongoing });
    const horizon = now - settings.lookBackPeriodS * 1000;
    while (c.samples.length && c.samples[0]!.at < horizon) c.samples.shift();
    if (pool.retired || c.writing) return;
    const perNodeNow = pool.clusterAutoscaleTarget ?? settings.initialReplicas;
    const scaled: AutoscalingSettings = {
      ...settings,
      minReplicas: settings.minReplicas * n,
      maxReplicas: settings.maxReplicas * n,
      initialReplicas: settings.initialReplicas * n,
    };
    // The policy's target follows the stored per-node target (times today's node count).
    const state: AutoscaleState = { target: perNodeNow * n, proposal: c.state?.proposal ?? null };
    const live = pool.live().length + others.reduce((t, o) => t + o.live, 0);
    const queued = pool.queued + others.reduce((t, o) => t + o.queued, 0);
    const { decision, state: next } = decideScale(
      scaled,
      {
        samples: c.samples,
        liveReplicas: live,
        queued,
        memory: { budgetBytes: Number.POSITIVE_INFINITY, usedBytes: 0, perReplicaBytes: 1 },
      },
      state,
      now,
    );
    c.state = next;
    const perNode = Math.min(settings.maxReplicas, Math.max(settings.minReplicas, Math.ceil(decision.target / n)));
    if (perNode === perNodeNow && pool.clusterAutoscaleTarget !== null) return;
    const perNodeDecision: AutoscaleDecision = {
      ...decision,
      target: perNode,
      previousTarget: perNodeNow,
      changed: true,
      reason: `${decision.reason}; cluster of ${n} node${n === 1 ? '' : 's'}: ${decision.target} in all, ${perNode} per node`,
    };
    c.writing = true;
    cluster
      .write(pool, perNode, perNodeDecision)
      .then(() => {
        s.last = perNodeDecision;
        this.o.log.info(
          {
            deployment: pool.name,
            version: pool.version,
            from: perNodeNow,
            to: perNode,
            nodes: n,
            cluster_target: decision.target,
            reason: perNodeDecision.reason,
          },
          'cluster autoscaling decision',
        );
      })
      .catch((err) =>
        this.o.log.warn(
          { err, deployment: pool.name, version: pool.version },
          'could not store the cluster autoscaling decision; the next tick decides again',
        ),
      )
      .finally(() => {
        c.writing = false;
      });
  }

  /** A request reached a version scaled to zero: start a replica now rather than after the delay. */
  private coldStart(pool: VersionPool): void {
    const s = this.scaled.get(pool);
    if (!s || pool.retired || pool.targetReplicas > 0) return;
    const cap = capByMemory(
      Math.min(s.settings.maxReplicas, Math.max(1, s.settings.minReplicas)),
      0,
      pool.live().length,
      { budgetBytes: this.budgetBytes, usedBytes: this.usedBytes(), perReplicaBytes: s.perReplicaBytes },
    );
    const decision: AutoscaleDecision = {
      target: cap.target,
      previousTarget: 0,
      desired: Math.max(1, s.settings.minReplicas),
      changed: cap.target > 0,
      reason: `scale from zero: a request is waiting (cold start)`,
      cappedBy: cap.cappedBy,
      capDetail: cap.capDetail,
    };
    s.last = decision;
    if (!decision.changed) {
      this.o.log.warn(
        { deployment: pool.name, version: pool.version, cap: cap.capDetail },
        'cannot scale from zero: the memory budget is spent',
      );
      return;
    }
    s.state = { target: cap.target, proposal: null };
    s.cluster.lastDemandAt = this.now();
    this.apply(s, decision);
  }

  private apply(s: Scaled, decision: AutoscaleDecision): void {
    const { pool } = s;
    pool.targetReplicas = decision.target;
    this.o.log.info(
      {
        deployment: pool.name,
        version: pool.version,
        from: decision.previousTarget,
        to: decision.target,
        reason: decision.reason,
        capped_by: decision.cappedBy,
        cap: decision.capDetail,
      },
      'autoscaling decision',
    );
    this.o.audit(pool, decision).catch((err) => this.o.log.error({ err }, 'could not write the autoscaling audit row'));
    this.o.afterChange?.();
  }

  private usedBytes(): number {
    let used = 0;
    for (const p of this.o.router.pools()) for (const r of p.live()) used += r.stats?.rssBytes ?? 0;
    return used;
  }
}
