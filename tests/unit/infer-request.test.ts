import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VigilError, type ErrorCode } from '../../serving/errors.ts';
import { datatypeInfo, datatypes, elementCount, type Datatype } from '../../serving/protocol/datatypes.ts';
import { parseInferRequest, type InferRequest } from '../../serving/protocol/infer-request.ts';

// ---------------------------------------------------------------------------------------------
// Helpers

const json = (doc: unknown): Buffer => Buffer.from(JSON.stringify(doc));

/** A one-input request body. */
const single = (input: Record<string, unknown>, extra: Record<string, unknown> = {}): Buffer =>
  json({ inputs: [input], ...extra });

/** Header JSON + binary tail, and the header length to pass as Inference-Header-Content-Length. */
function binaryBody(doc: unknown, ...chunks: ArrayBufferView[]): [Buffer, number] {
  const header = json(doc);
  return [
    Buffer.concat([header, ...chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength))]),
    header.length,
  ];
}

/** The 4-byte little-endian length-prefixed form of BYTES elements. */
function encodeStrings(values: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const s of values) {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    parts.push(len, b);
  }
  return Buffer.concat(parts);
}

/** The error a parse throws; fails the test if the parse succeeds or throws anything else. */
function errorOf(body: Buffer, headerLength?: number): VigilError {
  try {
    parseInferRequest(body, headerLength);
  } catch (err) {
    expect(err).toBeInstanceOf(VigilError);
    return err as VigilError;
  }
  throw new Error('expected parseInferRequest to throw');
}

function expectCode(body: Buffer, code: ErrorCode, headerLength?: number): VigilError {
  const err = errorOf(body, headerLength);
  expect(err.code).toBe(code);
  expect(err.status).toBe(400);
  return err;
}

/** Nests a flat row-major list to the given shape, as a client may send it. */
function nest(flat: readonly unknown[], shape: readonly number[]): unknown[] {
  if (shape.length <= 1) return [...flat];
  const [outer, ...inner] = shape as [number, ...number[]];
  const size = elementCount(inner);
  return Array.from({ length: outer }, (_, i) => nest(flat.slice(i * size, (i + 1) * size), inner));
}

const bytesOf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Any Unicode text without lone surrogates (cheaper to set up than fc.string({ unit: 'binary' })). */
const codePoint = fc.oneof(
  fc.integer({ min: 0, max: 0x7f }),
  fc.integer({ min: 0x80, max: 0xd7ff }),
  fc.integer({ min: 0xe000, max: 0x10ffff }),
);
const unicodeString = (maxLength: number) =>
  fc.array(codePoint, { maxLength }).map((cps) => String.fromCodePoint(...cps));

const noNegZero = (v: number): number => (v === 0 ? 0 : v); // JSON writes -0 as 0

/** Per JSON datatype: a value generator and what the parsed typed array holds for that value. */
const jsonTypes = {
  FP32: {
    value: fc.float({ noNaN: true, noDefaultInfinity: true }).map(noNegZero),
    expect: (v: unknown) => v,
    array: Float32Array,
  },
  FP64: {
    value: fc.double({ noNaN: true, noDefaultInfinity: true }).map(noNegZero),
    expect: (v: unknown) => v,
    array: Float64Array,
  },
  INT32: { value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), expect: (v: unknown) => v, array: Int32Array },
  INT64: { value: fc.maxSafeInteger(), expect: (v: unknown) => BigInt(v as number), array: BigInt64Array },
  UINT8: { value: fc.integer({ min: 0, max: 255 }), expect: (v: unknown) => v, array: Uint8Array },
  BOOL: { value: fc.boolean(), expect: (v: unknown) => (v ? 1 : 0), array: Uint8Array },
  BYTES: { value: unicodeString(12), expect: (v: unknown) => v, array: Array },
} as const satisfies Partial<Record<Datatype, unknown>>;
type JsonType = keyof typeof jsonTypes;

const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });

/** A tensor of a JSON-capable datatype with data that fits its shape. */
const jsonTensorArb = fc
  .record({
    datatype: fc.constantFrom(...(Object.keys(jsonTypes) as JsonType[])),
    shape: shapeArb,
    nested: fc.boolean(),
  })
  .chain(({ datatype, shape, nested }) => {
    const n = elementCount(shape);
    return fc
      .array(jsonTypes[datatype].value as fc.Arbitrary<unknown>, { minLength: n, maxLength: n })
      .map((values) => ({ datatype, shape, nested, values }));
  });

const nameArb = fc.string({ minLength: 1, maxLength: 8 });

// ---------------------------------------------------------------------------------------------

describe('parseInferRequest: JSON tensors (property)', () => {
  it('gives back the shape and data of every input for every JSON datatype, flat or nested', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(nameArb, jsonTensorArb), { minLength: 1, maxLength: 3, selector: ([name]) => name }),
        (tensors) => {
          const body = json({
            inputs: tensors.map(([name, t]) => ({
              name,
              datatype: t.datatype,
              shape: t.shape,
              data: t.nested ? nest(t.values, t.shape) : t.values,
            })),
          });
          const request = parseInferRequest(body);
          expect(request.inputs).toHaveLength(tensors.length);
          tensors.forEach(([name, t], i) => {
            const input = request.inputs[i]!;
            expect(input.name).toBe(name);
            expect(input.datatype).toBe(t.datatype);
            expect(input.shape).toEqual(t.shape);
            expect(input.data).toBeInstanceOf(jsonTypes[t.datatype].array);
            expect(input.data.length).toBe(elementCount(t.shape));
            expect(Array.from(input.data as ArrayLike<unknown>)).toEqual(t.values.map(jsonTypes[t.datatype].expect));
          });
          expect(request.binaryOutputs).toBe(false);
          expect(request.outputs).toBeUndefined();
          expect(request.timeoutUs).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('parseInferRequest: binary tensor data extension (property)', () => {
  const numericTypes = datatypes.filter((d) => d !== 'BYTES');

  it('decodes raw little-endian bytes of every numeric datatype into an aligned typed array of the same bytes', () => {
    const tensorArb = fc
      .record({ datatype: fc.constantFrom(...numericTypes), shape: shapeArb })
      .chain(({ datatype, shape }) => {
        const n = elementCount(shape) * datatypeInfo[datatype].size;
        return fc.uint8Array({ minLength: n, maxLength: n }).map((bytes) => ({ datatype, shape, bytes }));
      });
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(nameArb, tensorArb), { minLength: 1, maxLength: 3, selector: ([name]) => name }),
        (tensors) => {
          const [body, headerLength] = binaryBody(
            {
              inputs: tensors.map(([name, t]) => ({
                name,
                datatype: t.datatype,
                shape: t.shape,
                parameters: { binary_data_size: t.bytes.length },
              })),
            },
            ...tensors.map(([, t]) => t.bytes),
          );
          const request = parseInferRequest(body, headerLength);
          tensors.forEach(([name, t], i) => {
            const input = request.inputs[i]!;
            expect(input.name).toBe(name);
            expect(input.datatype).toBe(t.datatype);
            expect(input.shape).toEqual(t.shape);
            expect(input.data.length).toBe(elementCount(t.shape));
            expect(input.data).toBeInstanceOf(datatypeInfo[t.datatype].create(0).constructor);
            const view = input.data as ArrayBufferView;
            expect(view.byteOffset % datatypeInfo[t.datatype].size).toBe(0);
            expect(bytesOf(view).equals(Buffer.from(t.bytes))).toBe(true);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes numbers written as typed arrays back to the same values', () => {
    fc.assert(
      fc.property(
        fc.float32Array({ maxLength: 12 }),
        fc.bigInt64Array({ maxLength: 6 }),
        fc.int32Array({ maxLength: 6 }),
        (f32, i64, i32) => {
          const [body, headerLength] = binaryBody(
            {
              inputs: [
                { name: 'f', datatype: 'FP32', shape: [f32.length], parameters: { binary_data_size: f32.byteLength } },
                {
                  name: 'l',
                  datatype: 'INT64',
                  shape: [1, i64.length],
                  parameters: { binary_data_size: i64.byteLength },
                },
                {
                  name: 'i',
                  datatype: 'INT32',
                  shape: [i32.length, 1],
                  parameters: { binary_data_size: i32.byteLength },
                },
              ],
            },
            f32,
            i64,
            i32,
          );
          const [f, l, i] = parseInferRequest(body, headerLength).inputs;
          expect(f!.data).toEqual(f32); // toEqual treats NaN as equal to NaN
          expect(l!.data).toEqual(i64);
          expect(i!.data).toEqual(i32);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('decodes BYTES from 4-byte little-endian length prefixes', () => {
    fc.assert(
      fc.property(
        fc.array(unicodeString(20), { maxLength: 8 }),
        fc.array(unicodeString(20), { maxLength: 8 }),
        (a, b) => {
          const ea = encodeStrings(a);
          const eb = encodeStrings(b);
          const [body, headerLength] = binaryBody(
            {
              inputs: [
                { name: 'a', datatype: 'BYTES', shape: [a.length], parameters: { binary_data_size: ea.length } },
                { name: 'b', datatype: 'BYTES', shape: [1, b.length], parameters: { binary_data_size: eb.length } },
              ],
            },
            ea,
            eb,
          );
          const request = parseInferRequest(body, headerLength);
          expect(request.inputs[0]!.data).toEqual(a);
          expect(request.inputs[1]!.data).toEqual(b);
          expect(request.inputs[1]!.shape).toEqual([1, b.length]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('mixes JSON and binary inputs in one request, with offsets counted only for binary ones', () => {
    const a = new Float32Array([1.5, -2]);
    const c = new Int32Array([7, 8, 9]);
    const [body, headerLength] = binaryBody(
      {
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } },
          { name: 'b', datatype: 'INT32', shape: [2], data: [3, 4] },
          { name: 'c', datatype: 'INT32', shape: [3], parameters: { binary_data_size: 12 } },
        ],
      },
      a,
      c,
    );
    const request = parseInferRequest(body, headerLength);
    expect(Array.from(request.inputs[0]!.data as Float32Array)).toEqual([1.5, -2]);
    expect(Array.from(request.inputs[1]!.data as Int32Array)).toEqual([3, 4]);
    expect(Array.from(request.inputs[2]!.data as Int32Array)).toEqual([7, 8, 9]);
  });

  it('views aligned binary data in place, and copies it only when unaligned', () => {
    const floats = new Float32Array([1.5, -2, 3]);
    const [body, headerLength] = binaryBody(
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [3], parameters: { binary_data_size: 12 } }] },
      floats,
    );
    // Place the body so its binary part is 4-aligned (as readBody does), and so that it is not.
    for (const shift of [0, 1]) {
      const pad = (8 - (headerLength % 8)) % 8;
      const backing = Buffer.alloc(body.length + pad + shift + 8);
      const placed = backing.subarray(pad + shift, pad + shift + body.length);
      body.copy(placed);
      const x = parseInferRequest(placed, headerLength).inputs[0]!.data as Float32Array;
      expect(Array.from(x)).toEqual([1.5, -2, 3]);
      expect(x.buffer === backing.buffer).toBe(shift === 0);
    }
  });

  it('accepts FP16 as binary data only', () => {
    const half = new Uint16Array([0x3c00, 0xc000]); // 1.0, -2.0
    const [body, headerLength] = binaryBody(
      { inputs: [{ name: 'h', datatype: 'FP16', shape: [2], parameters: { binary_data_size: 4 } }] },
      half,
    );
    expect(Array.from(parseInferRequest(body, headerLength).inputs[0]!.data as Uint16Array)).toEqual([0x3c00, 0xc000]);
    expectCode(single({ name: 'h', datatype: 'FP16', shape: [1], data: [1] }), 'VIGIL_ERR_WRONG_DATATYPE');
  });
});

describe('parseInferRequest: hostile input (property)', () => {
  /** Parsing either succeeds with a consistent request, or fails with a 4xx VigilError. */
  function parsesOrRejectsCleanly(body: Buffer, headerLength?: number): void {
    let request: InferRequest;
    try {
      request = parseInferRequest(body, headerLength);
    } catch (err) {
      expect(err).toBeInstanceOf(VigilError);
      expect((err as VigilError).status).toBeGreaterThanOrEqual(400);
      expect((err as VigilError).status).toBeLessThanOrEqual(499);
      return;
    }
    expect(request.inputs.length).toBeGreaterThan(0);
    for (const input of request.inputs) expect(input.data.length).toBe(elementCount(input.shape));
  }

  const headerLengthArb = (len: number) =>
    fc.option(fc.oneof(fc.integer({ min: -3, max: len + 3 }), fc.double()), { nil: undefined });

  it('never throws anything but a 4xx VigilError for random bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }).chain((b) => fc.tuple(fc.constant(b), headerLengthArb(b.length))),
        ([bytes, headerLength]) => parsesOrRejectsCleanly(Buffer.from(bytes), headerLength),
      ),
      { numRuns: 500 },
    );
  });

  it('never throws anything but a 4xx VigilError for random strings', () => {
    fc.assert(
      fc.property(unicodeString(200), (s) => parsesOrRejectsCleanly(Buffer.from(s))),
      { numRuns: 500 },
    );
  });

  it('never throws anything but a 4xx VigilError for random JSON', () => {
    fc.assert(
      fc.property(fc.json(), (s) => parsesOrRejectsCleanly(Buffer.from(s))),
      { numRuns: 500 },
    );
  });

  it('never throws anything but a 4xx VigilError for almost-valid requests, JSON or binary', () => {
    const junk = fc.jsonValue({ maxDepth: 2 });
    /** Usually `arb`, sometimes anything at all. */
    const mostly = <T>(arb: fc.Arbitrary<T>, junkWeight = 1) =>
      fc.oneof({ weight: 12, arbitrary: arb }, { weight: junkWeight, arbitrary: junk });
    const name = fc.constantFrom('a', 'b', 'c', 'd');
    const smallShape = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 });

    // JSON data that fits its shape, with the odd wrong element, wrong length or wrong nesting.
    const jsonInput = fc
      .record({
        name,
        datatype: fc.constantFrom(...(Object.keys(jsonTypes) as JsonType[]), 'FP16', 'UINT64', 'INT8'),
        shape: smallShape,
        extra: fc.integer({ min: -1, max: 1 }),
        nested: fc.boolean(),
      })
      .chain(({ name, datatype, shape, extra, nested }) => {
        const valid =
          datatype in jsonTypes
            ? (jsonTypes[datatype as JsonType].value as fc.Arbitrary<unknown>)
            : fc.integer({ min: -200, max: 200 });
        const n = Math.max(0, elementCount(shape) + (extra === 0 ? 0 : extra));
        return fc
          .array(mostly(valid), { minLength: n, maxLength: n })
          .map(
            (values) =>
              ({ name, datatype, shape, data: nested && extra === 0 ? nest(values, shape) : values }) as Record<
                string,
                unknown
              >,
          );
      });
    // Binary inputs whose declared size is usually right.
    const binaryInput = fc
      .record({
        name,
        datatype: fc.constantFrom(...datatypes),
        shape: smallShape,
        off: fc.constantFrom(0, 0, 0, -1, 1),
      })
      .map(({ name, datatype, shape, off }) => {
        const size = datatype === 'BYTES' ? elementCount(shape) * 5 : elementCount(shape) * datatypeInfo[datatype].size;
        return { name, datatype, shape, parameters: { binary_data_size: Math.max(0, size + off) } } as Record<
          string,
          unknown
        >;
      });
    // Any field may be missing or replaced by junk.
    const wildInput = fc.record(
      {
        name: mostly(fc.string({ maxLength: 3 })),
        datatype: mostly(fc.constantFrom(...datatypes, 'FLOAT32', '')),
        shape: mostly(
          fc.array(fc.oneof(fc.integer({ min: -1, max: 4 }), fc.constant(2 ** 53), fc.constant(1.5)), {
            maxLength: 18,
          }),
        ),
        data: mostly(
          fc.array(
            fc.oneof(
              fc.integer({ min: -300, max: 300 }),
              fc.double(),
              fc.boolean(),
              fc.string({ maxLength: 3 }),
              fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
            ),
            { maxLength: 8 },
          ),
        ),
        parameters: mostly(
          fc.record({ binary_data_size: mostly(fc.integer({ min: -1, max: 40 })) }, { requiredKeys: [] }),
        ),
      },
      { requiredKeys: [] },
    );
    const input = fc.oneof(
      { weight: 4, arbitrary: jsonInput },
      { weight: 3, arbitrary: binaryInput },
      { weight: 1, arbitrary: wildInput },
    );
    const output = fc.record(
      {
        name: mostly(name),
        parameters: mostly(fc.record({ binary_data: mostly(fc.boolean()) }, { requiredKeys: [] })),
      },
      { requiredKeys: ['name'] },
    );
    const docArb = fc.record(
      {
        id: mostly(fc.string({ maxLength: 4 })),
        parameters: mostly(
          fc.record(
            {
              timeout: mostly(fc.oneof(fc.integer({ min: -5, max: 1e7 }), fc.double())),
              binary_data_output: mostly(fc.boolean()),
            },
            { requiredKeys: [] },
          ),
        ),
        inputs: mostly(fc.array(input, { minLength: 1, maxLength: 3 })),
        outputs: mostly(fc.array(mostly(output), { maxLength: 3 })),
      },
      { requiredKeys: ['inputs'] },
    );
    /** A binary tail of about the declared length: the right bytes are not the point, the sizes are. */
    const tailFor = (doc: Record<string, unknown>) => {
      const declared = Array.isArray(doc.inputs)
        ? doc.inputs.reduce((n: number, i) => {
            const size = i?.parameters?.binary_data_size;
            return n + (Number.isInteger(size) && size > 0 && size < 1000 ? size : 0);
          }, 0)
        : 0;
      return fc.oneof(
        fc.uint8Array({ minLength: declared, maxLength: declared }),
        fc.uint8Array({ maxLength: declared + 4 }),
      );
    };
    let accepted = 0;
    fc.assert(
      fc.property(
        docArb.chain((doc) => fc.tuple(fc.constant(doc), fc.option(tailFor(doc), { nil: undefined, freq: 4 }))),
        ([doc, tail]) => {
          const [body, headerLength] = tail === undefined ? [json(doc), undefined] : binaryBody(doc, tail);
          try {
            parseInferRequest(body, headerLength);
            accepted++;
          } catch {
            // checked below
          }
          parsesOrRejectsCleanly(body, headerLength);
        },
      ),
      { numRuns: 1500 },
    );
    // The generator is only useful if it reaches the end of the parser now and then.
    expect(accepted).toBeGreaterThan(15);
  });
});

describe('parseInferRequest: specific errors', () => {
  const ok = { name: 'x', datatype: 'FP32', shape: [2], data: [1, 2] };

  it('rejects malformed JSON with VIGIL_ERR_MALFORMED_JSON', () => {
    expectCode(Buffer.from('{"inputs": ['), 'VIGIL_ERR_MALFORMED_JSON');
    expectCode(Buffer.from(''), 'VIGIL_ERR_MALFORMED_JSON');
    expectCode(Buffer.from([0xff, 0xfe, 0x00]), 'VIGIL_ERR_MALFORMED_JSON');
  });

  it('rejects a body that is not a JSON object', () => {
    for (const doc of [[], null, 1, 'inputs', true]) expectCode(json(doc), 'VIGIL_ERR_INVALID_REQUEST');
  });

  it('rejects missing, empty or non-array inputs', () => {
    expectCode(json({}), 'VIGIL_ERR_INVALID_REQUEST');
    expectCode(json({ inputs: [] }), 'VIGIL_ERR_INVALID_REQUEST');
    expectCode(json({ inputs: ok }), 'VIGIL_ERR_INVALID_REQUEST');
  });

  it('rejects more than 256 inputs', () => {
    const inputs = Array.from({ length: 257 }, (_, i) => ({ ...ok, name: `x${i}` }));
    expect(parseInferRequest(json({ inputs: inputs.slice(0, 256) })).inputs).toHaveLength(256);
    expectCode(json({ inputs }), 'VIGIL_ERR_INVALID_REQUEST');
  });

  it('rejects an input name that appears twice', () => {
    expect(expectCode(json({ inputs: [ok, ok] }), 'VIGIL_ERR_INVALID_REQUEST').message).toContain('"x" appears twice');
  });

  it('rejects a non-string id and keeps a string one', () => {
    expectCode(single(ok, { id: 7 }), 'VIGIL_ERR_INVALID_REQUEST');
    expect(parseInferRequest(single(ok, { id: 'req-1' })).id).toBe('req-1');
    expect(parseInferRequest(single(ok)).id).toBeUndefined();
  });

  it('rejects an input without a name or without data', () => {
    expectCode(single({ ...ok, name: '' }), 'VIGIL_ERR_INVALID_REQUEST');
    expectCode(single({ ...ok, name: 3 }), 'VIGIL_ERR_INVALID_REQUEST');
    expectCode(single({ name: 'x', datatype: 'FP32', shape: [2] }), 'VIGIL_ERR_INVALID_REQUEST');
    expectCode(single({ ...ok, data: { 0: 1, 1: 2 } }), 'VIGIL_ERR_INVALID_REQUEST');
    expectCode(json({ inputs: ['x'] }), 'VIGIL_ERR_INVALID_REQUEST');
  });

  it('rejects a data length that does not match the shape with VIGIL_ERR_DATA_LENGTH', () => {
    const err = expectCode(
      single({ name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3] }),
      'VIGIL_ERR_DATA_LENGTH',
    );
    expect(err.message).toContain('shape holds 4 elements but "data" has 3');
    expectCode(single({ name: 'x', datatype: 'INT32', shape: [], data: [] }), 'VIGIL_ERR_DATA_LENGTH');
    expectCode(single({ name: 'x', datatype: 'INT32', shape: [0], data: [1] }), 'VIGIL_ERR_DATA_LENGTH');
  });

  it('accepts a scalar (rank 0) and an empty tensor', () => {
    expect(parseInferRequest(single({ name: 'x', datatype: 'INT32', shape: [], data: [5] })).inputs[0]!.data).toEqual(
      new Int32Array([5]),
    );
    expect(parseInferRequest(single({ name: 'x', datatype: 'FP32', shape: [3, 0], data: [] })).inputs[0]!.data).toEqual(
      new Float32Array(0),
    );
  });

  it('rejects an unknown datatype with VIGIL_ERR_WRONG_DATATYPE', () => {
    for (const datatype of ['FLOAT32', 'fp32', '', 5, undefined])
      expectCode(single({ ...ok, datatype }), 'VIGIL_ERR_WRONG_DATATYPE');
  });

  it('rejects a bad shape with VIGIL_ERR_WRONG_SHAPE', () => {
    for (const shape of [[-1], [1.5], ['2'], 2, null, [null], Array(17).fill(1), [2 ** 53]]) {
      expectCode(single({ ...ok, shape }), 'VIGIL_ERR_WRONG_SHAPE');
    }
    // Each dimension is fine but the element count is not a safe integer.
    expectCode(single({ ...ok, shape: [2 ** 30, 2 ** 30, 2 ** 30] }), 'VIGIL_ERR_WRONG_SHAPE');
    // Rank 16 is the limit, and is allowed.
    expect(parseInferRequest(single({ ...ok, shape: [...Array(15).fill(1), 2] })).inputs[0]!.shape).toHaveLength(16);
  });

  it('rejects elements of the wrong kind or out of range', () => {
    const cases: [string, unknown][] = [
      ['UINT8', 256],
      ['UINT8', -1],
      ['INT8', 128],
      ['INT32', 2 ** 31],
      ['INT32', 1.5],
      ['INT64', 2 ** 53],
      ['UINT64', -1],
      ['BOOL', 1],
      ['BOOL', 'true'],
      ['FP32', '1'],
      ['FP64', null],
      ['BYTES', 1],
      ['INT32', true],
    ];
    for (const [datatype, value] of cases) {
      const valid = datatype === 'BOOL' ? false : datatype === 'BYTES' ? 'a' : 0;
      const err = expectCode(
        single({ name: 'x', datatype, shape: [2], data: [valid, value] }),
        'VIGIL_ERR_INVALID_REQUEST',
      );
      expect(err.message, `${datatype} ${String(value)}`).toContain('inputs[0].data[1]');
    }
  });

  it('accepts the edges of the integer ranges', () => {
    const parse = (datatype: string, data: number[]) =>
      Array.from(
        parseInferRequest(single({ name: 'x', datatype, shape: [data.length], data })).inputs[0]!
          .data as ArrayLike<unknown>,
      );
    expect(parse('INT8', [-128, 127])).toEqual([-128, 127]);
    expect(parse('UINT16', [0, 65535])).toEqual([0, 65535]);
    expect(parse('UINT32', [0, 4294967295])).toEqual([0, 4294967295]);
    expect(parse('INT32', [-2147483648, 2147483647])).toEqual([-2147483648, 2147483647]);
    expect(parse('INT64', [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER])).toEqual([
      BigInt(Number.MIN_SAFE_INTEGER),
      BigInt(Number.MAX_SAFE_INTEGER),
    ]);
    expect(parse('UINT64', [0, Number.MAX_SAFE_INTEGER])).toEqual([0n, BigInt(Number.MAX_SAFE_INTEGER)]);
  });

  it('flattens nested data arrays in row-major order', () => {
    const input = parseInferRequest(
      single({
        name: 'x',
        datatype: 'INT32',
        shape: [2, 2, 2],
        data: [
          [
            [1, 2],
            [3, 4],
          ],
          [
            [5, 6],
            [7, 8],
          ],
        ],
      }),
    ).inputs[0]!;
    expect(Array.from(input.data as Int32Array)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(input.shape).toEqual([2, 2, 2]);
    const strings = parseInferRequest(single({ name: 's', datatype: 'BYTES', shape: [2, 1], data: [['a'], ['b']] }))
      .inputs[0]!;
    expect(strings.data).toEqual(['a', 'b']);
  });

  it('rejects data nested more deeply than the maximum rank', () => {
    let data: unknown = [1];
    for (let i = 0; i < 20; i++) data = [data];
    expectCode(single({ name: 'x', datatype: 'INT32', shape: [1], data }), 'VIGIL_ERR_INVALID_REQUEST');
  });

  describe('binary extension', () => {
    const fp32 = (n: number, size = n * 4) => ({
      name: 'x',
      datatype: 'FP32',
      shape: [n],
      parameters: { binary_data_size: size },
    });

    it('rejects a binary_data_size that does not match the shape', () => {
      const [body, headerLength] = binaryBody({ inputs: [fp32(2, 4)] }, new Float32Array([1]));
      expect(expectCode(body, 'VIGIL_ERR_DATA_LENGTH', headerLength).message).toContain(
        '(8 bytes) but binary_data_size is 4',
      );
    });

    it('rejects a binary_data_size beyond the end of the body', () => {
      const [body, headerLength] = binaryBody({ inputs: [fp32(2)] }, new Float32Array([1]));
      expect(expectCode(body, 'VIGIL_ERR_DATA_LENGTH', headerLength).message).toContain(
        'declares 8 bytes but only 4 remain',
      );
    });

    it('rejects binary data left over after the last input', () => {
      const [body, headerLength] = binaryBody({ inputs: [fp32(1)] }, new Float32Array([1, 2]));
      expect(expectCode(body, 'VIGIL_ERR_DATA_LENGTH', headerLength).message).toContain(
        'binary data is 8 bytes but the inputs declare 4',
      );
    });

    it('rejects a header length larger than the body, negative, or not an integer', () => {
      const [body] = binaryBody({ inputs: [fp32(1)] }, new Float32Array([1]));
      for (const h of [body.length + 1, -1, 1.5, Number.NaN]) {
        expect(expectCode(body, 'VIGIL_ERR_INVALID_REQUEST', h).message).toContain('Inference-Header-Content-Length');
      }
    });

    it('treats a header length equal to the body length as "no binary data"', () => {
      const body = single({ name: 'x', datatype: 'FP32', shape: [1], data: [3] });
      expect(Array.from(parseInferRequest(body, body.length).inputs[0]!.data as Float32Array)).toEqual([3]);
    });

    it('parses only the header part as JSON', () => {
      // A header length that cuts the JSON short is malformed JSON, not a data error.
      const body = single(ok);
      expectCode(body, 'VIGIL_ERR_MALFORMED_JSON', body.length - 1);
    });

    it('rejects binary_data_size without Inference-Header-Content-Length', () => {
      expectCode(single(fp32(1)), 'VIGIL_ERR_INVALID_REQUEST');
    });

    it('rejects an input with both data and binary_data_size', () => {
      const [body, headerLength] = binaryBody({ inputs: [{ ...fp32(1), data: [1] }] }, new Float32Array([1]));
      expectCode(body, 'VIGIL_ERR_INVALID_REQUEST', headerLength);
    });

    it('rejects a binary_data_size that is not a non-negative integer', () => {
      for (const size of [-4, 1.5, '4', null]) {
        const [body, headerLength] = binaryBody({ inputs: [fp32(1, size as number)] }, new Float32Array([1]));
        expectCode(body, 'VIGIL_ERR_INVALID_REQUEST', headerLength);
      }
    });

    it('rejects truncated BYTES elements and a BYTES count that does not match the shape', () => {
      const bytes = (n: number, tail: Buffer) =>
        binaryBody(
          { inputs: [{ name: 's', datatype: 'BYTES', shape: [n], parameters: { binary_data_size: tail.length } }] },
          tail,
        );
      const full = encodeStrings(['ab', 'cde']);
      let [body, h] = bytes(2, full.subarray(0, 2)); // half a length prefix
      expect(expectCode(body, 'VIGIL_ERR_DATA_LENGTH', h).message).toContain('truncated BYTES element length');
      [body, h] = bytes(2, full.subarray(0, full.length - 1)); // last element one byte short
      expect(expectCode(body, 'VIGIL_ERR_DATA_LENGTH', h).message).toContain('truncated BYTES element');
      [body, h] = bytes(3, full);
      expect(expectCode(body, 'VIGIL_ERR_DATA_LENGTH', h).message).toContain(
        'shape holds 3 elements but the data has 2',
      );
      [body, h] = bytes(2, full);
      expect(parseInferRequest(body, h).inputs[0]!.data).toEqual(['ab', 'cde']);
    });
  });

  describe('parameters', () => {
    it('reads parameters.timeout in microseconds', () => {
      expect(parseInferRequest(single(ok, { parameters: { timeout: 250_000 } })).timeoutUs).toBe(250_000);
      expect(parseInferRequest(single(ok, { parameters: { timeout: 0.5 } })).timeoutUs).toBe(0.5);
      expect(parseInferRequest(single(ok, { parameters: {} })).timeoutUs).toBeUndefined();
    });

    it('rejects a timeout that is not a positive finite number with VIGIL_ERR_BAD_TIMEOUT', () => {
      for (const timeout of [0, -1, '100', null, true, [100], { us: 1 }]) {
        expectCode(single(ok, { parameters: { timeout } }), 'VIGIL_ERR_BAD_TIMEOUT');
      }
      // JSON.parse turns 1e400 into Infinity.
      expectCode(
        Buffer.from(`{"parameters":{"timeout":1e400},"inputs":[${JSON.stringify(ok)}]}`),
        'VIGIL_ERR_BAD_TIMEOUT',
      );
    });

    it('rejects parameters that are not an object', () => {
      for (const parameters of [[], 'x', 1, null]) expectCode(single(ok, { parameters }), 'VIGIL_ERR_INVALID_REQUEST');
      expectCode(single({ ...ok, parameters: [] }), 'VIGIL_ERR_INVALID_REQUEST');
    });
  });

  describe('outputs', () => {
    const parseOutputs = (extra: Record<string, unknown>) => parseInferRequest(single(ok, extra));

    it('leaves outputs undefined when the client asks for none (meaning all)', () => {
      expect(parseOutputs({}).outputs).toBeUndefined();
    });

    it('reads per-output binary_data flags, defaulting to JSON', () => {
      const request = parseOutputs({
        outputs: [
          { name: 'a' },
          { name: 'b', parameters: { binary_data: true } },
          { name: 'c', parameters: { binary_data: false } },
        ],
      });
      expect(request.binaryOutputs).toBe(false);
      expect(request.outputs).toEqual([
        { name: 'a', binary: false },
        { name: 'b', binary: true },
        { name: 'c', binary: false },
      ]);
    });

    it('uses binary_data_output as the default, which binary_data overrides', () => {
      const request = parseOutputs({
        parameters: { binary_data_output: true },
        outputs: [{ name: 'a' }, { name: 'b', parameters: { binary_data: false } }, { name: 'c', parameters: {} }],
      });
      expect(request.binaryOutputs).toBe(true);
      expect(request.outputs).toEqual([
        { name: 'a', binary: true },
        { name: 'b', binary: false },
        { name: 'c', binary: true },
      ]);
      expect(parseOutputs({ parameters: { binary_data_output: true } }).binaryOutputs).toBe(true);
      expect(parseOutputs({ parameters: { binary_data_output: false } }).binaryOutputs).toBe(false);
    });

    it('rejects outputs that are not a list of named objects', () => {
      expectCode(single(ok, { outputs: { name: 'a' } }), 'VIGIL_ERR_INVALID_REQUEST');
      expectCode(single(ok, { outputs: ['a'] }), 'VIGIL_ERR_INVALID_REQUEST');
      expectCode(single(ok, { outputs: [{}] }), 'VIGIL_ERR_INVALID_REQUEST');
      expectCode(single(ok, { outputs: [{ name: 'a', parameters: 'binary' }] }), 'VIGIL_ERR_INVALID_REQUEST');
    });
  });
});
