import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Who this process is among the nodes on one database. `name` is for people (the pod name on
 * Kubernetes, or VIGIL_NODE_NAME); `instance` is unique to this process, so that what it counts
 * (SLI buckets, request rollups, per-second windows) is never mixed with what the same node
 * counted before a restart, and every node can tell its own rows from the others'.
 */
export interface NodeIdentity {
  name: string;
  instance: string;
}

export function nodeIdentity(name: string = hostname()): NodeIdentity {
  const n = name.slice(0, 100) || 'vigil';
  return { name: n, instance: `${n}-${randomBytes(4).toString('hex')}` };
}
