import type { z } from 'zod';

/**
 * One control-API route, declared once: the server dispatches by it (serving/api/route-table.ts),
 * the OpenAPI document is generated from it (serving/api/control-openapi.ts), and the console and
 * the CLI build their calls and read their answers with it (contract/control/client.ts).
 */

/** Token and user roles, lowest first; `alert-receiver` may only post Alertmanager webhooks. */
export const apiRoles = ['viewer', 'operator', 'admin', 'alert-receiver'] as const;
export type ApiRole = (typeof apiRoles)[number];

/**
 * Who may call a route: a role (or one above it), `signed-in` (any valid token or session,
 * whatever its role), or `public` (no credentials: logging in, the API's own description).
 */
export type Access = ApiRole | 'signed-in' | 'public';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteSpec {
  method: Method;
  /** The path with `{name}` for each parameter, e.g. `/api/v1/slos/{id}`. */
  path: string;
  access: Access;
  /** One line for the OpenAPI document and `--help` texts. */
  summary: string;
  /** The group the OpenAPI document lists the route under. */
  tag: string;
  /** Path parameters, one key per `{name}`; strings before coercion. */
  params?: z.ZodObject;
  /** Query parameters; unknown ones are ignored (caches and proxies add their own). */
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The body may also be YAML (`content-type: application/yaml`). */
  yaml?: boolean;
  /** The success status. */
  status: 200 | 201 | 202 | 204;
  /** The success body; absent for 204. */
  response?: z.ZodType;
  /** `application/json` unless given; a string response is sent as is. */
  contentType?: 'application/json' | 'application/yaml';
}

/** Declares a route and keeps its literal types (method, path, schemas) for the typed client. */
export function route<const S extends RouteSpec>(spec: S): S {
  return spec;
}

type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;
type InferInput<T> = T extends z.ZodType ? z.input<T> : undefined;

/** What a route answers on success, as the client reads it. */
export type ResponseOf<S extends RouteSpec> = Infer<S['response']>;
/** What a caller gives: path parameters, query and body, each as the wire takes it. */
export type ParamsOf<S extends RouteSpec> = InferInput<S['params']>;
export type QueryOf<S extends RouteSpec> = InferInput<S['query']>;
export type BodyOf<S extends RouteSpec> = InferInput<S['body']>;
/** The same after validation, as a handler receives them. */
export type ParsedParams<S extends RouteSpec> = Infer<S['params']>;
export type ParsedQuery<S extends RouteSpec> = Infer<S['query']>;
export type ParsedBody<S extends RouteSpec> = Infer<S['body']>;

/** `/api/v1/slos/{id}` with `{id: 'a b'}` → `/api/v1/slos/a%20b`. */
export function fillPath(path: string, params: Record<string, unknown> | undefined): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === null || value === '') throw new Error(`path parameter "${name}" is missing`);
    return encodeURIComponent(String(value));
  });
}
