import type { RejectReason } from './metrics.ts';

/** The row counts in the request metrics (vigil_requests_total and the histograms with it). */
export const COUNTS_IN_METRICS = 1;
/** The row is an SLI and canary event: a finished inference of a known deployment version. */
export const COUNTS_AS_SLI = 2;

/** The `reject` column holds 1 + the reason's index here; 0 when the request was not refused. */
export const REJECT_REASONS: readonly RejectReason[] = [
  'overload',
  'deadline',
  'invalid',
  'not_ready',
  'shutting_down',
  'replica_lost',
];

/** One finished request, as the process that answered it measured it. */
export interface FinishedRequest {
  deployment: string;
  version: string;
  status: number;
  durationSeconds: number;
  /** COUNTS_IN_METRICS and/or COUNTS_AS_SLI. */
  counts: number;
  reject?: RejectReason;
  /** Present when the request reached a replica and succeeded. */
  queueWaitSeconds?: number;
  /** The trace id when the request was sampled. */
  traceId?: string;
  /** Present on the request that led a session run (one per batch). */
  batch?: { provider: string; size: number; inferenceSeconds: number };
}

/** A streamed answer: time to its first chunk (from the request's start), its whole duration. */
export interface StreamObservation {
  deployment: string;
  version: string;
  firstChunkSeconds: number | undefined;
  durationSeconds: number;
  chunks: number;
}

/**
 * The requests one process finished for one deployment version since its last report, as columns,
 * row i of every array being request i. Typed arrays cross the IPC channel as one copy each, where
 * an object per request cost the primary 2.3 µs each to deserialise, and the primary's consumers
 * resolve their series once per block instead of once per request (decision 0016).
 */
export interface FinishedRequests {
  deployment: string;
  version: string;
  length: number;
  status: Uint16Array;
  durationSeconds: Float64Array;
  /** COUNTS_IN_METRICS | COUNTS_AS_SLI per row. */
  counts: Uint8Array;
  /** 1 + index into REJECT_REASONS, 0 when not refused. */
  reject: Uint8Array;
  /** NaN when the request never waited for a replica slot. */
  queueWaitSeconds: Float64Array;
  /** Rows in the session run they led (one row per batch): 0 when the row led none. */
  batchSize: Uint16Array;
  /** That session run's duration; 0 when the row led none. */
  inferenceSeconds: Float64Array;
  /** Index into `providers` of the replica that ran it. */
  provider: Uint8Array;
  /** The execution providers named in `provider`. */
  providers: string[];
  /** Rows of the sampled requests, with their trace ids (one in ten by default). */
  traces: { row: number; traceId: string }[];
}

const FIRST_CAPACITY = 64;

/** Gathers one deployment version's rows until the report takes them. */
class SeriesColumns {
  length = 0;
  status = new Uint16Array(FIRST_CAPACITY);
  durationSeconds = new Float64Array(FIRST_CAPACITY);
  counts = new Uint8Array(FIRST_CAPACITY);
  reject = new Uint8Array(FIRST_CAPACITY);
  queueWaitSeconds = new Float64Array(FIRST_CAPACITY);
  batchSize = new Uint16Array(FIRST_CAPACITY);
  inferenceSeconds = new Float64Array(FIRST_CAPACITY);
  provider = new Uint8Array(FIRST_CAPACITY);
  providers: string[] = [];
  traces: FinishedRequests['traces'] = [];

  constructor(
    readonly deployment: string,
    readonly version: string,
  ) {}

  add(r: FinishedRequest): void {
    if (this.length === this.status.length) this.grow();
    const i = this.length++;
    this.status[i] = r.status;
    this.durationSeconds[i] = r.durationSeconds;
    this.counts[i] = r.counts;
    this.reject[i] = r.reject === undefined ? 0 : REJECT_REASONS.indexOf(r.reject) + 1;
    this.queueWaitSeconds[i] = r.queueWaitSeconds ?? Number.NaN;
    const batch = r.batch;
    this.batchSize[i] = batch ? batch.size : 0;
    this.inferenceSeconds[i] = batch ? batch.inferenceSeconds : 0;
    this.provider[i] = batch ? this.providerIndex(batch.provider) : 0;
    if (r.traceId) this.traces.push({ row: i, traceId: r.traceId });
  }

  /** The rows so far, in arrays of exactly their length (a view would send its whole buffer). */
  take(): FinishedRequests {
    const n = this.length;
    const out: FinishedRequests = {
      deployment: this.deployment,
      version: this.version,
      length: n,
      status: this.status.slice(0, n),
      durationSeconds: this.durationSeconds.slice(0, n),
      counts: this.counts.slice(0, n),
      reject: this.reject.slice(0, n),
      queueWaitSeconds: this.queueWaitSeconds.slice(0, n),
      batchSize: this.batchSize.slice(0, n),
      inferenceSeconds: this.inferenceSeconds.slice(0, n),
      provider: this.provider.slice(0, n),
      providers: this.providers,
      traces: this.traces,
    };
    this.length = 0;
    this.providers = [];
    this.traces = [];
    return out;
  }

  private grow(): void {
    const size = this.status.length * 2;
    this.status = grown(this.status, new Uint16Array(size));
    this.durationSeconds = grown(this.durationSeconds, new Float64Array(size));
    this.counts = grown(this.counts, new Uint8Array(size));
    this.reject = grown(this.reject, new Uint8Array(size));
    this.queueWaitSeconds = grown(this.queueWaitSeconds, new Float64Array(size));
    this.batchSize = grown(this.batchSize, new Uint16Array(size));
    this.inferenceSeconds = grown(this.inferenceSeconds, new Float64Array(size));
    this.provider = grown(this.provider, new Uint8Array(size));
  }

  private providerIndex(provider: string): number {
    const i = this.providers.indexOf(provider);
    return i >= 0 ? i : this.providers.push(provider) - 1;
  }
}

function grown<T extends Uint8Array | Uint16Array | Float64Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}

/**
 * Finished requests grouped by deployment version, in columns, until `take`. The arrays are kept
 * between reports: a version's columns grow to its busiest interval once and are reused after.
 */
export class FinishedRequestColumns {
  /** deployment → version → columns; nested maps so no separator can make two keys collide. */
  private readonly series = new Map<string, Map<string, SeriesColumns>>();
  private rows = 0;

  get size(): number {
    return this.rows;
  }

  add(r: FinishedRequest): void {
    let versions = this.series.get(r.deployment);
    if (!versions) this.series.set(r.deployment, (versions = new Map()));
    let columns = versions.get(r.version);
    if (!columns) versions.set(r.version, (columns = new SeriesColumns(r.deployment, r.version)));
    columns.add(r);
    this.rows++;
  }

  /** Every non-empty series' rows; the builder is empty afterwards. */
  take(): FinishedRequests[] {
    const out: FinishedRequests[] = [];
    for (const versions of this.series.values())
      for (const columns of versions.values()) if (columns.length > 0) out.push(columns.take());
    this.rows = 0;
    return out;
  }
}
