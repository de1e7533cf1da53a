import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { VigilError } from '../errors.ts';
import { parseInferRequest } from '../protocol/infer-request.ts';
import { encodeInferResponse } from '../protocol/infer-response.ts';
import { validateAgainstSignature } from '../protocol/model-metadata.ts';
import type { IngressDeployment, IngressRouter } from '../router/ingress-types.ts';
import { runShadow, shouldMirror } from '../router/mirror.ts';
import { admit } from '../router/admit.ts';
import { assertModelId } from '../replica/multiplex-runner.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { IngressPool } from '../router/ingress-types.ts';
import type { RequestScope } from '../telemetry/request-scope.ts';
import { sendJson } from './error-response.ts';
import type { BodyPool } from './body-pool.ts';
import { readBody } from './read-body.ts';
import { JsonDepthGuard } from '../protocol/json-depth-guard.ts';

/**
 * The deepest JSON an OIP request needs: the document, `inputs`, an input, and its `data` nested
 * up to the highest rank vigil accepts (16), with room to spare for `parameters`.
 */
const MAX_JSON_DEPTH = 24;

export const TIMEOUT_HEADER = 'x-vigil-timeout-ms';
/** Pins a request to one version, like the OIP /versions/{v} path. */
export const VERSION_HEADER = 'x-vigil-version';
/** Picks the model of a multiplexed deployment. */
export const MODEL_ID_HEADER = 'x-vigil-model-id';
/** Consistent assignment: the same key gets the same version while the traffic split is unchanged. */
export const ROUTING_KEY_HEADER = 'x-vigil-routing-key';

/** GET /v2/models/{name}[/versions/{v}]: the model's signature, versions and provider. */
export function modelMetadata(res: ServerResponse, deployment: IngressDeployment, version?: string): void {
  const pool = deployment.pick({ version: version ?? [...deployment.pools.keys()][0] });
  if (!pool.signature) throw new VigilError('VIGIL_ERR_NOT_READY', `"${deployment.name}" has not loaded its model yet`);
  sendJson(res, 200, {
    name: deployment.name,
    versions: [...deployment.pools.keys()],
    platform: 'onnxruntime',
    inputs: pool.signature.inputs,
    outputs: pool.signature.outputs,
    parameters: {
      version: pool.version,
      execution_provider: pool.provider,
      batchable: pool.batchable,
      max_batch_size: pool.deployment.batching.max_batch_size,
    },
  });
}

/** GET /v2/models/{name}[/versions/{v}]/ready */
export function modelReady(res: ServerResponse, deployment: IngressDeployment, version?: string): void {
  // Without a version: ready when every version that takes traffic can serve it.
  const pools =
    version !== undefined
      ? [deployment.pick({ version })]
      : [...deployment.pools.values()].filter((p) => deployment.weightOf(p.version) > 0);
  const ready = pools.every((p) => p.running().length > 0 || (p.scalesFromZero && !p.retired));
  sendJson(res, ready ? 200 : 503, { name: deployment.name, ready });
}

/** POST /v2/models/{name}[/versions/{v}]/infer, JSON or binary tensor data. */
export async function infer(
  req: IncomingMessage,
  res: ServerResponse,
  router: IngressRouter,
  name: string,
  version: string | undefined,
  scope: RequestScope,
  bodies: BodyPool,
): Promise<void> {
  const deployment = router.get(name);
  scope.deployment = deployment.name;
  const pinned = version ?? singleHeader(req, VERSION_HEADER);
  const pool = deployment.pick({ version: pinned, routingKey: singleHeader(req, ROUTING_KEY_HEADER) });
  scope.pool = pool;
  scope.version = pool.version;
  // On errors too: which version failed is the first question during a canary.
  res.setHeader('x-vigil-version', pool.version);

  const headerLength = req.headers['inference-header-content-length'];
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (
    headerLength === undefined
      ? !(contentType === '' || contentType === 'application/json')
      : !(contentType === '' || contentType === 'application/octet-stream' || contentType === 'application/json')
  ) {
    throw new VigilError(
      'VIGIL_ERR_UNSUPPORTED_MEDIA_TYPE',
      `"${contentType.slice(0, 80)}"; send application/json, or application/octet-stream with Inference-Header-Content-Length`,
    );
  }
  const deadline = deadlineFor(req, pool);
  const jsonLength = headerLength === undefined ? undefined : Number(headerLength);
  const alignAt = Number.isSafeInteger(jsonLength) ? jsonLength! : 0;
  const guard = new JsonDepthGuard(MAX_JSON_DEPTH, jsonLength ?? Number.POSITIVE_INFINITY);
  const body = await readBody(req, pool.deployment.max_request_body_bytes, {
    alignAt,
    deadline: { at: deadline, code: 'VIGIL_ERR_DEADLINE_EXCEEDED' },
    inspect: (chunk) => guard.push(chunk),
    pool: bodies,
  });
  const request = parseInferRequest(body, jsonLength);
  const signature =
    pool.signature ??
    (await pool.ensureSignature(
      request.timeoutUs === undefined ? deadline : Math.min(deadline, Date.now() + request.timeoutUs / 1000),
    ));
  // A handler takes whatever tensors it is given and checks them itself.
  if (pool.kind === 'model') validateAgainstSignature(request, signature);

  // The protocol's own timeout parameter (microseconds, as Triton defines it) can only shorten it.
  const effectiveDeadline =
    request.timeoutUs === undefined ? deadline : Math.min(deadline, Date.now() + request.timeoutUs / 1000);
  const call = {
    inputs: request.inputs,
    outputs: request.outputs?.map((o) => o.name),
    deadline: effectiveDeadline,
    traceparent: scope.traceparent(),
    modelId: multiplexedModel(req, deployment),
  };
  // The pool that answers: the one picked, unless a rollback retired it while fault injection
  // held the request; an unpinned request then follows the split rather than failing.
  let target = pool;
  const primary = admit(pool, call, {
    onFault: (fault) => res.setHeader('x-vigil-fault', fault),
    onAdmitted: () => (scope.admittedAt = performance.now()),
    reroute: () => {
      if (pinned !== undefined) return undefined;
      target = deployment.pick({ routingKey: singleHeader(req, ROUTING_KEY_HEADER) });
      scope.pool = target;
      scope.version = target.version;
      res.setHeader('x-vigil-version', target.version);
      return target;
    },
  });
  const mirror = deployment.mirror;
  const mirrored = shouldMirror(mirror, pool, pinned !== undefined);
  if (mirrored) runShadow(deployment.pools.get(mirror.version)!, call, primary, mirror, deployment.mirrorStats);
  const outcome = await primary;
  scope.queueWaitMs = outcome.queueWaitMs;
  scope.stats = outcome.result.stats;
  scope.replicaSlot = outcome.replica.slot;
  scope.provider = target.provider;

  if (outcome.result.json !== undefined) {
    // A handler that answered an OIP call with a plain value: sent as it is.
    res.setHeader('x-vigil-batch-size', String(outcome.result.stats.batchSize));
    sendJson(res, 200, outcome.result.json);
    return;
  }
  const binary = new Set<string>();
  if (request.outputs) for (const o of request.outputs) if (o.binary) binary.add(o.name);
  if (!request.outputs && request.binaryOutputs) for (const o of outcome.result.outputs) binary.add(o.name);
  const encoded = encodeInferResponse({
    modelName: deployment.name,
    modelVersion: target.version,
    id: request.id,
    outputs: outcome.result.outputs,
    binaryOutputs: binary,
  });
  // The version and the batch the request ran in are cheap to expose and save guesswork when
  // debugging a canary or a batching setting.
  // One literal of fixed shape: `{ ...headers, more }` would give V8 a new hidden class per
  // response (decision 0013).
  const headers: OutgoingHttpHeaders = {
    'content-type': encoded.contentType,
    'content-length': encoded.body.length,
    'x-vigil-version': target.version,
    'x-vigil-batch-size': String(outcome.result.stats.batchSize),
  };
  if (encoded.jsonLength !== undefined) headers['inference-header-content-length'] = String(encoded.jsonLength);
  res.writeHead(200, headers);
  res.end(encoded.body);
  if (target.kind !== 'model') return;
  scope.observePredictions(request.inputs, outcome.result.outputs);
  // Nothing reads the inputs now: the run is over, a remote replica's frame was written before it
  // answered, and the drift sketch is folded in. A shadow call may still be reading them, and a
  // handler may have kept them; in both cases the body is left to the collector.
  if (!mirrored) bodies.give(body);
}

/** The x-vigil-model-id of a request to a multiplexed deployment, checked against its models_dir. */
function multiplexedModel(req: IncomingMessage, deployment: IngressDeployment): string | undefined {
  const id = singleHeader(req, MODEL_ID_HEADER);
  const multiplex = deployment.config.multiplex;
  if (!multiplex) {
    if (id !== undefined)
      throw new VigilError(
        'VIGIL_ERR_MISSING_MODEL_ID',
        `"${deployment.name}" is not multiplexed; leave ${MODEL_ID_HEADER} out`,
      );
    return undefined;
  }
  if (id === undefined)
    throw new VigilError(
      'VIGIL_ERR_MISSING_MODEL_ID',
      `"${deployment.name}" serves several models; name one with ${MODEL_ID_HEADER}`,
    );
  assertModelId(id);
  if (!modelExists(join(multiplex.models_dir, `${id}.onnx`)))
    throw new VigilError('VIGIL_ERR_UNKNOWN_MODEL_ID', `"${deployment.name}" has no model "${id}"`);
  return id;
}

/**
 * Whether a model file exists, remembered for 5 s: a synchronous stat per request would block the
 * router's event loop, and a file added to models_dir is picked up within seconds anyway.
 */
const knownModels = new Map<string, { exists: boolean; until: number }>();
function modelExists(path: string): boolean {
  const now = Date.now();
  const hit = knownModels.get(path);
  if (hit && hit.until > now) return hit.exists;
  if (knownModels.size > 10_000) knownModels.clear();
  const exists = existsSync(path);
  knownModels.set(path, { exists, until: now + 5000 });
  return exists;
}

export function singleHeader(req: IncomingMessage, header: string): string | undefined {
  const v = req.headers[header];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The client's deadline (x-vigil-timeout-ms), capped by the deployment's request_timeout_s. */
export function deadlineFor(req: IncomingMessage, pool: IngressPool): number {
  const now = Date.now();
  const fallback = now + pool.deployment.request_timeout_s * 1000;
  const raw = req.headers[TIMEOUT_HEADER];
  if (raw === undefined) return fallback;
  const ms = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(ms) || ms <= 0) {
    throw new VigilError(
      'VIGIL_ERR_BAD_TIMEOUT',
      `${TIMEOUT_HEADER} must be a positive number of milliseconds, got ${JSON.stringify(raw).slice(0, 40)}`,
    );
  }
  return Math.min(fallback, now + ms);
}
