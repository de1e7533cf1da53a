import { createHash } from 'node:crypto';
import type { Db } from '../../db/client.ts';
import {
  loadDeploymentState,
  saveDeploymentState,
  type FileSeed,
  type StoredDeploymentState,
  type VersionStateRow,
} from '../../db/queries/deployment-state.ts';
import type { Rollout } from '../../db/schema/index.ts';
import type { MirrorConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { Deployment, DeploymentRouter } from '../router/deployment-router.ts';
import type { VersionPool } from '../router/version-pool.ts';

export type Fault = { errorRate: number; addedLatencyMs: number };

/** A change to one deployment's state; what it leaves out stays as it is. */
export interface StateChange {
  /** The new split, in pick order. Versions left out get weight 0 and go to the end. */
  split?: { version: string; weight: number }[];
  /** Versions that start (or keep) their replicas. */
  activate?: string[];
  /** Versions whose replicas drain and stop. */
  retire?: string[];
  /** null turns shadow traffic off. */
  mirror?: MirrorConfig | null;
  /** Fault injection per version. */
  fault?: Record<string, Fault>;
  /** Replicas per node set by hand, per version; null goes back to vigil.yaml's count. */
  replicas?: Record<string, number | null>;
  /** Replicas per node the leader's autoscaler decided, per version. */
  autoscale?: Record<string, number>;
}

/** How a version's replica target is chosen when it becomes active (the autoscaler's, or the fixed count). */
export type ActiveTarget = (pool: VersionPool) => number;

const hash = (doc: unknown) => createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 16);

/**
 * What vigil.yaml says of a deployment's shared state, hashed per concern: the split (versions,
 * what each serves, weights, mirror), and each version's fault injection and replica count.
 * Stored with the state, so a start can tell, concern by concern, "the file changed this" (the
 * file wins) from "the file is the same" (the database, changed by rollouts and the API, wins).
 */
export function fileSeedOf(d: Deployment): FileSeed {
  const c = d.config;
  return {
    split: hash({
      versions: c.versions.map((v) => ({
        version: v.version,
        artifact: v.model ?? v.handler ?? null,
        weight: v.weight,
      })),
      mirror: c.mirror ?? null,
    }),
    fault: Object.fromEntries(c.versions.map((v) => [v.version, hash(v.fault_injection)])),
    replicas: Object.fromEntries(c.versions.map((v) => [v.version, hash(v.num_replicas)])),
  };
}

function sameSeed(a: FileSeed, b: FileSeed): boolean {
  const same = (x: Record<string, string>, y: Record<string, string>) =>
    Object.keys(x).length === Object.keys(y).length && Object.entries(x).every(([k, v]) => y[k] === v);
  return a.split === b.split && same(a.fault, b.fault) && same(a.replicas, b.replicas);
}

/**
 * The state of every deployment that several nodes share through the database: weights and
 * split order, retired versions, the mirror, fault injection and hand-set replica counts.
 *
 * Every change is written before it takes effect: `write()` stores it inside the caller's
 * transaction (which also notifies every node) and returns the function that applies it here,
 * to be called once the transaction has committed. Other nodes apply it when the notification
 * arrives (`reload`). Each stored state has a revision; a node applies a state only if it is
 * newer than the one it has, so a late reload can never undo a newer change.
 */
export class DeploymentState {
  /** deployment → revision applied here */
  private readonly applied = new Map<string, number>();

  constructor(
    private readonly router: DeploymentRouter,
    private readonly log: Logger,
    private readonly activeTarget: ActiveTarget,
    /** Called after a change applies, so the replica controller starts or drains replicas at once. */
    private readonly onApplied: () => void = () => {},
  ) {}

  /**
   * At start, per deployment and per concern, what vigil.yaml changed since it last seeded the
   * stored state wins, and the rest of the stored state (what rollouts and the API did) stays:
   * - the split (weights, order, retired versions, mirror) is seeded from the file when nothing
   *   is stored, or when the file's versions, weights or mirror changed;
   * - a version's fault injection, or its replica count, is the file's when the file changed it.
   * A restart, or another node starting with the same file, therefore keeps the runtime state.
   * An active rollout's own weights win over both (RolloutController.takeOver). The caller
   * holds a lock, so nodes starting at once take turns.
   */
  async seed(db: Db, active: readonly Rollout[]): Promise<void> {
    for (const d of this.router.deployments.values()) {
      const stored = await loadDeploymentState(db, d.name);
      const seed = fileSeedOf(d);
      const rollout = active.find((r) => r.deployment === d.name);
      // biome-ignore lint/complexity/useOptionalChain: the explicit check narrows `stored` for the lines below
      const usable = stored !== undefined && stored.versions.some((v) => v.weight > 0 && d.pools.has(v.version));
      // A state stored before seeds were recorded: the earlier rule (the same set of versions keeps it).
      const splitKept = usable && (stored.seed ? stored.seed.split === seed.split : this.sameVersions(d, stored));
      if (splitKept) {
        this.applyStored(d, stored);
        const fromFile: string[] = [];
        for (const p of d.pools.values()) {
          const v = p.versionConfig;
          if (stored.seed?.fault[v.version] !== seed.fault[v.version]) {
            p.fault = { errorRate: v.fault_injection.error_rate, addedLatencyMs: v.fault_injection.added_latency_ms };
            fromFile.push(`${v.version} fault_injection`);
          }
          if (stored.seed?.replicas[v.version] !== seed.replicas[v.version] && p.manualReplicas !== null) {
            this.setManualReplicas(p, null);
            fromFile.push(`${v.version} num_replicas`);
          }
        }
        if (!stored.seed || !sameSeed(stored.seed, seed))
          this.applied.set(d.name, await saveDeploymentState(db, d.name, this.rows(d), d.mirror ?? null, seed));
        this.log.info(
          {
            deployment: d.name,
            split: this.describeSplit(d),
            revision: this.applied.get(d.name),
            from_vigil_yaml: fromFile,
          },
          'deployment state restored from the database',
        );
      } else {
        if (stored)
          this.log.info(
            { deployment: d.name, stored: stored.versions.map((v) => v.version), configured: [...d.pools.keys()] },
            "vigil.yaml changed this deployment's versions, weights or mirror; its state is seeded from vigil.yaml",
          );
        for (const p of d.pools.values()) this.setActive(p, true);
        this.applied.set(d.name, await saveDeploymentState(db, d.name, this.rows(d), d.mirror ?? null, seed));
      }
      // A rollout whose versions are both configured keeps the canary alive whatever was stored.
      if (rollout && d.pools.has(rollout.canaryVersion) && d.pools.has(rollout.stableVersion)) {
        this.setActive(d.pools.get(rollout.canaryVersion)!, true);
        this.setActive(d.pools.get(rollout.stableVersion)!, true);
      }
    }
  }

  /** Stores `change` in `tx`; returns what applies it in memory, to call after commit. */
  async write(tx: Db, deployment: Deployment, change: StateChange): Promise<() => void> {
    const rows = this.rows(deployment, change);
    const mirror = change.mirror === undefined ? (deployment.mirror ?? null) : change.mirror;
    const revision = await saveDeploymentState(tx, deployment.name, rows, mirror);
    return () => {
      // A notification of this very change may have been applied already.
      if ((this.applied.get(deployment.name) ?? -1) >= revision) return;
      this.applied.set(deployment.name, revision);
      this.applyRows(deployment, rows, mirror ?? undefined);
      this.log.info(
        {
          deployment: deployment.name,
          revision,
          split: this.describeSplit(deployment),
          retired: rows.filter((r) => r.state === 'retired').map((r) => r.version),
          mirror,
        },
        'deployment state changed',
      );
      this.onApplied();
    };
  }

  /**
   * Applies the stored state of one deployment if it is newer than the one applied here: what
   * a node does when another node (or this one) changed it. True when something was applied.
   */
  async reload(db: Db, name: string): Promise<boolean> {
    const d = this.router.deployments.get(name);
    if (!d) return false;
    const stored = await loadDeploymentState(db, name);
    if (!stored || stored.revision <= (this.applied.get(name) ?? -1)) return false;
    this.applyStored(d, stored);
    this.log.info(
      { deployment: name, revision: stored.revision, split: this.describeSplit(d) },
      'deployment state changed elsewhere; applied',
    );
    this.onApplied();
    return true;
  }

  /** The revision applied here (for tests and status). */
  revisionOf(name: string): number | undefined {
    return this.applied.get(name);
  }

  /** The rows describing a deployment now, or after `change`. */
  rows(d: Deployment, change: StateChange = {}): VersionStateRow[] {
    const split = change.split ?? d.split.entries.map((e) => ({ version: e.version, weight: e.weight }));
    const order = [
      ...split.map((e) => e.version),
      ...[...d.pools.keys()].filter((v) => !split.some((e) => e.version === v)),
    ];
    return order.map((version, position) => {
      const pool = d.pools.get(version)!;
      const retired = change.retire?.includes(version)
        ? true
        : change.activate?.includes(version)
          ? false
          : pool.retired;
      const fault = change.fault?.[version] ?? pool.fault;
      const replicas = change.replicas && version in change.replicas ? change.replicas[version]! : pool.manualReplicas;
      const autoscaleTarget = change.autoscale?.[version] ?? pool.clusterAutoscaleTarget;
      return {
        version,
        model: pool.artifact,
        weight: split.find((e) => e.version === version)?.weight ?? 0,
        position,
        state: retired ? 'retired' : 'active',
        fault: { ...fault },
        replicas,
        autoscaleTarget,
      };
    });
  }

  describeSplit(d: Deployment): string {
    return d.split.entries.map((e) => `${e.version}=${e.weight}`).join(' ');
  }

  private sameVersions(d: Deployment, stored: StoredDeploymentState): boolean {
    const storedVersions = new Set(stored.versions.map((v) => v.version));
    return storedVersions.size === d.pools.size && [...d.pools.keys()].every((v) => storedVersions.has(v));
  }

  private applyStored(d: Deployment, stored: StoredDeploymentState): void {
    this.applied.set(d.name, stored.revision);
    this.applyRows(
      d,
      stored.versions.map((v) => ({
        version: v.version,
        weight: v.weight,
        state: v.state,
        fault: v.fault,
        replicas: v.replicas,
        autoscaleTarget: v.autoscaleTarget,
      })),
      stored.mirror ?? undefined,
    );
  }

  private applyRows(
    d: Deployment,
    rows: readonly Pick<VersionStateRow, 'version' | 'weight' | 'state' | 'fault' | 'replicas' | 'autoscaleTarget'>[],
    mirror: MirrorConfig | undefined,
  ): void {
    // A version another node's vigil.yaml has and this one's has not (a config change rolling
    // out) is left out here; the nodes agree again once they run the same file.
    const known = rows.filter((r) => d.pools.has(r.version));
    if (known.some((r) => r.weight > 0)) d.setSplit(known.map((r) => ({ version: r.version, weight: r.weight })));
    for (const r of known) {
      const pool = d.pools.get(r.version)!;
      if (r.fault) pool.fault = { errorRate: r.fault.errorRate, addedLatencyMs: r.fault.addedLatencyMs };
      // The autoscaler applies it (within this node's memory budget) at its next tick.
      pool.clusterAutoscaleTarget = r.autoscaleTarget ?? null;
      this.setManualReplicas(pool, r.replicas ?? null);
      this.setActive(pool, r.state === 'active');
    }
    d.mirror = mirror && d.pools.has(mirror.version) ? mirror : undefined;
  }

  /** A hand-set count replaces the configured one while the version is active and not autoscaled. */
  private setManualReplicas(pool: VersionPool, replicas: number | null): void {
    if (pool.manualReplicas === replicas) return;
    pool.manualReplicas = replicas;
    if (!pool.retired && !pool.deployment.autoscaling)
      pool.targetReplicas = replicas ?? pool.versionConfig.num_replicas;
  }

  private setActive(pool: VersionPool, active: boolean): void {
    if (active && pool.retired) {
      pool.retired = false;
      pool.targetReplicas = pool.manualReplicas ?? this.activeTarget(pool);
    } else if (!active) {
      pool.retired = true;
      pool.targetReplicas = 0;
    }
  }
}
