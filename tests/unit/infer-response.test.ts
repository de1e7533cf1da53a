import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { datatypeInfo, type Datatype, type Tensor } from '../../serving/protocol/datatypes.ts';
import { parseInferRequest } from '../../serving/protocol/infer-request.ts';
import { encodeInferResponse, halfToFloat, tensorBytes } from '../../serving/protocol/infer-response.ts';

/** Any Unicode text without lone surrogates (cheaper to set up than fc.string({ unit: 'binary' })). */
const codePoint = fc.oneof(
  fc.integer({ min: 0, max: 0x7f }),
  fc.integer({ min: 0x80, max: 0xd7ff }),
  fc.integer({ min: 0xe000, max: 0x10ffff }),
);
const unicodeString = (maxLength: number) =>
  fc.array(codePoint, { maxLength }).map((cps) => String.fromCodePoint(...cps));

const encode = (outputs: Tensor[], binary: string[] = [], id?: string) =>
  encodeInferResponse({ modelName: 'cls', modelVersion: 'v2', id, outputs, binaryOutputs: new Set(binary) });

/** Decodes a binary response with the request parser: the two halves of the extension must agree. */
function decodeWithRequestParser(body: Buffer, headerLength: number): Tensor[] {
  const doc = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as { outputs: unknown[] };
  const header = Buffer.from(JSON.stringify({ inputs: doc.outputs }));
  return parseInferRequest(Buffer.concat([header, body.subarray(headerLength)]), header.length).inputs;
}

describe('encodeInferResponse: JSON', () => {
  it('encodes FP32, INT64, BOOL and BYTES outputs as JSON data', () => {
    const { body, contentType, jsonLength } = encode(
      [
        { name: 'probs', datatype: 'FP32', shape: [1, 2], data: new Float32Array([0.25, -1.5]) },
        { name: 'label', datatype: 'INT64', shape: [2], data: new BigInt64Array([3n, -(2n ** 40n)]) },
        { name: 'flag', datatype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 2]) },
        { name: 'text', datatype: 'BYTES', shape: [2], data: ['héllo', ''] },
      ],
      [],
      'req-7',
    );
    expect(contentType).toBe('application/json');
    expect(jsonLength).toBeUndefined();
    expect(JSON.parse(body.toString('utf8'))).toEqual({
      model_name: 'cls',
      model_version: 'v2',
      id: 'req-7',
      outputs: [
        { name: 'probs', datatype: 'FP32', shape: [1, 2], data: [0.25, -1.5] },
        { name: 'label', datatype: 'INT64', shape: [2], data: [3, -(2 ** 40)] },
        { name: 'flag', datatype: 'BOOL', shape: [3], data: [true, false, true] },
        { name: 'text', datatype: 'BYTES', shape: [2], data: ['héllo', ''] },
      ],
    });
  });

  it('leaves out the id when the request had none', () => {
    const doc = JSON.parse(
      encode([{ name: 'y', datatype: 'INT32', shape: [1], data: new Int32Array([1]) }]).body.toString('utf8'),
    );
    expect(doc).not.toHaveProperty('id');
    expect(doc.outputs[0].data).toEqual([1]);
  });

  it('writes FP32 values as the float32 value the model produced', () => {
    const doc = JSON.parse(
      encode([{ name: 'y', datatype: 'FP32', shape: [1], data: new Float32Array([0.1]) }]).body.toString('utf8'),
    );
    expect(doc.outputs[0].data[0]).toBe(Math.fround(0.1));
  });

  it('gives JSON outputs back to the request parser unchanged (property)', () => {
    fc.assert(
      fc.property(
        fc.float32Array({ noNaN: true, noDefaultInfinity: true, maxLength: 10 }),
        fc.array(fc.boolean(), { maxLength: 10 }),
        (f32, bools) => {
          const { body } = encode([
            { name: 'f', datatype: 'FP32', shape: [f32.length], data: f32 },
            { name: 'b', datatype: 'BOOL', shape: [bools.length], data: Uint8Array.from(bools, Number) },
          ]);
          const doc = JSON.parse(body.toString('utf8')) as { outputs: unknown[] };
          const [f, b] = parseInferRequest(Buffer.from(JSON.stringify({ inputs: doc.outputs }))).inputs;
          // JSON has no -0; everything else survives exactly.
          expect(Array.from(f!.data as Float32Array)).toEqual(Array.from(f32, (v) => (v === 0 ? 0 : v)));
          expect(Array.from(b!.data as Uint8Array)).toEqual(bools.map(Number));
        },
      ),
    );
  });
});

describe('encodeInferResponse: binary tensor data extension', () => {
  it('sets inference-header-content-length to the JSON header and appends the raw bytes', () => {
    const probs = new Float32Array([0.25, 0.75]);
    const { body, contentType, jsonLength } = encode(
      [
        { name: 'probs', datatype: 'FP32', shape: [1, 2], data: probs },
        { name: 'label', datatype: 'INT64', shape: [1], data: new BigInt64Array([1n]) },
      ],
      ['probs'],
    );
    expect(contentType).toBe('application/octet-stream');
    const headerLength = jsonLength!;
    expect(Number.isInteger(headerLength)).toBe(true);
    const doc = JSON.parse(body.subarray(0, headerLength).toString('utf8'));
    expect(doc.outputs).toEqual([
      { name: 'probs', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } },
      { name: 'label', datatype: 'INT64', shape: [1], data: [1] },
    ]);
    expect(body.length).toBe(headerLength + 8);
    expect(body.readFloatLE(headerLength)).toBe(0.25);
    expect(body.readFloatLE(headerLength + 4)).toBe(0.75);
  });

  it('writes BYTES as 4-byte little-endian length prefixes', () => {
    const { body, jsonLength } = encode([{ name: 't', datatype: 'BYTES', shape: [2], data: ['ab', 'ü'] }], ['t']);
    const headerLength = jsonLength!;
    expect([...body.subarray(headerLength)]).toEqual([2, 0, 0, 0, 0x61, 0x62, 2, 0, 0, 0, 0xc3, 0xbc]);
  });

  it('writes only the bytes of a typed-array view, not its whole buffer', () => {
    const backing = new Float32Array([9, 1, 2, 9]);
    const view = new Float32Array(backing.buffer, 4, 2);
    expect([...tensorBytes({ name: 'v', datatype: 'FP32', shape: [2], data: view })]).toEqual([
      ...Buffer.from(new Float32Array([1, 2]).buffer),
    ]);
  });

  it('round-trips every datatype through the request parser (property)', () => {
    const numeric: Datatype[] = [
      'BOOL',
      'UINT8',
      'UINT16',
      'UINT32',
      'UINT64',
      'INT8',
      'INT16',
      'INT32',
      'INT64',
      'FP16',
      'FP32',
      'FP64',
    ];
    const numericTensor = fc
      .record({
        datatype: fc.constantFrom(...numeric),
        rows: fc.integer({ min: 0, max: 3 }),
        cols: fc.integer({ min: 1, max: 3 }),
      })
      .chain(({ datatype, rows, cols }) => {
        const n = rows * cols * datatypeInfo[datatype].size;
        return fc.uint8Array({ minLength: n, maxLength: n }).map((bytes): Tensor => {
          const data = datatypeInfo[datatype].create(rows * cols) as Uint8Array;
          new Uint8Array(data.buffer).set(bytes);
          return { name: '', datatype, shape: [rows, cols], data };
        });
      });
    const bytesTensor = fc
      .array(unicodeString(6), { maxLength: 4 })
      .map((s): Tensor => ({ name: '', datatype: 'BYTES', shape: [s.length], data: s }));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.oneof(numericTensor, bytesTensor), fc.boolean()), { minLength: 1, maxLength: 4 }),
        (specs) => {
          const outputs = specs.map(([t], i) => ({ ...t, name: `o${i}` }));
          // Random bit patterns of floats (NaN, Infinity) and 64-bit integers do not survive JSON, so those always go binary.
          const jsonSafe = (d: Datatype) => !['FP16', 'FP32', 'FP64', 'INT64', 'UINT64'].includes(d);
          const binary = outputs.filter((o, i) => specs[i]![1] || !jsonSafe(o.datatype)).map((o) => o.name);
          const { body, jsonLength } = encode(outputs, binary);
          if (binary.length === 0) {
            expect(jsonLength).toBeUndefined();
            return;
          }
          const decoded = decodeWithRequestParser(body, jsonLength!);
          decoded.forEach((t, i) => {
            const original = outputs[i]!;
            expect(t.name).toBe(original.name);
            expect(t.datatype).toBe(original.datatype);
            expect(t.shape).toEqual(original.shape);
            if (binary.includes(original.name)) {
              if (Array.isArray(original.data)) expect(t.data).toEqual(original.data);
              else {
                const got = t.data as Uint8Array;
                const want = original.data as Uint8Array;
                expect(
                  Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(
                    Buffer.from(want.buffer, want.byteOffset, want.byteLength),
                  ),
                ).toBe(true);
              }
            } else {
              const expected = Array.from(original.data as ArrayLike<unknown>, (v) =>
                original.datatype === 'BOOL' ? (v ? 1 : 0) : v,
              );
              expect(Array.from(t.data as ArrayLike<unknown>)).toEqual(expected);
            }
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('FP16 outputs in JSON', () => {
  it('decodes half-precision bits to numbers', () => {
    expect([0x3c00, 0xc000, 0x0000, 0x7c00, 0x3555].map(halfToFloat)).toEqual([1, -2, 0, Infinity, 0.333251953125]);
    const { body } = encodeInferResponse({
      modelName: 'm',
      modelVersion: 'v',
      outputs: [{ name: 'h', datatype: 'FP16', shape: [2], data: new Uint16Array([0x3c00, 0xc000]) }],
      binaryOutputs: new Set(),
    });
    expect(JSON.parse(body.toString()).outputs[0].data).toEqual([1, -2]);
  });
});
