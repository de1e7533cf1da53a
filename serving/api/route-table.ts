import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { RouteSpec } from '../../contract/control/route.ts';
import { formatPath } from '../config/load-config.ts';
import { VigilError } from '../errors.ts';
import { decodePathSegment } from '../ingress/decode-path.ts';
import type { ApiContext } from './api-context.ts';
import { authenticate, authorize } from './auth.ts';
import type { Call, Handler } from './handler.ts';
import { readJson } from './read-json.ts';

/**
 * The control API's one dispatcher: matching, percent-decoding (a bad encoding is a 400),
 * authorization, validation of path, query and body, and the answer, in this order, for every
 * route. Handlers only do their work (serving/api/*-routes.ts).
 */

interface CompiledRoute {
  operationId: string;
  spec: RouteSpec;
  handler: Handler<RouteSpec>;
  pattern: RegExp;
  names: string[];
  /** Literal segments: `/slos/openslo` wins over `/slos/{id}`. */
  literals: number;
}

export interface ApiMatch {
  /** The route's path template, the span's http.route. */
  template: string;
  run(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: ApiContext,
    url: URL,
    applied: () => Promise<void>,
  ): Promise<void>;
}

/**
 * Set by the tests (vitest.config.ts): every answer is checked against its route's response
 * schema before it is sent, and one that does not match is a 500 naming the field.
 */
const CHECK_RESPONSES = process.env.VIGIL_CHECK_RESPONSES === '1';

export class RouteTable {
  private readonly routes: CompiledRoute[];

  constructor(specs: Record<string, RouteSpec>, handlers: Record<string, Handler<RouteSpec>>) {
    for (const id of Object.keys(handlers))
      if (!(id in specs)) throw new Error(`handler "${id}" has no route in the contract`);
    this.routes = Object.entries(specs).map(([operationId, spec]) => {
      const handler = handlers[operationId];
      if (!handler) throw new Error(`route "${operationId}" has no handler`);
      const names: string[] = [];
      const segments = spec.path.split('/');
      const source = segments
        .map((seg) => {
          const m = /^\{([^}]+)\}$/.exec(seg);
          if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          names.push(m[1]!);
          return '([^/]+)';
        })
        .join('/');
      const literals = segments.filter((s) => !s.startsWith('{')).length;
      return { operationId, spec, handler, pattern: new RegExp(`^${source}$`), names, literals };
    });
    this.routes.sort((a, b) => b.literals - a.literals);
  }

  /** Every route, for the OpenAPI document and the drift test. */
  get specs(): { operationId: string; spec: RouteSpec }[] {
    return this.routes.map(({ operationId, spec }) => ({ operationId, spec }));
  }

  /** The route for a request, `wrongMethod` when only the method is wrong, or undefined (404). */
  match(method: string, path: string): ApiMatch | { template: string; wrongMethod: true } | undefined {
    let template: string | undefined;
    for (const r of this.routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      // Decoded before the method is checked: a bad encoding is a 400 whatever the method.
      const raw = Object.fromEntries(r.names.map((n, i) => [n, decodePathSegment(m[i + 1]!)]));
      template ??= r.spec.path;
      if (r.spec.method !== method) continue;
      return {
        template: r.spec.path,
        run: (req, res, ctx, url, applied) => this.run(r, raw, req, res, ctx, url, applied),
      };
    }
    return template ? { template, wrongMethod: true } : undefined;
  }

  private async run(
    r: CompiledRoute,
    rawParams: Record<string, string>,
    req: IncomingMessage,
    res: ServerResponse,
    ctx: ApiContext,
    url: URL,
    applied: () => Promise<void>,
  ): Promise<void> {
    const { spec } = r;
    let text: string | undefined;
    try {
      const actor =
        spec.access === 'public'
          ? undefined
          : spec.access === 'signed-in'
            ? await authenticate(req, ctx.plane)
            : await authorize(req, ctx.plane, spec.access);
      const params = spec.params ? parameters(spec.params, rawParams, 'path') : undefined;
      const query = spec.query ? parameters(spec.query, Object.fromEntries(url.searchParams), 'query') : undefined;
      const body = spec.body ? await readJson(req, spec.body, { yaml: spec.yaml }) : undefined;
      text = serialize(r, await r.handler({ ctx, actor, params, query, body, req } as Call<RouteSpec>));
    } finally {
      // A write is answered, refused or failed once every ingress process has the routing state
      // it made: a client that sets a fault, a weight or a pin and then sends a request gets the
      // new behaviour, whichever ingress process takes that request (issue 16).
      if (spec.method !== 'GET') await applied().catch(() => undefined);
    }
    if (text === undefined) {
      res.writeHead(spec.status).end();
      return;
    }
    const type = spec.contentType ?? 'application/json';
    res.writeHead(spec.status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

function parameters(schema: z.ZodObject, raw: Record<string, string>, where: 'path' | 'query'): unknown {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw new VigilError(
    'VIGIL_ERR_INVALID_PARAMETER',
    result.error.issues.map((i) => `${where} ${formatPath(i.path)}: ${i.message}`).join('; '),
  );
}

/** The answer's body, checked against the route's schema when the tests ask. */
function serialize(r: CompiledRoute, value: unknown): string | undefined {
  const { spec } = r;
  if (!spec.response) return undefined;
  const text = spec.contentType && spec.contentType !== 'application/json' ? String(value) : JSON.stringify(value);
  if (CHECK_RESPONSES) {
    const sent = spec.contentType && spec.contentType !== 'application/json' ? text : JSON.parse(text);
    const result = spec.response.safeParse(sent);
    if (!result.success)
      throw new VigilError(
        'VIGIL_ERR_RESPONSE_SCHEMA',
        `${r.operationId}: ${result.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`,
      );
  }
  return text;
}
