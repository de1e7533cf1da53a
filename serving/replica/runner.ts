import type { RouteDocs } from '../handler/define.ts';
import type { ErrorCode } from '../errors.ts';
import type { Tensor } from '../protocol/datatypes.ts';
import type { ModelSignature } from '../protocol/model-metadata.ts';

/**
 * What a replica hosts. Today an ONNX model (onnx-runner.ts); the handlers issue adds TypeScript
 * handlers behind the same interface, so the IPC protocol and the batcher never assume "one ONNX
 * session".
 */
export interface RunnerInfo {
  /** 'handler' when a TypeScript handler answers (its inputs are not the model's). */
  kind: 'model' | 'handler' | 'multiplex';
  signature: ModelSignature;
  provider: string;
  /** True when requests may be concatenated along axis 0. */
  batchable: boolean;
  /** A handler's description of its own route, for the OpenAPI document. */
  routeDocs?: RouteDocs;
}

export interface RunItem {
  inputs: Tensor[];
  outputs?: string[];
  /** A custom-route request for a handler: its raw body is the UINT8 tensor `body` in inputs. */
  request?: RequestMeta;
  /** Epoch milliseconds; handlers see it as request.deadline. */
  deadline?: number;
  /** The request's trace context, for a handler's calls to other deployments. */
  traceparent?: string;
  /** Aborted when the client goes away (handlers see it as request.signal). */
  signal?: AbortSignal;
  /** A multiplexed deployment's model for this item. */
  modelId?: string;
}

/** What a handler needs of an HTTP request besides its body. */
export interface RequestMeta {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string;
}

/** A handler's answer other than tensors: a JSON value, or bytes (in outputs) with a status and type. */
export interface ReplyMeta {
  json?: unknown;
  status?: number;
  contentType?: string;
}

export type RunResult =
  | ({
      ok: true;
      outputs: Tensor[] /** A handler's streamed answer, sent as chunks by the replica. */;
      stream?: AsyncIterable<unknown>;
    } & ReplyMeta)
  | { ok: false; code: ErrorCode; detail?: string };

export interface DeploymentRunner {
  readonly info: RunnerInfo;
  /** Items with equal keys may share one run. */
  batchKey(item: RunItem): string;
  /** Runs a batch; one result per item, in order. Must not throw for a bad item. */
  runBatch(items: RunItem[]): Promise<RunResult[]>;
  close(): Promise<void>;
}
