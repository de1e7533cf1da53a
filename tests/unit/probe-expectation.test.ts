import { describe, expect, it } from 'vitest';
import { configSchema } from '../../serving/config/schema.ts';
import { judgeAnswer, valueAt } from '../../serving/probes/expectation.ts';

const scores = (data: number[], shape = [1, data.length]) => ({ outputs: [{ name: 'y', shape, data }] });

describe('probe expectations', () => {
  it('top1: the largest value of every row is the expected class', () => {
    expect(judgeAnswer({ top1: 0 }, scores([0.9, 0.1]))).toEqual({ pass: true, detail: 'top-1 class 0' });
    const wrong = judgeAnswer({ top1: 0 }, scores([0.02, 0.98]));
    expect(wrong.pass).toBe(false);
    expect(wrong.detail).toBe('top-1 class 1 (score 0.98), expected class 0 (score 0.02)');
    // Every row of a batch must agree; the detail names the row that does not.
    const batch = judgeAnswer({ top1: 1 }, scores([0.1, 0.9, 0.8, 0.2], [2, 2]));
    expect(batch).toMatchObject({ pass: false });
    expect(batch.detail).toContain('in row 1');
    // A named output, and one that is missing.
    const two = {
      outputs: [
        { name: 'a', shape: [2], data: [1, 0] },
        { name: 'b', shape: [2], data: [0, 1] },
      ],
    };
    expect(judgeAnswer({ top1: 1, output: 'b' }, two).pass).toBe(true);
    expect(judgeAnswer({ top1: 1, output: 'c' }, two)).toEqual({ pass: false, detail: 'no output c' });
    expect(judgeAnswer({ top1: 0 }, { outputs: [{ name: 'y', shape: [1], data: ['x'] }] }).pass).toBe(false);
  });

  it('allclose: every value within atol + rtol × |expected|, naming the worst one', () => {
    const expectation = { allclose: [1, 2, 3], atol: 0.01, rtol: 0 };
    expect(judgeAnswer(expectation, scores([1.005, 2, 2.995])).pass).toBe(true);
    const off = judgeAnswer(expectation, scores([1, 2.5, 3.02]));
    expect(off.pass).toBe(false);
    expect(off.detail).toBe('y[1] is 2.5, expected 2 (|diff| 0.5 > atol 0.01 + rtol 0)');
    expect(judgeAnswer(expectation, scores([1, 2])).detail).toBe('y has 2 values, expected 3');
    // rtol scales with the expected value; NaN is never close.
    expect(judgeAnswer({ allclose: [1000], atol: 0, rtol: 0.01 }, scores([1009])).pass).toBe(true);
    expect(judgeAnswer({ allclose: [1], atol: 1, rtol: 1 }, scores([Number.NaN])).pass).toBe(false);
    // Nested data (a JSON answer's rows) is flattened in row-major order.
    expect(
      judgeAnswer(
        { allclose: [1, 2, 3, 4], atol: 0, rtol: 0 },
        scores([
          [1, 2],
          [3, 4],
        ] as never),
      ).pass,
    ).toBe(true);
  });

  it('json: the value at a path equals the expected one', () => {
    const answer = { json: { lines: [{ text: 'Hello' }, { text: 'World' }], n: 2 } };
    expect(judgeAnswer({ json: '$.lines[1].text', equals: 'World' }, answer).pass).toBe(true);
    expect(judgeAnswer({ json: '$.lines[0].text', equals: 'Help' }, answer).detail).toBe(
      '$.lines[0].text is "Hello", expected "Help"',
    );
    expect(judgeAnswer({ json: '$.lines[5].text', equals: 'x' }, answer).detail).toBe('$.lines[5].text is missing');
    expect(judgeAnswer({ json: '$.n', equals: 2 }, answer).pass).toBe(true);
    expect(judgeAnswer({ json: '$', equals: answer.json }, answer).pass).toBe(true);
    expect(valueAt({ a: null }, '$.a.b')).toEqual({ missing: true });
    expect(judgeAnswer({ json: '$.n', equals: 2 }, scores([1])).pass).toBe(false);
  });

  it('probes in vigil.yaml: one request source, known versions, unique names, routes for raw bodies', () => {
    const deployment = (probes: unknown[], extra: Record<string, unknown> = {}) => ({
      deployments: [{ name: 'cls', model: 'm.onnx', probes, ...extra }],
    });
    const problems = (doc: unknown) =>
      configSchema.safeParse(doc).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    const probe = { name: 'p', request: { inputs: [] }, expect: { top1: 0 } };
    expect(problems(deployment([probe]))).toEqual([]);
    expect(problems(deployment([{ ...probe, request_file: 'x.json' }]))).toEqual([
      'deployments.0.probes.0: give exactly one of request, request_file or body_file',
    ]);
    expect(problems(deployment([probe, probe]))).toEqual(['deployments.0.probes.1.name: duplicate probe "p"']);
    expect(problems(deployment([{ ...probe, versions: ['v9'] }]))).toEqual([
      'deployments.0.probes.0.versions.0: unknown version "v9"; this deployment has v1',
    ]);
    expect(problems(deployment([{ name: 'p', body_file: 'a.png', expect: { json: '$.x', equals: 1 } }]))).toEqual([
      'deployments.0.probes.0.body_file: a raw body needs the deployment to have a route; send an inference request instead',
    ]);
    expect(problems(deployment([{ ...probe, expect: { json: 'lines.0', equals: 1 } }])).join()).toContain(
      'expected a path like $.lines[0].text',
    );
    expect(problems(deployment([{ ...probe, expect: { json: '$.x', equals: 1 } }]))).toEqual([
      'deployments.0.probes.0.expect: a json expectation checks a custom route’s answer; use top1 or allclose for inference',
    ]);
  });
});
