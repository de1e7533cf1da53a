import * as ort from 'onnxruntime-node';
import { CLS_MODEL } from './vigil-process.ts';

export const CLS_ELEMENTS = 3 * 48 * 192;
export const CLS_OUTPUT = 'softmax_0.tmp_0';

/** A deterministic pseudo-random input, different for each seed. */
export function clsInput(seed: number, rows = 1): Float32Array {
  const data = new Float32Array(CLS_ELEMENTS * rows);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = ((x >>> 0) / 4294967296) * 2 - 1;
  }
  return data;
}

let session: ort.InferenceSession | undefined;

/** The reference answer: the same model run directly with onnxruntime-node in the test process. */
export async function directRun(data: Float32Array, rows = 1): Promise<Float32Array> {
  session ??= await ort.InferenceSession.create(CLS_MODEL, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  const out = await session.run({ x: new ort.Tensor('float32', data, [rows, 3, 48, 192]) });
  return out[CLS_OUTPUT]!.data as Float32Array;
}

export function jsonInferBody(data: Float32Array, rows = 1, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ...extra,
    inputs: [{ name: 'x', shape: [rows, 3, 48, 192], datatype: 'FP32', data: Array.from(data) }],
  });
}

/** A request in the binary tensor data extension; returns the body and its headers. */
export function binaryInferBody(
  data: Float32Array,
  rows = 1,
  binaryOutput = false,
): { body: Uint8Array<ArrayBuffer>; headers: Record<string, string> } {
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        { name: 'x', shape: [rows, 3, 48, 192], datatype: 'FP32', parameters: { binary_data_size: data.byteLength } },
      ],
      ...(binaryOutput ? { outputs: [{ name: CLS_OUTPUT, parameters: { binary_data: true } }] } : {}),
    }),
  );
  return {
    body: new Uint8Array(Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)])),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
  };
}

/** POSTs a JSON inference; returns status, headers and the parsed body. */
export async function inferJson(
  url: string,
  data: Float32Array,
  opts: { rows?: number; headers?: Record<string, string>; model?: string } = {},
) {
  const res = await fetch(`${url}/v2/models/${opts.model ?? 'cls'}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: jsonInferBody(data, opts.rows ?? 1),
  });
  const body = (await res.json()) as {
    outputs?: Array<{ name: string; shape: number[]; data: number[] }>;
    error?: string;
    code?: string;
  };
  return { status: res.status, headers: res.headers, body };
}
