import { VigilError } from '../errors.ts';
import type { IngressPool } from './ingress-types.ts';

/** What a fault did to a request, for the response's x-vigil-fault header. */
export type FaultMark = 'latency' | 'error' | 'latency, error';

/**
 * A version's fault injection, the one implementation for every request (admit.ts applies it to
 * client requests, custom routes, calls between deployments and shadow calls): the added latency
 * (within the deadline), then the injected error. `mark` hears what was done, so a client's
 * response can say so.
 */
export async function applyFault(
  pool: IngressPool,
  deadline: number,
  random: () => number = Math.random,
  mark?: (fault: FaultMark) => void,
): Promise<void> {
  const { errorRate, addedLatencyMs } = pool.fault;
  if (addedLatencyMs > 0) {
    mark?.('latency');
    await new Promise((r) => setTimeout(r, Math.min(addedLatencyMs, Math.max(0, deadline - Date.now()))));
  }
  if (errorRate > 0 && random() < errorRate) {
    mark?.(addedLatencyMs > 0 ? 'latency, error' : 'error');
    throw new VigilError('VIGIL_ERR_FAULT_INJECTED');
  }
}
