import type { Dashboard } from '@grafana/schema';
import { dashboard, row, SEL, size, stat, timeseries } from '../builders.ts';

/** 5xx responses over all responses. 4xx are the client's mistakes and do not count against vigil. */
const fiveXxRatio = (window: string) =>
  `(sum(increase(vigil_requests_total{${SEL}, code=~"5.."}[${window}])) or vector(0))\n/\nsum(increase(vigil_requests_total{${SEL}}[${window}]))`;

const latencyQuantile = (q: number) =>
  `histogram_quantile(${q}, sum by (le) (rate(vigil_request_duration_seconds_bucket{${SEL}}[$__rate_interval])))`;

/** The SLO recording rule (slo/prometheus-rules.ts); labels slo_id, deployment, slo_kind. */
const BUDGET = `slo:error_budget:remaining{${SEL}}`;
const BUDGET_LEGEND = '{{deployment}} {{slo_kind}} ({{slo_id}})';
const NO_DATA_UNTIL_RULES =
  'The rule comes from the SLO rules (`vigil slo rules`, from the slos in vigil.yaml), which Prometheus evaluates: ' +
  'this panel shows "No data" until the SLO rules are loaded into Prometheus (see docs/dashboards.md).';

/** For people who ask "is it up, is it fast, how much is it used": fleet-wide figures only. */
export function executiveDashboard(): Dashboard {
  return dashboard({
    uid: 'vigil-executive',
    title: 'vigil / Executive',
    description:
      'Service health at a glance: success rate, latency, traffic and error budget across the selected deployments.',
    from: 'now-24h',
    rows: [
      row(
        'Service level',
        size(
          stat({
            title: 'Success rate',
            description:
              'Share of inference responses that were not server errors (5xx) over the selected time range: 1 − 5xx / all. ' +
              '4xx responses are client errors (bad input, unknown model) and do not count against success. ' +
              'Overload (503) and expired deadlines (504) are server-side and do count.',
            unit: 'percentunit',
            decimals: 3,
            thresholds: [
              [null, 'red'],
              [0.99, 'orange'],
              [0.999, 'green'],
            ],
            queries: [{ expr: `1 - ${fiveXxRatio('$__range')}`, instant: true, legend: 'success rate' }],
          }),
          6,
          6,
        ),
        size(
          stat({
            title: 'Error budget remaining',
            description:
              "Fraction of each SLO's error budget still unspent over its window, from the recording rule slo:error_budget:remaining. " +
              NO_DATA_UNTIL_RULES,
            unit: 'percentunit',
            decimals: 1,
            thresholds: [
              [null, 'red'],
              [0.25, 'orange'],
              [0.5, 'green'],
            ],
            queries: [{ expr: BUDGET, instant: true, legend: BUDGET_LEGEND }],
          }),
          6,
          6,
        ),
        size(
          stat({
            title: 'p99 latency',
            description:
              '99th percentile of end-to-end request duration at the router (first byte read to last byte written), ' +
              'over the selected time range, estimated from the vigil_request_duration_seconds histogram buckets.',
            unit: 's',
            thresholds: [
              [null, 'green'],
              [0.5, 'orange'],
              [1, 'red'],
            ],
            queries: [
              {
                expr: `histogram_quantile(0.99, sum by (le) (increase(vigil_request_duration_seconds_bucket{${SEL}}[$__range])))`,
                instant: true,
                legend: 'p99',
              },
            ],
          }),
          4,
          6,
        ),
        size(
          stat({
            title: 'Request rate',
            description: 'Inference responses per second, all status codes, averaged over the selected time range.',
            unit: 'reqps',
            sparkline: false,
            queries: [
              { expr: `sum(rate(vigil_requests_total{${SEL}}[$__range]))`, instant: true, legend: 'requests/s' },
            ],
          }),
          4,
          6,
        ),
        size(
          stat({
            title: 'Active deployments',
            description: 'Deployments (of those selected) with at least one replica in the RUNNING state right now.',
            unit: 'short',
            decimals: 0,
            queries: [
              {
                expr: `count(sum by (deployment) (vigil_replicas{${SEL}, state="RUNNING"}) > 0) or vector(0)`,
                instant: true,
                legend: 'deployments',
              },
            ],
          }),
          4,
          6,
        ),
      ),
      row(
        'Trends',
        size(
          timeseries({
            title: 'Success rate',
            description: 'Success rate over time (1 − 5xx / all responses). 4xx client errors do not count against it.',
            unit: 'percentunit',
            max: 1,
            queries: [{ expr: `1 - ${fiveXxRatio('$__rate_interval')}`, legend: 'success rate' }],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Latency p95 / p99',
            description:
              'End-to-end request latency quantiles across the selected deployments, from histogram_quantile over the summed buckets.',
            unit: 's',
            queries: [
              { expr: latencyQuantile(0.95), legend: 'p95' },
              { expr: latencyQuantile(0.99), legend: 'p99' },
            ],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Request rate by status class',
            description:
              'Inference responses per second, stacked by HTTP status class (2xx success, 4xx client error, 5xx server error).',
            unit: 'reqps',
            stack: true,
            queries: [
              { expr: `sum(rate(vigil_requests_total{${SEL}, code=~"2.."}[$__rate_interval]))`, legend: '2xx' },
              { expr: `sum(rate(vigil_requests_total{${SEL}, code=~"4.."}[$__rate_interval]))`, legend: '4xx' },
              { expr: `sum(rate(vigil_requests_total{${SEL}, code=~"5.."}[$__rate_interval]))`, legend: '5xx' },
            ],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Error budget remaining',
            description: `slo:error_budget:remaining over time, per SLO: 100% is an untouched budget, 0 or below is spent. ${NO_DATA_UNTIL_RULES}`,
            unit: 'percentunit',
            max: 1,
            queries: [{ expr: BUDGET, legend: BUDGET_LEGEND }],
          }),
          12,
        ),
      ),
      row(
        'Fleet',
        size(
          stat({
            title: 'vigil versions running',
            description:
              'Processes reporting vigil_build_info, by vigil version (with the Node.js and ONNX Runtime versions they run on).',
            unit: 'short',
            decimals: 0,
            queries: [
              {
                expr: 'count by (version, node_version, onnxruntime_version) (vigil_build_info)',
                instant: true,
                legend: 'vigil {{version}} (node {{node_version}}, ort {{onnxruntime_version}})',
              },
            ],
          }),
          24,
          4,
        ),
      ),
    ],
  });
}
