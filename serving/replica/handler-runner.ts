import { pathToFileURL } from 'node:url';
import { isVigilError, VigilError } from '../errors.ts';
import {
  isDefinedDeployment,
  isHandlerResponse,
  type DefinedDeployment,
  type DeploymentHandle,
  type HandlerContext,
  type HandlerLogger,
  type HandlerRequest,
  type HandlerSpan,
  type ModelSession,
  type SetupContext,
} from '../handler/define.ts';
import type { CallMessage, CallResultMessage } from '../transport/messages.ts';
import type { Tensor } from '../protocol/datatypes.ts';
import type { OnnxRunner } from './onnx-runner.ts';
import type { DeploymentRunner, RunItem, RunResult, RunnerInfo } from './runner.ts';

/** Sends a call to the primary and waits for its answer (replica-main.ts owns the wire). */
export type Caller = (call: Omit<CallMessage, 'type' | 'id'>) => Promise<CallResultMessage>;

/** Opens the handler's span for one request (or batch); its traceparent parents the calls it makes. */
export type HandlerSpanFactory = (
  parentTraceparent: string | undefined,
  deployment: string,
) => { span: HandlerSpan; traceparent: string | undefined; end(error?: string): void };

/** Opens a span for an outgoing call under the request's trace; its traceparent goes with the call. */
export type CallSpan = (
  parentTraceparent: string | undefined,
  deployment: string,
) => { traceparent: string | undefined; end(error?: string): void };

export interface HandlerRunnerOptions {
  caller: Caller;
  callSpan: CallSpan;
  handlerSpan: HandlerSpanFactory;
  handler: string;
  /** The version's model, loaded before setup runs, as ctx.model. */
  model: OnnxRunner | undefined;
  deployment: string;
  version: string;
  replicaId: string;
  log: HandlerLogger;
}

/**
 * Hosts a TypeScript handler (handler/define.ts) behind the same runner interface as an ONNX
 * model, so the replica's transport, batcher, deadlines and crash handling apply unchanged.
 * A handler's throw fails its own request (or, for handleBatch, its batch); it never reaches
 * the replica's event loop.
 */
export class HandlerRunner implements DeploymentRunner {
  readonly info: RunnerInfo;

  private constructor(
    private readonly def: DefinedDeployment,
    private readonly base: SetupContext & { state: unknown },
    model: OnnxRunner | undefined,
    private readonly caller: Caller,
    private readonly callSpan: CallSpan,
    private readonly handlerSpan: HandlerSpanFactory,
  ) {
    this.info = {
      kind: 'handler',
      signature: model?.info.signature ?? { inputs: [], outputs: [] },
      provider: model?.info.provider ?? 'none',
      batchable: typeof def.handleBatch === 'function',
      routeDocs: def.docs,
    };
  }

  get maxBatchSize(): number {
    return this.def.batch?.max_batch_size ?? 1;
  }

  get batchWaitMs(): number | undefined {
    return this.def.batch?.batch_wait_timeout_ms;
  }

  /** Imports the module, checks its default export, and runs setup once. */
  static async create(o: HandlerRunnerOptions): Promise<HandlerRunner> {
    const mod = (await import(pathToFileURL(o.handler).href)) as { default?: unknown };
    if (!isDefinedDeployment(mod.default))
      throw new Error(`${o.handler}: the default export must be defineDeployment({...}) from 'vigil/handler'`);
    const base = {
      deployment: o.deployment,
      version: o.version,
      replicaId: o.replicaId,
      model: o.model && sessionOf(o.model),
      log: o.log,
    };
    const state = await mod.default.setup?.(base);
    return new HandlerRunner(mod.default, { ...base, state }, o.model, o.caller, o.callSpan, o.handlerSpan);
  }

  batchKey(): string {
    return 'handler';
  }

  /** The context of one call: the shared setup state plus this request's deadline and call handles. */
  private contextFor(
    deadline: number,
    traceparent: string | undefined,
    span: HandlerSpan = NO_SPAN,
  ): HandlerContext<unknown> {
    return {
      ...this.base,
      deadline,
      span,
      handle: (deployment, options) => this.handleTo(deployment, options?.version, deadline, traceparent),
    };
  }

  /** Runs `work` inside the handler's span; calls it makes are the span's children. */
  private async traced<T>(
    traceparent: string | undefined,
    deadline: number,
    work: (ctx: HandlerContext<unknown>) => Promise<T>,
  ): Promise<T> {
    const s = this.handlerSpan(traceparent, this.base.deployment);
    try {
      const result = await work(this.contextFor(deadline, s.traceparent, s.span));
      s.end();
      return result;
    } catch (err) {
      s.end(isVigilError(err) ? err.code : 'VIGIL_ERR_HANDLER_FAILED');
      throw err;
    }
  }

  private handleTo(
    deployment: string,
    version: string | undefined,
    deadline: number,
    traceparent: string | undefined,
  ): DeploymentHandle {
    return {
      call: async (input, options) => {
        // A stage whose deadline has passed is not started: the answer could only be late.
        if (deadline <= Date.now())
          throw new VigilError('VIGIL_ERR_DEADLINE_EXCEEDED', `no time left to call "${deployment}"`);
        const span = this.callSpan(traceparent, deployment);
        const request = isTensorMap(input)
          ? undefined
          : {
              method: 'POST',
              path: options?.path ?? '',
              query: {},
              contentType:
                options?.contentType ?? (input instanceof Uint8Array ? 'application/octet-stream' : 'application/json'),
            };
        const inputs: Tensor[] = request
          ? [bytesTensor(input instanceof Uint8Array ? input : new TextEncoder().encode(JSON.stringify(input ?? null)))]
          : Object.entries(input as Record<string, Omit<Tensor, 'name'>>).map(
              ([name, t]) => ({ name, ...t }) as Tensor,
            );
        const r = await this.caller({ deployment, version, inputs, request, deadline, traceparent: span.traceparent });
        span.end(r.ok ? undefined : r.code);
        if (!r.ok) throw new VigilError(r.code, r.detail);
        if (r.json !== undefined) return r.json;
        const body = r.outputs.find((t) => t.name === 'body');
        if (request && body) return body.data;
        return Object.fromEntries(r.outputs.map((t) => [t.name, t]));
      },
    };
  }

  async runBatch(items: RunItem[]): Promise<RunResult[]> {
    const requests = items.map(toRequest);
    if (this.def.handleBatch) {
      try {
        const deadline = Math.min(...items.map((i) => i.deadline ?? Number.POSITIVE_INFINITY));
        const values = await this.traced(items[0]?.traceparent, deadline, async (ctx) =>
          this.def.handleBatch!(requests, ctx),
        );
        if (!Array.isArray(values) || values.length !== items.length) {
          const got = Array.isArray(values) ? `${values.length} results` : typeof values;
          return items.map(() =>
            this.failure(
              new VigilError('VIGIL_ERR_HANDLER_FAILED', `handleBatch returned ${got} for ${items.length} requests`),
            ),
          );
        }
        return values.map(toResult);
      } catch (err) {
        return items.map(() => this.failure(err));
      }
    }
    return Promise.all(
      requests.map(async (r, i) => {
        try {
          return toResult(
            await this.traced(items[i]!.traceparent, r.deadline, async (ctx) => this.def.handle!(r, ctx)),
          );
        } catch (err) {
          return this.failure(err);
        }
      }),
    );
  }

  /**
   * A handler's own VigilError (e.g. a 400 for a bad body) keeps its code and detail. Anything
   * else is logged here with its stack and answered VIGIL_ERR_HANDLER_FAILED without the message,
   * which may hold internals the client should not see.
   */
  private failure(err: unknown): RunResult {
    if (isVigilError(err)) return { ok: false, code: err.code, detail: err.detail };
    this.base.log.error({ err }, 'handler threw');
    return {
      ok: false,
      code: 'VIGIL_ERR_HANDLER_FAILED',
      detail: 'see the replica log',
    };
  }

  async close(): Promise<void> {
    await this.def.teardown?.(this.contextFor(Date.now(), undefined));
  }
}

function toRequest(item: RunItem): HandlerRequest {
  const meta = item.request;
  const bodyTensor = meta ? item.inputs.find((t) => t.name === 'body') : undefined;
  const body = bodyTensor ? (bodyTensor.data as Uint8Array) : new Uint8Array(0);
  return {
    method: meta?.method ?? 'POST',
    path: meta?.path ?? '/infer',
    query: meta?.query ?? {},
    contentType: meta?.contentType ?? 'application/json',
    body,
    tensors: meta ? [] : item.inputs,
    deadline: item.deadline ?? Number.POSITIVE_INFINITY,
    signal: item.signal ?? new AbortController().signal,
    text: () => Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'),
    json<T>(): T {
      try {
        return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')) as T;
      } catch (err) {
        throw new VigilError('VIGIL_ERR_INVALID_BODY', `not JSON: ${(err as Error).message.slice(0, 200)}`);
      }
    },
  };
}

/** A handler's return value as a result: tensors, bytes with a status, or a JSON value. */
function toResult(value: unknown): RunResult {
  if (typeof value === 'object' && value !== null && Symbol.asyncIterator in value)
    return { ok: true, outputs: [], stream: value as AsyncIterable<unknown> };
  if (isHandlerResponse(value))
    return { ok: true, outputs: [bytesTensor(value.body)], status: value.status, contentType: value.contentType };
  if (value instanceof Uint8Array)
    return { ok: true, outputs: [bytesTensor(value)], status: 200, contentType: 'application/octet-stream' };
  if (Array.isArray(value) && value.length > 0 && value.every(isTensor)) return { ok: true, outputs: value };
  return { ok: true, outputs: [], json: value === undefined ? null : value };
}

function bytesTensor(data: Uint8Array): Tensor {
  return { name: 'body', datatype: 'UINT8', shape: [data.length], data };
}

const NO_SPAN: HandlerSpan = { traceId: undefined, setAttribute() {}, addEvent() {} };

/** A plain object whose every value is a tensor body ({datatype, shape, data}). */
function isTensorMap(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return false;
  const values = Object.values(v);
  return (
    values.length > 0 &&
    values.every((t) => typeof t === 'object' && t !== null && 'datatype' in t && 'shape' in t && 'data' in t)
  );
}

function isTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && 'datatype' in v && 'shape' in v && 'data' in v && 'name' in v;
}

function sessionOf(runner: OnnxRunner): ModelSession {
  return {
    inputNames: runner.info.signature.inputs.map((i) => i.name),
    outputNames: runner.info.signature.outputs.map((o) => o.name),
    async run(feeds) {
      const inputs = Object.entries(feeds).map(([name, t]) => ({ name, ...t }) as Tensor);
      const [r] = await runner.runBatch([{ inputs }]);
      if (!r?.ok) throw new VigilError(r?.code ?? 'VIGIL_ERR_INTERNAL', r && !r.ok ? r.detail : 'no result');
      return Object.fromEntries(r.outputs.map((t) => [t.name, t]));
    },
  };
}
