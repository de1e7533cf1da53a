import type { RouteDocs } from '../handler/define.ts';
import type { MirrorConfig } from '../config/schema.ts';
import type { ReplicaState } from '../controller/replica-handle.ts';
import type { ModelSignature } from '../protocol/model-metadata.ts';
import type { DeploymentRouter } from '../router/deployment-router.ts';
import type { IngressPool, IngressRouter } from '../router/ingress-types.ts';
import { ReplicaChannel } from '../router/replica-channel.ts';

/**
 * Everything an ingress process needs to route, as the controller sees it at one moment. The
 * primary is the only writer of pool and replica state; it sends a new snapshot whenever this
 * changes, and an ingress process replaces its view with it. Plain data: it crosses IPC.
 */
export interface RoutingSnapshot {
  ready: boolean;
  draining: boolean;
  deployments: DeploymentSnapshot[];
}

interface DeploymentSnapshot {
  name: string;
  split: { version: string; weight: number }[];
  mirror: MirrorConfig | null;
  versions: VersionSnapshot[];
}

interface VersionSnapshot {
  version: string;
  retired: boolean;
  scalesFromZero: boolean;
  targetReplicas: number;
  replacementImminent: boolean;
  fault: { errorRate: number; addedLatencyMs: number };
  model: {
    signature: ModelSignature | undefined;
    kind: 'model' | 'handler' | 'multiplex';
    provider: string;
    batchable: boolean;
    routeDocs?: RouteDocs;
  } | null;
  replicas: ReplicaSnapshot[];
}

interface ReplicaSnapshot {
  id: string;
  state: ReplicaState;
  slot: number;
  socketPath: string;
  loadedModels: string[];
}

/** The primary's side: the routing state of its router, as one snapshot. */
export function takeSnapshot(router: DeploymentRouter, ready: boolean, draining: boolean): RoutingSnapshot {
  return {
    ready,
    draining,
    deployments: [...router.deployments.values()].map((d) => ({
      name: d.name,
      split: d.split.entries.map((e) => ({ version: e.version, weight: e.weight })),
      mirror: d.mirror ?? null,
      versions: [...d.pools.values()].map((p) => ({
        version: p.version,
        retired: p.retired,
        scalesFromZero: p.scalesFromZero,
        targetReplicas: p.targetReplicas,
        replacementImminent: p.replacementImminent,
        fault: { ...p.fault },
        model: p.kind
          ? {
              signature: p.signature,
              kind: p.kind,
              provider: p.provider ?? 'unknown',
              batchable: p.batchable,
              routeDocs: p.routeDocs,
            }
          : null,
        replicas: p.replicas
          .filter((r) => r.state !== 'STOPPED')
          .map((r) => ({
            id: r.id,
            state: r.state,
            slot: r.slot,
            socketPath: r.socketPath,
            loadedModels: [...r.loadedModels],
          })),
      })),
    })),
  };
}

/**
 * An ingress process's side: makes its router match the snapshot. A new split replaces the old
 * one in one step (requests already routed finish where they started); a replica new to the
 * snapshot gets a channel, which connects once the replica is RUNNING; a replica gone from it is
 * closed, failing what it still held here (retried once elsewhere, as for a crash).
 */
export function applySnapshot(
  router: IngressRouter,
  snapshot: RoutingSnapshot,
  onChannel: (pool: IngressPool, channel: ReplicaChannel) => void,
): void {
  for (const ds of snapshot.deployments) {
    const d = router.deployments.get(ds.name);
    if (!d) continue;
    const split = d.split.entries;
    const sameSplit =
      split.length === ds.split.length &&
      split.every((e, i) => e.version === ds.split[i]!.version && e.weight === ds.split[i]!.weight);
    if (!sameSplit) d.setSplit(ds.split);
    d.mirror = ds.mirror ?? undefined;
    for (const vs of ds.versions) {
      const pool = d.pools.get(vs.version);
      if (!pool) continue;
      pool.retired = vs.retired;
      pool.scalesFromZero = vs.scalesFromZero;
      pool.targetReplicas = vs.targetReplicas;
      pool.replacementImminent = vs.replacementImminent;
      pool.fault = vs.fault;
      if (vs.model && !pool.kind) pool.describeModel(vs.model);
      const seen = new Set<string>();
      for (const rs of vs.replicas) {
        seen.add(rs.id);
        let channel = pool.replicas.find((r) => r.id === rs.id);
        if (!channel) {
          channel = new ReplicaChannel(rs.id, rs.socketPath);
          channel.slot = rs.slot;
          pool.addReplica(channel);
          onChannel(pool, channel);
        }
        channel.loadedModels.replaceReported(rs.loadedModels);
        channel.setState(rs.state);
      }
      for (const r of [...pool.replicas]) if (!seen.has(r.id)) r.close();
      pool.pump();
    }
  }
}
