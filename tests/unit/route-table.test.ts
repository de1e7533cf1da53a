import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { route } from '../../contract/control/route.ts';
import type { ApiContext } from '../../serving/api/api-context.ts';
import type { Handler } from '../../serving/api/handler.ts';
import { RouteTable } from '../../serving/api/route-table.ts';
import { isVigilError, VigilError } from '../../serving/errors.ts';

/**
 * The control API's one dispatcher (serving/api/route-table.ts), over real HTTP: precedence,
 * 404 against 405, parameter validation and decoding, and the response check the tests turn on
 * (VIGIL_CHECK_RESPONSES, set in vitest.config.ts).
 */
const specs = {
  getThing: route({
    method: 'GET',
    path: '/api/v1/things/{id}',
    access: 'public',
    tag: 't',
    summary: 'a thing',
    params: z.object({ id: z.coerce.number().int().positive() }),
    query: z.object({ verbose: z.enum(['yes', 'no']).default('no') }),
    status: 200,
    response: z.object({ id: z.number(), verbose: z.boolean() }),
  }),
  getSpecial: route({
    method: 'GET',
    path: '/api/v1/things/special',
    access: 'public',
    tag: 't',
    summary: 'the literal path wins',
    status: 200,
    response: z.object({ special: z.literal(true) }),
  }),
  getBroken: route({
    method: 'GET',
    path: '/api/v1/broken',
    access: 'public',
    tag: 't',
    summary: 'answers what its schema does not allow',
    status: 200,
    response: z.object({ count: z.number() }),
  }),
  removeThing: route({
    method: 'DELETE',
    path: '/api/v1/things/{id}',
    access: 'public',
    tag: 't',
    summary: 'no body',
    params: z.object({ id: z.coerce.number() }),
    status: 204,
  }),
};

const handlers = {
  getThing: async ({ params, query }: { params: { id: number }; query: { verbose: string } }) => ({
    id: params.id,
    verbose: query.verbose === 'yes',
  }),
  getSpecial: async () => ({ special: true }),
  getBroken: async () => ({ count: 'many' }),
  removeThing: async () => undefined,
} as unknown as Record<string, Handler<never>>;

describe('the control API route table', () => {
  const table = new RouteTable(specs, handlers);
  let server: Server;
  let base: string;
  let applied = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const fail = (err: unknown) => {
        const e = isVigilError(err) ? err : new VigilError('VIGIL_ERR_INTERNAL');
        res
          .writeHead(e.status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: e.message, code: e.code }));
      };
      try {
        const m = table.match(req.method ?? 'GET', url.pathname);
        if (!m) return fail(new VigilError('VIGIL_ERR_NOT_FOUND'));
        if ('wrongMethod' in m) return fail(new VigilError('VIGIL_ERR_METHOD_NOT_ALLOWED', m.template));
        m.run(req, res, {} as ApiContext, url, async () => {
          applied++;
        }).catch(fail);
      } catch (err) {
        fail(err);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = async (path: string, method = 'GET') => {
    const res = await fetch(base + path, { method });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
  };

  it('validates and coerces path and query parameters', async () => {
    expect(await get('/api/v1/things/7?verbose=yes')).toEqual({ status: 200, body: { id: 7, verbose: true } });
    expect(await get('/api/v1/things/7')).toEqual({ status: 200, body: { id: 7, verbose: false } });
    const bad = await get('/api/v1/things/seven');
    expect(bad.status).toBe(400);
    expect(bad.body?.code).toBe('VIGIL_ERR_INVALID_PARAMETER');
    expect(String(bad.body?.error)).toContain('path id');
    const badQuery = await get('/api/v1/things/7?verbose=maybe');
    expect(badQuery.status).toBe(400);
    expect(String(badQuery.body?.error)).toContain('query verbose');
  });

  it('refuses a bad percent-encoding with 400, whatever the method', async () => {
    for (const method of ['GET', 'PUT']) {
      const r = await get('/api/v1/things/%E0%A4%A', method);
      expect(r.status, method).toBe(400);
      expect(r.body?.code).toBe('VIGIL_ERR_BAD_URL');
    }
  });

  it('prefers a literal segment, and tells a wrong method from a missing route', async () => {
    expect((await get('/api/v1/things/special')).body).toEqual({ special: true });
    expect((await get('/api/v1/things/special', 'POST')).status).toBe(405);
    expect((await get('/api/v1/nothing')).status).toBe(404);
  });

  it('answers a write only after the routing state it made is applied, and 204 without a body', async () => {
    const before = applied;
    const r = await get('/api/v1/things/3', 'DELETE');
    expect(r).toEqual({ status: 204, body: null });
    expect(applied).toBe(before + 1);
  });

  it('refuses to send an answer its schema does not allow, naming the field', async () => {
    const r = await get('/api/v1/broken');
    expect(r.status).toBe(500);
    expect(r.body?.code).toBe('VIGIL_ERR_RESPONSE_SCHEMA');
    expect(String(r.body?.error)).toContain('getBroken: count');
  });

  it('will not load a route without a handler, or a handler without a route', () => {
    const { getBroken: _dropped, ...missing } = handlers;
    expect(() => new RouteTable(specs, missing)).toThrow(/getBroken.*no handler/);
    expect(() => new RouteTable(specs, { ...handlers, extra: handlers.getSpecial! })).toThrow(/extra.*no route/);
  });
});
