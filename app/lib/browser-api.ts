import { readApiError } from './api-error';

/**
 * Calls from the browser to vigil, through the console's same-origin proxy (/api/v1/...), which
 * adds the session's bearer token. Changes carry the session's CSRF token from the page's
 * <meta name="vigil-csrf">, as vigil requires for every change made with a session.
 */
export type BrowserResult<T = unknown> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number; error: string; message: string };

function csrfToken(): string | null {
  return document.querySelector<HTMLMetaElement>('meta[name="vigil-csrf"]')?.content || null;
}

/** `path` is below /api/v1, e.g. `/deployments/cls/weights`. */
export async function callApi<T = unknown>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<BrowserResult<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const csrf = csrfToken();
  if (csrf && method !== 'GET') headers['x-vigil-csrf'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    return {
      ok: false,
      status: 0,
      error: 'CONSOLE_UNREACHABLE',
      message: 'the console did not answer; check the connection',
    };
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (res.ok) return { ok: true, status: res.status, data: json as T };
  return { ok: false, status: res.status, ...readApiError(res.status, res.statusText, json) };
}
