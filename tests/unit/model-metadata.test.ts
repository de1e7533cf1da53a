import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VigilError, type ErrorCode } from '../../serving/errors.ts';
import type { Datatype, Tensor } from '../../serving/protocol/datatypes.ts';
import type { InferRequest, RequestedOutput } from '../../serving/protocol/infer-request.ts';
import { shapeMatches, validateAgainstSignature, type ModelSignature } from '../../serving/protocol/model-metadata.ts';

const signature: ModelSignature = {
  inputs: [
    { name: 'x', datatype: 'FP32', shape: [-1, 3, 48, 192] },
    { name: 'mask', datatype: 'BOOL', shape: [-1] },
  ],
  outputs: [
    { name: 'probs', datatype: 'FP32', shape: [-1, 2] },
    { name: 'label', datatype: 'INT64', shape: [-1] },
  ],
};

const tensor = (name: string, datatype: Datatype, shape: number[]): Tensor => ({
  name,
  datatype,
  shape,
  data: new Float32Array(0),
});
const request = (inputs: Tensor[], outputs?: RequestedOutput[]): InferRequest => ({
  inputs,
  outputs,
  binaryOutputs: false,
});
const good = () => [tensor('x', 'FP32', [2, 3, 48, 192]), tensor('mask', 'BOOL', [2])];

function codeOf(req: InferRequest): ErrorCode {
  try {
    validateAgainstSignature(req, signature);
  } catch (err) {
    expect(err).toBeInstanceOf(VigilError);
    expect((err as VigilError).status).toBe(400);
    return (err as VigilError).code;
  }
  throw new Error('expected validateAgainstSignature to throw');
}

describe('validateAgainstSignature', () => {
  it('accepts a request that matches the signature, in any input order', () => {
    expect(() => validateAgainstSignature(request(good()), signature)).not.toThrow();
    expect(() => validateAgainstSignature(request(good().reverse()), signature)).not.toThrow();
    expect(() => validateAgainstSignature(request(good(), [{ name: 'label', binary: true }]), signature)).not.toThrow();
  });

  it('rejects an input the model does not have, naming the model inputs', () => {
    try {
      validateAgainstSignature(request([...good(), tensor('y', 'FP32', [1])]), signature);
      expect.unreachable();
    } catch (err) {
      expect((err as VigilError).code).toBe('VIGIL_ERR_UNKNOWN_INPUT');
      expect((err as VigilError).message).toContain('"y"; the model\'s inputs are x, mask');
    }
  });

  it('rejects a request that lacks a model input', () => {
    expect(codeOf(request([tensor('x', 'FP32', [1, 3, 48, 192])]))).toBe('VIGIL_ERR_MISSING_INPUT');
  });

  it('rejects a datatype that differs from the model', () => {
    expect(codeOf(request([tensor('x', 'FP64', [1, 3, 48, 192]), tensor('mask', 'BOOL', [1])]))).toBe(
      'VIGIL_ERR_WRONG_DATATYPE',
    );
  });

  it('rejects a wrong rank', () => {
    expect(codeOf(request([tensor('x', 'FP32', [3, 48, 192]), tensor('mask', 'BOOL', [1])]))).toBe(
      'VIGIL_ERR_WRONG_SHAPE',
    );
    expect(codeOf(request([tensor('x', 'FP32', [1, 3, 48, 192]), tensor('mask', 'BOOL', [1, 1])]))).toBe(
      'VIGIL_ERR_WRONG_SHAPE',
    );
  });

  it('rejects a fixed dimension that differs', () => {
    expect(codeOf(request([tensor('x', 'FP32', [1, 3, 48, 191]), tensor('mask', 'BOOL', [1])]))).toBe(
      'VIGIL_ERR_WRONG_SHAPE',
    );
  });

  it('rejects an output the model does not have', () => {
    expect(
      codeOf(
        request(good(), [
          { name: 'probs', binary: false },
          { name: 'logits', binary: false },
        ]),
      ),
    ).toBe('VIGIL_ERR_UNKNOWN_OUTPUT');
  });
});

describe('shapeMatches', () => {
  it('matches -1 dimensions against anything, including 0', () => {
    expect(shapeMatches([-1, 3], [0, 3])).toBe(true);
    expect(shapeMatches([-1, 3], [1000, 3])).toBe(true);
    expect(shapeMatches([-1, -1], [5, 7])).toBe(true);
  });

  it('requires fixed dimensions to be equal', () => {
    expect(shapeMatches([2, 3], [2, 3])).toBe(true);
    expect(shapeMatches([2, 3], [3, 2])).toBe(false);
    expect(shapeMatches([-1, 3], [4, 4])).toBe(false);
  });

  it('requires equal rank; scalars match scalars', () => {
    expect(shapeMatches([], [])).toBe(true);
    expect(shapeMatches([-1], [])).toBe(false);
    expect(shapeMatches([-1], [1, 1])).toBe(false);
  });

  it('matches exactly when every fixed dimension agrees (property)', () => {
    const dim = fc.integer({ min: 0, max: 6 });
    fc.assert(
      fc.property(fc.array(fc.tuple(dim, dim, fc.boolean()), { maxLength: 6 }), (dims) => {
        const expected = dims.map(([e, , dynamic]) => (dynamic ? -1 : e));
        const actual = dims.map(([, a]) => a);
        const shouldMatch = dims.every(([e, a, dynamic]) => dynamic || e === a);
        expect(shapeMatches(expected, actual)).toBe(shouldMatch);
        expect(shapeMatches(expected, [...actual, 1])).toBe(false);
      }),
    );
  });
});
