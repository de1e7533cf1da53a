import * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice } from '../config/schema.ts';
import { datatypeFromOrt, datatypeInfo, elementCount, type NumericArray, type Tensor } from '../protocol/datatypes.ts';
import type { ModelSignature, TensorSpec } from '../protocol/model-metadata.ts';
import { providerCandidates } from './execution-provider.ts';
import type { DeploymentRunner, RunItem, RunResult, RunnerInfo } from './runner.ts';

export interface OnnxRunnerOptions {
  model: string;
  executionProvider: ExecutionProviderChoice;
  intraOpThreads: number;
  /** Called when an accelerator could not be used and a fallback was tried. */
  warn(message: string, fields: Record<string, unknown>): void;
}

/** Hosts one ONNX Runtime session and runs batches on it. */
export class OnnxRunner implements DeploymentRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly info: RunnerInfo,
  ) {}

  /** Creates the session on the first provider that loads, falling back towards CPU. */
  static async create(options: OnnxRunnerOptions): Promise<OnnxRunner> {
    const candidates = providerCandidates(options.executionProvider);
    let lastError: unknown;
    for (const provider of candidates) {
      try {
        const session = await ort.InferenceSession.create(options.model, {
          executionProviders: [provider],
          intraOpNumThreads: options.intraOpThreads,
          // Replicas are processes; ORT's inter-op pool would only compete with its siblings.
          interOpNumThreads: 1,
          graphOptimizationLevel: 'all',
        });
        const signature = readSignature(session);
        return new OnnxRunner(session, { kind: 'model', signature, provider, batchable: isBatchable(signature) });
      } catch (err) {
        lastError = err;
        if (provider !== 'cpu') {
          options.warn(`execution provider ${provider} failed to load; trying the next one`, {
            provider,
            next: candidates[candidates.indexOf(provider) + 1],
            error: String((err as Error).message ?? err)
              .split('\n')[0]
              ?.slice(0, 300),
          });
        }
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  batchKey(item: RunItem): string {
    if (!this.info.batchable) return `solo:${Math.random()}`;
    let key = '';
    for (const t of [...item.inputs].sort((a, b) => (a.name < b.name ? -1 : 1)))
      key += `${t.name}:${t.datatype}:${t.shape.slice(1).join('x')};`;
    return key;
  }

  async runBatch(items: RunItem[]): Promise<RunResult[]> {
    if (items.length === 1) return [await this.runOne(items[0]!)];
    let outputs: Record<string, ort.Tensor>;
    const rows = items.map((i) => i.inputs[0]!.shape[0]!);
    try {
      if (items.some((i) => i.inputs.length !== items[0]!.inputs.length))
        throw new Error('items have different inputs');
      outputs = await this.session.run(concatInputs(items));
    } catch {
      // One bad item must not fail its neighbours: run each alone so only the culprit fails.
      return Promise.all(items.map((item) => this.runOne(item)));
    }
    const total = rows.reduce((a, b) => a + b, 0);
    const split = splitOutputs(outputs, rows, total);
    if (!split) return Promise.all(items.map((item) => this.runOne(item)));
    return items.map((item, i) => ({ ok: true, outputs: select(split[i]!, item.outputs) }));
  }

  private async runOne(item: RunItem): Promise<RunResult> {
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of item.inputs) feeds[t.name] = toOrt(t);
      const out = await this.session.run(feeds);
      return {
        ok: true,
        outputs: select(
          Object.entries(out).map(([name, t]) => fromOrt(name, t)),
          item.outputs,
        ),
      };
    } catch (err) {
      return {
        ok: false,
        code: 'VIGIL_ERR_INFERENCE_FAILED',
        detail: String((err as Error).message ?? err)
          .split('\n')[0]!
          .slice(0, 500),
      };
    }
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

export function readSignature(session: ort.InferenceSession): ModelSignature {
  const spec = (meta: ort.InferenceSession.ValueMetadata): TensorSpec => {
    if (!meta.isTensor) throw new Error(`model value "${meta.name}" is not a tensor; vigil serves tensor models only`);
    const datatype = datatypeFromOrt(meta.type);
    if (!datatype)
      throw new Error(`model value "${meta.name}" has type ${meta.type}, which the inference protocol cannot carry`);
    return { name: meta.name, datatype, shape: meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
  };
  return { inputs: session.inputMetadata.map(spec), outputs: session.outputMetadata.map(spec) };
}

function isBatchable(signature: ModelSignature): boolean {
  return [...signature.inputs, ...signature.outputs].every((s) => s.shape.length > 0 && s.shape[0] === -1);
}

function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(datatypeInfo[t.datatype].ort as 'float32', t.data as Float32Array, t.shape);
}

function fromOrt(name: string, t: ort.Tensor): Tensor {
  const datatype = datatypeFromOrt(t.type);
  if (!datatype) throw new Error(`output "${name}" has type ${t.type}, which the inference protocol cannot carry`);
  return { name, datatype, shape: [...t.dims], data: t.data as NumericArray };
}

function concatInputs(items: RunItem[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const first of items[0]!.inputs) {
    const parts = items.map((item) => item.inputs.find((t) => t.name === first.name));
    const inner = first.shape.slice(1).join('x');
    // The batcher groups by batchKey, but a batch that cannot be concatenated exactly must fail
    // here (and fall back to single runs) rather than run with padded or misaligned rows.
    for (const t of parts) {
      if (
        !t ||
        t.datatype !== first.datatype ||
        t.shape.slice(1).join('x') !== inner ||
        t.data.length !== elementCount(t.shape)
      ) {
        throw new Error('items in this batch are not compatible');
      }
    }
    const rows = parts.reduce((n, t) => n + t!.shape[0]!, 0);
    const shape = [rows, ...first.shape.slice(1)];
    if (first.datatype === 'BYTES') {
      feeds[first.name] = new ort.Tensor(
        'string',
        parts.flatMap((t) => t!.data as string[]),
        shape,
      );
      continue;
    }
    const data = datatypeInfo[first.datatype].create(elementCount(shape)) as NumericArray;
    let offset = 0;
    for (const t of parts as Tensor[]) {
      (data as Float32Array).set(t.data as Float32Array, offset);
      offset += t.data.length;
    }
    feeds[first.name] = toOrt({ name: first.name, datatype: first.datatype, shape, data });
  }
  return feeds;
}

/** Splits batch outputs back per item along axis 0; undefined if an output is not batch-major. */
function splitOutputs(outputs: Record<string, ort.Tensor>, rows: number[], total: number): Tensor[][] | undefined {
  const perItem: Tensor[][] = rows.map(() => []);
  for (const [name, t] of Object.entries(outputs)) {
    const out = fromOrt(name, t);
    if (out.shape[0] !== total) return undefined;
    const rowSize = total === 0 ? 0 : out.data.length / total;
    let start = 0;
    rows.forEach((r, i) => {
      // slice, not subarray: each item then owns exactly its rows, whatever carries it next.
      const data = out.data.slice(start * rowSize, (start + r) * rowSize) as NumericArray;
      perItem[i]!.push({ name, datatype: out.datatype, shape: [r, ...out.shape.slice(1)], data });
      start += r;
    });
  }
  return perItem;
}

function select(outputs: Tensor[], names?: string[]): Tensor[] {
  if (!names) return outputs;
  return names.map((n) => outputs.find((o) => o.name === n)).filter((o): o is Tensor => o !== undefined);
}
