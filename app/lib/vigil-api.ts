import 'server-only';
import { type ApiResult, type CallInput, prepareCall, readAnswer } from '../../contract/control/client';
import { type ControlApi, controlApi, type OperationId } from '../../contract/control-api';
import type { ResponseOf } from '../../contract/control/route';
import { consoleConfig } from './config';
import { sessionToken } from './session-cookie';

export type { ApiFailure, ApiResult } from '../../contract/control/client';

export interface VigilRequest {
  method?: string;
  /** The session token to send as the bearer; the request's cookie when left out. */
  token?: string | null;
  /** The session's CSRF token, needed by vigil on every change made with a session. */
  csrf?: string | null;
  body?: BodyInit | null;
  contentType?: string | null;
  /** The browser's address (x-forwarded-for), which vigil records with logins and rate-limits. */
  clientAddress?: string | null;
}

// A hung control plane must not hang every console page with it.
const TIMEOUT_MS = 10_000;

/**
 * Sends one request to vigil's /api/v1 with the session's bearer token and returns the raw
 * response. Without a token no Authorization header is sent (logging in is the only such call).
 */
export async function vigilRequest(path: string, req: VigilRequest = {}): Promise<Response> {
  const token = req.token === undefined ? await sessionToken() : req.token;
  // x-vigil-console: vigil must not take a token-less call from the console (which runs on
  // loopback) for its local admin, as it does for other loopback callers on a fresh node.
  const headers: Record<string, string> = { accept: 'application/json', 'x-vigil-console': '1' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (req.clientAddress) headers['x-forwarded-for'] = req.clientAddress;
  if (req.csrf) headers['x-vigil-csrf'] = req.csrf;
  if (req.contentType) headers['content-type'] = req.contentType;
  return fetch(consoleConfig.apiUrl + path, {
    method: req.method ?? 'GET',
    headers,
    body: req.body ?? null,
    cache: 'no-store',
    redirect: 'manual',
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
}

/**
 * Calls one route of the control API (contract/control-api.ts) and reads its answer, checked
 * against the route's schema; every failure, the network's included, becomes an ApiFailure.
 */
export async function callVigil<K extends OperationId>(
  operation: K,
  input: CallInput<ControlApi[K]>,
  req: Omit<VigilRequest, 'method' | 'body' | 'contentType'> = {},
): Promise<ApiResult<ResponseOf<ControlApi[K]>>> {
  const spec = controlApi[operation];
  const call = prepareCall(spec, input);
  let res: Response;
  try {
    res = await vigilRequest(call.path, {
      ...req,
      method: call.method,
      body: call.body ?? null,
      contentType: call.body === undefined ? null : 'application/json',
    });
  } catch (err) {
    const why =
      err instanceof Error && err.name === 'TimeoutError'
        ? `no answer within ${TIMEOUT_MS / 1000} s`
        : 'connection failed';
    return {
      ok: false,
      status: 0,
      error: 'VIGIL_ERR_NODE_UNREACHABLE',
      message: `cannot reach vigil at ${consoleConfig.apiUrl} (${why})`,
    };
  }
  return readAnswer(spec, res, await res.text());
}

/**
 * A read for pages, with the session's token. Without a session nothing is sent: vigil would take
 * a token-less loopback call (the console's own) for its local admin.
 */
export async function apiGet<K extends OperationId>(
  operation: K,
  input: CallInput<ControlApi[K]>,
): Promise<ApiResult<ResponseOf<ControlApi[K]>>> {
  const token = await sessionToken();
  if (!token) return { ok: false, status: 401, error: 'VIGIL_ERR_UNAUTHORIZED', message: 'not signed in' };
  return callVigil(operation, input, { token });
}
