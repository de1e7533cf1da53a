/**
 * The JSON the control plane's /api/v1 returns to the console: one contract for both sides.
 * The server (serving/api/*) builds these shapes; the console (app/*) only reads them. Times are
 * ISO 8601 strings in UTC; durations in seconds unless the name says `_ms`; a number the server
 * cannot know (no traffic yet, no data) is `null`, never 0, so the console can say "no data".
 */

export type Role = 'viewer' | 'operator' | 'admin';

/** Every error answer: `{"error": "<human message>", "code": "VIGIL_ERR_..."}` (stable code). */
export interface ApiError {
  error: string; // the message, safe to show
  code: string; // stable code, e.g. VIGIL_ERR_FORBIDDEN
}

// ---------------------------------------------------------------- sessions (login)

/**
 * POST /api/v1/sessions {username, password} → 201. 401 VIGIL_ERR_LOGIN_FAILED, 429
 * VIGIL_ERR_RATE_LIMITED (with Retry-After). The console sends `x-forwarded-for` (the browser's
 * address, recorded with the login) and marks every call it makes with `x-vigil-console: 1`:
 * vigil then never treats a call without a session as a trusted loopback caller.
 */
export interface SessionCreated {
  token: string; // send as `Authorization: Bearer <token>`; starts with `vgs_`
  csrf_token: string; // send as `x-vigil-csrf` on every non-GET call made with this session
  expires_at: string;
  user: { name: string; role: Role };
}

/** GET /api/v1/sessions/current → who the bearer is. DELETE → 204 (logout). */
export interface CurrentSession {
  user: { name: string; role: Role };
  expires_at: string | null; // null for API tokens
  csrf_token: string | null; // the session's CSRF token (null for API tokens)
}

// ---------------------------------------------------------------- executive

export interface WindowSummary {
  window: '1h' | '24h' | '7d';
  requests: number;
  errors: number; // status >= 500
  success_rate: number | null; // (requests - errors) / requests; null without requests
  p95_ms: number | null; // estimated from the latency histogram (linear within a bucket)
  p99_ms: number | null;
  cpu_seconds: number; // replica CPU time (user + system) spent in the window
  cost_per_1k_usd: number | null; // cpu_seconds * price / (requests / 1000); null without requests or price
}

/** GET /api/v1/console/summary */
export interface ConsoleSummary {
  generated_at: string;
  windows: WindowSummary[]; // 1h, 24h, 7d in that order
  cpu_hour_usd: number | null; // the configured price (console.cpu_hour_usd), null when unset
  active_deployments: number; // deployments with at least one active version taking traffic
  deployments: Array<{
    name: string;
    versions: number;
    requests_1h: number;
    success_rate_1h: number | null;
    p99_ms_1h: number | null;
  }>;
  slos: SloStatus[];
}

/** As /api/v1/slos returns each SLO. */
export interface SloStatus {
  id: string;
  deployment: string;
  deployment_served: boolean; // false: the deployment is no longer in this node's config
  version: string | null;
  kind: 'availability' | 'latency';
  objective: number;
  window: string; // e.g. "28d"
  latency_threshold_ms: number | null;
  description: string | null;
  evaluated_at: string | null;
  sli: number | null;
  events: { good: number; total: number } | null;
  error_budget_remaining: number | null; // fraction of the budget left, may be negative
  seconds_to_exhaustion: number | null; // at the current burn rate; null when not burning
  burn_rates: Record<string, number>; // window ("5m", "1h", ...) → burn rate
  alerts: { page: string; ticket: string }; // inactive | pending | firing
  versions: Record<string, { requests_1h: number; error_ratio_1h: number; burn_rate_1h: number; burn_rate_5m: number }>;
}

// ---------------------------------------------------------------- time series

export interface SeriesPoint {
  t: number; // bucket start, epoch seconds
  requests: number;
  errors: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

/**
 * GET /api/v1/console/series?range=1h|6h|24h&deployment=NAME (deployment optional: all)
 * One series per deployment and version, one point per step (60 s), oldest first, buckets with
 * no traffic included as zero-request points with null latencies.
 */
export interface ConsoleSeries {
  source: 'memory';
  range_seconds: number;
  step_seconds: number;
  series: Array<{ deployment: string; version: string; points: SeriesPoint[] }>;
}

// ---------------------------------------------------------------- runtime (on-call + debug)

export interface ReplicaView {
  id: string;
  slot: number;
  state: string; // STARTING | RUNNING | DRAINING | STOPPED ...
  pid: number | null;
  ongoing: number;
  sent: number;
  succeeded: number;
  provider: string;
  rss_bytes: number | null;
  heap_used_bytes: number | null;
  cpu_seconds: number | null;
  event_loop_lag_ms: number | null;
  load_seconds: number | null;
  started_at: string | null;
}

/** GET /api/v1/console/runtime */
export interface ConsoleRuntime {
  generated_at: string;
  node: {
    uptime_seconds: number;
    ready: boolean;
    draining: boolean;
    event_loop_lag_ms: number | null;
    rss_bytes: number;
  };
  deployments: Array<{
    name: string;
    versions: Array<{
      version: string;
      weight: number;
      state: 'active' | 'retired';
      target_replicas: number;
      queued: number;
      restarts: number;
      crash_loop: boolean;
      last_error: string | null;
      replicas: ReplicaView[];
    }>;
  }>;
  rejected: Array<{ deployment: string; reason: string; count: number }>; // since this node started
  restarts: Array<{ deployment: string; reason: string; count: number }>; // since this node started
  batch_sizes: Array<{
    deployment: string;
    version: string;
    buckets: Array<{ le: number | '+Inf'; count: number }>;
    count: number;
    sum: number;
  }>; // buckets cumulative, as Prometheus' le
  model_loads: Array<{
    deployment: string;
    version: string;
    count: number;
    mean_seconds: number | null;
    cold_starts: number;
  }>;
  traces: Array<{
    trace_id: string;
    at: string;
    deployment: string;
    version: string;
    status: number;
    duration_ms: number;
  }>; // newest first, sampled requests only
  trace_url_template: string | null; // e.g. "http://localhost:16686/trace/{trace_id}"; null when unset
}

// ---------------------------------------------------------------- alerts, audit, rollouts (existing endpoints)

/** GET /api/v1/alerts?state=pending,firing → { alerts: Alert[] } */
export interface Alert {
  fingerprint: string;
  source: 'vigil' | 'alertmanager';
  name: string; // e.g. VigilErrorBudgetBurn, VigilCanaryRolledBack
  severity: string; // page | ticket | ...
  sloId: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>; // summary, description, runbook, runbook_url
  state: 'pending' | 'firing' | 'resolved';
  startsAt: string;
  endsAt: string | null;
  updatedAt: string;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  silencedUntil: string | null;
}

/** GET /api/v1/audit?actor=&action=&target=&limit= → { entries: AuditEntry[] } */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

/** GET /api/v1/rollouts?deployment=&limit= → { rollouts: Rollout[] } */
export interface Rollout {
  id: number;
  deployment: string;
  stableVersion: string;
  canaryVersion: string;
  status: 'Progressing' | 'Paused' | 'Promoted' | 'RolledBack' | 'Aborted';
  steps: number[];
  stepIndex: number;
  intervalSeconds: number;
  canaryWeight: number;
  reason: string | null;
  analysis: Record<string, unknown> | null;
  startedBy: string;
  createdAt: string;
  updatedAt: string;
}

/** GET /api/v1/deployments → { deployments: DeploymentStatus[] } (the live view). */
export interface DeploymentStatus {
  name: string;
  split: Array<{ version: string; weight: number }>;
  mirror: { version: string; percent: number } | null;
  rollout: ActiveRollout | null;
  versions: Array<{
    version: string;
    model: string | null;
    weight: number;
    state: 'active' | 'retired';
    target_replicas: number;
    autoscaling: unknown;
    queued: number;
    dispatched: number;
    provider: string | null;
    restarts: number;
    crashLoop: boolean;
    replicas: Array<{
      id: string;
      slot: number;
      state: string;
      pid: number | null;
      ongoing: number;
      rss_bytes: number | null;
    }>;
  }>;
}

export interface ActiveRollout {
  id: number;
  status: 'Progressing' | 'Paused';
  stable: string;
  canary: string;
  steps: number[];
  step: number; // index into steps
  canary_weight: number;
  interval_seconds: number;
  step_elapsed_seconds: number;
  decision: { kind: string; reason: string } | null; // kind: hold | advance | promote | rollback ...
  analysis: Record<string, unknown> | null; // burn rates, error ratios, p99s, request counts
}

// ---------------------------------------------------------------- runbooks

export type {
  RunbookActionType,
  RunbookAction,
  RunbookStep,
  Runbook,
  RunbookDetail,
  RunbookInput,
  ActionPreview,
  RunbookExecution,
} from '../../contract/runbooks';

/** GET /api/v1/cluster (serving/cluster/cluster-status.ts). */
export interface ClusterStatus {
  mode: 'shared' | 'embedded'; // shared: nodes on one Postgres; embedded: PGlite, one node
  node: { name: string; instance: string; leader: boolean; epoch: number; in_sync: boolean }; // the node answering
  leader: { instance: string | null; epoch: number; acquired_at: string | null; renewed_at: string | null } | null;
  nodes: Array<{
    name: string;
    instance: string;
    url: string;
    started_at: string;
    heartbeat_age_seconds: number; // by the database's clock
    healthy: boolean; // heard from within cluster.node_timeout_s and not stopped
    stopped: boolean;
    leader: boolean;
    report: {
      ready: boolean;
      draining: boolean;
      uptime_seconds: number;
      deployments: Array<{
        name: string;
        versions: Array<{
          version: string;
          weight: number;
          state: string;
          target: number;
          running: number;
          starting: number;
          queued: number;
          ongoing: number;
        }>;
      }>;
    } | null;
  }>;
}
