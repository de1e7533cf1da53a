import 'server-only';
import { readApiError } from './api-error';
import { consoleConfig } from './config';
import { sessionToken } from './session-cookie';

/** An answer from vigil: the parsed JSON, or why there is none. */
export type ApiResult<T> = { ok: true; data: T } | ApiFailure;

/**
 * A failed call. `status` is vigil's HTTP status, or 0 when vigil could not be reached (then
 * `error` is VIGIL_ERR_NODE_UNREACHABLE). `error` is the stable code, `message` a sentence for people.
 */
export interface ApiFailure {
  ok: false;
  status: number;
  error: string;
  message: string;
}

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

/** Calls vigil and parses its JSON; every failure, the network's included, becomes an ApiFailure. */
export async function vigilJson<T>(path: string, req: VigilRequest = {}): Promise<ApiResult<T>> {
  let res: Response;
  try {
    res = await vigilRequest(path, req);
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
  const text = await res.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      if (res.ok)
        return {
          ok: false,
          status: res.status,
          error: 'VIGIL_BAD_RESPONSE',
          message: `vigil answered ${path} with something that is not JSON`,
        };
    }
  }
  if (!res.ok) return { ok: false, status: res.status, ...readApiError(res.status, res.statusText, body) };
  return { ok: true, data: body as T };
}

/**
 * GET for pages, with the session's token; the path is below /api/v1. Without a session nothing
 * is sent: vigil would take a token-less loopback call (the console's own) for its local admin.
 */
export async function apiGet<T>(path: string): Promise<ApiResult<T>> {
  const token = await sessionToken();
  if (!token) return { ok: false, status: 401, error: 'VIGIL_ERR_UNAUTHORIZED', message: 'not signed in' };
  return vigilJson<T>(`/api/v1${path}`, { token });
}
