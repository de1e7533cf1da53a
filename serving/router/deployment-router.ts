import type { DeploymentConfig, MirrorConfig } from '../config/schema.ts';
import { VigilError } from '../errors.ts';
import { MirrorStats } from './mirror.ts';
import { routingKeyPoint } from './routing-key.ts';
import { type PooledReplica, VersionPool } from './version-pool.ts';
import type { ReplicaHandle } from '../controller/replica-handle.ts';

/**
 * A traffic split: versions in pick order with their weights. The object is never mutated; a
 * change builds a new one and swaps the reference, so a request sees the old split or the new
 * one, never half of each, and requests already routed finish where they started.
 */
export interface TrafficSplit {
  readonly entries: readonly { readonly version: string; readonly weight: number }[];
  readonly total: number;
}

export function makeSplit(entries: readonly { version: string; weight: number }[]): TrafficSplit {
  const clean = entries.map((e) => Object.freeze({ version: e.version, weight: e.weight }));
  return Object.freeze({ entries: Object.freeze(clean), total: clean.reduce((n, e) => n + e.weight, 0) });
}

export interface RouteRequest {
  /** A pinned version (x-vigil-version or the OIP /versions/{v} path). */
  version?: string;
  /** x-vigil-routing-key: the same key lands on the same version while the split is unchanged. */
  routingKey?: string;
}

/** One deployment: its versions, the traffic split between them, and the shadow (mirror) setting. */
export class Deployment<R extends PooledReplica = ReplicaHandle> {
  readonly pools = new Map<string, VersionPool<R>>();
  private currentSplit: TrafficSplit;
  /** Shadow traffic in force; the rollout controller and the API change it at run time. */
  mirror: MirrorConfig | undefined;
  readonly mirrorStats = new MirrorStats();

  constructor(readonly config: DeploymentConfig) {
    for (const v of config.versions) this.pools.set(v.version, new VersionPool<R>(config, v));
    this.currentSplit = makeSplit(config.versions.map((v) => ({ version: v.version, weight: v.weight })));
    this.mirror = config.mirror;
  }

  get name(): string {
    return this.config.name;
  }

  get split(): TrafficSplit {
    return this.currentSplit;
  }

  /** Weight of one version in the current split (0 when absent). */
  weightOf(version: string): number {
    return this.currentSplit.entries.find((e) => e.version === version)?.weight ?? 0;
  }

  /**
   * Replaces the split in one step. Versions keep the order given: a routing key maps to a point
   * in [0, 1) and the first version owns the lowest range, so a canary listed first keeps every
   * user it had as its weight grows.
   */
  setSplit(entries: readonly { version: string; weight: number }[]): TrafficSplit {
    for (const e of entries) {
      if (!this.pools.has(e.version))
        throw new VigilError('VIGIL_ERR_UNKNOWN_VERSION', `deployment "${this.name}" has no version "${e.version}"`);
      if (!Number.isInteger(e.weight) || e.weight < 0)
        throw new VigilError(
          'VIGIL_ERR_INVALID_BODY',
          `weight of "${e.version}" must be a non-negative integer, got ${e.weight}`,
        );
    }
    const split = makeSplit(entries);
    if (split.total <= 0) throw new VigilError('VIGIL_ERR_INVALID_BODY', 'at least one version needs a weight above 0');
    this.currentSplit = split;
    return split;
  }

  /** A pinned version, the routing key's version, or one drawn by weight. */
  pick(request: RouteRequest = {}, random: () => number = Math.random): VersionPool<R> {
    if (request.version !== undefined) {
      const pool = this.pools.get(request.version);
      if (!pool)
        throw new VigilError(
          'VIGIL_ERR_UNKNOWN_VERSION',
          `deployment "${this.name}" has no version "${request.version.slice(0, 100)}"`,
        );
      return pool;
    }
    const split = this.currentSplit;
    const point = request.routingKey !== undefined ? routingKeyPoint(request.routingKey) : random();
    let x = point * split.total;
    for (const e of split.entries) {
      if (e.weight === 0) continue;
      x -= e.weight;
      if (x < 0) return this.pools.get(e.version)!;
    }
    // Floating-point edge (point just below 1): the last version with weight.
    const last = [...split.entries].reverse().find((e) => e.weight > 0)!;
    return this.pools.get(last.version)!;
  }
}

/**
 * All deployments by name. The primary's (of ReplicaHandles) is the controller's state; each
 * ingress process holds one of ReplicaChannels, which only the controller's snapshots change.
 */
export class DeploymentRouter<R extends PooledReplica = ReplicaHandle> {
  readonly deployments = new Map<string, Deployment<R>>();

  constructor(configs: readonly DeploymentConfig[]) {
    for (const c of configs) this.deployments.set(c.name, new Deployment<R>(c));
  }

  get(name: string): Deployment<R> {
    const d = this.deployments.get(name);
    if (!d) throw new VigilError('VIGIL_ERR_UNKNOWN_MODEL', `"${name.slice(0, 100)}"`);
    return d;
  }

  pools(): VersionPool<R>[] {
    return [...this.deployments.values()].flatMap((d) => [...d.pools.values()]);
  }
}
