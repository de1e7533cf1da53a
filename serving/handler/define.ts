/**
 * The handler API: a deployment written in TypeScript, run inside vigil's replicas.
 *
 *   import { defineDeployment } from 'vigil/handler';
 *   export default defineDeployment({
 *     async setup(ctx) { return { labels: await readFile(...) }; },   // once per replica
 *     async handle(request, ctx) { return { label: ctx.state.labels[0] }; },
 *   });
 *
 * `setup` runs once when the replica starts (load dictionaries, warm up); its result is
 * `ctx.state` in every call. `handle` gets one request and returns a JSON value, bytes, a
 * `respond(...)` result, or an async iterable (e.g. an async generator) whose items are streamed
 * to the client as Server-Sent Events or JSON lines, with backpressure from the client's socket. With `handleBatch` instead, vigil collects concurrent requests (up to
 * `batch.max_batch_size`, waiting at most `batch.batch_wait_timeout_ms`) and passes them as an
 * array; it must return an array of the same length, like Ray Serve's `@serve.batch`.
 * A handler that throws fails that request (500, VIGIL_ERR_HANDLER_FAILED); one that crashes its
 * process is contained like a crashing model: the replica is replaced.
 */
import type { Tensor } from '../protocol/datatypes.ts';

export type { Tensor };
/** Throw one with a stable code (e.g. VIGIL_ERR_INVALID_BODY, 400) to answer with that code and detail. */
export { VigilError } from '../errors.ts';

/** One request as the handler sees it. */
export interface HandlerRequest {
  method: string;
  /** The path below the deployment's route prefix ('' for the prefix itself), or '/infer' for OIP calls. */
  path: string;
  query: Record<string, string>;
  contentType: string;
  body: Uint8Array;
  /** Input tensors, for requests that came through the OIP /infer endpoint. */
  tensors: Tensor[];
  /** Epoch milliseconds after which the answer is useless. */
  deadline: number;
  /** Aborted when the client disconnects: stop work, end a stream. */
  signal: AbortSignal;
  text(): string;
  /** Parses the body as JSON; throws VIGIL_ERR_INVALID_BODY (400) when it is not. */
  json<T = unknown>(): T;
}

/** The deployment's ONNX model, when the version names one next to its handler. */
export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model once; the output tensors by name. */
  run(feeds: Record<string, Omit<Tensor, 'name'>>): Promise<Record<string, Tensor>>;
}

export interface HandlerLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface SetupContext {
  deployment: string;
  version: string;
  replicaId: string;
  model: ModelSession | undefined;
  log: HandlerLogger;
}

/** The request's span in the trace (a no-op when the request is not sampled). */
export interface HandlerSpan {
  readonly traceId: string | undefined;
  setAttribute(key: string, value: string | number | boolean): void;
  addEvent(name: string, attributes?: Record<string, string | number | boolean>): void;
}

export interface HandlerContext<S> extends SetupContext {
  state: S;
  /** A `vigil.handler` span for this request (for handleBatch, the batch's first request); calls made through ctx.handle are its children. */
  span: HandlerSpan;
  /** Epoch milliseconds: the request's deadline (for handleBatch, the earliest in the batch). */
  deadline: number;
  /**
   * Another deployment, named in this deployment's `calls` in vigil.yaml. Calls go through the
   * router like client requests (backpressure, the remaining deadline, metrics, one trace), so
   * `await Promise.all([...].map((x) => ctx.handle('rec').call(x)))` fans out across replicas.
   */
  handle(deployment: string, options?: { version?: string }): DeploymentHandle;
}

export interface DeploymentHandle {
  /**
   * A map of tensors (name → {datatype, shape, data}) runs on a model deployment and answers its
   * output tensors by name. Anything else goes to a handler deployment as its request: bytes
   * (Uint8Array) as they are, other values as a JSON body; the answer is the handler's JSON
   * value, or its bytes. Errors come back as VigilErrors with the callee's code (504 when the
   * deadline runs out, 503 when it is overloaded), so a handler may let them propagate.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the callee's answer is whatever its handler returns; the caller states what it expects
  call(input: unknown, options?: { contentType?: string; path?: string }): Promise<any>;
}

/** A response with its own status and content type (a plain value is sent as JSON with 200). */
export interface HandlerResponse {
  readonly [RESPONSE]: true;
  status: number;
  contentType: string;
  body: Uint8Array;
}

const RESPONSE = Symbol.for('vigil.handler.response');

export function respond(
  body: Uint8Array | string,
  init: { status?: number; contentType?: string } = {},
): HandlerResponse {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return {
    [RESPONSE]: true,
    status: init.status ?? 200,
    contentType:
      init.contentType ?? (typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream'),
    body: bytes,
  };
}

export function isHandlerResponse(v: unknown): v is HandlerResponse {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[RESPONSE] === true;
}

/**
 * How a handler's own route (`route:` in vigil.yaml) is described in the deployment's OpenAPI
 * document (`/v2/models/{name}/openapi.json`): plain JSON Schema, e.g. `z.toJSONSchema(schema)`.
 */
export interface RouteDocs {
  summary?: string;
  description?: string;
  /** What the route takes; left out, a raw body of any type. */
  request?: { contentType?: string; schema?: Record<string, unknown>; example?: unknown };
  /** What it answers on success; left out, JSON, bytes or JSON lines. */
  response?: { contentType?: string; schema?: Record<string, unknown>; description?: string };
}

export interface DeploymentDefinition<S = unknown> {
  setup?(ctx: SetupContext): S | Promise<S>;
  /** The route's description in the deployment's OpenAPI document. */
  docs?: RouteDocs;
  handle?(request: HandlerRequest, ctx: HandlerContext<S>): unknown;
  handleBatch?(requests: HandlerRequest[], ctx: HandlerContext<S>): Promise<unknown[]> | unknown[];
  batch?: { max_batch_size: number; batch_wait_timeout_ms?: number };
  /** Called when the replica stops gracefully. */
  teardown?(ctx: HandlerContext<S>): void | Promise<void>;
}

const DEFINITION = Symbol.for('vigil.handler.definition');

export type DefinedDeployment<S = unknown> = DeploymentDefinition<S> & { readonly [DEFINITION]: true };

/** Checks a definition once, at load, so a mistake fails the replica's start with a clear message. */
export function defineDeployment<S>(def: DeploymentDefinition<S>): DefinedDeployment<S> {
  if (!def || typeof def !== 'object') throw new TypeError('defineDeployment expects an object');
  const has = (k: keyof DeploymentDefinition<S>) => typeof def[k] === 'function';
  if (has('handle') === has('handleBatch'))
    throw new TypeError('defineDeployment needs exactly one of handle(request, ctx) or handleBatch(requests, ctx)');
  if (has('handleBatch') && !(Number.isInteger(def.batch?.max_batch_size) && def.batch!.max_batch_size >= 1)) {
    throw new TypeError('handleBatch needs batch: { max_batch_size: <positive integer> }');
  }
  if (def.docs !== undefined) checkDocs(def.docs);
  return Object.freeze({ ...def, [DEFINITION]: true as const });
}

/** The docs travel to the ingress processes as JSON: anything else is a mistake to report at load. */
function checkDocs(docs: RouteDocs): void {
  let copy: unknown;
  try {
    copy = JSON.parse(JSON.stringify(docs));
  } catch (err) {
    throw new TypeError(`docs must be plain JSON: ${(err as Error).message}`);
  }
  if (typeof copy !== 'object' || copy === null || Array.isArray(copy)) throw new TypeError('docs must be an object');
  for (const key of Object.keys(copy))
    if (!['summary', 'description', 'request', 'response'].includes(key))
      throw new TypeError(`docs: unknown key "${key}" (summary, description, request, response)`);
}

export function isDefinedDeployment(v: unknown): v is DefinedDeployment {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[DEFINITION] === true;
}

/** What a probe's check module receives: the outputs of an inference, or a custom route's JSON. */
export type ProbeAnswer = { outputs: { name: string; shape: number[]; data: unknown[] }[] } | { json: unknown };

/**
 * A probe's own check (`expect: { check: checks/caption.ts }` in vigil.yaml): the module's default
 * export, given the answer, says whether it is right and why.
 */
export function defineProbeCheck(
  check: (
    answer: ProbeAnswer,
  ) => { pass: boolean; detail: string } | boolean | Promise<{ pass: boolean; detail: string } | boolean>,
) {
  return check;
}
