import type { DeploymentConfig } from '../config/schema.ts';
import { VigilError } from '../errors.ts';
import { VersionPool } from './version-pool.ts';

/** One deployment: its versions and the traffic weight of each. */
export class Deployment {
  readonly pools = new Map<string, VersionPool>();
  /** Traffic weights by version; the canary issue will change them at run time. */
  private weights = new Map<string, number>();

  constructor(readonly config: DeploymentConfig) {
    const pool = new VersionPool(config, config.version);
    this.pools.set(config.version, pool);
    this.weights.set(config.version, 100);
  }

  get name(): string {
    return this.config.name;
  }

  /** A pinned version, or one drawn by weight. */
  pick(version?: string, random: () => number = Math.random): VersionPool {
    if (version !== undefined) {
      const pool = this.pools.get(version);
      if (!pool) throw new VigilError('VIGIL_ERR_UNKNOWN_VERSION', `deployment "${this.name}" has no version "${version}"`);
      return pool;
    }
    let total = 0;
    for (const w of this.weights.values()) total += w;
    let x = random() * total;
    for (const [v, w] of this.weights) {
      x -= w;
      if (x < 0) return this.pools.get(v)!;
    }
    return this.pools.values().next().value!;
  }
}

/** All deployments by name. */
export class DeploymentRouter {
  readonly deployments = new Map<string, Deployment>();

  constructor(configs: readonly DeploymentConfig[]) {
    for (const c of configs) this.deployments.set(c.name, new Deployment(c));
  }

  get(name: string): Deployment {
    const d = this.deployments.get(name);
    if (!d) throw new VigilError('VIGIL_ERR_UNKNOWN_MODEL', `"${name.slice(0, 100)}"`);
    return d;
  }

  pools(): VersionPool[] {
    return [...this.deployments.values()].flatMap((d) => [...d.pools.values()]);
  }
}
