import type { Tensor } from '../protocol/datatypes.ts';
import type { SketchKind } from './sketch.ts';

/**
 * What one inference says about drift: for each input, the mean and the RMS of each row (batch
 * size does not change them); for each output, the top-1 class of each row when it looks like a
 * classifier's ([N, C] with 2 ≤ C ≤ 1000), else the mean of each row. Signal names are bounded
 * by the model's signature: `input.x.mean`, `input.x.rms`, `output.y.class`, `output.y.mean`.
 */
export interface SignalValue {
  signal: string;
  kind: SketchKind;
  value: number;
}

const MAX_CLASSES = 1000;

export function signalsOf(
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  out: SignalValue[] = [],
): SignalValue[] {
  for (const t of inputs) {
    if (typeof t.data[0] === 'string' || t.data.length === 0) continue;
    const rows = rowsOf(t);
    const width = t.data.length / rows;
    const data = numbers(t);
    for (let r = 0; r < rows; r++) {
      const { sum, squares } = sumsOf(data, r * width, width);
      out.push({ signal: `input.${t.name}.mean`, kind: 'values', value: sum / width });
      out.push({ signal: `input.${t.name}.rms`, kind: 'values', value: Math.sqrt(squares / width) });
    }
  }
  for (const t of outputs) {
    if (typeof t.data[0] === 'string' || t.data.length === 0) continue;
    const rows = rowsOf(t);
    const width = t.data.length / rows;
    const classifier = t.shape.length === 2 && width >= 2 && width <= MAX_CLASSES;
    for (let r = 0; r < rows; r++) {
      if (classifier) {
        let best = 0;
        for (let i = 1; i < width; i++) if (Number(t.data[r * width + i]) > Number(t.data[r * width + best])) best = i;
        out.push({ signal: `output.${t.name}.class`, kind: 'classes', value: best });
      } else {
        let sum = 0;
        for (let i = r * width; i < (r + 1) * width; i++) sum += Number(t.data[i]);
        out.push({ signal: `output.${t.name}.mean`, kind: 'values', value: sum / width });
      }
    }
  }
  return out;
}

/**
 * Sum and sum of squares of `width` values from `from`. A function of its own: inline in
 * signalsOf, V8 entered the loop through on-stack replacement on every call (it runs up to 100
 * times a second per version), and a replica spent 55-75 µs a call on a 110 KB input.
 */
function sumsOf(data: ArrayLike<number>, from: number, width: number): { sum: number; squares: number } {
  let sum = 0;
  let squares = 0;
  for (let i = from, end = from + width; i < end; i++) {
    const v = data[i]!;
    sum += v;
    squares += v * v;
  }
  return { sum, squares };
}

/** The tensor's values as numbers: typed arrays as they are, 64-bit integers converted. */
function numbers(t: Tensor): ArrayLike<number> {
  return typeof t.data[0] === 'bigint'
    ? Array.from(t.data as ArrayLike<bigint>, Number)
    : (t.data as ArrayLike<number>);
}

/** Axis 0 is the batch when there are two axes or more and it divides the data evenly. */
function rowsOf(t: Tensor): number {
  const n = t.shape.length >= 2 ? t.shape[0]! : 1;
  return n >= 1 && t.data.length % n === 0 ? n : 1;
}
