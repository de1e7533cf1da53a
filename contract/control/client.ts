import type { z } from 'zod';
import { type BodyOf, fillPath, type ParamsOf, type QueryOf, type ResponseOf, type RouteSpec } from './route.ts';

/**
 * The one client of the control API, shared by the console (server pages and browser) and the
 * CLI: it builds a call from a route of contract/control-api.ts and reads the answer back as that
 * route's response type, checked against its schema rather than cast. Transport (fetch, tokens,
 * the console's proxy) stays with each caller.
 */

/** What a call gives: path parameters where the route has them, a query, a body. */
export type CallInput<S extends RouteSpec> = (S['params'] extends z.ZodType
  ? { params: ParamsOf<S> }
  : { params?: undefined }) &
  (S['query'] extends z.ZodType ? { query?: QueryOf<S> } : { query?: undefined }) &
  (S['body'] extends z.ZodType ? { body: BodyOf<S> } : { body?: undefined });

/** An answer: the route's response, or a failure with a stable code and a sentence. */
export type ApiResult<T> = { ok: true; status: number; data: T } | ApiFailure;
export interface ApiFailure {
  ok: false;
  /** The HTTP status, or 0 when nothing answered. */
  status: number;
  /** The stable code, e.g. VIGIL_ERR_FORBIDDEN. */
  error: string;
  /** A sentence for people. */
  message: string;
}

export interface PreparedCall {
  method: RouteSpec['method'];
  /** Path and query, e.g. `/api/v1/audit?limit=5`. */
  path: string;
  /** The JSON body, or undefined. */
  body: string | undefined;
}

export function prepareCall<S extends RouteSpec>(spec: S, input: CallInput<S>): PreparedCall {
  const path = fillPath(spec.path, input.params as Record<string, unknown> | undefined);
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries((input.query ?? {}) as Record<string, unknown>))
    if (v !== undefined && v !== null) query.set(k, Array.isArray(v) ? v.join(',') : String(v));
  const search = query.size > 0 ? `?${query}` : '';
  return {
    method: spec.method,
    path: path + search,
    body: input.body === undefined ? undefined : JSON.stringify(input.body),
  };
}

/** Reads an answer to a call of `spec`: its response checked against the route's schema. */
export function readAnswer<S extends RouteSpec>(
  spec: S,
  res: { status: number; statusText: string },
  text: string,
): ApiResult<ResponseOf<S>> {
  let body: unknown = null;
  const json = (spec.contentType ?? 'application/json') === 'application/json' || res.status >= 400;
  if (text && json) {
    try {
      body = JSON.parse(text);
    } catch {
      if (res.status < 400)
        return { ok: false, status: res.status, error: 'VIGIL_ERR_RESPONSE_SCHEMA', message: 'the answer is not JSON' };
    }
  } else if (text) body = text;
  if (res.status >= 400 || res.status < 200)
    return { ok: false, status: res.status, ...readApiError(res.status, res.statusText, body) };
  if (!spec.response) return { ok: true, status: res.status, data: undefined as ResponseOf<S> };
  const checked = spec.response.safeParse(body);
  if (!checked.success) {
    const where = checked.error.issues[0]?.path.join('.') ?? '';
    return {
      ok: false,
      status: res.status,
      error: 'VIGIL_ERR_RESPONSE_SCHEMA',
      message: `vigil's answer to ${spec.method} ${spec.path} does not match its schema (${where || 'body'}: ${checked.error.issues[0]?.message})`,
    };
  }
  return { ok: true, status: res.status, data: checked.data as ResponseOf<S> };
}

/**
 * Reads vigil's error body, `{error: message, code}`, into a stable code and a sentence. A body
 * of another shape (a proxy in between, an older node that answered `{error: code, message}`)
 * still gives a code and a message.
 */
export function readApiError(status: number, statusText: string, body: unknown): { error: string; message: string } {
  const b = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const isCode = (v: unknown): v is string => typeof v === 'string' && /^[A-Z][A-Z0-9_]+$/.test(v);
  const error = isCode(b.code) ? b.code : isCode(b.error) ? b.error : `HTTP_${status}`;
  const message =
    typeof b.message === 'string'
      ? b.message
      : typeof b.error === 'string' && b.error !== error
        ? b.error
        : statusText || `HTTP ${status}`;
  return { error, message };
}
