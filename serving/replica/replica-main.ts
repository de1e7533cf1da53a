/**
 * Entry point of a replica process (a node:cluster worker). It loads what its ReplicaSpec names,
 * warms up, reports READY with the model's signature, then serves vigil:infer messages through
 * the batcher. If the primary goes away, the replica exits: an orphan would hold memory forever.
 */
import { readEnv } from '../config/env.ts';
import type { ExecutionProviderChoice } from '../config/schema.ts';
import { VigilError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { STREAM_WINDOW } from '../transport/messages.ts';
import type {
  CallMessage,
  CapacityMessage,
  CallResultMessage,
  ErrorResultMessage,
  InferMessage,
  PrimaryToReplica,
  ReplicaSpec,
  ReplicaStats,
  ReplicaToPrimary,
  ResultMessage,
} from '../transport/messages.ts';
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { EventLoopLag } from '../telemetry/event-loop-lag.ts';
import { startTracing } from '../telemetry/tracing.ts';
import { Batcher, type BatchItem } from './batcher.ts';
import { OnnxRunner } from './onnx-runner.ts';
import { HandlerRunner } from './handler-runner.ts';
import { MultiplexRunner } from './multiplex-runner.ts';
import type { DeploymentRunner } from './runner.ts';
import { warmUp } from './warmup.ts';
import { listenForIngress, registerLocalReplica, type ReplicaLink } from '../transport/replica-socket.ts';
import type { IngressSpec, IngressToPrimary, PrimaryToIngress } from '../ingress/ingress-messages.ts';
import { type IngressService, startIngressService } from '../ingress/ingress-service.ts';
import { type FillLevel, nextFillLevel } from './fill-level.ts';

const env = readEnv();
const spec = JSON.parse(env.VIGIL_REPLICA_SPEC ?? '{}') as ReplicaSpec;
const tracing = startTracing(env, 'replica');
const log = createLogger({
  role: 'replica',
  replica: spec.replicaId,
  deployment: spec.deployment,
  version: spec.version,
});

type Frame = Record<string, unknown> & { type: string };

/** The ingress connection each request came on: its result and chunks go back there. */
const linkOfRequest = new Map<number, ReplicaLink>();
/** The connection the latest request came on, for a handler's calls to other deployments. */
let latestLink: ReplicaLink | undefined;
const links = new Set<ReplicaLink>();

function send(msg: ReplicaToPrimary): void {
  // Results and stream chunks share one socket, so a stream's last chunk precedes its result.
  if (msg.type === 'vigil:result' || msg.type === 'vigil:chunk') {
    const link = linkOfRequest.get(msg.id);
    if (msg.type === 'vigil:result') linkOfRequest.delete(msg.id);
    link?.send(msg as unknown as Frame);
    if (msg.type === 'vigil:result') announceCapacity();
  } else if (process.connected) process.send!(msg);
}

/**
 * An ingress process connected. Request ids are unique across ingress processes (each starts its
 * counter at a random multiple of 2^32), so one table serves every connection. When an ingress
 * goes away, its requests are cancelled: nobody is left to read their answers.
 */
function acceptLink(link: ReplicaLink): void {
  links.add(link);
  link.send(capacityMessage());
  link.onMessage((msg) => {
    if (msg.type === 'vigil:infer') {
      // Admission at the replica: the ingress processes' requests together stay within
      // max_ongoing_requests. A refusal costs the ingress one frame; it routes elsewhere or queues.
      if (linkOfRequest.size >= spec.maxOngoingRequests) {
        const busy = { type: 'vigil:result', id: msg.id as number, ok: false, code: 'VIGIL_ERR_REPLICA_BUSY' } as const;
        link.send(busy satisfies ErrorResultMessage as unknown as Frame);
        return;
      }
      linkOfRequest.set(msg.id as number, link);
      latestLink = link;
      announceCapacity();
    }
    onMessage(msg as unknown as PrimaryToReplica);
  });
  link.onClose(() => {
    links.delete(link);
    if (latestLink === link) latestLink = undefined;
    for (const [id, l] of linkOfRequest) {
      if (l !== link) continue;
      linkOfRequest.delete(id);
      cancels.get(id)?.abort();
      streams.get(id)?.wake();
    }
    announceCapacity();
  });
}

/** What the connections were last told (they are told on connecting, then on each change). */
let fill: FillLevel = 'idle';
let announcing = false;

function capacityMessage(): Frame {
  return { type: 'vigil:capacity', room: fill !== 'full', idle: fill === 'idle' } satisfies CapacityMessage;
}

/** Tells every connection when this replica's fill level changes (see fill-level.ts). */
function announceCapacity(): void {
  if (announcing) return;
  announcing = true;
  setImmediate(() => {
    announcing = false;
    const now = nextFillLevel(fill, linkOfRequest.size, spec.maxOngoingRequests);
    if (now === fill) return;
    fill = now;
    const msg = capacityMessage();
    for (const l of links) l.send(msg);
  });
}

const lag = new EventLoopLag();

/** The handler's logger: the replica's, with fields first as pino takes them. */
const handlerLog = {
  info: (fields: Record<string, unknown>, message: string) => log.info(fields, message),
  warn: (fields: Record<string, unknown>, message: string) => log.warn(fields, message),
  error: (fields: Record<string, unknown>, message: string) => log.error(fields, message),
};

function stats(): ReplicaStats {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    cpuUserSeconds: cpu.user / 1e6,
    cpuSystemSeconds: cpu.system / 1e6,
    eventLoopLagSeconds: lag.p99Seconds(),
  };
}

interface QueuedInfer extends BatchItem {
  msg: InferMessage;
}

let onMessage: (msg: PrimaryToReplica) => void = () => {};
/** Set once loaded, so a graceful stop can close it (a handler's teardown). */
let activeRunner: DeploymentRunner | undefined;

let markLoaded: () => void = () => {};
const loaded = new Promise<void>((resolve) => (markLoaded = resolve));
/**
 * Direct ingress: this replica serves HTTP on the node's port too, once its model is loaded. Its
 * router reaches this very replica through acceptLink without a socket; the rest it forwards.
 */
function startDirectIngress(ingressSpec: IngressSpec): IngressService {
  registerLocalReplica(spec.socketPath, acceptLink, () => linkOfRequest.size < spec.maxOngoingRequests);
  return startIngressService({
    spec: ingressSpec,
    log,
    tracing,
    toPrimary: (msg: IngressToPrimary) => {
      if (process.connected) process.send!(msg);
    },
    listenAfter: loaded,
    hostReplica: spec.replicaId,
  });
}
const ingress = spec.ingress ? startDirectIngress(spec.ingress) : undefined;
process.on('message', (raw: PrimaryToReplica | PrimaryToIngress) => {
  if (ingress?.onMessage(raw as PrimaryToIngress)) return;
  onMessage(raw as PrimaryToReplica);
});

async function main(): Promise<void> {
  const started = performance.now();
  await listenForIngress(spec.socketPath, acceptLink);
  let runner: DeploymentRunner;
  try {
    const loadModel = (path: string) =>
      OnnxRunner.create({
        model: path,
        executionProvider: spec.executionProvider as ExecutionProviderChoice,
        intraOpThreads: spec.intraOpThreads,
        warn: (message, fields) => log.warn(fields, message),
      });
    const model = spec.model ? await loadModel(spec.model) : undefined;
    if (spec.multiplex) {
      runner = new MultiplexRunner({
        modelsDir: spec.multiplex.modelsDir,
        maxModels: spec.multiplex.maxModels,
        provider: spec.executionProvider,
        load: loadModel,
        onChange: (e) => send({ type: 'vigil:models', ...e }),
      });
    } else if (spec.handler) {
      runner = await HandlerRunner.create({
        caller: callPrimary,
        callSpan,
        handlerSpan,
        handler: spec.handler,
        model,
        deployment: spec.deployment,
        version: spec.version,
        replicaId: spec.replicaId,
        log: handlerLog,
      });
    } else {
      runner = model!;
      await warmUp(runner, spec.warmup, (message, fields) => log.warn(fields, message));
    }
  } catch (err) {
    log.error({ err }, 'model load failed');
    send({ type: 'vigil:load-failed', message: String((err as Error).message ?? err).slice(0, 1000) });
    setTimeout(() => process.exit(1), 50);
    return;
  }
  activeRunner = runner;
  const loadSeconds = (performance.now() - started) / 1000;
  log.info(
    { provider: runner.info.provider, load_seconds: loadSeconds, batchable: runner.info.batchable },
    'replica ready',
  );

  // A handler with handleBatch sets its own batch size; a model uses the deployment's batching.
  const handlerBatch =
    runner instanceof HandlerRunner
      ? { max: runner.maxBatchSize, waitMs: runner.batchWaitMs ?? spec.batchWaitTimeoutMs }
      : undefined;
  const concurrentHandler = runner.info.kind === 'handler' && !runner.info.batchable;
  const batcher = new Batcher<QueuedInfer>({
    maxBatchSize: runner.info.batchable ? (handlerBatch?.max ?? spec.maxBatchSize) : 1,
    waitMs: handlerBatch?.waitMs ?? spec.batchWaitTimeoutMs,
    run: (batch) => runBatch(runner, batch),
  });

  onMessage = (raw: PrimaryToReplica) => {
    if (raw?.type === 'vigil:infer') {
      // A handler's batch counts requests; a model's counts rows along axis 0.
      const rows = runner.info.kind === 'handler' ? 1 : (raw.inputs[0]?.shape[0] ?? 1);
      const item = { msg: raw, key: runner.batchKey(raw), rows, enqueuedAt: performance.now() };
      // A handler without handleBatch serves its requests concurrently: it mostly awaits other
      // deployments, and queueing it behind itself would serialise a whole pipeline per replica.
      if (concurrentHandler) void runBatch(runner, [item]);
      else batcher.submit(item);
    } else if (raw?.type === 'vigil:chunk-ack') {
      streams.get(raw.id)?.ack(raw.seq);
    } else if (raw?.type === 'vigil:cancel') {
      cancels.get(raw.id)?.abort();
      streams.get(raw.id)?.wake();
    } else if (raw?.type === 'vigil:call-result') {
      const pending = pendingCalls.get(raw.id);
      pendingCalls.delete(raw.id);
      pending?.(raw);
    } else if (raw?.type === 'vigil:ping') {
      send({ type: 'vigil:pong', id: raw.id, stats: stats() });
    }
  };
  send({
    type: 'vigil:ready',
    kind: runner.info.kind,
    signature: runner.info.signature,
    provider: runner.info.provider,
    batchable: runner.info.batchable,
    routeDocs: runner.info.routeDocs,
    loadSeconds,
    stats: stats(),
  });
  markLoaded();
}

/** Per request: the AbortController behind request.signal, until the request is answered. */
const cancels = new Map<number, AbortController>();
/** Streams in progress: acknowledgements from the primary release the next chunks. */
const streams = new Map<number, { ack(seq: number): void; wake(): void }>();

/**
 * Sends a handler's async iterable as vigil:chunk messages, at most STREAM_WINDOW ahead of the
 * primary's acknowledgements (which follow the client's socket), then ends with vigil:result.
 * A cancel (the client left) aborts request.signal and returns the iterator, so the handler's
 * finally blocks run. A throw mid-stream ends the stream with an error result.
 */
async function pumpStream(
  item: QueuedInfer,
  iterable: AsyncIterable<unknown>,
  stats: ResultMessage['stats'],
): Promise<void> {
  const id = item.msg.id;
  const signal = cancels.get(id)?.signal;
  const it = iterable[Symbol.asyncIterator]();
  let seq = 0;
  let acked = 0;
  let wake: (() => void) | undefined;
  streams.set(id, {
    ack(n) {
      acked = Math.max(acked, n + 1);
      wake?.();
    },
    wake: () => wake?.(),
  });
  try {
    for (;;) {
      while (seq - acked >= STREAM_WINDOW && !signal?.aborted) await new Promise<void>((r) => (wake = r));
      if (signal?.aborted) {
        await it.return?.();
        send(errorResult(id, new VigilError('VIGIL_ERR_SHUTTING_DOWN', 'the stream was cancelled')));
        return;
      }
      const next = await it.next();
      if (next.done) break;
      const data = next.value instanceof Uint8Array ? Buffer.from(next.value).toString('utf8') : next.value;
      send({ type: 'vigil:chunk', id, seq: seq++, data: data === undefined ? null : data });
    }
    send({ type: 'vigil:result', id, ok: true, outputs: [], stats, chunks: seq });
  } catch (err) {
    if (!(err instanceof VigilError)) log.error({ err }, 'handler stream threw');
    send(
      errorResult(
        id,
        err instanceof VigilError
          ? err
          : new VigilError('VIGIL_ERR_HANDLER_FAILED', 'the stream failed: see the replica log'),
      ),
    );
  } finally {
    streams.delete(id);
    cancels.delete(id);
  }
}

/** A handler's calls to other deployments, waiting for an ingress's vigil:call-result. */
const pendingCalls = new Map<number, (result: CallResultMessage) => void>();
let nextCallId = 1;

function callPrimary(call: Omit<CallMessage, 'type' | 'id'>): Promise<CallResultMessage> {
  const id = nextCallId++;
  return new Promise((resolve) => {
    pendingCalls.set(id, resolve);
    const msg: CallMessage = { type: 'vigil:call', id, ...call };
    // Every ingress process routes calls the same way; the one that sent the latest request is
    // alive for certain unless its connection closed.
    const link = latestLink && !latestLink.closed ? latestLink : links.values().next().value;
    if (link) return link.send(msg as unknown as Frame);
    pendingCalls.delete(id);
    resolve({ type: 'vigil:call-result', id, ok: false, code: 'VIGIL_ERR_REPLICA_LOST', detail: 'no ingress' });
  });
}

/** The handler's INTERNAL span for one request, under the router's span. */
function handlerSpan(parent: string | undefined, deployment: string) {
  const none = { span: { traceId: undefined, setAttribute() {}, addEvent() {} }, traceparent: parent, end() {} };
  if (!parent || !tracing.enabled) return none;
  const parentCtx = propagation.extract(ROOT_CONTEXT, { traceparent: parent });
  const span = tracing.tracer.startSpan(
    'vigil.handler',
    { attributes: { 'vigil.deployment': deployment, 'vigil.replica': spec.replicaId } },
    parentCtx,
  );
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(parentCtx, span), carrier);
  return {
    span: {
      traceId: span.spanContext().traceId,
      setAttribute: (k: string, v: string | number | boolean) => void span.setAttribute(k, v),
      addEvent: (name: string, attrs?: Record<string, string | number | boolean>) => void span.addEvent(name, attrs),
    },
    traceparent: carrier.traceparent,
    end(error?: string) {
      if (error) span.setAttribute('error.type', error).setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}

/** A CLIENT span per outgoing call, under the request's trace, whose context travels with the call. */
function callSpan(
  parent: string | undefined,
  deployment: string,
): { traceparent: string | undefined; end(error?: string): void } {
  if (!parent || !tracing.enabled) return { traceparent: parent, end() {} };
  const parentCtx = propagation.extract(ROOT_CONTEXT, { traceparent: parent });
  const span = tracing.tracer.startSpan(
    `vigil.call ${deployment}`,
    { kind: SpanKind.CLIENT, attributes: { 'vigil.deployment': spec.deployment, 'vigil.target': deployment } },
    parentCtx,
  );
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(parentCtx, span), carrier);
  return {
    traceparent: carrier.traceparent,
    end(error) {
      if (error) span.setAttribute('error.type', error).setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}

async function runBatch(runner: DeploymentRunner, batch: QueuedInfer[]): Promise<void> {
  const now = Date.now();
  const live: QueuedInfer[] = [];
  for (const item of batch) {
    // The primary has already answered 504 for these; running them would only waste the core.
    if (item.msg.deadline <= now)
      send(errorResult(item.msg.id, new VigilError('VIGIL_ERR_DEADLINE_EXCEEDED', 'expired in the replica batcher')));
    else live.push(item);
  }
  if (live.length === 0) return;
  const start = performance.now();
  let results;
  try {
    results = await runner.runBatch(
      live.map((i) => ({
        inputs: i.msg.inputs,
        outputs: i.msg.outputs,
        request: i.msg.request,
        deadline: i.msg.deadline,
        traceparent: i.msg.traceparent,
        // Only a handler can listen to a signal; a model's run cannot be interrupted.
        signal: runner.info.kind === 'handler' ? signalFor(i.msg.id) : undefined,
        modelId: i.msg.modelId,
      })),
    );
  } catch (err) {
    log.error({ err }, 'runner failed a whole batch');
    for (const item of live) send(errorResult(item.msg.id, new VigilError('VIGIL_ERR_INTERNAL')));
    return;
  }
  const end = performance.now();
  const inferenceMs = end - start;
  const batchSize = live.reduce((n, i) => n + i.rows, 0);
  if (tracing.enabled) recordSpans(live, start, end, batchSize, runner.info.provider);
  let lead = true;
  live.forEach((item, i) => {
    const r = results[i]!;
    if (r.ok && r.stream) {
      void pumpStream(item, r.stream, {
        batchWaitMs: start - item.enqueuedAt,
        inferenceMs,
        batchSize,
        batchLead: false,
      });
      return;
    }
    cancels.delete(item.msg.id);
    if (r.ok) {
      const msg: ResultMessage = {
        type: 'vigil:result',
        id: item.msg.id,
        ok: true,
        outputs: r.outputs,
        stats: { batchWaitMs: start - item.enqueuedAt, inferenceMs, batchSize, batchLead: lead },
      };
      if (r.json !== undefined) msg.json = r.json;
      if (r.status !== undefined) msg.status = r.status;
      if (r.contentType !== undefined) msg.contentType = r.contentType;
      lead = false;
      send(msg);
    } else {
      send({ type: 'vigil:result', id: item.msg.id, ok: false, code: r.code, detail: r.detail });
    }
  });
}

/**
 * Each sampled item gets its own vigil.batch span (its wait in the batcher plus the run) with a
 * vigil.inference child (the run), parented to the router's span through the traceparent that
 * crossed IPC, so every trace is complete even when its request shared a batch.
 */
function recordSpans(items: QueuedInfer[], start: number, end: number, batchSize: number, provider: string): void {
  for (const item of items) {
    if (!item.msg.traceparent) continue;
    const parent = propagation.extract(ROOT_CONTEXT, { traceparent: item.msg.traceparent });
    const attributes = {
      'vigil.deployment': spec.deployment,
      'vigil.version': spec.version,
      'vigil.replica': spec.replicaId,
      'vigil.batch_size': batchSize,
      'vigil.provider': provider,
    };
    const batch = tracing.tracer.startSpan('vigil.batch', { startTime: item.enqueuedAt, attributes }, parent);
    tracing.tracer
      .startSpan('vigil.inference', { startTime: start, attributes }, trace.setSpan(parent, batch))
      .end(end);
    batch.end(end);
  }
}

function signalFor(id: number): AbortSignal {
  let c = cancels.get(id);
  if (!c) cancels.set(id, (c = new AbortController()));
  return c.signal;
}

function errorResult(id: number, err: VigilError): ErrorResultMessage {
  return { type: 'vigil:result', id, ok: false, code: err.code, detail: err.detail };
}

// Flush this replica's spans before it goes, but never let a slow collector hold it up.
process.on('disconnect', () => {
  // A graceful stop: what this replica's ingress accepted (routed here or elsewhere) finishes
  // first, then the handler's teardown and the span flush; the controller kills at 2 s.
  const drained = ingress ? ingress.retire(800).then(() => ingress.close()) : Promise.resolve();
  const closing = drained.then(() => Promise.allSettled([activeRunner?.close(), tracing.shutdown()]));
  Promise.race([closing, new Promise((r) => setTimeout(r, 1500))]).finally(() => process.exit(0));
});
// SIGTERM/SIGINT are the primary's to handle: a Ctrl-C reaches the whole process group, and a
// replica that died first would turn a graceful drain into lost requests.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
main().catch((err) => {
  log.fatal({ err }, 'replica crashed');
  process.exit(1);
});
