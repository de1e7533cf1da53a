import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { readEnv } from '../config/env.ts';

let policySet = false;

/**
 * Forks a node:cluster worker running `entry` (a TypeScript file) through tsx, passed by absolute
 * URL so that a worker starts the same whatever the primary's working directory. Replicas and
 * ingress processes are both cluster workers; settings apply per fork, so each sets its own.
 *
 * The ingress processes share the HTTP port. With the default round-robin policy the primary
 * accepts every connection and passes it on, so a primary busy with its database would delay new
 * connections (health probes open one each time). SCHED_NONE hands the listening socket to the
 * ingress processes, which accept on their own.
 */
export function forkWorker(entry: URL, env: Record<string, string>): Worker {
  if (!policySet) {
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    policySet = true;
  }
  const profileDir = readEnv().VIGIL_CPU_PROF_DIR;
  cluster.setupPrimary({
    exec: fileURLToPath(entry),
    execArgv: [
      '--import',
      import.meta.resolve('tsx'),
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    ],
    serialization: 'advanced',
  });
  return cluster.fork(env);
}
