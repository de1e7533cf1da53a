import { datatypeInfo, elementCount, type Tensor } from '../protocol/datatypes.ts';
import type { DeploymentRunner } from './runner.ts';

/**
 * Runs `requests` zero-filled inferences before the replica reports READY, so that the first
 * real request does not pay for lazy allocations. With configured shapes a failure is fatal (the
 * operator said what the model takes); with guessed shapes (dynamic dimensions as 1) it only warns.
 */
export async function warmUp(
  runner: DeploymentRunner,
  warmup: { requests: number; shapes?: Record<string, number[]> },
  warn: (message: string, fields: Record<string, unknown>) => void,
): Promise<void> {
  if (warmup.requests === 0) return;
  const guessed = !warmup.shapes;
  const inputs: Tensor[] = runner.info.signature.inputs.map((spec) => {
    const shape = warmup.shapes?.[spec.name] ?? spec.shape.map((d) => (d < 0 ? 1 : d));
    const n = elementCount(shape);
    return { name: spec.name, datatype: spec.datatype, shape, data: datatypeInfo[spec.datatype].create(n) };
  });
  for (let i = 0; i < warmup.requests; i++) {
    const [result] = await runner.runBatch([{ inputs }]);
    if (result && !result.ok) {
      if (guessed) {
        warn('warm-up with guessed shapes failed; set warmup.shapes to warm this model', { error: result.detail });
        return;
      }
      throw new Error(`warm-up failed: ${result.detail}`);
    }
  }
}
