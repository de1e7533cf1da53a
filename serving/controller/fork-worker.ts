import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { readEnv } from '../config/env.ts';
import { bundledEntry } from '../bundle.ts';

let policySet = false;

/**
 * Forks a node:cluster worker running `entry` (a TypeScript file, or its current bundle) through
 * tsx when it needs it (`loadsTypeScript`: a replica may import a handler), passed by absolute
 * URL so that a worker starts the same whatever the primary's working directory. Replicas and
 * ingress processes are both cluster workers; settings apply per fork, so each sets its own.
 *
 * The ingress processes share the HTTP port. With the default round-robin policy the primary
 * accepts every connection and passes it on, so a primary busy with its database would delay new
 * connections (health probes open one each time). SCHED_NONE hands the listening socket to the
 * ingress processes, which accept on their own.
 */
export function forkWorker(
  entry: URL,
  env: Record<string, string>,
  o: {
    loadsTypeScript: boolean;
    /** `ingress.heap_floor_mb`: `--initial-old-space-size` for the worker; 0 leaves V8's default. */
    heapFloorMb: number;
  },
): Worker {
  if (!policySet) {
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    policySet = true;
  }
  const { VIGIL_CPU_PROF_DIR: profileDir, VIGIL_BUNDLE } = readEnv();
  // The bundle npm install built, while current (serving/bundle.ts): no compiling at start, and
  // none of tsx's per-function wrappers. A replica keeps tsx for the handlers it may import.
  const bundle = VIGIL_BUNDLE === '0' ? undefined : bundledEntry(entry);
  const tsx = !bundle || o.loadsTypeScript ? ['--import', import.meta.resolve('tsx')] : [];
  cluster.setupPrimary({
    exec: bundle ?? fileURLToPath(entry),
    execArgv: [
      ...tsx,
      ...(o.heapFloorMb > 0 ? [`--initial-old-space-size=${o.heapFloorMb}`] : []),
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    ],
    serialization: 'advanced',
  });
  return cluster.fork(env);
}
