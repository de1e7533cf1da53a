/**
 * Writes the smallest useful ONNX model: `y = Identity(x)`, FP32 [N, 4] in and out, opset 13. The
 * ceiling benchmark serves it so that what is measured is vigil (HTTP, OIP parsing, admission,
 * routing, accounting), not a model. Encoded by hand: an ONNX file is a protobuf `ModelProto`;
 * the field numbers below are onnx.proto's.
 */
import { writeFileSync } from 'node:fs';

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** A varint field (wire type 0). */
const int = (field: number, value: number): number[] => [...varint(field * 8), ...varint(value)];
/** A length-delimited field (wire type 2): a string or an embedded message. */
function bytes(field: number, payload: number[] | string): number[] {
  const body = typeof payload === 'string' ? [...Buffer.from(payload, 'utf8')] : payload;
  return [...varint(field * 8 + 2), ...varint(body.length), ...body];
}

const FLOAT = 1; // TensorProto.DataType.FLOAT

/** ValueInfoProto {name, type: TypeProto {tensor_type: {elem_type, shape: [N, width]}}}. */
function tensorInfo(name: string, width: number): number[] {
  const shape = [...bytes(1, bytes(2, 'N')), ...bytes(1, int(1, width))]; // dim_param N, dim_value
  const tensorType = [...int(1, FLOAT), ...bytes(2, shape)];
  return [...bytes(1, name), ...bytes(2, bytes(1, tensorType))];
}

export function identityModel(width = 4): Buffer {
  const node = [...bytes(1, 'x'), ...bytes(2, 'y'), ...bytes(3, 'identity'), ...bytes(4, 'Identity')];
  const graph = [
    ...bytes(1, node),
    ...bytes(2, 'identity'),
    ...bytes(11, tensorInfo('x', width)),
    ...bytes(12, tensorInfo('y', width)),
  ];
  const opset = [...bytes(1, ''), ...int(2, 13)];
  const model = [...int(1, 8), ...bytes(2, 'vigil-bench'), ...bytes(7, graph), ...bytes(8, opset)];
  return Buffer.from(model);
}

export function writeIdentityModel(file: string, width = 4): string {
  writeFileSync(file, identityModel(width));
  return file;
}
