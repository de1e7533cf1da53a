import type { ErrorCode } from '../errors.ts';
import type { Tensor } from '../protocol/datatypes.ts';
import type { ModelSignature } from '../protocol/model-metadata.ts';

/**
 * What a replica hosts. Today an ONNX model (onnx-runner.ts); the handlers issue adds TypeScript
 * handlers behind the same interface, so the IPC protocol and the batcher never assume "one ONNX
 * session".
 */
export interface RunnerInfo {
  signature: ModelSignature;
  provider: string;
  /** True when requests may be concatenated along axis 0. */
  batchable: boolean;
}

export interface RunItem {
  inputs: Tensor[];
  outputs?: string[];
}

export type RunResult = { ok: true; outputs: Tensor[] } | { ok: false; code: ErrorCode; message: string };

export interface DeploymentRunner {
  readonly info: RunnerInfo;
  /** Items with equal keys may share one run. */
  batchKey(item: RunItem): string;
  /** Runs a batch; one result per item, in order. Must not throw for a bad item. */
  runBatch(items: RunItem[]): Promise<RunResult[]>;
  close(): Promise<void>;
}
