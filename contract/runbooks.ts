/**
 * The runbook objects of the control API (/api/v1/runbooks), as the server sends and takes them
 * and the console reads them: one declaration for both, so serving/ no longer imports from app/
 * (issue 18). Types only, for now; zod schemas come with the declarative routes.
 */

export type RunbookActionType =
  | 'rollback_rollout'
  | 'pause_rollout'
  | 'resume_rollout'
  | 'set_weight'
  | 'scale'
  | 'restart_replica'
  | 'silence_alert';

/**
 * What an action step does. Fields left out are parameters asked for (or taken from the alert)
 * when the step runs: e.g. `{type: 'scale'}` asks for deployment, version and replicas.
 */
export interface RunbookAction {
  type: RunbookActionType;
  deployment?: string;
  version?: string;
  weights?: Record<string, number>; // set_weight
  replicas?: number; // scale
  replica?: string; // restart_replica: replica id; omitted = the first running one
  duration?: string; // silence_alert, e.g. "1h"
  fingerprint?: string; // silence_alert
}

export interface RunbookStep {
  position: number; // 1-based
  title: string;
  kind: 'note' | 'action';
  action: RunbookAction | null;
}

export interface Runbook {
  slug: string;
  title: string;
  body_md: string;
  tags: string[];
  alert_names: string[];
  steps: RunbookStep[];
  created_at: string;
  updated_at: string;
}

/** GET /api/v1/runbooks?tag=&alert= → { runbooks: Runbook[] }; GET /api/v1/runbooks/{slug} → RunbookDetail */
export interface RunbookDetail extends Runbook {
  executions: RunbookExecution[]; // newest first, at most 50
}

/** POST /api/v1/runbooks (operator) and PUT /api/v1/runbooks/{slug}: body = RunbookInput → Runbook */
export interface RunbookInput {
  slug?: string; // POST only; derived from the title when absent
  title: string;
  body_md: string;
  tags: string[];
  alert_names: string[];
  steps: Array<{ title: string; kind: 'note' | 'action'; action?: RunbookAction | null }>;
}

/**
 * POST /api/v1/runbooks/{slug}/steps/{position}/preview {params?: Partial<RunbookAction>} → ActionPreview
 * POST /api/v1/runbooks/{slug}/steps/{position}/run {params?, confirm: true} → RunbookExecution
 * Without `confirm: true` a run is refused (400 VIGIL_ERR_CONFIRMATION_REQUIRED).
 */
export interface ActionPreview {
  action: RunbookAction; // the step's action with the parameters filled in
  target: string; // e.g. "deployment/cls/v1"
  description: string; // e.g. "Scale cls v1 from 1 to 2 replicas"
  before: unknown;
  after: unknown;
}

export interface RunbookExecution {
  id: number;
  runbook: string; // slug
  step: number | null; // position
  actor: string;
  status: 'succeeded' | 'failed';
  request: Record<string, unknown>;
  result: Record<string, unknown> | null;
  at: string;
}
