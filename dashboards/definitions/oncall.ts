import type { Dashboard } from '@grafana/schema';
import { dashboard, heatmap, row, SEL, size, timeseries } from '../builders.ts';

const byDeploymentQuantile = (q: number, metric: string) =>
  `histogram_quantile(${q}, sum by (deployment, le) (rate(${metric}_bucket{${SEL}}[$__rate_interval])))`;

/**
 * 5xx over all responses, per deployment. `or ... * 0` makes a deployment with traffic and no 5xx
 * read 0 rather than vanish from the graph.
 */
const errorRatio =
  `(\n  sum by (deployment) (rate(vigil_requests_total{${SEL}, code=~"5.."}[$__rate_interval]))\n  or\n  sum by (deployment) (rate(vigil_requests_total{${SEL}}[$__rate_interval])) * 0\n)\n` +
  `/\nsum by (deployment) (rate(vigil_requests_total{${SEL}}[$__rate_interval]))`;

/**
 * Each version's share of its deployment's unpinned traffic: weights are relative, so divide by
 * the deployment's total rather than assume they sum to 100.
 */
const trafficShare =
  `sum by (deployment, version) (vigil_traffic_weight{${SEL}})\n/ on (deployment) group_left ()\n` +
  `sum by (deployment) (vigil_traffic_weight{${SEL}})`;

/**
 * The share of compared shadow answers that agreed, as the rollout's agreement gate counts it:
 * failed shadow calls (result="error") are left out. `or ... * 0` keeps a version whose answers
 * all disagree at 0 instead of dropping it; `> 0` on the denominator leaves a gap, not NaN, while
 * nothing is compared.
 */
const mirrorAgreement =
  `(\n  sum by (deployment, version) (rate(vigil_mirror_requests_total{${SEL}, result="agree"}[$__rate_interval]))\n  or\n` +
  `  sum by (deployment, version) (rate(vigil_mirror_requests_total{${SEL}, result=~"disagree|incomparable"}[$__rate_interval])) * 0\n)\n` +
  `/\n(sum by (deployment, version) (rate(vigil_mirror_requests_total{${SEL}, result=~"agree|disagree|incomparable"}[$__rate_interval])) > 0)`;

/** For the person paged: which deployment hurts, and is it load, rejections or crashing replicas. */
export function oncallDashboard(): Dashboard {
  return dashboard({
    uid: 'vigil-oncall',
    title: 'vigil / On-call',
    description:
      'Per-deployment latency, errors, rejections, restarts and queueing, and versions, rollouts and replica targets: where to look first when paged.',
    from: 'now-1h',
    rows: [
      row(
        'Latency and errors',
        size(
          timeseries({
            title: 'p99 latency by deployment',
            description:
              '99th percentile end-to-end request latency per deployment. Dots are exemplars: click one to open its trace in Jaeger ' +
              '(needs Prometheus exemplar storage, as in deploy/compose).',
            unit: 's',
            legendCalcs: ['mean', 'max', 'lastNotNull'],
            queries: [
              {
                expr: byDeploymentQuantile(0.99, 'vigil_request_duration_seconds'),
                legend: '{{deployment}}',
                exemplar: true,
              },
            ],
          }),
          12,
          9,
        ),
        size(
          timeseries({
            title: 'Error rate (5xx ratio) by deployment',
            description:
              'Share of responses that were server errors (5xx), per deployment. 4xx client errors are excluded: they are not vigil failing.',
            unit: 'percentunit',
            min: 0,
            legendCalcs: ['mean', 'max', 'lastNotNull'],
            queries: [{ expr: errorRatio, legend: '{{deployment}}' }],
          }),
          12,
          9,
        ),
        size(
          timeseries({
            title: 'Responses by deployment and code',
            description: 'Inference responses per second, per deployment and HTTP status code.',
            unit: 'reqps',
            queries: [
              {
                expr: `sum by (deployment, code) (rate(vigil_requests_total{${SEL}}[$__rate_interval]))`,
                legend: '{{deployment}} {{code}}',
              },
            ],
          }),
          12,
        ),
        size(
          heatmap({
            title: 'Request latency distribution',
            description:
              'End-to-end request durations over time, one cell per histogram bucket; colour is the number of requests in that bucket.',
            unit: 'short',
            bucketUnit: 's',
            queries: [
              { expr: `sum by (le) (increase(vigil_request_duration_seconds_bucket{${SEL}}[$__rate_interval]))` },
            ],
          }),
          12,
        ),
      ),
      row(
        'Load shedding and replicas',
        size(
          timeseries({
            title: 'Rejected requests by reason',
            description:
              'Requests refused before or instead of inference, per second: overload (queue full, 503), deadline (expired while queued, 504), ' +
              'invalid (bad input), not_ready, shutting_down, replica_lost (the replica died holding the request).',
            unit: 'reqps',
            stack: true,
            queries: [
              {
                expr: `sum by (deployment, reason) (rate(vigil_rejected_requests_total{${SEL}}[$__rate_interval]))`,
                legend: '{{deployment}} {{reason}}',
              },
            ],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Replica restarts (last 15m)',
            description:
              'Replicas replaced after stopping unexpectedly, counted over a sliding 15-minute window, by reason. ' +
              'The series appears only after a first restart; "No data" means none happened.',
            unit: 'short',
            decimals: 0,
            queries: [
              {
                expr: `sum by (deployment, reason) (increase(vigil_replica_restarts_total{${SEL}}[15m]))`,
                legend: '{{deployment}} {{reason}}',
              },
            ],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Queue depth and ongoing requests',
            description:
              'Requests waiting in the router queue for a replica slot (queued) and requests held by replicas (ongoing), per deployment. ' +
              'A queue that keeps growing means the replicas cannot keep up; past max_queued_requests vigil sheds load with 503.',
            unit: 'short',
            queries: [
              { expr: `sum by (deployment) (vigil_queued_requests{${SEL}})`, legend: '{{deployment}} queued' },
              { expr: `sum by (deployment) (vigil_ongoing_requests{${SEL}})`, legend: '{{deployment}} ongoing' },
            ],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Queue wait p99 by deployment',
            description:
              '99th percentile time a request waited in the router queue for a replica slot, per deployment.',
            unit: 's',
            queries: [{ expr: byDeploymentQuantile(0.99, 'vigil_queue_wait_seconds'), legend: '{{deployment}}' }],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Replicas by state',
            description:
              'Replicas per deployment and state (STARTING, RUNNING, DRAINING, STOPPED). RUNNING below the target (see Target vs running replicas) means lost capacity; ' +
              'DRAINING replicas are leaving after a scale-down or a retirement.',
            unit: 'short',
            decimals: 0,
            stack: true,
            queries: [
              { expr: `sum by (deployment, state) (vigil_replicas{${SEL}})`, legend: '{{deployment}} {{state}}' },
            ],
          }),
          24,
        ),
      ),
      row(
        'Versions and rollouts',
        size(
          timeseries({
            title: 'Traffic share by version',
            description:
              "Each version's share of its deployment's unpinned traffic: its vigil_traffic_weight over the sum of the deployment's weights. " +
              "Pinned requests (x-vigil-version or /versions/{v}) do not follow it. During a rollout the canary's share climbs step by step; " +
              'a drop to 0 is a rollback or an abort, and 100% a promotion. Dark and retired versions sit at 0.',
            unit: 'percentunit',
            min: 0,
            max: 1,
            stack: true,
            queries: [{ expr: trafficShare, legend: '{{deployment}}/{{version}}' }],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Rollouts finished by outcome',
            description:
              'Rollouts that ended since the vigil primary started, per deployment and outcome: Promoted, RolledBack (by the analysis) or Aborted (by hand). ' +
              'A step up is a rollout ending; the series appears with the first one and restarts from 0 with vigil. ' +
              'Shown as a running count rather than an increase(), which would miss the first rollout of a new series. ' +
              'For the numbers behind a rollback: GET /api/v1/deployments/{name}/rollout or vigil rollout status.',
            unit: 'short',
            decimals: 0,
            queries: [
              {
                expr: `sum by (deployment, outcome) (vigil_rollouts_total{${SEL}})`,
                legend: '{{deployment}} {{outcome}}',
              },
            ],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Mirror agreement ratio',
            description:
              'Share of shadow (mirrored) requests whose answer from the mirror version agreed with the answer the client got: agree / (agree + disagree + incomparable), per mirror version. ' +
              'Failed shadow calls (result="error") are left out, as in the rollout agreement gate. ' +
              'For classifiers, agreement is the same top-1 class on every row; otherwise no element further apart than the mirror tolerance. No data while nothing is mirrored.',
            unit: 'percentunit',
            min: 0,
            max: 1,
            queries: [{ expr: mirrorAgreement, legend: '{{deployment}}/{{version}}' }],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Target vs running replicas',
            description:
              "Replicas the controller is asked to keep per version (vigil_target_replicas: num_replicas, the autoscaler's target, or 0 once retired) " +
              'against the replicas RUNNING. Running below target for long means replicas fail to start or crash; ' +
              'an autoscaled target that stops rising under load may be capped by the memory budget (vigil_autoscaler_memory_capped).',
            unit: 'short',
            decimals: 0,
            queries: [
              {
                expr: `sum by (deployment, version) (vigil_target_replicas{${SEL}})`,
                legend: '{{deployment}}/{{version}} target',
              },
              {
                expr: `sum by (deployment, version) (vigil_replicas{${SEL}, state="RUNNING"})`,
                legend: '{{deployment}}/{{version}} running',
              },
            ],
          }),
          12,
        ),
      ),
      row(
        'Nodes',
        size(
          timeseries({
            title: 'Nodes, leaders and nodes in sync',
            description:
              'Nodes Prometheus scrapes (count of vigil_build_info), how many say they lead (vigil_leader: ' +
              'exactly 1 when healthy; 0 for a few seconds after the leader dies, until another takes over), ' +
              'and how many receive state changes (vigil_state_in_sync). A node out of sync lost its connection ' +
              'to Postgres: it serves on with its last state and reloads everything when it is back. ' +
              "GET /api/v1/cluster, or the console's Debug page, names them.",
            unit: 'short',
            decimals: 0,
            queries: [
              { expr: 'count(vigil_build_info)', legend: 'nodes' },
              { expr: 'sum(vigil_leader)', legend: 'leaders' },
              { expr: 'sum(vigil_state_in_sync)', legend: 'in sync' },
            ],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Fenced leader writes and state reloads',
            description:
              'Leader writes refused because another node had taken the leadership over (vigil_leader_fenced_writes_total: a leader paused past its lease woke up; its writes did nothing), ' +
              'and whole-state reloads after a lost subscription (vigil_state_resyncs_total), per node instance. Both are safe; many of them mean nodes freeze or lose Postgres often.',
            unit: 'short',
            decimals: 0,
            queries: [
              {
                expr: 'sum by (instance) (increase(vigil_leader_fenced_writes_total[$__rate_interval]))',
                legend: '{{instance}} fenced',
              },
              {
                expr: 'sum by (instance) (increase(vigil_state_resyncs_total[$__rate_interval]))',
                legend: '{{instance}} resyncs',
              },
            ],
          }),
          12,
        ),
      ),
      row(
        'Heat, pressure and model correctness',
        size(
          timeseries({
            title: 'Heat and pressure',
            description:
              'The hottest thermal zone (°C, right axis none: read it as a number), CPU and memory pressure (PSI some avg10, 0-1) per node instance, and whether heat or pressure ' +
              'holds replica growth (vigil_heat_capped = 1). A node at 85 °C or with sustained CPU pressure has its scale-ups held until it has been clear for heat.recover. ' +
              'Machines without a sensor have no series for it (vigil doctor says which).',
            unit: 'short',
            queries: [
              { expr: 'max by (instance) (vigil_host_temperature_celsius)', legend: '{{instance}} °C' },
              {
                expr: 'max by (instance, resource) (vigil_host_pressure_ratio)',
                legend: '{{instance}} {{resource}} pressure',
              },
              {
                expr: 'max by (instance, reason) (vigil_heat_capped) > 0',
                legend: '{{instance}} capped by {{reason}}',
              },
            ],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Probe failures and prediction drift',
            description:
              'Probes (known answers) that did not pass, per version and probe (a wrong answer or none: burns the correctness SLO), and the Population Stability Index of each ' +
              "version's answers and inputs against its baseline (0.25 and above: a significant shift; VigilPredictionDrift fires when it lasts drift.for).",
            unit: 'short',
            queries: [
              {
                expr: `sum by (deployment, version, probe) (increase(vigil_probe_results_total{${SEL},result!="pass"}[$__rate_interval]))`,
                legend: '{{deployment}}/{{version}} {{probe}} failed',
              },
              {
                expr: `max by (deployment, version, signal) (vigil_prediction_drift{${SEL}})`,
                legend: '{{deployment}}/{{version}} {{signal}} PSI',
              },
            ],
          }),
          12,
        ),
      ),
    ],
  });
}
