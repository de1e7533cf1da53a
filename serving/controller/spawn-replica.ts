import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { REPLICA_SPEC_ENV, type ReplicaSpec } from '../transport/messages.ts';

import { ReplicaSocketServer } from '../transport/replica-socket.ts';

let configured = false;
let sockets: ReplicaSocketServer | undefined;

/** This node's replica socket server, created on first use. */
export function replicaSockets(): ReplicaSocketServer {
  sockets ??= new ReplicaSocketServer();
  return sockets;
}

export function closeReplicaSockets(): void {
  sockets?.close();
  sockets = undefined;
}

/**
 * Forks a replica as a node:cluster worker. Tensors travel over the replica socket
 * (docs/decisions/0001-replica-transport.md); IPC carries control messages, and keeps advanced
 * serialization for the fallback before a socket is attached. The tsx loader is passed by
 * absolute URL so that a replica starts the same whatever the primary's working directory.
 */
export function spawnReplica(spec: ReplicaSpec): Worker {
  if (!configured) {
    cluster.setupPrimary({
      exec: fileURLToPath(new URL('../replica/replica-main.ts', import.meta.url)),
      execArgv: ['--import', import.meta.resolve('tsx')],
      serialization: 'advanced',
    });
    configured = true;
  }
  return cluster.fork({ [REPLICA_SPEC_ENV]: JSON.stringify(spec) });
}
