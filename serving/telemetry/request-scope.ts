import { PROBE_HEADER, PROBE_NAME_HEADER } from '../probes/probe-headers.ts';
import type { Tensor } from '../protocol/datatypes.ts';
import {
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { IngressPool } from '../router/ingress-types.ts';
import type { ItemStats } from '../transport/messages.ts';
import { COUNTS_AS_SLI, COUNTS_IN_METRICS, type FinishedRequest, type StreamObservation } from './finished-requests.ts';
import { UNKNOWN_LABEL, type RejectReason } from './metrics.ts';
import type { Tracing } from './tracing.ts';

/** Where a request's measurements go: the report to the primary (serving/ingress/ingress-report.ts). */
export interface RequestRecorder {
  /** Every finished inference request, once: its metrics and its SLI event in one row. */
  finished(r: FinishedRequest): void;
  observeStream(o: StreamObservation): void;
}

export const TRACE_ID_HEADER = 'x-vigil-trace-id';

/** Everything the ingress needs to instrument requests. */
export interface Telemetry {
  metrics: RequestRecorder;
  tracing: Tracing;
  log: Logger;
  /** Share of requests logged as one line each (errors of our own are always logged). */
  requestLogSampleRate: number;
  /** False only when the benchmark measures vigil without request metrics (SLIs are still counted). */
  recordMetrics: boolean;
  /** The node's probe secret: a request carrying it is synthetic, kept out of metrics and SLIs. */
  probeToken?: string;
  /** Feeds prediction drift (serving/drift/): what a version was asked and answered. */
  observePredictions?(deployment: string, version: string, inputs: readonly Tensor[], outputs: readonly Tensor[]): void;
  port(): number;
}

const rejectReasons: Partial<Record<ErrorCode, RejectReason>> = {
  VIGIL_ERR_OVERLOADED: 'overload',
  VIGIL_ERR_DEADLINE_EXCEEDED: 'deadline',
  VIGIL_ERR_NOT_READY: 'not_ready',
  VIGIL_ERR_SHUTTING_DOWN: 'shutting_down',
  VIGIL_ERR_REPLICA_LOST: 'replica_lost',
};

/** Maps an error code to its rejection reason; client errors (4xx) count as 'invalid'. */
export function rejectReasonFor(code: ErrorCode | undefined, status: number): RejectReason | undefined {
  if (!code) return undefined;
  return rejectReasons[code] ?? (status >= 400 && status < 500 ? 'invalid' : undefined);
}

/**
 * The instrumentation of one HTTP request: its SERVER span (stable HTTP semantic conventions),
 * the child spans vigil knows about, its metrics and its log line. The ingress fills in what it
 * learns (route, deployment, outcome) and `end()` records it all once, when the response closes.
 */
export class RequestScope {
  readonly started = performance.now();
  readonly span: Span;
  readonly context: Context;
  route = 'unmatched';
  inference = false;
  deployment: string | undefined;
  version: string | undefined;
  pool: IngressPool | undefined;
  code: ErrorCode | undefined;
  /** performance.now() when the request was handed to the router. */
  admittedAt: number | undefined;
  queueWaitMs: number | undefined;
  stats: ItemStats | undefined;
  replicaSlot: number | undefined;
  provider: string | undefined;
  private ended = false;
  /** A probe's request (serving/probes/): traced and marked, but never counted as user traffic. */
  readonly synthetic: boolean;

  /** Records a streamed answer: time to its first chunk (from the request's start) and its whole duration. */
  observeStream(firstChunkAt: number | undefined, chunks: number): void {
    if (!this.telemetry.recordMetrics || !this.deployment || !this.version) return;
    const now = performance.now();
    this.telemetry.metrics.observeStream({
      deployment: this.deployment,
      version: this.version,
      firstChunkSeconds: firstChunkAt === undefined ? undefined : (firstChunkAt - this.started) / 1000,
      durationSeconds: (now - this.started) / 1000,
      chunks,
    });
  }

  constructor(
    private readonly telemetry: Telemetry,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    const method = req.method ?? 'GET';
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    this.span = telemetry.tracing.tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': method,
          'url.path': (req.url ?? '/').split('?')[0],
          'url.scheme': 'http',
          'server.port': telemetry.port(),
        },
      },
      parent,
    );
    this.context = trace.setSpan(parent, this.span);
    this.synthetic = telemetry.probeToken !== undefined && req.headers[PROBE_HEADER] === telemetry.probeToken;
    if (this.synthetic) {
      const name = req.headers[PROBE_NAME_HEADER];
      this.span.setAttributes({
        'vigil.synthetic': true,
        ...(typeof name === 'string' ? { 'vigil.probe': name } : {}),
      });
    }
    const sc = this.span.spanContext();
    if (trace.isSpanContextValid(sc)) res.setHeader(TRACE_ID_HEADER, sc.traceId);
  }

  /** An answered inference, for prediction drift; a probe's never counts, as it is not traffic. */
  observePredictions(inputs: readonly Tensor[], outputs: readonly Tensor[]): void {
    if (this.synthetic || !this.deployment || !this.version) return;
    this.telemetry.observePredictions?.(this.deployment, this.version, inputs, outputs);
  }

  /** The W3C traceparent to hand to a replica, when this request is sampled. */
  traceparent(): string | undefined {
    if (!(this.span.spanContext().traceFlags & TraceFlags.SAMPLED)) return undefined;
    const carrier: Record<string, string> = {};
    propagation.inject(this.context, carrier);
    return carrier.traceparent;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    const { metrics, log } = this.telemetry;
    const status = this.res.statusCode;
    const durationMs = performance.now() - this.started;
    const method = this.req.method ?? 'GET';
    const sc = this.span.spanContext();
    const sampled = (sc.traceFlags & TraceFlags.SAMPLED) !== 0;

    const deployment = this.deployment ?? UNKNOWN_LABEL;
    const version = this.version ?? (this.deployment ? UNKNOWN_LABEL : '');
    if (sampled) {
      this.span.updateName(`${method} ${this.route}`);
      this.span.setAttribute('http.route', this.route);
      this.span.setAttribute('http.response.status_code', status);
      if (this.inference) this.span.setAttributes({ 'vigil.deployment': deployment, 'vigil.version': version });
      if (status >= 400) this.span.setAttribute('error.type', this.code ?? String(status));
      if (status >= 500) this.span.setStatus({ code: SpanStatusCode.ERROR, message: this.code });
      this.recordQueueSpan(deployment, version);
      this.span.end();
    }

    // An SLI event: a finished inference of a known deployment version. Its labels are then the
    // same as the metrics'.
    const sli = this.inference && this.deployment && this.version && this.pool && !this.synthetic;
    const counted = this.inference && this.telemetry.recordMetrics && !this.synthetic;
    if (sli || counted) {
      metrics.finished({
        deployment,
        version,
        status,
        durationSeconds: durationMs / 1000,
        counts: (counted ? COUNTS_IN_METRICS : 0) | (sli ? COUNTS_AS_SLI : 0),
        reject: rejectReasonFor(this.code, status),
        queueWaitSeconds: this.queueWaitMs === undefined ? undefined : this.queueWaitMs / 1000,
        traceId: sampled ? sc.traceId : undefined,
        batch:
          this.stats?.batchLead && this.pool
            ? {
                provider: this.provider ?? 'unknown',
                size: this.stats.batchSize,
                inferenceSeconds: this.stats.inferenceMs / 1000,
              }
            : undefined,
      });
    }

    if (this.telemetry.requestLogSampleRate > 0 && Math.random() < this.telemetry.requestLogSampleRate) {
      log.info(
        {
          trace_id: trace.isSpanContextValid(sc) ? sc.traceId : undefined,
          span_id: sampled ? sc.spanId : undefined,
          route: this.route,
          deployment,
          version,
          status,
          code: this.code,
          duration_ms: Math.round(durationMs * 1000) / 1000,
        },
        'request',
      );
    }
  }

  private recordQueueSpan(deployment: string, version: string): void {
    if (this.admittedAt === undefined || this.queueWaitMs === undefined) return;
    this.telemetry.tracing.tracer
      .startSpan(
        'vigil.queue',
        { startTime: this.admittedAt, attributes: { 'vigil.deployment': deployment, 'vigil.version': version } },
        this.context,
      )
      .end(this.admittedAt + this.queueWaitMs);
  }
}
