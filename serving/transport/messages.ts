import type { IngressSpec } from '../ingress/ingress-messages.ts';
import type { RouteDocs } from '../handler/define.ts';
import type { RequestMeta } from '../replica/runner.ts';
import type { ErrorCode } from '../errors.ts';
import type { Tensor } from '../protocol/datatypes.ts';
import type { ModelSignature } from '../protocol/model-metadata.ts';

/**
 * The typed messages between the primary and its replicas. vigil:infer and vigil:result, which
 * carry tensors, travel as binary frames over a Unix socket (frame-codec.ts); the control
 * messages (ready, ping, pong, load-failed) travel over node:cluster IPC. Tensors never cross as
 * JSON number lists; docs/decisions/0001-replica-transport.md has the measurements. Every type
 * is namespaced `vigil:`, and every request carries an id that is answered exactly once.
 */

/** Sent once, in the worker's environment, so a replica knows what to load before any IPC. */
export interface ReplicaSpec {
  replicaId: string;
  deployment: string;
  version: string;
  /** The ONNX model file; a handler may do without one. */
  model?: string;
  /** A multiplexed deployment: where its models are, and how many a replica keeps loaded. */
  multiplex?: { modelsDir: string; maxModels: number };
  /** The handler module (defineDeployment), when the version has one. */
  handler?: string;
  executionProvider: string;
  intraOpThreads: number;
  maxBatchSize: number;
  batchWaitTimeoutMs: number;
  warmup: { requests: number; shapes?: Record<string, number[]> };
  /** The replica's own Unix socket for tensor frames, which every ingress process connects to. */
  socketPath: string;
  /**
   * max_ongoing_requests, enforced here too: each ingress process balances on its own requests
   * only, so together they could send more; the replica refuses the excess (VIGIL_ERR_REPLICA_BUSY).
   */
  maxOngoingRequests: number;
  /**
   * Direct ingress (`ingress.direct`): the replica also serves HTTP on the node's port, routing
   * like an ingress process, and reaches its own model without the socket.
   */
  ingress?: IngressSpec;
}

export const REPLICA_SPEC_ENV = 'VIGIL_REPLICA_SPEC';

export interface InferMessage {
  type: 'vigil:infer';
  id: number;
  inputs: Tensor[];
  /** Output names to return; undefined means all. */
  outputs?: string[];
  /** Epoch milliseconds after which the answer is useless. */
  deadline: number;
  /** W3C traceparent of the request's server span; present only when the request is sampled. */
  traceparent?: string;
  /** For a handler's custom route: the request line and content type (the body is the tensor `body`). */
  request?: RequestMeta;
  /** For a multiplexed deployment: which of its models runs this request. */
  modelId?: string;
}

export interface PingMessage {
  type: 'vigil:ping';
  id: number;
}

export type PrimaryToReplica = InferMessage | PingMessage | CallResultMessage | ChunkAckMessage | CancelMessage;

/** Per-item timings that the replica measured, for metrics and traces. */
export interface ItemStats {
  /** Time the item waited in the replica's batcher. */
  batchWaitMs: number;
  /** Duration of the session.run that included it. */
  inferenceMs: number;
  /** Rows in that run. */
  batchSize: number;
  /** True on exactly one item per run, so the primary records batch-level metrics once per batch. */
  batchLead: boolean;
}

export interface ResultMessage {
  type: 'vigil:result';
  id: number;
  ok: true;
  outputs: Tensor[];
  stats: ItemStats;
  /** A handler's JSON answer, or the status and content type of its byte answer (the tensor `body`). */
  json?: unknown;
  /** Set when the answer was a stream of vigil:chunk messages: how many. */
  chunks?: number;
  status?: number;
  contentType?: string;
}

export interface ErrorResultMessage {
  type: 'vigil:result';
  id: number;
  ok: false;
  code: ErrorCode;
  /** The error's detail alone: the receiver rebuilds the VigilError from the code and this. */
  detail?: string;
}

export interface ReplicaStats {
  rssBytes: number;
  heapUsedBytes: number;
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  /** p99 event-loop delay over the replica's last 5 s window. */
  eventLoopLagSeconds: number;
}

export interface PongMessage {
  type: 'vigil:pong';
  id: number;
  stats: ReplicaStats;
}

export interface ReadyMessage {
  type: 'vigil:ready';
  /** 'handler': a TypeScript handler answers, so requests are not checked against the signature. */
  kind: 'model' | 'handler' | 'multiplex';
  signature: ModelSignature;
  /** The execution provider the session really uses. */
  provider: string;
  /** Whether axis 0 is dynamic on every input, so requests can be concatenated. */
  batchable: boolean;
  /** A handler's description of its own route (OpenAPI). */
  routeDocs?: RouteDocs;
  loadSeconds: number;
  stats: ReplicaStats;
}

export interface LoadFailedMessage {
  type: 'vigil:load-failed';
  message: string;
}

/**
 * A handler calling another deployment (ctx.handle(name).call(...)): the primary routes it like
 * any request, with the caller's remaining deadline and trace context, and answers with
 * vigil:call-result. Both travel as frames, since they carry tensors.
 */
export interface CallMessage {
  type: 'vigil:call';
  id: number;
  deployment: string;
  version?: string;
  inputs: Tensor[];
  request?: RequestMeta;
  deadline: number;
  traceparent?: string;
}

export type CallResultMessage =
  | {
      type: 'vigil:call-result';
      id: number;
      ok: true;
      outputs: Tensor[];
      json?: unknown;
      status?: number;
      contentType?: string;
      version: string;
    }
  | { type: 'vigil:call-result'; id: number; ok: false; code: ErrorCode; detail?: string };

/**
 * Streaming: a handler that returns an async iterable sends its items as vigil:chunk, then the
 * usual vigil:result ends the request. The replica keeps at most STREAM_WINDOW chunks
 * unacknowledged; the primary acknowledges a chunk once the client's socket has taken it, so a
 * slow client slows the producer instead of filling memory. vigil:cancel stops the handler when
 * the client goes away.
 */
export interface ChunkMessage {
  type: 'vigil:chunk';
  id: number;
  seq: number;
  /** A JSON value (a string for text). */
  data: unknown;
}

export interface ChunkAckMessage {
  type: 'vigil:chunk-ack';
  id: number;
  seq: number;
}

export interface CancelMessage {
  type: 'vigil:cancel';
  id: number;
}

/** Chunks a replica may have in flight, unacknowledged, per stream. */
export const STREAM_WINDOW = 4;

/** A multiplexed replica's loaded models changed: which are loaded now, and what happened. */
export interface ModelsMessage {
  type: 'vigil:models';
  loaded: string[];
  loadedNow?: string;
  evicted?: string;
  loadSeconds?: number;
}

/**
 * Sent by a replica to every connection when it fills up to max_ongoing_requests, has room again,
 * or turns idle or busy (at most once per turn of its event loop, only on a change, and to a
 * connection when it opens), so the routers of every
 * process stop sending it work it would refuse. A refusal (VIGIL_ERR_REPLICA_BUSY) remains the
 * backstop for requests already on their way.
 */
export interface CapacityMessage {
  type: 'vigil:capacity';
  room: boolean;
  /** It holds no request at all: worth a hop from a process whose own replica is busy. */
  idle: boolean;
}

export type ReplicaToPrimary =
  | CapacityMessage
  | ModelsMessage
  | ResultMessage
  | ErrorResultMessage
  | PongMessage
  | ReadyMessage
  | LoadFailedMessage
  | CallMessage
  | ChunkMessage;

export function isReplicaMessage(msg: unknown): msg is ReplicaToPrimary {
  return (
    typeof msg === 'object' &&
    msg !== null &&
    typeof (msg as { type?: unknown }).type === 'string' &&
    (msg as { type: string }).type.startsWith('vigil:')
  );
}
