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

/** For the person paged: which deployment hurts, and is it load, rejections or crashing replicas. */
export function oncallDashboard(): Dashboard {
  return dashboard({
    uid: 'vigil-oncall',
    title: 'vigil / On-call',
    description: 'Per-deployment latency, errors, rejections, restarts and queueing: where to look first when paged.',
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
            queries: [{ expr: byDeploymentQuantile(0.99, 'vigil_request_duration_seconds'), legend: '{{deployment}}', exemplar: true }],
          }),
          12,
          9,
        ),
        size(
          timeseries({
            title: 'Error rate (5xx ratio) by deployment',
            description: 'Share of responses that were server errors (5xx), per deployment. 4xx client errors are excluded: they are not vigil failing.',
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
            queries: [{ expr: `sum by (deployment, code) (rate(vigil_requests_total{${SEL}}[$__rate_interval]))`, legend: '{{deployment}} {{code}}' }],
          }),
          12,
        ),
        size(
          heatmap({
            title: 'Request latency distribution',
            description: 'End-to-end request durations over time, one cell per histogram bucket; colour is the number of requests in that bucket.',
            unit: 'short',
            bucketUnit: 's',
            queries: [{ expr: `sum by (le) (increase(vigil_request_duration_seconds_bucket{${SEL}}[$__rate_interval]))` }],
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
            queries: [{ expr: `sum by (deployment, reason) (rate(vigil_rejected_requests_total{${SEL}}[$__rate_interval]))`, legend: '{{deployment}} {{reason}}' }],
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
            queries: [{ expr: `sum by (deployment, reason) (increase(vigil_replica_restarts_total{${SEL}}[15m]))`, legend: '{{deployment}} {{reason}}' }],
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
            description: '99th percentile time a request waited in the router queue for a replica slot, per deployment.',
            unit: 's',
            queries: [{ expr: byDeploymentQuantile(0.99, 'vigil_queue_wait_seconds'), legend: '{{deployment}}' }],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Replicas by state',
            description: 'Replicas per deployment and state (STARTING, RUNNING, DRAINING, STOPPED). RUNNING below the configured num_replicas means lost capacity.',
            unit: 'short',
            decimals: 0,
            stack: true,
            queries: [{ expr: `sum by (deployment, state) (vigil_replicas{${SEL}})`, legend: '{{deployment}} {{state}}' }],
          }),
          24,
        ),
      ),
    ],
  });
}
