import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../serving/protocol/datatypes.ts';
import { compareOutputs, isClassifierOutput } from '../../serving/router/output-agreement.ts';

const fp32 = (name: string, shape: number[], values: number[]): Tensor => ({
  name,
  datatype: 'FP32',
  shape,
  data: Float32Array.from(values),
});

/** Three rows of four class scores; row tops are classes 2, 0 and 3. */
const scores = () => fp32('probs', [3, 4], [0.1, 0.2, 0.6, 0.1, 0.7, 0.1, 0.1, 0.1, 0.2, 0.2, 0.1, 0.5]);

describe('compareOutputs', () => {
  it('agrees on identical classifier outputs, row by row', () => {
    const r = compareOutputs([scores()], [scores()], 0);
    expect(r).toEqual({ kind: 'top1', rows: 3, rowsAgreeing: 3, maxAbsDiff: 0, agree: true });
  });

  it('disagrees on exactly the row whose top class flipped', () => {
    const shadow = scores();
    (shadow.data as Float32Array)[4] = 0.05; // row 1: class 0 drops below the others
    (shadow.data as Float32Array)[6] = 0.8; // ...and class 2 takes the top
    const r = compareOutputs([scores()], [shadow], 0);
    expect(r).toMatchObject({ kind: 'top1', rows: 3, rowsAgreeing: 2, agree: false });
    expect(r.maxAbsDiff).toBeCloseTo(0.7, 5);
    expect(r.detail).toContain('row 1: 0 vs 2');
  });

  it('agrees when scores move but every top class holds, whatever the tolerance', () => {
    const shadow = fp32('probs', [3, 4], [0.0, 0.1, 0.9, 0.0, 0.5, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1, 0.7]);
    const r = compareOutputs([scores()], [shadow], 0);
    expect(r).toMatchObject({ kind: 'top1', rowsAgreeing: 3, agree: true });
    expect(r.maxAbsDiff).toBeCloseTo(0.3, 5);
  });

  it('compares regression outputs by the largest difference, accepting noise below tolerance', () => {
    const primary = [
      fp32('y', [2, 1], [1.5, -3.25]),
      { name: 'count', datatype: 'INT64', shape: [1], data: BigInt64Array.from([7n]) } as Tensor,
    ];
    const noisy = [
      fp32('y', [2, 1], [1.5 + 1e-6, -3.25]),
      { name: 'count', datatype: 'INT64', shape: [1], data: BigInt64Array.from([7n]) } as Tensor,
    ];
    const r = compareOutputs(primary, noisy, 1e-4);
    expect(r).toMatchObject({ kind: 'max_abs_diff', rows: 1, rowsAgreeing: 1, agree: true });
    expect(r.maxAbsDiff).toBeGreaterThan(0);
    expect(r.maxAbsDiff).toBeLessThan(1e-4);

    const far = compareOutputs(primary, [fp32('y', [2, 1], [1.5, -3.0]), noisy[1]!], 1e-4);
    expect(far).toMatchObject({ kind: 'max_abs_diff', rowsAgreeing: 0, maxAbsDiff: 0.25, agree: false });
    expect(far.detail).toContain("'y'[1]");
  });

  it('counts a differing 64-bit integer output', () => {
    const t = (v: bigint): Tensor => ({ name: 'n', datatype: 'INT64', shape: [1], data: BigInt64Array.from([v]) });
    expect(compareOutputs([t(5n)], [t(8n)], 0)).toMatchObject({ maxAbsDiff: 3, agree: false });
  });

  it('treats a single-class or rank-1 float output as regression, not classification', () => {
    expect(isClassifierOutput(fp32('y', [4, 1], [0, 0, 0, 0]))).toBe(false);
    expect(isClassifierOutput(fp32('y', [4], [0, 0, 0, 0]))).toBe(false);
    expect(isClassifierOutput({ name: 'y', datatype: 'INT32', shape: [2, 2], data: new Int32Array(4) })).toBe(false);
    expect(compareOutputs([fp32('y', [4], [1, 2, 3, 4])], [fp32('y', [4], [1, 2, 3, 4])], 0).kind).toBe('max_abs_diff');
  });

  it('reads FP16 outputs as half-precision values, not raw bits', () => {
    // 0x3c00 = 1.0, 0xbc00 = -1.0, 0x4000 = 2.0: as raw bits -1.0 would look largest.
    const half = (bits: number[]): Tensor => ({
      name: 'logits',
      datatype: 'FP16',
      shape: [1, 3],
      data: Uint16Array.from(bits),
    });
    expect(compareOutputs([half([0x3c00, 0xbc00, 0x4000])], [half([0x3c00, 0xbc00, 0x4000])], 0)).toMatchObject({
      kind: 'top1',
      agree: true,
    });
    const r = compareOutputs([half([0x3c00, 0xbc00, 0x4000])], [half([0x4000, 0xbc00, 0x3c00])], 0);
    expect(r).toMatchObject({ kind: 'top1', rowsAgreeing: 0, maxAbsDiff: 1, agree: false });
  });

  it('compares BYTES outputs for equality, a difference counting as infinite', () => {
    const text = (s: string): Tensor => ({ name: 'text', datatype: 'BYTES', shape: [1], data: [s] });
    expect(compareOutputs([text('cat')], [text('cat')], 0)).toMatchObject({
      kind: 'max_abs_diff',
      maxAbsDiff: 0,
      agree: true,
    });
    expect(compareOutputs([text('cat')], [text('dog')], 1e9)).toMatchObject({ maxAbsDiff: Infinity, agree: false });
  });

  it('is incomparable when shapes, datatypes or output names differ', () => {
    const shape = compareOutputs([scores()], [fp32('probs', [4, 3], Array(12).fill(0))], 0);
    expect(shape).toMatchObject({ kind: 'incomparable', agree: false, maxAbsDiff: null });
    expect(shape.detail).toContain('shape [3, 4]');

    const dtype = compareOutputs([scores()], [{ ...scores(), datatype: 'FP64', data: new Float64Array(12) }], 0);
    expect(dtype).toMatchObject({ kind: 'incomparable', agree: false });
    expect(dtype.detail).toContain('FP32');

    const missing = compareOutputs([scores(), fp32('extra', [1], [0])], [scores()], 0);
    expect(missing).toMatchObject({ kind: 'incomparable', agree: false });
    expect(missing.detail).toContain("'extra' is missing");
  });

  it('ignores outputs only the shadow has', () => {
    expect(compareOutputs([scores()], [fp32('new', [1], [0]), scores()], 0)).toMatchObject({
      kind: 'top1',
      agree: true,
    });
  });

  it('disagrees on NaN in either answer', () => {
    const y = (v: number) => fp32('y', [1], [v]);
    expect(compareOutputs([y(1)], [y(NaN)], Infinity)).toMatchObject({
      kind: 'max_abs_diff',
      agree: false,
      rowsAgreeing: 0,
    });
    expect(compareOutputs([y(NaN)], [y(NaN)], Infinity)).toMatchObject({ agree: false });

    const withNaN = scores();
    (withNaN.data as Float32Array)[5] = NaN; // row 1
    const r = compareOutputs([scores()], [withNaN], 0);
    expect(r).toMatchObject({ kind: 'top1', rowsAgreeing: 2, agree: false });
  });

  it('always agrees with itself on finite outputs, and never counts more agreeing rows than rows', () => {
    const finite = fc.float({ noNaN: true, noDefaultInfinity: true });
    const tensorArb = fc
      .record({ n: fc.integer({ min: 0, max: 5 }), c: fc.integer({ min: 1, max: 5 }) })
      .chain(({ n, c }) =>
        fc
          .tuple(
            fc.array(finite, { minLength: n * c, maxLength: n * c }),
            fc.array(finite, { minLength: n * c, maxLength: n * c }),
          )
          .map(([a, b]) => [fp32('o', [n, c], a), fp32('o', [n, c], b)] as const),
      );
    fc.assert(
      fc.property(tensorArb, ([a, b]) => {
        expect(compareOutputs([a], [a], 0).agree).toBe(true);
        const r = compareOutputs([a], [b], 0);
        expect(r.rowsAgreeing).toBeLessThanOrEqual(r.rows);
        expect(r.agree).toBe(r.rowsAgreeing === r.rows);
      }),
    );
  });
});
