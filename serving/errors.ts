/**
 * The one registry of vigil's errors. Every error a client can see is defined here once, with a
 * stable code and its HTTP status, in the style of fastify's lib/errors.js. Domain code throws
 * `VigilError`s; the ingress is the only place that turns them into HTTP responses, and unknown
 * errors never leak their message (see ingress/error-response.ts).
 */
export const errorDefinitions = {
  VIGIL_ERR_MALFORMED_JSON: { status: 400, message: 'request body is not valid JSON' },
  VIGIL_ERR_INVALID_REQUEST: { status: 400, message: 'request does not follow the inference protocol' },
  VIGIL_ERR_UNKNOWN_INPUT: { status: 400, message: 'unknown input name' },
  VIGIL_ERR_MISSING_INPUT: { status: 400, message: 'a required input is missing' },
  VIGIL_ERR_UNKNOWN_OUTPUT: { status: 400, message: 'unknown output name' },
  VIGIL_ERR_WRONG_DATATYPE: { status: 400, message: 'input datatype does not match the model' },
  VIGIL_ERR_WRONG_SHAPE: { status: 400, message: 'input shape does not match the model' },
  VIGIL_ERR_DATA_LENGTH: { status: 400, message: 'input data length does not match its shape' },
  VIGIL_ERR_MISSING_MODEL_ID: {
    status: 400,
    message: 'x-vigil-model-id is required by a multiplexed deployment, and allowed only there',
  },
  VIGIL_ERR_BAD_TIMEOUT: { status: 400, message: 'the request timeout is not a positive number' },
  VIGIL_ERR_INFERENCE_FAILED: { status: 400, message: 'the model rejected this input' },
  VIGIL_ERR_INVALID_BODY: { status: 400, message: 'the request body is not valid for this endpoint' },
  VIGIL_ERR_INVALID_PARAMETER: { status: 400, message: 'a path or query parameter is not valid for this endpoint' },
  VIGIL_ERR_BAD_URL: { status: 400, message: 'the URL path is not valid percent-encoding' },
  VIGIL_ERR_UNAUTHORIZED: { status: 401, message: 'a valid bearer token is required' },
  VIGIL_ERR_LOGIN_FAILED: { status: 401, message: 'unknown user or wrong password' },
  VIGIL_ERR_CONFIRMATION_REQUIRED: { status: 400, message: 'running a runbook action needs "confirm": true' },
  VIGIL_ERR_NOT_FOUND: { status: 404, message: 'no such route' },
  VIGIL_ERR_NO_SUCH_RESOURCE: { status: 404, message: 'no such resource' },
  VIGIL_ERR_UNKNOWN_MODEL: { status: 404, message: 'unknown model' },
  VIGIL_ERR_UNKNOWN_MODEL_ID: { status: 404, message: 'unknown model id for this multiplexed deployment' },
  VIGIL_ERR_UNKNOWN_VERSION: { status: 404, message: 'unknown model version' },
  VIGIL_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed' },
  VIGIL_ERR_BODY_TOO_LARGE: { status: 413, message: 'request body is over the limit' },
  VIGIL_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'unsupported content type' },
  VIGIL_ERR_FORBIDDEN: { status: 403, message: 'forbidden' },
  VIGIL_ERR_CSRF: { status: 403, message: 'a change made with a console session needs its x-vigil-csrf token' },
  VIGIL_ERR_BODY_TIMEOUT: { status: 408, message: 'the request body did not arrive in time' },
  VIGIL_ERR_RATE_LIMITED: { status: 429, message: 'too many failed logins; wait and retry' },
  VIGIL_ERR_CONFLICT: { status: 409, message: 'the change conflicts with the current state' },
  VIGIL_ERR_ROLLOUT_ACTIVE: {
    status: 409,
    message: 'a rollout owns the weights of this deployment (Progressing or Paused); promote or abort it first',
  },
  VIGIL_ERR_NO_ACTIVE_ROLLOUT: { status: 409, message: 'this deployment has no rollout in progress' },
  VIGIL_ERR_STALE_LEADER: {
    status: 409,
    message: 'this node no longer holds the current leadership epoch; its leader write was refused',
  },
  VIGIL_ERR_INTERNAL: { status: 500, message: 'internal error' },
  VIGIL_ERR_RESPONSE_SCHEMA: { status: 500, message: 'an answer does not match its published schema' },
  VIGIL_ERR_UNDECLARED_CALL: { status: 500, message: 'a handler called a deployment its calls list does not name' },
  VIGIL_ERR_HANDLER_FAILED: { status: 500, message: 'the deployment handler threw an error' },
  VIGIL_ERR_FAULT_INJECTED: {
    status: 500,
    message: "failure injected by this deployment version's fault_injection setting",
  },
  VIGIL_ERR_OVERLOADED: { status: 503, message: 'deployment is overloaded; retry later' },
  VIGIL_ERR_NOT_READY: { status: 503, message: 'deployment has no running replica' },
  VIGIL_ERR_REPLICA_LOST: { status: 503, message: 'the replica serving this request stopped' },
  // Internal: a full replica refuses, and the router sends the request elsewhere or queues it.
  VIGIL_ERR_REPLICA_BUSY: { status: 503, message: 'the replica has no room for this request' },
  VIGIL_ERR_SHUTTING_DOWN: { status: 503, message: 'vigil is shutting down' },
  VIGIL_ERR_NODE_UNREACHABLE: { status: 502, message: 'the console cannot reach the vigil node' },
  VIGIL_ERR_PROMETHEUS_UNREACHABLE: { status: 502, message: 'the console cannot reach Prometheus' },
  VIGIL_ERR_PROMETHEUS_QUERY_FAILED: { status: 502, message: 'Prometheus refused or failed a console query' },
  VIGIL_ERR_CONTROL_UNAVAILABLE: {
    status: 503,
    message: "the node's control plane did not answer; inference is still served",
  },
  VIGIL_ERR_DEADLINE_EXCEEDED: { status: 504, message: 'the request deadline passed' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorDefinitions;

/**
 * Marks a VigilError across copies of this module: a replica runs vigil from its bundle
 * (dist/serving) while a handler imports `vigil/handler` from the sources, so the class a handler
 * throws is not the class the replica checks. `instanceof` asks for the mark instead.
 */
const VIGIL_ERROR = Symbol.for('vigil.error');

/** A domain error with a stable code; `detail` is safe to show to the client. */
export class VigilError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[VIGIL_ERROR] === true;
  }

  readonly [VIGIL_ERROR] = true;
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers, e.g. Retry-After for overload. */
  readonly headers: Record<string, string>;
  /** What the caller passed beyond the code's own message; crosses process boundaries as is. */
  readonly detail: string | undefined;

  constructor(code: ErrorCode, detail?: string, headers: Record<string, string> = {}) {
    const def = errorDefinitions[code];
    super(detail ? `${def.message}: ${detail}` : def.message);
    this.name = 'VigilError';
    this.code = code;
    this.status = def.status;
    this.headers = headers;
    this.detail = detail;
  }
}

export function isVigilError(err: unknown): err is VigilError {
  return err instanceof VigilError;
}
