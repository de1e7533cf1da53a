import { datatypeInfo, type Tensor } from './datatypes.ts';

export interface InferResponseParts {
  modelName: string;
  modelVersion: string;
  id?: string;
  outputs: Tensor[];
  /** Names of the outputs to send as binary data (the binary tensor data extension). */
  binaryOutputs: ReadonlySet<string>;
}

export interface EncodedResponse {
  body: Buffer;
  contentType: 'application/json' | 'application/octet-stream';
  /** The JSON header's length when binary data follows it (Inference-Header-Content-Length). */
  jsonLength?: number;
}

/** Encodes an OIP v2 response as JSON, or as JSON header plus binary data when any output is binary. */
export function encodeInferResponse(parts: InferResponseParts): EncodedResponse {
  const chunks: Buffer[] = [];
  const outputs = parts.outputs.map((t) => {
    if (parts.binaryOutputs.has(t.name)) {
      const bytes = tensorBytes(t);
      chunks.push(bytes);
      return { name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: bytes.length } };
    }
    return { name: t.name, datatype: t.datatype, shape: t.shape, data: jsonData(t) };
  });
  const doc: Record<string, unknown> = { model_name: parts.modelName, model_version: parts.modelVersion };
  if (parts.id !== undefined) doc.id = parts.id;
  doc.outputs = outputs;
  const header = Buffer.from(JSON.stringify(doc));
  if (chunks.length === 0) return { body: header, contentType: 'application/json' };
  return {
    body: Buffer.concat([header, ...chunks]),
    contentType: 'application/octet-stream',
    jsonLength: header.length,
  };
}

function jsonData(t: Tensor): unknown[] {
  const data = t.data;
  if (Array.isArray(data)) return data;
  if (t.datatype === 'BOOL') return Array.from(data as Uint8Array, (v) => v !== 0);
  // JSON numbers lose precision past 2^53; clients that need exact 64-bit integers ask for binary.
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, (v) => Number(v));
  if (t.datatype === 'FP16') return Array.from(data as Uint16Array, halfToFloat);
  return Array.from(data as Float32Array);
}

/** Decodes IEEE 754 half-precision bits, so FP16 outputs read as numbers in JSON. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** The binary extension's bytes for a tensor: raw little-endian elements, or length-prefixed strings. */
export function tensorBytes(t: Tensor): Buffer {
  if (Array.isArray(t.data)) {
    const parts: Buffer[] = [];
    for (const s of t.data) {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      parts.push(len, b);
    }
    return Buffer.concat(parts);
  }
  const size = datatypeInfo[t.datatype].size;
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.length * size);
}
