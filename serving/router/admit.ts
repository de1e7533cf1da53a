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
  /**
   * Where to send the request instead when its version was retired while fault injection held
   * it (a rollback landed meanwhile): the deployment's current split. Undefined keeps the pool.
   */
  reroute?: () => IngressPool | undefined;
}

/**
 * The one admission sequence for everything that reaches a replica: an OIP /infer, a custom
 * route, a handler's call to another deployment, a shadow call. Fault injection first, then the
 * deadline (a request whose time is up is answered 504 and never queued), then the version
 * pool's own admission (pow-2, the bounded queue, 503 + Retry-After, the deadline timer, the
 * retry). Not async when no fault is set, so the common path adds no promise of its own.
 */
export function admit(pool: IngressPool, call: InferCall, options: AdmitOptions = {}): Promise<InferOutcome> {
  const dispatch = (target: IngressPool): Promise<InferOutcome> => {
    if (call.deadline <= Date.now())
      return Promise.reject(
        new VigilError('VIGIL_ERR_DEADLINE_EXCEEDED', 'the deadline passed before the request was admitted'),
      );
    options.onAdmitted?.();
    return target.infer(call);
  };
  const { errorRate, addedLatencyMs } = pool.fault;
  if (errorRate === 0 && addedLatencyMs === 0) return dispatch(pool);
  return applyFault(pool, call.deadline, options.random, options.onFault).then(() =>
    dispatch(pool.retired ? (options.reroute?.() ?? pool) : pool),
  );
}
