/**
 * The JSON the control plane's /api/v1 returns to the console, as types inferred from the one
 * contract the server dispatches by (contract/control/): nothing here is declared twice. Times are
 * ISO 8601 strings in UTC; durations in seconds unless the name says `_ms`; a number the server
 * cannot know (no traffic yet, no data) is `null`, never 0, so the console can say "no data".
 */

export type { ApiRole as Role } from '../../contract/control/route';
export type { CurrentSession, SessionCreated } from '../../contract/control/access';
export type {
  ConsoleRuntime,
  ConsoleSeries,
  ConsoleSummary,
  ReplicaView,
  SeriesPoint,
  WindowSummary,
} from '../../contract/control/console';
export type { SloStatus } from '../../contract/control/slos';
export type { DeploymentProbes, ProbeExpectation } from '../../contract/control/probes';
export type { DeploymentDrift, DriftFinding } from '../../contract/control/drift';
export type { Alert, AuditEntry } from '../../contract/control/alerts';
export type { ActiveRollout, CanaryAnalysis, Rollout } from '../../contract/control/rollouts';
export type { ClusterStatus, DeploymentStatus, NodeStatus } from '../../contract/control/node';
export type {
  ActionPreview,
  Runbook,
  RunbookAction,
  RunbookActionType,
  RunbookDetail,
  RunbookExecution,
  RunbookInput,
  RunbookStep,
} from '../../contract/control/runbooks';

/** Every error answer: `{"error": "<human message>", "code": "VIGIL_ERR_..."}` (stable code). */
export interface ApiError {
  error: string;
  code: string;
}
