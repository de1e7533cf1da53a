import { isDeepStrictEqual } from 'node:util';
import type { ProbeExpectation } from '../../contract/control/probes.ts';

/**
 * Whether a probe's answer is the known one: pure, so the same judgement serves the prober, the
 * rollout gate and `vigil probe record`'s round trip. The detail names the difference, for the
 * rollback reason and the on-call engineer: "top-1 class 1 (0.998), expected 0".
 */

export type { ProbeExpectation };

export interface OutputTensor {
  name: string;
  shape: number[];
  data: unknown[];
}

/** An inference answer's outputs, or a custom route's JSON answer. */
export type ProbeAnswer = { outputs: OutputTensor[] } | { json: unknown };

export interface ProbeJudgement {
  pass: boolean;
  detail: string;
}

export function judgeAnswer(expect: ProbeExpectation, answer: ProbeAnswer): ProbeJudgement {
  if ('check' in expect) throw new Error('a check module is judged by the prober (probe-check.ts)');
  if ('json' in expect) {
    if (!('json' in answer)) return { pass: false, detail: 'expected a JSON answer' };
    const found = valueAt(answer.json, expect.json);
    if (found.missing) return { pass: false, detail: `${expect.json} is missing` };
    return isDeepStrictEqual(found.value, expect.equals)
      ? { pass: true, detail: `${expect.json} is ${short(expect.equals)}` }
      : { pass: false, detail: `${expect.json} is ${short(found.value)}, expected ${short(expect.equals)}` };
  }
  if (!('outputs' in answer)) return { pass: false, detail: 'expected an inference answer' };
  const output = expect.output ? answer.outputs.find((o) => o.name === expect.output) : answer.outputs[0];
  if (!output) return { pass: false, detail: `no output ${expect.output ?? ''}`.trim() };
  const values = flatten(output.data);
  if (values.some((v) => typeof v !== 'number')) return { pass: false, detail: `${output.name} is not numeric` };
  const numbers = values as number[];
  if ('top1' in expect) return top1(output.name, output.shape, numbers, expect.top1);
  return allClose(output.name, numbers, expect.allclose, expect.atol, expect.rtol);
}

/** The class with the largest value in every row (axis 0 is the batch when the output has two axes or more). */
function top1(name: string, shape: number[], values: number[], expected: number): ProbeJudgement {
  const rows = shape.length > 1 ? Math.max(1, shape[0]!) : 1;
  const width = Math.floor(values.length / rows);
  if (width === 0) return { pass: false, detail: `${name} is empty` };
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let i = 1; i < width; i++) if (values[r * width + i]! > values[r * width + best]!) best = i;
    if (best !== expected) {
      const row = rows > 1 ? ` in row ${r}` : '';
      return {
        pass: false,
        detail:
          `top-1 class ${best} (score ${round(values[r * width + best]!)})${row}, ` +
          `expected class ${expected} (score ${round(values[r * width + expected] ?? Number.NaN)})`,
      };
    }
  }
  return { pass: true, detail: `top-1 class ${expected}` };
}

function allClose(name: string, got: number[], expected: number[], atol: number, rtol: number): ProbeJudgement {
  if (got.length !== expected.length)
    return { pass: false, detail: `${name} has ${got.length} values, expected ${expected.length}` };
  let worst = -1;
  let worstExcess = 0;
  let maxDiff = 0;
  for (let i = 0; i < got.length; i++) {
    const diff = Math.abs(got[i]! - expected[i]!);
    maxDiff = Math.max(maxDiff, diff);
    const excess = diff - (atol + rtol * Math.abs(expected[i]!));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess)) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst < 0)
    return { pass: true, detail: `${name} within atol ${atol} + rtol ${rtol} (max |diff| ${round(maxDiff)})` };
  return {
    pass: false,
    detail:
      `${name}[${worst}] is ${round(got[worst]!)}, expected ${round(expected[worst]!)} ` +
      `(|diff| ${round(Math.abs(got[worst]! - expected[worst]!))} > atol ${atol} + rtol ${rtol})`,
  };
}

/** `$.lines[0].text`: object keys and array indexes only (the config checks the syntax). */
export function valueAt(doc: unknown, path: string): { missing: boolean; value?: unknown } {
  let at: unknown = doc;
  for (const m of path.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/g)) {
    if (m[1] !== undefined) {
      if (at === null || typeof at !== 'object' || Array.isArray(at) || !(m[1] in at)) return { missing: true };
      at = (at as Record<string, unknown>)[m[1]];
    } else {
      const i = Number(m[2]);
      if (!Array.isArray(at) || i >= at.length) return { missing: true };
      at = at[i];
    }
  }
  return { missing: false, value: at };
}

function flatten(data: unknown[]): unknown[] {
  return data.some(Array.isArray) ? (data as unknown[]).flat(Number.POSITIVE_INFINITY) : data;
}

function round(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 1e4) / 1e4) : String(x);
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The most values an `allclose` expectation is recorded with: beyond that, probe a smaller input. */
export const MAX_RECORDED_VALUES = 4096;

/**
 * An expectation that a version's answer meets now (`vigil probe record`): a JSON answer as a
 * whole, else the first output's top-1 class (the same in every row) or its values.
 */
export function expectationFrom(
  answer: ProbeAnswer,
  kind: 'top1' | 'allclose',
): { expect: ProbeExpectation } | { problem: string } {
  if ('json' in answer) return { expect: { json: '$', equals: answer.json } };
  const output = answer.outputs[0];
  if (!output) return { problem: 'the answer has no output' };
  const values = flatten(output.data);
  if (values.some((v) => typeof v !== 'number')) return { problem: `${output.name} is not numeric` };
  const numbers = values as number[];
  const named = answer.outputs.length > 1 ? { output: output.name } : {};
  if (kind === 'allclose') {
    if (numbers.length > MAX_RECORDED_VALUES)
      return {
        problem: `${output.name} has ${numbers.length} values (over ${MAX_RECORDED_VALUES}); record top1, or probe a smaller input`,
      };
    return { expect: { allclose: numbers, atol: 1e-5, rtol: 1e-3, ...named } };
  }
  const rows = output.shape.length > 1 ? Math.max(1, output.shape[0]!) : 1;
  const width = Math.floor(numbers.length / rows);
  if (width < 2) return { problem: `${output.name} has one value per row: top1 needs classes` };
  const classes = new Set<number>();
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let i = 1; i < width; i++) if (numbers[r * width + i]! > numbers[r * width + best]!) best = i;
    classes.add(best);
  }
  if (classes.size > 1) return { problem: `the rows of ${output.name} have different top-1 classes` };
  return { expect: { top1: [...classes][0]!, ...named } };
}
