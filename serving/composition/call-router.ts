import { isVigilError, VigilError } from '../errors.ts';
import type { InferRequest } from '../protocol/infer-request.ts';
import { validateAgainstSignature } from '../protocol/model-metadata.ts';
import type { IngressRouter } from '../router/ingress-types.ts';
import { admit } from '../router/admit.ts';
import type { IngressPool } from '../router/ingress-types.ts';
import type { CallMessage, CallResultMessage } from '../transport/messages.ts';

export interface CallObserver {
  /** Every call between deployments, like a client request: per-stage metrics and SLIs. */
  observe(deployment: string, version: string, status: number, durationSeconds: number): void;
}

/**
 * Routes a handler's call to another deployment through the same router as client requests:
 * version pick, backpressure (503 past the queue), the caller's remaining deadline (504 when it
 * has run out, without sending), fault injection, and the caller's trace context, so a pipeline
 * is one trace and each stage is measured and scales on its own.
 */
export async function routeCall(
  router: IngressRouter,
  caller: IngressPool,
  msg: CallMessage,
  observer: CallObserver,
): Promise<CallResultMessage> {
  const started = performance.now();
  let target: IngressPool | undefined;
  try {
    if (!caller.deployment.calls.includes(msg.deployment)) {
      throw new VigilError(
        'VIGIL_ERR_UNDECLARED_CALL',
        `"${caller.name}" called "${msg.deployment.slice(0, 100)}"; add it to the calls list of "${caller.name}" in vigil.yaml`,
      );
    }
    target = router.get(msg.deployment).pick({ version: msg.version });
    if (msg.deadline <= Date.now())
      throw new VigilError('VIGIL_ERR_DEADLINE_EXCEEDED', `no time left to call "${msg.deployment}"`);
    if (!msg.request) {
      const signature = target.signature ?? (await target.ensureSignature(msg.deadline));
      if (target.kind === 'model') validateAgainstSignature({ inputs: msg.inputs } as InferRequest, signature);
    }
    const outcome = await admit(target, {
      inputs: msg.inputs,
      deadline: msg.deadline,
      traceparent: msg.traceparent,
      request: msg.request,
    });
    const r = outcome.result;
    observer.observe(target.name, target.version, r.status ?? 200, (performance.now() - started) / 1000);
    return {
      type: 'vigil:call-result',
      id: msg.id,
      ok: true,
      outputs: r.outputs,
      json: r.json,
      status: r.status,
      contentType: r.contentType,
      version: target.version,
    };
  } catch (err) {
    const e = isVigilError(err) ? err : new VigilError('VIGIL_ERR_INTERNAL');
    if (target) observer.observe(target.name, target.version, e.status, (performance.now() - started) / 1000);
    return { type: 'vigil:call-result', id: msg.id, ok: false, code: e.code, detail: e.detail };
  }
}
