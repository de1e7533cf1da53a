import { VigilError } from '../errors.ts';
import { applyFault, type FaultMark } from './fault.ts';
import type { IngressPool } from './ingress-types.ts';
import type { InferCall, InferOutcome } from './version-pool.ts';

export interface AdmitOptions {
  /** Hears what fault injection did (the ingress marks the response with it). */
  onFault?: (fault: FaultMark) => void;
  /** Called once the request is handed to the pool (the start of its queue span). */
  onAdmitted?: () => void;
  random?: () => number;
}

/**
 * The one admission sequence for everything that reaches a replica: an OIP /infer, a custom
 * route, a handler's call to another deployment, a shadow call. Fault injection first, then the
 * deadline (a request whose time is up is answered 504 and never queued), then the version
 * pool's own admission (pow-2, the bounded queue, 503 + Retry-After, the deadline timer, the
 * retry). Not async when no fault is set, so the common path adds no promise of its own.
 */
export function admit(pool: IngressPool, call: InferCall, options: AdmitOptions = {}): Promise<InferOutcome> {
  const dispatch = (): Promise<InferOutcome> => {
    if (call.deadline <= Date.now())
      return Promise.reject(
        new VigilError('VIGIL_ERR_DEADLINE_EXCEEDED', 'the deadline passed before the request was admitted'),
      );
    options.onAdmitted?.();
    return pool.infer(call);
  };
  const { errorRate, addedLatencyMs } = pool.fault;
  if (errorRate === 0 && addedLatencyMs === 0) return dispatch();
  return applyFault(pool, call.deadline, options.random, options.onFault).then(dispatch);
}
