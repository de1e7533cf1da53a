import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { VigilError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { DeploymentRouter } from '../router/deployment-router.ts';
import { sendError, sendJson, toVigilError } from './error-response.ts';
import { infer, modelMetadata, modelReady, type InferTrace } from './oip-handlers.ts';

/** What the ingress needs from the node it serves. */
export interface IngressContext {
  router: DeploymentRouter;
  log: Logger;
  isReady(): boolean;
  isDraining(): boolean;
  status(): unknown;
  requestShutdown(): void;
  /** Called once per request when its response is finished or aborted. */
  onRequestEnd?(info: RequestEndInfo): void;
}

export interface RequestEndInfo {
  method: string;
  route: string;
  status: number;
  code?: string;
  durationMs: number;
  trace: InferTrace;
}

const MODEL_ROUTE = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;
const SERVER_VERSION = '0.1.0';

/**
 * The HTTP ingress: the Open Inference Protocol v2 (health, metadata, infer) plus the small
 * control API. Plain node:http, because the hot path is one route and every microsecond of
 * framework cost is paid per request (docs/decisions/0002-http-ingress.md).
 */
export function createIngress(ctx: IngressContext): Server {
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const started = performance.now();
    const trace: InferTrace = {};
    let route = 'unmatched';
    let code: string | undefined;
    res.on('close', () => {
      ctx.onRequestEnd?.({ method: req.method ?? 'GET', route, status: res.statusCode, code, durationMs: performance.now() - started, trace });
    });
    const fail = (err: unknown): void => {
      const e = toVigilError(err, ctx.log);
      code = e.code;
      // After a 413 the rest of the body is still on the wire; close rather than read it.
      sendError(res, e, e.code === 'VIGIL_ERR_BODY_TOO_LARGE' || ctx.isDraining() ? { connection: 'close' } : {});
    };
    try {
      route = handle(req, res, ctx, trace, fail);
    } catch (err) {
      fail(err);
    }
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  return server;
}

/** Dispatches a request and returns its route template (a bounded label, never raw input). */
function handle(req: IncomingMessage, res: ServerResponse, ctx: IngressContext, trace: InferTrace, fail: (err: unknown) => void): string {
  const path = (req.url ?? '/').split('?')[0]!;
  const method = req.method ?? 'GET';
  const m = MODEL_ROUTE.exec(path);
  if (m) {
    const name = safeDecode(m[1]!);
    const version = m[2] === undefined ? undefined : safeDecode(m[2]);
    const suffix = m[3] ?? '';
    const route = `/v2/models/{model}${version === undefined ? '' : '/versions/{version}'}${suffix}`;
    if (suffix === '/infer') {
      if (method !== 'POST') throw new VigilError('VIGIL_ERR_METHOD_NOT_ALLOWED', 'use POST');
      if (ctx.isDraining()) throw new VigilError('VIGIL_ERR_SHUTTING_DOWN');
      infer(req, res, ctx.router, name, version, trace).catch(fail);
      return route;
    }
    if (method !== 'GET') throw new VigilError('VIGIL_ERR_METHOD_NOT_ALLOWED', 'use GET');
    const deployment = ctx.router.get(name);
    if (suffix === '/ready') modelReady(res, deployment, version);
    else modelMetadata(res, deployment, version);
    return route;
  }
  switch (`${method} ${path}`) {
    case 'GET /v2/health/live':
      sendJson(res, 200, { live: true });
      return path;
    case 'GET /v2/health/ready': {
      const ready = ctx.isReady();
      sendJson(res, ready ? 200 : 503, { ready });
      return path;
    }
    case 'GET /v2':
      sendJson(res, 200, { name: 'vigil', version: SERVER_VERSION, extensions: ['binary_tensor_data'] });
      return path;
    case 'GET /api/v1/status':
      sendJson(res, 200, ctx.status());
      return path;
    case 'POST /api/v1/shutdown':
      // Until the API has tokens (the SLO engine issue), only a local caller may stop the node.
      if (!isLoopback(req.socket.remoteAddress)) throw new VigilError('VIGIL_ERR_FORBIDDEN', 'shutdown is accepted from loopback only');
      sendJson(res, 202, { shutting_down: true });
      setImmediate(() => ctx.requestShutdown());
      return path;
  }
  throw new VigilError('VIGIL_ERR_NOT_FOUND', `${method} ${path.slice(0, 100)}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new VigilError('VIGIL_ERR_INVALID_REQUEST', 'bad percent-encoding in the path');
  }
}

function isLoopback(addr: string | undefined): boolean {
  return addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1' || (addr?.startsWith('127.') ?? false);
}
