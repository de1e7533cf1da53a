import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { VigilError } from '../errors.ts';
import type { BodyPool } from './body-pool.ts';
import type { Logger } from '../logger.ts';
import type { IngressDeployment, IngressRouter } from '../router/ingress-types.ts';
import { PROMETHEUS_CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE, wantsOpenMetrics } from '../telemetry/exposition.ts';
import { RequestScope, type Telemetry } from '../telemetry/request-scope.ts';
import { sendError, sendJson, toVigilError } from './error-response.ts';
import { infer, modelMetadata, modelReady } from './oip-handlers.ts';
import { matchCustomRoute, serveCustomRoute } from './route-handlers.ts';
import type { ApiContext } from '../api/api-context.ts';
import { controlRoutes } from '../api/control-handlers.ts';
import { SERVER_VERSION } from '../server-version.ts';
import { decodePathSegment } from './decode-path.ts';
import { adoptForwardedPeer } from './peer-address.ts';
import { isDocsPath, serveDocs } from '../api/docs-page.ts';
import { deploymentDocument, type DeploymentDescription, serverDocument } from '../protocol/openapi.ts';

/** What an ingress process needs to serve the data plane. */
export interface IngressContext {
  router: IngressRouter;
  log: Logger;
  telemetry: Telemetry;
  isReady(): boolean;
  isDraining(): boolean;
  /** False once this process is leaving (a replica out of rotation): each response closes its connection. */
  keepsConnections?(): boolean;
  /**
   * Counts inference requests from the moment they are accepted until their response closes, so a
   * drain also waits for a request that is still uploading its body when shutdown begins.
   */
  trackInference(delta: 1 | -1): void;
  /** Everything that is not inference or health goes to the primary's control server. */
  forward(req: IncomingMessage, res: ServerResponse): void;
  /** Memory for inference bodies, reused once a request is answered. */
  bodies: BodyPool;
}

/** What the primary's control server needs: the control API and the metrics registry. */
export interface ControlServerContext {
  api: ApiContext;
  log: Logger;
  telemetry: Telemetry;
  metrics: { render(openMetrics: boolean): Promise<string> };
  /** Resolves once the ingress processes have reported every request answered so far. */
  settle(): Promise<void>;
  /** Resolves once every ingress process routes by the controller's current state. */
  applied(): Promise<void>;
}

const MODEL_ROUTE = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer|\/openapi\.json)?$/;

/**
 * The HTTP ingress of one ingress process: the Open Inference Protocol v2 (health, metadata,
 * infer) and custom routes; the rest is passed to the primary. Plain node:http, because the hot
 * path is one route and every microsecond of framework cost is paid per request
 * (docs/decisions/0002-http-ingress.md). Every request gets a RequestScope that records its span,
 * metrics and log line when the response closes.
 */
export function createIngress(ctx: IngressContext): Server {
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (ctx.keepsConnections?.() === false) res.shouldKeepAlive = false;
    if (!isDataPlane(req.url ?? '/')) return ctx.forward(req, res);
    const scope = new RequestScope(ctx.telemetry, req, res);
    res.on('close', () => scope.end());
    const fail = (err: unknown): void => {
      const e = toVigilError(err, ctx.log);
      scope.code = e.code;
      // After a 413, or a body cut off by its deadline, the rest of the body is still on the
      // wire; close rather than read it.
      const unread = e.code === 'VIGIL_ERR_BODY_TOO_LARGE' || e.code === 'VIGIL_ERR_BODY_TIMEOUT' || !req.complete;
      sendError(res, e, unread || ctx.isDraining() ? { connection: 'close' } : {});
    };
    try {
      handle(req, res, ctx, scope, fail);
    } catch (err) {
      fail(err);
    }
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  return server;
}

/** Dispatches a request; sets scope.route to its template (a bounded label, never raw input). */
function handle(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: IngressContext,
  scope: RequestScope,
  fail: (err: unknown) => void,
): void {
  const path = (req.url ?? '/').split('?')[0]!;
  const method = req.method ?? 'GET';
  const m = MODEL_ROUTE.exec(path);
  if (m) {
    const name = decodePathSegment(m[1]!);
    const version = m[2] === undefined ? undefined : decodePathSegment(m[2]);
    const suffix = m[3] ?? '';
    scope.route = `/v2/models/{model}${version === undefined ? '' : '/versions/{version}'}${suffix}`;
    if (suffix === '/infer') {
      scope.inference = true;
      if (method !== 'POST') throw new VigilError('VIGIL_ERR_METHOD_NOT_ALLOWED', 'use POST');
      if (ctx.isDraining()) throw new VigilError('VIGIL_ERR_SHUTTING_DOWN');
      ctx.trackInference(1);
      res.on('close', () => ctx.trackInference(-1));
      infer(req, res, ctx.router, name, version, scope, ctx.bodies).catch(fail);
      return;
    }
    if (method !== 'GET') throw new VigilError('VIGIL_ERR_METHOD_NOT_ALLOWED', 'use GET');
    const deployment = ctx.router.get(name);
    if (suffix === '/ready') modelReady(res, deployment, version);
    else if (suffix === '/openapi.json') sendJson(res, 200, deploymentDocument(describe(deployment), SERVER_VERSION));
    else modelMetadata(res, deployment, version);
    return;
  }
  const custom = matchCustomRoute(ctx.router, path);
  if (custom) {
    const route = custom.deployment.config.route!;
    scope.route = custom.subPath === '' ? route.prefix : `${route.prefix}/*`;
    scope.inference = true;
    if (!(route.methods as string[]).includes(method))
      throw new VigilError('VIGIL_ERR_METHOD_NOT_ALLOWED', `use ${route.methods.join(' or ')}`);
    if (ctx.isDraining()) throw new VigilError('VIGIL_ERR_SHUTTING_DOWN');
    ctx.trackInference(1);
    res.on('close', () => ctx.trackInference(-1));
    serveCustomRoute(req, res, custom.deployment, custom.subPath, scope).catch(fail);
    return;
  }
  scope.route = path;
  switch (`${method} ${path}`) {
    case 'GET /v2/health/live':
      sendJson(res, 200, { live: true });
      return;
    case 'GET /v2/health/ready': {
      const ready = ctx.isReady();
      sendJson(res, ready ? 200 : 503, { ready });
      return;
    }
    case 'GET /v2':
      sendJson(res, 200, { name: 'vigil', version: SERVER_VERSION, extensions: ['binary_tensor_data'] });
      return;
    case 'GET /v2/openapi.json':
      serverOpenApi ??= serverDocument(SERVER_VERSION);
      sendJson(res, 200, serverOpenApi);
      return;
  }
  scope.route = 'unmatched';
  throw new VigilError('VIGIL_ERR_NOT_FOUND', `${method} ${path.slice(0, 100)}`);
}

let serverOpenApi: Record<string, unknown> | undefined;

/** What a deployment's OpenAPI document is made from: the versions, a loaded signature, its route. */
function describe(d: IngressDeployment): DeploymentDescription {
  return {
    name: d.name,
    versions: [...d.pools.keys()],
    signature: [...d.pools.values()].find((p) => p.signature)?.signature,
    route: d.config.route,
    routeDocs: [...d.pools.values()].find((p) => p.routeDocs)?.routeDocs,
  };
}

/** Paths an ingress process answers itself; it forwards the rest (control API, metrics, unknown). */
function isDataPlane(url: string): boolean {
  return (
    url.startsWith('/v2') || !(url.startsWith('/api/') || url.startsWith('/metrics') || isDocsPath(url.split('?')[0]!))
  );
}

/**
 * The primary's control server: /metrics and /api/v1. Two listen, with the same routes. One is on
 * a Unix socket that only the node's ingress processes reach. They put the client's address in
 * a header (peer-address.ts), and only that server believes it. The other is the control
 * listener on TCP (config `control`): its clients connect themselves, so the socket's own address
 * is the client's.
 */
export function createControlServer(ctx: ControlServerContext, via: 'ingress-socket' | 'tcp'): Server {
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (via === 'ingress-socket') adoptForwardedPeer(req);
    const scope = new RequestScope(ctx.telemetry, req, res);
    res.on('close', () => scope.end());
    const fail = (err: unknown): void => sendError(res, toVigilError(err, ctx.log));
    const run = (): void => {
      try {
        handleControl(req, res, ctx, scope, fail);
      } catch (err) {
        fail(err);
      }
    };
    // A read (a scrape, the console) sees every request whose answer was sent before it came.
    if (req.method === 'GET') void ctx.settle().then(run);
    else run();
  });
  return server;
}

function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ControlServerContext,
  scope: RequestScope,
  fail: (err: unknown) => void,
): void {
  const path = (req.url ?? '/').split('?')[0]!;
  const method = req.method ?? 'GET';
  scope.route = path;
  if (method === 'GET' && path === '/metrics') {
    const openMetrics = wantsOpenMetrics(req.headers.accept);
    ctx.metrics.render(openMetrics).then((body) => {
      res.writeHead(200, {
        'content-type': openMetrics ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE,
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    }, fail);
    return;
  }
  if (isDocsPath(path)) {
    scope.route = '/docs';
    if (method !== 'GET' && method !== 'HEAD') throw new VigilError('VIGIL_ERR_METHOD_NOT_ALLOWED', 'use GET');
    serveDocs(path, res, [...ctx.api.router.deployments.keys()]).catch(fail);
    return;
  }
  if (path.startsWith('/api/v1/')) {
    const match = controlRoutes.match(method, path);
    if (match) {
      scope.route = match.template;
      if ('wrongMethod' in match) throw new VigilError('VIGIL_ERR_METHOD_NOT_ALLOWED', `${method} ${match.template}`);
      match.run(req, res, ctx.api, new URL(req.url ?? '/', 'http://vigil'), ctx.applied).catch(fail);
      return;
    }
  }
  scope.route = 'unmatched';
  throw new VigilError('VIGIL_ERR_NOT_FOUND', `${method} ${path.slice(0, 100)}`);
}
