import { VigilError } from '../errors.ts';
import type { Datatype } from './datatypes.ts';
import type { InferRequest } from './infer-request.ts';

/** One input or output as the model declares it; -1 marks a dynamic dimension. */
export interface TensorSpec {
  name: string;
  datatype: Datatype;
  shape: number[];
}

/** What a replica reports about the model it loaded. */
export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** Checks a parsed request against the model's signature: names, datatypes and shapes. */
export function validateAgainstSignature(request: InferRequest, signature: ModelSignature): void {
  const byName = new Map(signature.inputs.map((s) => [s.name, s]));
  for (const input of request.inputs) {
    const spec = byName.get(input.name);
    if (!spec) {
      throw new VigilError(
        'VIGIL_ERR_UNKNOWN_INPUT',
        `"${input.name}"; the model's inputs are ${signature.inputs.map((s) => s.name).join(', ')}`,
      );
    }
    if (spec.datatype !== input.datatype) {
      throw new VigilError(
        'VIGIL_ERR_WRONG_DATATYPE',
        `input "${input.name}" is ${spec.datatype}, got ${input.datatype}`,
      );
    }
    if (!shapeMatches(spec.shape, input.shape)) {
      throw new VigilError(
        'VIGIL_ERR_WRONG_SHAPE',
        `input "${input.name}" expects [${spec.shape.join(',')}] (-1 = any), got [${input.shape.join(',')}]`,
      );
    }
  }
  for (const spec of signature.inputs) {
    if (!request.inputs.some((i) => i.name === spec.name))
      throw new VigilError('VIGIL_ERR_MISSING_INPUT', `"${spec.name}"`);
  }
  if (request.outputs) {
    const outputs = new Set(signature.outputs.map((o) => o.name));
    for (const o of request.outputs) {
      if (!outputs.has(o.name))
        throw new VigilError(
          'VIGIL_ERR_UNKNOWN_OUTPUT',
          `"${o.name}"; the model's outputs are ${[...outputs].join(', ')}`,
        );
    }
  }
}

export function shapeMatches(expected: readonly number[], actual: readonly number[]): boolean {
  if (expected.length !== actual.length) return false;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    if (e >= 0 && e !== actual[i]) return false;
  }
  return true;
}
