import type { Worker } from 'node:cluster';
import { REPLICA_SPEC_ENV, type ReplicaSpec } from '../transport/messages.ts';
import { forkWorker } from './fork-worker.ts';

/**
 * Forks a replica. Tensors travel over the replica's own Unix socket, to which every ingress
 * process connects (docs/decisions/0001-replica-transport.md); IPC carries control messages.
 */
export function spawnReplica(spec: ReplicaSpec, heapFloorMb: number): Worker {
  // Only a handler deployment imports TypeScript of the user's; a model runs without tsx.
  return forkWorker(
    new URL('../replica/replica-main.ts', import.meta.url),
    { [REPLICA_SPEC_ENV]: JSON.stringify(spec) },
    { loadsTypeScript: spec.handler !== undefined, heapFloorMb },
  );
}
