import type { Dashboard } from '@grafana/schema';
import { dashboard, heatmap, histogramBars, row, SEL, size, stat, timeseries } from '../builders.ts';

const REPLICA_LEGEND = '{{deployment}}/{{version}} replica {{replica}}';

/**
 * Keeps process_* and nodejs_* series of vigil's primary only (other targets export them too),
 * whatever the scrape job is called: vigil_build_info is exported by vigil alone.
 */
const ONLY_VIGIL = 'and on (job, instance) vigil_build_info';

const inferenceQuantile = (q: number) =>
  `histogram_quantile(${q}, sum by (provider, le) (rate(vigil_inference_duration_seconds_bucket{${SEL}}[$__rate_interval])))`;

/** For digging into one replica, one process or the model: resources, event loop, batching, load. */
export function debugDashboard(): Dashboard {
  return dashboard({
    uid: 'vigil-debug',
    title: 'vigil / Debug',
    description:
      'Per-replica resources, event-loop lag, batching, inference time by execution provider, model load and cold starts.',
    from: 'now-1h',
    rows: [
      row(
        'Replica resources',
        size(
          timeseries({
            title: 'Replica memory (RSS)',
            description:
              'Resident set size of each replica process, as last reported (every 2 s). The replica label is the slot, stable across restarts. ' +
              'Steady growth under constant load suggests a leak; compare with the JavaScript heap panel to tell native (ONNX Runtime) from JS memory.',
            unit: 'bytes',
            legendCalcs: ['lastNotNull', 'max'],
            queries: [{ expr: `vigil_replica_memory_bytes{${SEL}, kind="rss"}`, legend: REPLICA_LEGEND }],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Replica JavaScript heap used',
            description:
              'V8 heap in use in each replica (kind="heap_used"). Most of a replica\'s memory is the native model session, not this heap.',
            unit: 'bytes',
            queries: [{ expr: `vigil_replica_memory_bytes{${SEL}, kind="heap_used"}`, legend: REPLICA_LEGEND }],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Replica CPU',
            description:
              'CPU used by each replica (user + system), as a fraction of one core: 100% is one full core. ' +
              'The counter resets when a replica is replaced; rate() handles the reset.',
            unit: 'percentunit',
            queries: [
              {
                expr: `sum by (deployment, version, replica) (rate(vigil_replica_cpu_seconds_total{${SEL}}[$__rate_interval]))`,
                legend: REPLICA_LEGEND,
              },
            ],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Event-loop lag (p99 over 5 s)',
            description:
              'p99 event-loop delay of the primary (router) and of each replica over its last 5-second window. ' +
              'Lag in the primary delays every request; lag in one replica points at that replica (long synchronous work, GC pauses).',
            unit: 's',
            queries: [
              { expr: 'max(vigil_event_loop_lag_seconds{process="primary"})', legend: 'primary' },
              { expr: `vigil_event_loop_lag_seconds{process="replica", ${SEL}}`, legend: REPLICA_LEGEND },
            ],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Primary process memory',
            description:
              'Resident set size and V8 heap used of the primary process (router and ingress), from the default process and Node.js metrics, per scraped vigil instance.',
            unit: 'bytes',
            queries: [
              { expr: `sum by (instance) (process_resident_memory_bytes ${ONLY_VIGIL})`, legend: '{{instance}} rss' },
              {
                expr: `sum by (instance) (nodejs_heap_size_used_bytes ${ONLY_VIGIL})`,
                legend: '{{instance}} heap used',
              },
            ],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Primary process CPU',
            description:
              'CPU used by the primary process (router and ingress) as a fraction of one core; replicas are in the Replica CPU panel.',
            unit: 'percentunit',
            queries: [
              {
                expr: `sum by (instance) (rate(process_cpu_seconds_total[$__rate_interval]) ${ONLY_VIGIL})`,
                legend: '{{instance}}',
              },
            ],
          }),
          12,
        ),
      ),
      row(
        'Batching and inference',
        size(
          heatmap({
            title: 'Batch size distribution',
            description:
              'Rows per ONNX Runtime session run over time, one cell per vigil_batch_size bucket (1, 2, 4 … 256); colour is the number of runs. ' +
              'Mostly 1 under load means requests are not being batched (different shapes, or batch_wait_timeout_ms too small).',
            unit: 'short',
            bucketUnit: 'short',
            queries: [{ expr: `sum by (le) (increase(vigil_batch_size_bucket{${SEL}}[$__rate_interval]))` }],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Average batch size',
            description:
              'Mean rows per session run, per deployment: rate of vigil_batch_size_sum over rate of vigil_batch_size_count.',
            unit: 'short',
            queries: [
              {
                expr: `sum by (deployment) (rate(vigil_batch_size_sum{${SEL}}[$__rate_interval]))\n/\nsum by (deployment) (rate(vigil_batch_size_count{${SEL}}[$__rate_interval]))`,
                legend: '{{deployment}}',
              },
            ],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Inference duration p50 / p99 by provider',
            description:
              'Duration of one session run (one batch) inside a replica, by execution provider (cpu, cuda, coreml, webgpu).',
            unit: 's',
            queries: [
              { expr: inferenceQuantile(0.5), legend: '{{provider}} p50' },
              { expr: inferenceQuantile(0.99), legend: '{{provider}} p99' },
            ],
          }),
          12,
        ),
        size(
          timeseries({
            title: 'Session runs per second',
            description: 'ONNX Runtime session runs (batches) per second, by deployment and execution provider.',
            unit: 'short',
            queries: [
              {
                expr: `sum by (deployment, provider) (rate(vigil_inference_duration_seconds_count{${SEL}}[$__rate_interval]))`,
                legend: '{{deployment}} {{provider}}',
              },
            ],
          }),
          12,
        ),
      ),
      row(
        'Model load and cold starts',
        size(
          histogramBars({
            title: 'Model load time distribution',
            description:
              'Replica starts since the vigil primary started, by time from replica start to READY (model load plus warm-up): one bar per ' +
              'vigil_model_load_seconds bucket, labelled with its upper bound in seconds. Cumulative since start rather than over the time range, ' +
              "because the first loads happen before Prometheus's first scrape and a range increase would miss them.",
            unit: 'short',
            decimals: 0,
            queries: [{ expr: `sum by (le) (vigil_model_load_seconds_bucket{${SEL}})` }],
          }),
          12,
        ),
        size(
          stat({
            title: 'Mean model load time',
            description:
              'Mean time from replica start to READY per deployment, over every replica start since the vigil primary started (_sum over _count).',
            unit: 's',
            queries: [
              {
                expr: `sum by (deployment) (vigil_model_load_seconds_sum{${SEL}})\n/\nsum by (deployment) (vigil_model_load_seconds_count{${SEL}})`,
                instant: true,
                legend: '{{deployment}}',
              },
            ],
          }),
          6,
        ),
        size(
          stat({
            title: 'Cold starts',
            description:
              'Replica starts that loaded a model from scratch since the vigil primary started, per deployment and version: the initial replicas plus every replacement. ' +
              'More than num_replicas means replicas were replaced (see Replica restarts on the on-call dashboard).',
            unit: 'short',
            decimals: 0,
            queries: [
              {
                expr: `sum by (deployment, version) (vigil_cold_starts_total{${SEL}})`,
                instant: true,
                legend: '{{deployment}} {{version}}',
              },
            ],
          }),
          6,
        ),
        size(
          timeseries({
            title: 'Cold starts over time',
            description:
              "Replica starts per 5 minutes, per deployment. Starts before Prometheus's first scrape of vigil do not show here; the Cold starts panel counts them.",
            unit: 'short',
            queries: [
              { expr: `sum by (deployment) (increase(vigil_cold_starts_total{${SEL}}[5m]))`, legend: '{{deployment}}' },
            ],
          }),
          24,
        ),
      ),
    ],
  });
}
