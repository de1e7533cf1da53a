import { type ApiResult, type CallInput, prepareCall, readAnswer } from '../../contract/control/client';
import { type ControlApi, controlApi, type OperationId } from '../../contract/control-api';
import type { ResponseOf } from '../../contract/control/route';

/**
 * Calls from the browser to vigil, through the console's same-origin proxy (/api/v1/...), which
 * adds the session's bearer token. Changes carry the session's CSRF token from the page's
 * <meta name="vigil-csrf">, as vigil requires for every change made with a session. Each call
 * names a route of the contract (contract/control-api.ts) and gets its typed, checked answer.
 */
export type BrowserResult<T = unknown> = ApiResult<T>;

function csrfToken(): string | null {
  return document.querySelector<HTMLMetaElement>('meta[name="vigil-csrf"]')?.content || null;
}

export async function callRoute<K extends OperationId>(
  operation: K,
  input: CallInput<ControlApi[K]>,
): Promise<BrowserResult<ResponseOf<ControlApi[K]>>> {
  const spec = controlApi[operation];
  const call = prepareCall(spec, input);
  const headers: Record<string, string> = { accept: 'application/json' };
  const csrf = csrfToken();
  if (csrf && call.method !== 'GET') headers['x-vigil-csrf'] = csrf;
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(call.path, { method: call.method, headers, body: call.body ?? null, cache: 'no-store' });
  } catch {
    return {
      ok: false,
      status: 0,
      error: 'VIGIL_ERR_NODE_UNREACHABLE',
      message: 'the console did not answer; check the connection',
    };
  }
  return readAnswer(spec, res, await res.text());
}
