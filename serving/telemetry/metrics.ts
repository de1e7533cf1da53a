import type { Hardware } from '../host/hardware.ts';
import type { HeatInput } from '../host/heat-policy.ts';
import client from 'prom-client';
import type { ReplicaHandle, ReplicaState, StopReason } from '../controller/replica-handle.ts';
import type { VersionPool } from '../router/version-pool.ts';
import type { Deployment } from '../router/deployment-router.ts';
import type { MirrorResult } from '../router/mirror.ts';
import { BlockHistogram, type HistogramSeries } from './block-histogram.ts';
import { DURATION_BUCKETS } from './buckets.ts';
import { EventLoopLag } from './event-loop-lag.ts';
import {
  COUNTS_IN_METRICS,
  REJECT_REASONS,
  type FinishedRequests,
  type StreamObservation,
} from './finished-requests.ts';
import { openMetricsToPrometheusText } from './exposition.ts';
import { ORT_VERSION, VIGIL_VERSION } from './version.ts';

/** Label value for requests whose model or version is unknown: one series, whatever was asked. */
export const UNKNOWN_LABEL = '__unknown__';

/** Why a request was refused, as the `reason` label of vigil_rejected_requests_total. */
export type RejectReason = 'overload' | 'deadline' | 'invalid' | 'not_ready' | 'shutting_down' | 'replica_lost';

const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const LOAD_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const STATES: ReplicaState[] = ['STARTING', 'RUNNING', 'DRAINING', 'STOPPED'];

/**
 * How each metric combines across replicas. vigil records every request-level figure in the
 * primary, which sees each result with the timings its replica measured, so counters and
 * histograms are already totals across replicas ('sum' by construction). Per-replica gauges carry
 * a `replica` slot label (bounded by num_replicas, stable across restarts) instead of being merged.
 */
export const aggregation: Record<string, 'sum' | 'max' | 'per_replica' | 'primary'> = {
  vigil_requests_total: 'sum',
  vigil_request_duration_seconds: 'sum',
  vigil_queue_wait_seconds: 'sum',
  vigil_inference_duration_seconds: 'sum',
  vigil_batch_size: 'sum',
  vigil_ongoing_requests: 'sum',
  vigil_queued_requests: 'sum',
  vigil_replica_refusals_total: 'sum',
  vigil_rejected_requests_total: 'sum',
  vigil_replicas: 'sum',
  vigil_replica_restarts_total: 'sum',
  vigil_model_load_seconds: 'sum',
  vigil_cold_starts_total: 'sum',
  vigil_replica_memory_bytes: 'per_replica',
  vigil_replica_cpu_seconds_total: 'per_replica',
  vigil_event_loop_lag_seconds: 'max',
  vigil_build_info: 'primary',
  vigil_traffic_weight: 'primary',
  vigil_stream_first_chunk_seconds: 'sum',
  vigil_stream_duration_seconds: 'sum',
  vigil_stream_chunks_total: 'sum',
  vigil_multiplex_loads_total: 'sum',
  vigil_multiplex_evictions_total: 'sum',
  vigil_multiplex_models_loaded: 'per_replica',
  vigil_mirror_requests_total: 'sum',
  vigil_rollouts_total: 'sum',
  vigil_target_replicas: 'sum',
  vigil_autoscaler_memory_capped: 'max',
  vigil_leader: 'primary',
  vigil_leader_epoch: 'primary',
  vigil_leader_fenced_writes_total: 'primary',
  vigil_state_in_sync: 'primary',
  vigil_state_resyncs_total: 'primary',
};

/** What the cluster gauges read at scrape time (serving/cluster/). */
export interface ClusterView {
  isLeader: boolean;
  epoch: number;
  fencedWrites: number;
  inSync: boolean;
  resyncs: number;
}

/** What the rollout and autoscaling gauges read at scrape time. */
export interface TrafficView {
  deployments(): Deployment[];
  memoryCapped(pool: VersionPool): boolean;
}

/** vigil's Prometheus metrics, in one OpenMetrics registry (see exposition.ts for why). */
export class VigilMetrics {
  // The typings omit the constructor's content-type argument that prom-client 15 accepts.
  readonly registry = new (
    client.Registry as unknown as new (
      contentType: string,
    ) => client.Registry<client.OpenMetricsContentType>
  )(client.Registry.OPENMETRICS_CONTENT_TYPE);
  /** The primary's own event-loop lag. */
  readonly lag = new EventLoopLag();

  readonly requests: client.Counter<'deployment' | 'version' | 'code'>;
  readonly duration: BlockHistogram<'deployment' | 'version'>;
  readonly queueWait: BlockHistogram<'deployment' | 'version'>;
  readonly inference: BlockHistogram<'deployment' | 'version' | 'provider'>;
  readonly batchSize: BlockHistogram<'deployment' | 'version'>;
  readonly rejected: client.Counter<'deployment' | 'reason'>;
  readonly restarts: client.Counter<'deployment' | 'reason'>;
  readonly modelLoad: client.Histogram<'deployment' | 'version'>;
  readonly coldStarts: client.Counter<'deployment' | 'version'>;
  readonly mirror: client.Counter<'deployment' | 'version' | 'result'>;
  readonly probeResults: client.Counter<'deployment' | 'version' | 'probe' | 'result'>;
  readonly probeDuration: client.Histogram<'deployment' | 'version' | 'probe'>;
  readonly predictionDrift: client.Gauge<'deployment' | 'version' | 'signal'>;
  private readonly hostTemperature: client.Gauge<'zone' | 'type'>;
  private readonly hostFrequency: client.Gauge;
  private readonly hostPressure: client.Gauge<'resource'>;
  private readonly hostThrottle: client.Gauge;
  private readonly heatCapped: client.Gauge<'reason'>;
  private readonly nodeInfo: client.Gauge<
    'os' | 'arch' | 'cpu_model' | 'logical_cores' | 'physical_cores' | 'usable_cores' | 'unified_memory'
  >;
  readonly rollouts: client.Counter<'deployment' | 'outcome'>;
  readonly streamFirstChunk: client.Histogram<'deployment' | 'version'>;
  readonly streamDuration: client.Histogram<'deployment' | 'version'>;
  readonly streamChunks: client.Counter<'deployment' | 'version'>;
  readonly modelLoads: client.Counter<'deployment' | 'version'>;
  readonly modelEvictions: client.Counter<'deployment' | 'version'>;

  constructor(pools: () => VersionPool[], traffic?: TrafficView) {
    const registers = [this.registry];
    this.requests = new client.Counter({
      name: 'vigil_requests_total',
      help: 'Inference requests answered, by HTTP status code.',
      labelNames: ['deployment', 'version', 'code'],
      registers,
    });
    this.duration = new BlockHistogram({
      name: 'vigil_request_duration_seconds',
      help: 'End-to-end request duration measured at the router, from the first byte read to the last byte written.',
      labelNames: ['deployment', 'version'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.queueWait = new BlockHistogram({
      name: 'vigil_queue_wait_seconds',
      help: 'Time a request waited in the router queue for a replica slot.',
      labelNames: ['deployment', 'version'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.inference = new BlockHistogram({
      name: 'vigil_inference_duration_seconds',
      help: 'Duration of one session run (one batch) in a replica.',
      labelNames: ['deployment', 'version', 'provider'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.batchSize = new BlockHistogram({
      name: 'vigil_batch_size',
      help: 'Rows per session run.',
      labelNames: ['deployment', 'version'],
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.rejected = new client.Counter({
      name: 'vigil_rejected_requests_total',
      help: 'Requests refused before or instead of inference, by reason.',
      labelNames: ['deployment', 'reason'],
      registers,
    });
    this.restarts = new client.Counter({
      name: 'vigil_replica_restarts_total',
      help: 'Replicas replaced after they stopped unexpectedly, by reason.',
      labelNames: ['deployment', 'reason'],
      registers,
    });
    this.modelLoad = new client.Histogram({
      name: 'vigil_model_load_seconds',
      help: 'Time from replica start to READY: model load plus warm-up.',
      labelNames: ['deployment', 'version'],
      buckets: LOAD_BUCKETS,
      registers,
    });
    this.coldStarts = new client.Counter({
      name: 'vigil_cold_starts_total',
      help: 'Replica starts that loaded a model from scratch.',
      labelNames: ['deployment', 'version'],
      registers,
    });

    new client.Gauge({
      name: 'vigil_ongoing_requests',
      help: 'Requests held by replicas (sent, not yet answered).',
      labelNames: ['deployment', 'version'],
      registers,
      collect() {
        this.reset();
        for (const p of pools())
          this.set(
            { deployment: p.name, version: p.version },
            p.replicas.reduce((n, r) => n + r.ongoing, 0),
          );
      },
    });
    new client.Gauge({
      name: 'vigil_queued_requests',
      help: 'Requests waiting in the router queue for a replica slot.',
      labelNames: ['deployment', 'version'],
      registers,
      collect() {
        this.reset();
        for (const p of pools()) this.set({ deployment: p.name, version: p.version }, p.queued);
      },
    });
    new client.Counter({
      name: 'vigil_replica_refusals_total',
      help: 'Requests a full replica refused (other ingress processes had filled it) and the router placed again.',
      labelNames: ['deployment', 'version'],
      registers,
      collect() {
        this.reset();
        for (const p of pools()) this.inc({ deployment: p.name, version: p.version }, p.refusals);
      },
    });
    new client.Gauge({
      name: 'vigil_replicas',
      help: 'Replicas by state.',
      labelNames: ['deployment', 'version', 'state'],
      registers,
      collect() {
        this.reset();
        for (const p of pools()) {
          for (const state of STATES)
            this.set(
              { deployment: p.name, version: p.version, state },
              p.replicas.filter((r) => r.state === state).length,
            );
        }
      },
    });
    /** Every live replica that has reported stats, with its bounded label set. */
    const perReplica = (
      fn: (
        stats: NonNullable<ReplicaHandle['stats']>,
        labels: { deployment: string; version: string; replica: string },
      ) => void,
    ) => {
      for (const p of pools())
        for (const r of p.replicas)
          if (r.state !== 'STOPPED' && r.stats)
            fn(r.stats, { deployment: p.name, version: p.version, replica: String(r.slot) });
    };
    new client.Gauge({
      name: 'vigil_replica_memory_bytes',
      help: 'Replica memory as last reported (every 2 s): rss, or heap_used by JavaScript.',
      labelNames: ['deployment', 'version', 'replica', 'kind'],
      registers,
      collect() {
        this.reset();
        perReplica((stats, labels) => {
          this.set({ ...labels, kind: 'rss' }, stats.rssBytes);
          this.set({ ...labels, kind: 'heap_used' }, stats.heapUsedBytes);
        });
      },
    });
    new client.Counter({
      name: 'vigil_replica_cpu_seconds_total',
      help: 'CPU time used by the current process in each replica slot; resets when the replica is replaced.',
      labelNames: ['deployment', 'version', 'replica', 'mode'],
      registers,
      collect() {
        this.reset();
        perReplica((stats, labels) => {
          this.inc({ ...labels, mode: 'user' }, stats.cpuUserSeconds);
          this.inc({ ...labels, mode: 'system' }, stats.cpuSystemSeconds);
        });
      },
    });
    const lag = this.lag;
    new client.Gauge({
      name: 'vigil_event_loop_lag_seconds',
      help: 'p99 event-loop delay over the last 5 s window, for the primary and each replica.',
      labelNames: ['process', 'deployment', 'version', 'replica'],
      registers,
      collect() {
        this.reset();
        this.set({ process: 'primary', deployment: '', version: '', replica: '' }, lag.p99Seconds());
        perReplica((stats, labels) => this.set({ process: 'replica', ...labels }, stats.eventLoopLagSeconds));
      },
    });
    this.mirror = new client.Counter({
      name: 'vigil_mirror_requests_total',
      help: 'Shadow (mirrored) requests by how their answer compared with the one the client got: agree, disagree, incomparable or error.',
      labelNames: ['deployment', 'version', 'result'],
      registers,
    });
    this.probeResults = new client.Counter({
      name: 'vigil_probe_results_total',
      help: 'Probe runs (synthetic requests with known answers) by result: pass, fail (a wrong answer) or error (no answer).',
      labelNames: ['deployment', 'version', 'probe', 'result'],
      registers,
    });
    this.probeDuration = new client.Histogram({
      name: 'vigil_probe_duration_seconds',
      help: 'Time from sending a probe to its whole answer, through the public port.',
      labelNames: ['deployment', 'version', 'probe'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.predictionDrift = new client.Gauge({
      name: 'vigil_prediction_drift',
      help: "Population Stability Index of a version's answers or inputs (signal) over the drift window, against the stable version or its own window before; 0.25 and above is a significant shift.",
      labelNames: ['deployment', 'version', 'signal'],
      registers,
    });
    this.hostTemperature = new client.Gauge({
      name: 'vigil_host_temperature_celsius',
      help: 'Each thermal zone of the machine (/sys/class/thermal), °C; no series when the machine has none.',
      labelNames: ['zone', 'type'],
      registers,
    });
    this.hostFrequency = new client.Gauge({
      name: 'vigil_host_cpu_frequency_ratio',
      help: 'Current over maximum CPU frequency, the lowest CPU (cpufreq); no series without cpufreq.',
      registers,
    });
    this.hostPressure = new client.Gauge({
      name: 'vigil_host_pressure_ratio',
      help: 'PSI some avg10: the share of the last 10 s some task waited for the resource (cpu, memory), 0-1.',
      labelNames: ['resource'],
      registers,
    });
    this.hostThrottle = new client.Gauge({
      name: 'vigil_host_throttle_events',
      help: 'CPU thermal throttle events since boot (thermal_throttle counters); no series without them.',
      registers,
    });
    this.heatCapped = new client.Gauge({
      name: 'vigil_heat_capped',
      help: '1 while heat (thermal) or CPU/memory pressure (pressure) holds this node’s replica growth.',
      labelNames: ['reason'],
      registers,
    });
    this.nodeInfo = new client.Gauge({
      name: 'vigil_node_info',
      help: 'The machine this node runs on (always 1): OS, architecture, CPU, cores, unified memory.',
      labelNames: ['os', 'arch', 'cpu_model', 'logical_cores', 'physical_cores', 'usable_cores', 'unified_memory'],
      registers,
    });
    this.rollouts = new client.Counter({
      name: 'vigil_rollouts_total',
      help: 'Finished rollouts by outcome: Promoted, RolledBack or Aborted.',
      labelNames: ['deployment', 'outcome'],
      registers,
    });
    this.streamFirstChunk = new client.Histogram({
      name: 'vigil_stream_first_chunk_seconds',
      help: 'Streamed answers: time from the request to its first chunk.',
      labelNames: ['deployment', 'version'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.streamDuration = new client.Histogram({
      name: 'vigil_stream_duration_seconds',
      help: 'Streamed answers: time from the request to the end of the stream.',
      labelNames: ['deployment', 'version'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.streamChunks = new client.Counter({
      name: 'vigil_stream_chunks_total',
      help: 'Chunks sent in streamed answers.',
      labelNames: ['deployment', 'version'],
      registers,
    });
    this.modelLoads = new client.Counter({
      name: 'vigil_multiplex_loads_total',
      help: 'Models loaded by multiplexed replicas (a load on first use, or again after eviction).',
      labelNames: ['deployment', 'version'],
      registers,
    });
    this.modelEvictions = new client.Counter({
      name: 'vigil_multiplex_evictions_total',
      help: 'Models released by multiplexed replicas to stay within max_models_per_replica.',
      labelNames: ['deployment', 'version'],
      registers,
    });
    new client.Gauge({
      name: 'vigil_multiplex_models_loaded',
      help: 'Models a multiplexed replica holds loaded.',
      labelNames: ['deployment', 'version', 'replica'],
      registers,
      collect() {
        this.reset();
        for (const p of pools())
          if (p.deployment.multiplex)
            for (const r of p.replicas)
              if (r.state !== 'STOPPED')
                this.set({ deployment: p.name, version: p.version, replica: String(r.slot) }, r.loadedModels.size);
      },
    });
    if (traffic) {
      new client.Gauge({
        name: 'vigil_traffic_weight',
        help: 'Share of unpinned traffic each version receives, as its weight in the split (percent when weights sum to 100).',
        labelNames: ['deployment', 'version'],
        registers,
        collect() {
          this.reset();
          for (const d of traffic.deployments())
            for (const v of d.pools.keys()) this.set({ deployment: d.name, version: v }, d.weightOf(v));
        },
      });
      new client.Gauge({
        name: 'vigil_autoscaler_memory_capped',
        help: '1 while the autoscaler wants more replicas than the node memory budget allows.',
        labelNames: ['deployment', 'version'],
        registers,
        collect() {
          this.reset();
          for (const p of pools())
            if (p.deployment.autoscaling)
              this.set({ deployment: p.name, version: p.version }, traffic.memoryCapped(p) ? 1 : 0);
        },
      });
    }
    new client.Gauge({
      name: 'vigil_target_replicas',
      help: 'Replicas the controller is asked to keep: the fixed count, the autoscaler target, or 0 for a retired version.',
      labelNames: ['deployment', 'version'],
      registers,
      collect() {
        this.reset();
        for (const p of pools()) this.set({ deployment: p.name, version: p.version }, p.targetReplicas);
      },
    });
    const info = new client.Gauge({
      name: 'vigil_build_info',
      help: 'Build information; always 1.',
      labelNames: ['version', 'node_version', 'onnxruntime_version'],
      registers,
    });
    info.set({ version: VIGIL_VERSION, node_version: process.version, onnxruntime_version: ORT_VERSION }, 1);
    client.collectDefaultMetrics({ register: this.registry });
    // prom-client names these gauges with a _total suffix, which the conventions (and promtool)
    // reserve for counters; the active handle and request counts are not worth a lint failure.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
      this.registry.removeSingleMetric(name);
  }

  /** The machine's heat and pressure, as last read (serving/host/heat-monitor.ts). */
  observeHost(s: HeatInput): void {
    this.hostTemperature.reset();
    for (const z of s.thermalZones) this.hostTemperature.set({ zone: z.zone, type: z.type.slice(0, 40) }, z.celsius);
    this.hostFrequency.reset();
    if (s.frequencyRatio !== null) this.hostFrequency.set(s.frequencyRatio);
    this.hostPressure.reset();
    if (s.cpuPressure !== null) this.hostPressure.set({ resource: 'cpu' }, s.cpuPressure);
    if (s.memoryPressure !== null) this.hostPressure.set({ resource: 'memory' }, s.memoryPressure);
    this.hostThrottle.reset();
    if (s.throttleCount !== null) this.hostThrottle.set(s.throttleCount);
  }

  observeHeatCap(reason: 'thermal' | 'pressure' | null): void {
    for (const r of ['thermal', 'pressure'] as const) this.heatCapped.set({ reason: r }, r === reason ? 1 : 0);
  }

  observeNodeInfo(h: Hardware): void {
    this.nodeInfo.set(
      {
        os: h.os,
        arch: h.arch,
        cpu_model: h.cpuModel.slice(0, 64),
        logical_cores: String(h.logicalCores),
        physical_cores: h.physicalCores === null ? 'unknown' : String(h.physicalCores),
        usable_cores: String(h.usableCores),
        unified_memory: String(h.unifiedMemory),
      },
      1,
    );
  }

  /** One probe run (serving/probes/prober.ts). */
  observeProbe(deployment: string, version: string, probe: string, result: string, seconds: number): void {
    this.probeResults.inc({ deployment, version, probe, result });
    this.probeDuration.observe({ deployment, version, probe }, seconds);
  }

  /** The node's place in the cluster: leader or not, its epoch, refused stale writes, state sync. */
  observeCluster(view: () => ClusterView): void {
    const registers = [this.registry];
    new client.Gauge({
      name: 'vigil_leader',
      help: '1 on the node that runs the singletons (SLO alerting, rollouts, webhooks), else 0.',
      registers,
      collect() {
        this.set(view().isLeader ? 1 : 0);
      },
    });
    new client.Gauge({
      name: 'vigil_leader_epoch',
      help: 'The leadership epoch this node holds, or last held (0: never).',
      registers,
      collect() {
        this.set(view().epoch);
      },
    });
    new client.Counter({
      name: 'vigil_leader_fenced_writes_total',
      help: 'Leader writes this node made after losing the leadership, refused by the epoch compare-and-set.',
      registers,
      collect() {
        this.reset();
        this.inc(view().fencedWrites);
      },
    });
    new client.Gauge({
      name: 'vigil_state_in_sync',
      help: '1 while this node receives state changes from the database; 0 from a lost connection until the whole state is reloaded.',
      registers,
      collect() {
        this.set(view().inSync ? 1 : 0);
      },
    });
    new client.Counter({
      name: 'vigil_state_resyncs_total',
      help: 'Times this node reloaded the whole shared state after losing its subscription to changes.',
      registers,
      collect() {
        this.reset();
        this.inc(view().resyncs);
      },
    });
  }

  /** The metrics of one block of finished requests (its COUNTS_IN_METRICS rows). */
  observeFinished(f: FinishedRequests): void {
    const { deployment, version } = f;
    const labels = { deployment, version };
    // Resolved at first use, so that a block with no metric rows makes no series.
    let duration: HistogramSeries | undefined;
    let queueWait: HistogramSeries | undefined;
    let batchSize: HistogramSeries | undefined;
    const inference: (HistogramSeries | undefined)[] = [];
    const codes = new Map<number, number>();
    const rejects = new Array<number>(REJECT_REASONS.length + 1).fill(0);
    let trace = 0;
    for (let i = 0; i < f.length; i++) {
      if (!(f.counts[i]! & COUNTS_IN_METRICS)) continue;
      const status = f.status[i]!;
      codes.set(status, (codes.get(status) ?? 0) + 1);
      rejects[f.reject[i]!]!++;
      while (trace < f.traces.length && f.traces[trace]!.row < i) trace++;
      const traced = f.traces[trace]?.row === i ? f.traces[trace] : undefined;
      duration ??= this.duration.series(labels);
      duration.observe(f.durationSeconds[i]!, traced && { trace_id: traced.traceId });
      const wait = f.queueWaitSeconds[i]!;
      if (!Number.isNaN(wait)) (queueWait ??= this.queueWait.series(labels)).observe(wait);
      const size = f.batchSize[i]!;
      if (size > 0) {
        const p = f.provider[i]!;
        inference[p] ??= this.inference.series({ deployment, version, provider: f.providers[p]! });
        inference[p].observe(f.inferenceSeconds[i]!);
        (batchSize ??= this.batchSize.series(labels)).observe(size);
      }
    }
    // Literals, not { ...labels, code }: V8 gives a spread followed by a property a new hidden
    // class on every call, allocated in old space (see decision 0013).
    for (const [status, n] of codes) this.requests.inc({ deployment, version, code: String(status) }, n);
    for (let r = 1; r < rejects.length; r++)
      if (rejects[r]! > 0) this.rejected.inc({ deployment, reason: REJECT_REASONS[r - 1]! }, rejects[r]!);
  }

  observeReplicaReady(deployment: string, version: string, loadSeconds: number): void {
    this.modelLoad.observe({ deployment, version }, loadSeconds);
    this.coldStarts.inc({ deployment, version });
  }

  observeModels(
    deployment: string,
    version: string,
    loaded: boolean,
    evicted: boolean,
    loadSeconds: number | undefined,
  ): void {
    if (loaded) {
      this.modelLoads.inc({ deployment, version });
      if (loadSeconds !== undefined) this.modelLoad.observe({ deployment, version }, loadSeconds);
    }
    if (evicted) this.modelEvictions.inc({ deployment, version });
  }

  observeStream(o: StreamObservation): void {
    const labels = { deployment: o.deployment, version: o.version };
    if (o.firstChunkSeconds !== undefined) this.streamFirstChunk.observe(labels, o.firstChunkSeconds);
    this.streamDuration.observe(labels, o.durationSeconds);
    this.streamChunks.inc(labels, o.chunks);
  }

  observeMirror(deployment: string, version: string, result: MirrorResult): void {
    this.mirror.inc({ deployment, version, result });
  }

  observeRolloutFinished(deployment: string, outcome: string): void {
    this.rollouts.inc({ deployment, outcome });
  }

  observeReplicaRestart(deployment: string, reason: StopReason): void {
    this.restarts.inc({ deployment, reason });
  }

  /** The exposition for a scrape, in the format the scraper asked for. */
  async render(openMetrics: boolean): Promise<string> {
    const om = await this.registry.metrics();
    return openMetrics ? om : openMetricsToPrometheusText(om);
  }

  stop(): void {
    this.lag.stop();
  }
}
