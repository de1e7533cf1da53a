import { VigilError } from '../errors.ts';
import {
  datatypeInfo,
  elementCount,
  isDatatype,
  type NumericArray,
  type Tensor,
  type TensorData,
} from './datatypes.ts';

/** One output the client asked for, and whether it wants it as binary data. */
export interface RequestedOutput {
  name: string;
  binary: boolean;
}

/** A parsed, shape-checked OIP v2 inference request (not yet checked against a model). */
export interface InferRequest {
  id?: string;
  inputs: Tensor[];
  /** Undefined means "every output of the model". */
  outputs?: RequestedOutput[];
  /** `parameters.binary_data_output`: outputs default to binary. */
  binaryOutputs: boolean;
  /** `parameters.timeout`, in microseconds as Triton defines it. */
  timeoutUs?: number;
}

/** Limits that keep a hostile request from costing more than its body. */
const MAX_RANK = 16;
const MAX_INPUTS = 256;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses an OIP v2 request body: JSON, or the binary tensor data extension when
 * `headerLength` (the Inference-Header-Content-Length header) is given.
 */
export function parseInferRequest(body: Buffer, headerLength?: number): InferRequest {
  let jsonPart: Buffer;
  let binaryPart: Buffer | undefined;
  if (headerLength !== undefined) {
    if (!Number.isInteger(headerLength) || headerLength < 0 || headerLength > body.length) {
      throw new VigilError(
        'VIGIL_ERR_INVALID_REQUEST',
        `Inference-Header-Content-Length ${headerLength} does not fit a body of ${body.length} bytes`,
      );
    }
    jsonPart = body.subarray(0, headerLength);
    binaryPart = body.subarray(headerLength);
  } else {
    jsonPart = body;
  }

  let doc: unknown;
  try {
    doc = JSON.parse(jsonPart.toString('utf8'));
  } catch (err) {
    throw new VigilError('VIGIL_ERR_MALFORMED_JSON', (err as Error).message);
  }
  if (!isObject(doc)) throw new VigilError('VIGIL_ERR_INVALID_REQUEST', 'the body must be a JSON object');

  const request: InferRequest = { inputs: [], binaryOutputs: false };
  if (doc.id !== undefined) {
    if (typeof doc.id !== 'string') throw new VigilError('VIGIL_ERR_INVALID_REQUEST', '"id" must be a string');
    request.id = doc.id;
  }
  if (doc.parameters !== undefined) {
    if (!isObject(doc.parameters)) throw new VigilError('VIGIL_ERR_INVALID_REQUEST', '"parameters" must be an object');
    const { binary_data_output: bdo, timeout } = doc.parameters;
    if (bdo !== undefined) request.binaryOutputs = bdo === true;
    if (timeout !== undefined) {
      if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) {
        throw new VigilError(
          'VIGIL_ERR_BAD_TIMEOUT',
          `parameters.timeout must be a positive number of microseconds, got ${JSON.stringify(timeout)}`,
        );
      }
      request.timeoutUs = timeout;
    }
  }

  if (!Array.isArray(doc.inputs) || doc.inputs.length === 0) {
    throw new VigilError('VIGIL_ERR_INVALID_REQUEST', '"inputs" must be a non-empty array');
  }
  if (doc.inputs.length > MAX_INPUTS) throw new VigilError('VIGIL_ERR_INVALID_REQUEST', `at most ${MAX_INPUTS} inputs`);

  let offset = 0;
  const names = new Set<string>();
  doc.inputs.forEach((raw, i) => {
    const tensor = parseInputTensor(raw, i, binaryPart, offset);
    offset += tensor.binaryBytes;
    if (names.has(tensor.tensor.name))
      throw new VigilError('VIGIL_ERR_INVALID_REQUEST', `input "${tensor.tensor.name}" appears twice`);
    names.add(tensor.tensor.name);
    request.inputs.push(tensor.tensor);
  });
  if (binaryPart && offset !== binaryPart.length) {
    throw new VigilError(
      'VIGIL_ERR_DATA_LENGTH',
      `binary data is ${binaryPart.length} bytes but the inputs declare ${offset}`,
    );
  }

  if (doc.outputs !== undefined) {
    if (!Array.isArray(doc.outputs)) throw new VigilError('VIGIL_ERR_INVALID_REQUEST', '"outputs" must be an array');
    request.outputs = doc.outputs.map((o, i) => {
      if (!isObject(o) || typeof o.name !== 'string')
        throw new VigilError('VIGIL_ERR_INVALID_REQUEST', `outputs[${i}].name must be a string`);
      let binary = request.binaryOutputs;
      if (o.parameters !== undefined) {
        if (!isObject(o.parameters))
          throw new VigilError('VIGIL_ERR_INVALID_REQUEST', `outputs[${i}].parameters must be an object`);
        if (o.parameters.binary_data !== undefined) binary = o.parameters.binary_data === true;
      }
      return { name: o.name, binary };
    });
  }
  return request;
}

function parseInputTensor(
  raw: unknown,
  i: number,
  binary: Buffer | undefined,
  offset: number,
): { tensor: Tensor; binaryBytes: number } {
  const at = `inputs[${i}]`;
  if (!isObject(raw)) throw new VigilError('VIGIL_ERR_INVALID_REQUEST', `${at} must be an object`);
  const { name, shape, datatype, data, parameters } = raw;
  if (typeof name !== 'string' || name.length === 0)
    throw new VigilError('VIGIL_ERR_INVALID_REQUEST', `${at}.name must be a non-empty string`);
  if (!isDatatype(datatype))
    throw new VigilError(
      'VIGIL_ERR_WRONG_DATATYPE',
      `${at}.datatype ${JSON.stringify(datatype)} is not an OIP datatype`,
    );
  if (!Array.isArray(shape) || shape.length > MAX_RANK || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new VigilError(
      'VIGIL_ERR_WRONG_SHAPE',
      `${at}.shape must be an array of at most ${MAX_RANK} non-negative integers`,
    );
  }
  const dims = shape as number[];
  const count = elementCount(dims);
  if (!Number.isSafeInteger(count)) throw new VigilError('VIGIL_ERR_WRONG_SHAPE', `${at}.shape is too large`);

  let binarySize: number | undefined;
  if (parameters !== undefined) {
    if (!isObject(parameters)) throw new VigilError('VIGIL_ERR_INVALID_REQUEST', `${at}.parameters must be an object`);
    if (parameters.binary_data_size !== undefined) {
      const size = parameters.binary_data_size;
      if (!Number.isSafeInteger(size) || (size as number) < 0)
        throw new VigilError(
          'VIGIL_ERR_INVALID_REQUEST',
          `${at}.parameters.binary_data_size must be a non-negative integer`,
        );
      binarySize = size as number;
    }
  }

  if (binarySize !== undefined) {
    if (!binary)
      throw new VigilError(
        'VIGIL_ERR_INVALID_REQUEST',
        `${at} declares binary_data_size but the request has no Inference-Header-Content-Length`,
      );
    if (data !== undefined)
      throw new VigilError('VIGIL_ERR_INVALID_REQUEST', `${at} has both "data" and binary_data_size`);
    if (offset + binarySize > binary.length) {
      throw new VigilError(
        'VIGIL_ERR_DATA_LENGTH',
        `${at} declares ${binarySize} bytes but only ${binary.length - offset} remain`,
      );
    }
    const bytes = binary.subarray(offset, offset + binarySize);
    return {
      tensor: { name, datatype, shape: dims, data: decodeBinary(bytes, datatype, count, at) },
      binaryBytes: binarySize,
    };
  }
  if (data === undefined) throw new VigilError('VIGIL_ERR_INVALID_REQUEST', `${at} has no "data"`);
  return { tensor: { name, datatype, shape: dims, data: decodeJson(data, datatype, count, at) }, binaryBytes: 0 };
}

/** Copies binary tensor bytes into a fresh, aligned typed array. */
function decodeBinary(bytes: Buffer, datatype: Tensor['datatype'], count: number, at: string): TensorData {
  const info = datatypeInfo[datatype];
  if (datatype === 'BYTES') {
    const out: string[] = [];
    let pos = 0;
    while (pos < bytes.length) {
      if (pos + 4 > bytes.length)
        throw new VigilError('VIGIL_ERR_DATA_LENGTH', `${at}: truncated BYTES element length`);
      const len = bytes.readUInt32LE(pos);
      pos += 4;
      if (pos + len > bytes.length) throw new VigilError('VIGIL_ERR_DATA_LENGTH', `${at}: truncated BYTES element`);
      out.push(bytes.toString('utf8', pos, pos + len));
      pos += len;
    }
    if (out.length !== count)
      throw new VigilError(
        'VIGIL_ERR_DATA_LENGTH',
        `${at}: shape holds ${count} elements but the data has ${out.length}`,
      );
    return out;
  }
  const expected = count * info.size;
  if (bytes.length !== expected) {
    throw new VigilError(
      'VIGIL_ERR_DATA_LENGTH',
      `${at}: shape holds ${count} ${datatype} elements (${expected} bytes) but binary_data_size is ${bytes.length}`,
    );
  }
  // View the bytes in place when they are aligned for the element type (readBody arranges that
  // for the binary section); copy only when they are not.
  if (bytes.byteOffset % info.size === 0) {
    const Ctor = (info.create(0) as NumericArray).constructor as new (
      buffer: ArrayBufferLike,
      offset: number,
      length: number,
    ) => NumericArray;
    return new Ctor(bytes.buffer, bytes.byteOffset, count);
  }
  const array = info.create(count) as NumericArray;
  new Uint8Array(array.buffer, array.byteOffset, expected).set(bytes);
  return array;
}

/** Flattens nested JSON arrays (the protocol allows row-major nesting) into one list. */
function flatten(data: unknown[], out: unknown[], depth: number, at: string): void {
  if (depth > MAX_RANK) throw new VigilError('VIGIL_ERR_INVALID_REQUEST', `${at}.data is nested too deeply`);
  for (const v of data) {
    if (Array.isArray(v)) flatten(v, out, depth + 1, at);
    else out.push(v);
  }
}

function decodeJson(data: unknown, datatype: Tensor['datatype'], count: number, at: string): TensorData {
  if (!Array.isArray(data)) throw new VigilError('VIGIL_ERR_INVALID_REQUEST', `${at}.data must be an array`);
  let flat: unknown[] = data;
  if (data.some(Array.isArray)) {
    flat = [];
    flatten(data, flat, 0, at);
  }
  if (flat.length !== count) {
    throw new VigilError('VIGIL_ERR_DATA_LENGTH', `${at}: shape holds ${count} elements but "data" has ${flat.length}`);
  }
  const info = datatypeInfo[datatype];
  const bad = (j: number, what: string): never => {
    throw new VigilError(
      'VIGIL_ERR_INVALID_REQUEST',
      `${at}.data[${j}] must be ${what} for ${datatype}, got ${JSON.stringify(flat[j])?.slice(0, 40)}`,
    );
  };
  switch (info.json) {
    case 'none':
      throw new VigilError('VIGIL_ERR_WRONG_DATATYPE', `${at}: ${datatype} is accepted only as binary data`);
    case 'string': {
      for (let j = 0; j < flat.length; j++) if (typeof flat[j] !== 'string') bad(j, 'a string');
      return flat as string[];
    }
    case 'boolean': {
      const out = new Uint8Array(count);
      for (let j = 0; j < flat.length; j++) {
        const v = flat[j];
        if (typeof v !== 'boolean') bad(j, 'true or false');
        out[j] = v ? 1 : 0;
      }
      return out;
    }
    case 'bigint': {
      const out = info.create(count) as BigInt64Array | BigUint64Array;
      for (let j = 0; j < flat.length; j++) {
        const v = flat[j];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < info.min! || v > info.max!)
          bad(j, `an integer in [${info.min}, ${info.max}]`);
        out[j] = BigInt(v as number);
      }
      return out;
    }
    case 'integer': {
      const out = info.create(count) as NumericArray;
      for (let j = 0; j < flat.length; j++) {
        const v = flat[j];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < info.min! || v > info.max!)
          bad(j, `an integer in [${info.min}, ${info.max}]`);
        (out as Int32Array)[j] = v as number;
      }
      return out;
    }
    case 'number': {
      const out = info.create(count) as Float32Array | Float64Array;
      for (let j = 0; j < flat.length; j++) {
        const v = flat[j];
        if (typeof v !== 'number') bad(j, 'a number');
        out[j] = v as number;
      }
      return out;
    }
  }
}
