/**
 * The Open Inference Protocol's tensor datatypes and how each maps to a typed array and to an
 * ONNX Runtime tensor type. One table, so that parsing, validation, the replica and the response
 * encoder agree.
 */
export const datatypes = [
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
  'BYTES',
] as const;
export type Datatype = (typeof datatypes)[number];

export type NumericArray =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;
export type TensorData = NumericArray | string[];

/** A tensor as it travels inside vigil: flat row-major data plus its shape. */
export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorData;
}

interface DatatypeInfo {
  /** Bytes per element in the binary extension; 0 for BYTES (length-prefixed). */
  size: number;
  ort: string;
  create(length: number): NumericArray | string[];
  /** How a JSON element is checked and converted. */
  json: 'number' | 'integer' | 'bigint' | 'boolean' | 'string' | 'none';
  min?: number;
  max?: number;
}

type ArrayCtor = new (n: number) => NumericArray;
const numeric = (
  ctor: ArrayCtor,
  size: number,
  ort: string,
  json: DatatypeInfo['json'],
  min?: number,
  max?: number,
): DatatypeInfo => ({
  size,
  ort,
  json,
  min,
  max,
  create: (n) => new ctor(n),
});

export const datatypeInfo: Record<Datatype, DatatypeInfo> = {
  BOOL: numeric(Uint8Array, 1, 'bool', 'boolean'),
  UINT8: numeric(Uint8Array, 1, 'uint8', 'integer', 0, 255),
  UINT16: numeric(Uint16Array, 2, 'uint16', 'integer', 0, 65535),
  UINT32: numeric(Uint32Array, 4, 'uint32', 'integer', 0, 4294967295),
  UINT64: numeric(BigUint64Array, 8, 'uint64', 'bigint', 0, Number.MAX_SAFE_INTEGER),
  INT8: numeric(Int8Array, 1, 'int8', 'integer', -128, 127),
  INT16: numeric(Int16Array, 2, 'int16', 'integer', -32768, 32767),
  INT32: numeric(Int32Array, 4, 'int32', 'integer', -2147483648, 2147483647),
  INT64: numeric(BigInt64Array, 8, 'int64', 'bigint', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  // FP16 travels as raw half-precision bits; JSON has no half floats, so only the binary form is accepted.
  FP16: numeric(Uint16Array, 2, 'float16', 'none'),
  FP32: numeric(Float32Array, 4, 'float32', 'number'),
  FP64: numeric(Float64Array, 8, 'float64', 'number'),
  BYTES: { size: 0, ort: 'string', json: 'string', create: (n) => new Array<string>(n).fill('') },
};

const ortToDatatype = new Map<string, Datatype>(datatypes.map((d) => [datatypeInfo[d].ort, d]));

/** The OIP datatype for an ONNX Runtime tensor type, or undefined when the protocol has none. */
export function datatypeFromOrt(ortType: string): Datatype | undefined {
  return ortToDatatype.get(ortType);
}

export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && (datatypes as readonly string[]).includes(value);
}

/** Number of elements a shape holds. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
