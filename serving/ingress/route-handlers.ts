import type { IncomingMessage, ServerResponse } from 'node:http';
import { VigilError } from '../errors.ts';
import type { IngressDeployment, IngressRouter } from '../router/ingress-types.ts';
import type { RequestScope } from '../telemetry/request-scope.ts';
import { sendJson } from './error-response.ts';
import { admit } from '../router/admit.ts';
import { deadlineFor, ROUTING_KEY_HEADER, singleHeader, VERSION_HEADER } from './oip-handlers.ts';
import { readBody } from './read-body.ts';
import { ChunkWriter } from './chunk-writer.ts';

/** The deployment whose custom route (route.prefix) covers this path, if any. */
export function matchCustomRoute(
  router: IngressRouter,
  path: string,
): { deployment: IngressDeployment; subPath: string } | undefined {
  for (const d of router.deployments.values()) {
    const prefix = d.config.route?.prefix;
    if (!prefix) continue;
    if (path === prefix) return { deployment: d, subPath: '' };
    if (path.startsWith(`${prefix}/`)) return { deployment: d, subPath: path.slice(prefix.length) };
  }
  return undefined;
}

/**
 * A request to a handler deployment's own route (e.g. POST /ocr with an image): the raw body and
 * its content type go to the handler, through the same router as /infer (versions, pinning,
 * backpressure, deadlines, fault injection), and its answer comes back as JSON or as the bytes
 * and content type it chose. The span's http.route is the route prefix.
 */
export async function serveCustomRoute(
  req: IncomingMessage,
  res: ServerResponse,
  deployment: IngressDeployment,
  subPath: string,
  scope: RequestScope,
): Promise<void> {
  scope.deployment = deployment.name;
  const pool = deployment.pick({
    version: singleHeader(req, VERSION_HEADER),
    routingKey: singleHeader(req, ROUTING_KEY_HEADER),
  });
  scope.pool = pool;
  scope.version = pool.version;
  res.setHeader('x-vigil-version', pool.version);
  const deadline = deadlineFor(req, pool);
  const body = await readBody(req, pool.deployment.max_request_body_bytes, {
    deadline: { at: deadline, code: 'VIGIL_ERR_DEADLINE_EXCEEDED' },
  });
  const rawUrl = req.url ?? '/';
  const query = rawUrl.includes('?') ? Object.fromEntries(new URL(rawUrl, 'http://vigil').searchParams) : {};
  const data = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  const stream = new ChunkWriter(req, res, scope);
  let outcome;
  try {
    outcome = await admit(
      pool,
      {
        inputs: [{ name: 'body', datatype: 'UINT8', shape: [data.length], data }],
        deadline,
        traceparent: scope.traceparent(),
        request: {
          method: req.method ?? 'POST',
          path: subPath,
          query,
          contentType: req.headers['content-type'] ?? '',
        },
        stream: { onChunk: (chunk, ack) => stream.write(chunk, ack), onCancel: (cancel) => stream.onCancel(cancel) },
      },
      {
        onFault: (fault) => res.setHeader('x-vigil-fault', fault),
        onAdmitted: () => (scope.admittedAt = performance.now()),
      },
    );
  } catch (err) {
    // Once the first chunk is out the status is sent: the error becomes the stream's last event.
    if (stream.started) return stream.fail(err as VigilError);
    stream.cancel();
    throw err;
  }
  if (stream.started || outcome.result.chunks !== undefined) return stream.end(outcome.result.chunks ?? 0);
  scope.queueWaitMs = outcome.queueWaitMs;
  scope.stats = outcome.result.stats;
  scope.replicaSlot = outcome.replica.slot;
  scope.provider = pool.provider;
  const r = outcome.result;
  if (r.json !== undefined || r.outputs.length === 0) {
    sendJson(res, 200, r.json ?? null);
    return;
  }
  const bytes = r.outputs.find((t) => t.name === 'body');
  if (!bytes || !(bytes.data instanceof Uint8Array))
    throw new VigilError('VIGIL_ERR_HANDLER_FAILED', 'a custom route answers with a value or bytes, not tensors');
  res.writeHead(r.status ?? 200, {
    'content-type': r.contentType ?? 'application/octet-stream',
    'content-length': bytes.data.byteLength,
  });
  res.end(bytes.data);
}
