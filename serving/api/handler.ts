import type { IncomingMessage } from 'node:http';
import type { ParsedBody, ParsedParams, ParsedQuery, ResponseOf, RouteSpec } from '../../contract/control/route.ts';
import type { ApiContext } from './api-context.ts';
import type { Actor } from './auth.ts';

/**
 * What a handler may return for a response schema: the same shape, where a Date may stand for a
 * timestamp string (it is sent as its ISO form) and a void for "no body".
 */
export type Sendable<T> = [T] extends [undefined]
  ? void
  : T extends string
    ? T | Date
    : T extends readonly (infer U)[]
      ? readonly Sendable<U>[]
      : T extends object
        ? { [K in keyof T]: Sendable<T[K]> }
        : T;

/** One call of a route, after authorization and validation. */
export interface Call<S extends RouteSpec> {
  ctx: ApiContext;
  /** Who calls; undefined only on public routes. */
  actor: S['access'] extends 'public' ? undefined : Actor;
  params: ParsedParams<S>;
  query: ParsedQuery<S>;
  body: ParsedBody<S>;
  req: IncomingMessage;
}

export type Handler<S extends RouteSpec> = (call: Call<S>) => Promise<Sendable<ResponseOf<S>>>;

/** One handler for each route of a group: a route without one does not compile. */
export type Handlers<T extends Record<string, RouteSpec>> = { [K in keyof T]: Handler<T[K]> };
