import type { Db } from '../../db/client.ts';
import { loadDeploymentState, saveDeploymentState, type VersionStateRow } from '../../db/queries/deployment-state.ts';
import type { Rollout } from '../../db/schema/index.ts';
import type { MirrorConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { Deployment, DeploymentRouter } from '../router/deployment-router.ts';
import type { VersionPool } from '../router/version-pool.ts';

/** A change to one deployment's traffic state; what it leaves out stays as it is. */
export interface StateChange {
  /** The new split, in pick order. Versions left out get weight 0 and go to the end. */
  split?: { version: string; weight: number }[];
  /** Versions that start (or keep) their replicas. */
  activate?: string[];
  /** Versions whose replicas drain and stop. */
  retire?: string[];
  /** null turns shadow traffic off. */
  mirror?: MirrorConfig | null;
}

/** How a version's replica target is chosen when it becomes active (the autoscaler's, or the fixed count). */
export type ActiveTarget = (pool: VersionPool) => number;

/**
 * The traffic state of every deployment (weights, split order, retired versions, mirror) and the
 * rule that every change is written to the database before it takes effect: `write()` stores the
 * change inside the caller's transaction and returns the function that applies it in memory,
 * to be called once the transaction has committed. A crash between the two leaves the database
 * ahead of memory, and a restart applies what the database says, so the split is never undefined.
 */
export class DeploymentState {
  constructor(
    private readonly router: DeploymentRouter,
    private readonly log: Logger,
    private readonly activeTarget: ActiveTarget,
    /** Called after a change applies, so the replica controller starts or drains replicas at once. */
    private readonly onApplied: () => void = () => {},
  ) {}

  /**
   * At start: vigil.yaml seeds a deployment's state the first time its set of versions is seen;
   * after that the stored state (changed by rollouts and the API) wins, so a restart keeps the
   * split the runtime had. Changing the set of versions in vigil.yaml re-seeds from the file.
   * An active rollout's own weights win over both (see RolloutController.resume).
   */
  async seed(db: Db, active: readonly Rollout[]): Promise<void> {
    for (const d of this.router.deployments.values()) {
      const stored = await loadDeploymentState(db, d.name);
      const configured = new Set(d.pools.keys());
      const storedVersions = new Set(stored?.versions.map((v) => v.version) ?? []);
      const sameSet = stored !== undefined && storedVersions.size === configured.size && [...configured].every((v) => storedVersions.has(v));
      const rollout = active.find((r) => r.deployment === d.name);
      if (sameSet && stored.versions.some((v) => v.weight > 0)) {
        this.applyRows(d, stored.versions, stored.mirror ?? undefined);
        this.log.info({ deployment: d.name, split: this.describeSplit(d) }, 'traffic split restored from the database');
      } else {
        if (stored) this.log.info({ deployment: d.name, stored: [...storedVersions], configured: [...configured] }, 'the versions in vigil.yaml changed; traffic split seeded from vigil.yaml');
        for (const p of d.pools.values()) this.setActive(p, true);
        await saveDeploymentState(db, d.name, this.rows(d), d.mirror ?? null);
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
    await saveDeploymentState(tx, deployment.name, rows, mirror);
    return () => {
      this.applyRows(deployment, rows, mirror ?? undefined);
      this.log.info({ deployment: deployment.name, split: this.describeSplit(deployment), retired: rows.filter((r) => r.state === 'retired').map((r) => r.version), mirror }, 'traffic state changed');
      this.onApplied();
    };
  }

  /** The rows describing a deployment now, or after `change`. */
  rows(d: Deployment, change: StateChange = {}): VersionStateRow[] {
    const split = change.split ?? d.split.entries.map((e) => ({ version: e.version, weight: e.weight }));
    const order = [...split.map((e) => e.version), ...[...d.pools.keys()].filter((v) => !split.some((e) => e.version === v))];
    return order.map((version, position) => {
      const pool = d.pools.get(version)!;
      const retired = change.retire?.includes(version) ? true : change.activate?.includes(version) ? false : pool.retired;
      return { version, model: pool.artifact, weight: split.find((e) => e.version === version)?.weight ?? 0, position, state: retired ? 'retired' : 'active' };
    });
  }

  describeSplit(d: Deployment): string {
    return d.split.entries.map((e) => `${e.version}=${e.weight}`).join(' ');
  }

  private applyRows(d: Deployment, rows: readonly Pick<VersionStateRow, 'version' | 'weight' | 'state'>[], mirror: MirrorConfig | undefined): void {
    const known = rows.filter((r) => d.pools.has(r.version));
    d.setSplit(known.map((r) => ({ version: r.version, weight: r.weight })));
    for (const r of known) this.setActive(d.pools.get(r.version)!, r.state === 'active');
    d.mirror = mirror && d.pools.has(mirror.version) ? mirror : undefined;
  }

  private setActive(pool: VersionPool, active: boolean): void {
    if (active && pool.retired) {
      pool.retired = false;
      pool.targetReplicas = this.activeTarget(pool);
    } else if (!active) {
      pool.retired = true;
      pool.targetReplicas = 0;
    }
  }
}
