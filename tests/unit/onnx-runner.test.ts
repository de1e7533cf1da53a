import { beforeAll, describe, expect, it } from 'vitest';
import { OnnxRunner } from '../../serving/replica/onnx-runner.ts';
import { clsInput, directRun } from '../helpers/tensors.ts';
import { CLS_MODEL } from '../helpers/vigil-process.ts';

describe('OnnxRunner with the real classifier', () => {
  let runner: OnnxRunner;
  const warnings: string[] = [];
  beforeAll(async () => {
    runner = await OnnxRunner.create({
      model: CLS_MODEL,
      executionProvider: 'cpu',
      intraOpThreads: 1,
      warn: (m) => warnings.push(m),
    });
  });

  const item = (seed: number, shape = [1, 3, 48, 192]) => ({
    inputs: [
      { name: 'x', datatype: 'FP32' as const, shape, data: shape.includes(0) ? new Float32Array(0) : clsInput(seed) },
    ],
  });

  it('reads the signature and sees that axis 0 is batchable', () => {
    expect(runner.info.batchable).toBe(true);
    expect(runner.info.signature.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] }]);
  });

  it('splits a batch back to its items, each matching a batch-1 run', async () => {
    const results = await runner.runBatch([item(1), item(2), item(3)]);
    for (const [i, r] of results.entries()) {
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(r.outputs[0]!.shape).toEqual([1, 2]);
      const expected = await directRun(clsInput(i + 1));
      expect(r.outputs[0]!.data[0]).toBeCloseTo(expected[0]!, 5);
    }
  });

  it('gives equal keys to compatible items and different keys otherwise', () => {
    expect(runner.batchKey(item(1))).toBe(runner.batchKey(item(2)));
    expect(runner.batchKey(item(1))).not.toBe(runner.batchKey(item(1, [1, 3, 48, 96])));
  });

  it('fails only the bad item when a batch cannot run as a whole', async () => {
    const results = await runner.runBatch([item(1), item(0, [1, 3, 0, 0]), item(2)]);
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    const bad = results[1]!;
    if (!bad.ok) expect(bad.code).toBe('VIGIL_ERR_INFERENCE_FAILED');
  });

  it('falls back to CPU with a warning when an accelerator is missing', async () => {
    const fallback = await OnnxRunner.create({
      model: CLS_MODEL,
      executionProvider: 'webgpu',
      intraOpThreads: 1,
      warn: (m) => warnings.push(m),
    });
    expect(fallback.info.provider).toBe('cpu');
    expect(warnings.some((w) => w.includes('webgpu'))).toBe(true);
    await fallback.close();
  });
});
