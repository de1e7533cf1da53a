import { VigilError } from '../errors.ts';
import type { IngressPool } from './ingress-types.ts';

/**
 * A version's fault injection for calls that have no HTTP response of their own (shadow calls,
 * calls between deployments): the added latency (within the deadline), then the injected error.
 * The ingress applies the same setting to client requests and marks their responses.
 */
export async function applyFault(
  pool: IngressPool,
  deadline: number,
  random: () => number = Math.random,
): Promise<void> {
  const { errorRate, addedLatencyMs } = pool.fault;
  if (addedLatencyMs > 0)
    await new Promise((r) => setTimeout(r, Math.min(addedLatencyMs, Math.max(0, deadline - Date.now()))));
  if (errorRate > 0 && random() < errorRate) throw new VigilError('VIGIL_ERR_FAULT_INJECTED');
}
