import type { ClusterStatus, NodeStatus } from '../../contract/control/node.ts';
import type { ActiveRollout } from '../../contract/control/rollouts.ts';
import type { ConsoleConfig, DriftConfig } from '../config/schema.ts';
import type { ControlPlane } from '../control-plane.ts';
import type { DriftMonitor } from '../drift/drift-monitor.ts';
import type { Prober } from '../probes/prober.ts';
import type { ReplicaHandle } from '../controller/replica-handle.ts';
import type { RolloutController } from '../rollout/rollout-controller.ts';
import type { DeploymentRouter } from '../router/deployment-router.ts';
import type { VersionPool } from '../router/version-pool.ts';
import type { VigilMetrics } from '../telemetry/metrics.ts';
import type { DeploymentState } from '../traffic/deployment-state.ts';

/** What the control API's handlers act on: the node's parts, given by serving/node.ts. */
export interface ApiContext {
  plane: ControlPlane;
  router: DeploymentRouter;
  rollouts: RolloutController;
  traffic: DeploymentState;
  /** The active rollout of a deployment with its live analysis, or null. */
  rolloutStatus(deployment: string): ActiveRollout | null;
  status(): NodeStatus;
  requestShutdown(): void;
  /** Drains the replica; the controller starts its replacement. */
  restartReplica(pool: VersionPool, replica: ReplicaHandle): void;
  /** Restarts, crash loop and last error of a version's replicas (the controller's view). */
  replicaHealth(pool: VersionPool): { restarts: number; crashLoop: boolean; lastError: string | undefined };
  metrics: VigilMetrics;
  consoleConfig: ConsoleConfig;
  /** The node's probes (serving/probes/prober.ts). */
  prober: Prober;
  /** Prediction drift (serving/drift/drift-monitor.ts). */
  drift: DriftMonitor;
  driftConfig: DriftConfig;
  /** The nodes on this database and the leadership (GET /api/v1/cluster). */
  cluster(): Promise<ClusterStatus>;
}
