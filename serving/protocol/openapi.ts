import { z } from 'zod';
import { oipSchemas } from '../../contract/oip.ts';
import type { RouteDocs } from '../handler/define.ts';
import type { ModelSignature, TensorSpec } from './model-metadata.ts';

/**
 * OpenAPI 3.1 documents for the inference protocol: one for the server (GET /v2/openapi.json)
 * and one per deployment (GET /v2/models/{name}/openapi.json) whose request and response schemas
 * name the model's real inputs and outputs, datatypes and shapes, as BentoML publishes a
 * service's. The shared objects come from the zod schemas in contract/oip.ts, under the names of
 * KServe's published REST definition.
 */

type Json = Record<string, unknown>;

const ref = (id: string): Json => ({ $ref: `#/components/schemas/${id}` });

/** contract/oip.ts as OpenAPI components (JSON Schema 2020-12, which OpenAPI 3.1 uses). */
function sharedSchemas(): Record<string, Json> {
  const { schemas } = z.toJSONSchema(oipSchemas, { uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, s]) => {
      const { $schema: _schema, $id: _id, ...rest } = s as Json;
      return [id, rest];
    }),
  );
}

const json = (schema: Json, description: string): Json => ({
  description,
  content: { 'application/json': { schema } },
});

/** The answers every vigil route may give besides its own: each error carries a stable code. */
const errors: Json = {
  '400': json(ref('inference_error_response'), 'a request vigil cannot use (the code says why)'),
  '404': json(ref('inference_error_response'), 'no such model or version'),
  '429': json(ref('inference_error_response'), 'over the deployment’s limits (Retry-After says when to retry)'),
  '503': json(ref('inference_error_response'), 'not ready, shutting down, or the queue is full (Retry-After)'),
  '504': json(ref('inference_error_response'), 'the deadline passed'),
};

const modelParam = { name: 'model', in: 'path', required: true, schema: { type: 'string' } };
const versionParam = { name: 'version', in: 'path', required: true, schema: { type: 'string' } };
const inferHeaders = [
  {
    name: 'x-vigil-timeout-ms',
    in: 'header',
    schema: { type: 'integer', minimum: 1 },
    description: 'the deadline: vigil answers 504 rather than later',
  },
  { name: 'x-vigil-version', in: 'header', schema: { type: 'string' }, description: 'pin one version' },
  {
    name: 'x-vigil-routing-key',
    in: 'header',
    schema: { type: 'string' },
    description: 'the same key gets the same version while the split is unchanged',
  },
];

/**
 * The binary tensor data extension: the JSON header, then the raw tensors, with the header's
 * length in Inference-Header-Content-Length.
 */
const binaryBody: Json = {
  schema: { type: 'string', contentMediaType: 'application/octet-stream' },
};

function inferOperation(model: string | undefined, request: Json, response: Json): Json {
  return {
    summary: model ? `Run ${model}` : 'Inference',
    operationId: model ? `infer_${model}` : 'infer',
    parameters: model ? inferHeaders : [modelParam, ...inferHeaders],
    requestBody: {
      required: true,
      content: { 'application/json': { schema: request }, 'application/octet-stream': binaryBody },
    },
    responses: { '200': json(response, 'the outputs'), ...errors },
  };
}

/** GET /v2/openapi.json: the protocol as vigil serves it, for any model. */
export function serverDocument(serverVersion: string): Json {
  const get = (summary: string, schema: Json, parameters: Json[] = []): Json => ({
    get: { summary, parameters, responses: { '200': json(schema, 'OK'), ...errors } },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'vigil: Open Inference Protocol v2',
      version: serverVersion,
      description:
        'The KServe / Triton inference protocol as vigil serves it. Each deployment also publishes ' +
        'its own document, with its inputs and outputs, at /v2/models/{model}/openapi.json.',
    },
    paths: {
      '/v2/health/live': get('Server live', ref('health_live')),
      '/v2/health/ready': get('Server ready', ref('health_ready')),
      '/v2': get('Server metadata', ref('metadata_server_response')),
      '/v2/models/{model}': get('Model metadata', ref('metadata_model_response'), [modelParam]),
      '/v2/models/{model}/versions/{version}': get('Model version metadata', ref('metadata_model_response'), [
        modelParam,
        versionParam,
      ]),
      '/v2/models/{model}/ready': get('Model ready', ref('model_ready'), [modelParam]),
      '/v2/models/{model}/versions/{version}/ready': get('Model version ready', ref('model_ready'), [
        modelParam,
        versionParam,
      ]),
      '/v2/models/{model}/infer': {
        post: inferOperation(undefined, ref('inference_request'), ref('inference_response')),
      },
      '/v2/models/{model}/versions/{version}/infer': {
        post: {
          ...inferOperation(undefined, ref('inference_request'), ref('inference_response')),
          operationId: 'infer_version',
          parameters: [modelParam, versionParam, ...inferHeaders],
        },
      },
      '/v2/models/{model}/openapi.json': get("The model's own OpenAPI document", { type: 'object' }, [modelParam]),
    },
    components: { schemas: sharedSchemas() },
  };
}

/** What the ingress knows of a deployment, enough to describe it. */
export interface DeploymentDescription {
  name: string;
  versions: string[];
  /** The model's signature once a replica has loaded it; undefined for a handler without one. */
  signature: ModelSignature | undefined;
  /** A handler's own HTTP route. */
  route?: { prefix: string; methods: string[] };
  /** How the handler describes that route (`docs` in defineDeployment), once a replica loaded it. */
  routeDocs?: RouteDocs;
}

/** One tensor exactly as the model declares it: its name, its datatype, its rank and fixed sizes. */
function tensorSchema(spec: TensorSpec): Json {
  return {
    type: 'object',
    required: ['name', 'shape', 'datatype'],
    properties: {
      name: { const: spec.name },
      datatype: { const: spec.datatype },
      shape: {
        type: 'array',
        prefixItems: spec.shape.map((d) => (d < 0 ? { type: 'integer', minimum: 0 } : { const: d })),
        minItems: spec.shape.length,
        maxItems: spec.shape.length,
        description: `[${spec.shape.join(', ')}], -1 = any size`,
      },
      parameters: ref('parameters'),
      data: ref('tensor_data'),
    },
  };
}

/** GET /v2/models/{name}/openapi.json. */
export function deploymentDocument(d: DeploymentDescription, serverVersion: string): Json {
  const paths: Json = {};
  const schemas = sharedSchemas();
  if (d.signature) {
    const id = (suffix: string) => `${d.name}_${suffix}`;
    schemas[id('input')] = { oneOf: d.signature.inputs.map(tensorSchema) };
    schemas[id('output')] = { oneOf: d.signature.outputs.map(tensorSchema) };
    schemas[id('request')] = {
      type: 'object',
      required: ['inputs'],
      properties: {
        id: { type: 'string' },
        parameters: ref('parameters'),
        inputs: {
          type: 'array',
          items: ref(id('input')),
          minItems: d.signature.inputs.length,
          maxItems: d.signature.inputs.length,
        },
        outputs: { type: 'array', items: ref('request_output') },
      },
      examples: [exampleRequest(d.signature)],
    };
    schemas[id('response')] = {
      type: 'object',
      required: ['model_name', 'outputs'],
      properties: {
        model_name: { const: d.name },
        model_version: { enum: d.versions },
        id: { type: 'string' },
        parameters: ref('parameters'),
        outputs: { type: 'array', items: ref(id('output')) },
      },
    };
    paths[`/v2/models/${d.name}/infer`] = { post: inferOperation(d.name, ref(id('request')), ref(id('response'))) };
    paths[`/v2/models/${d.name}`] = {
      get: { summary: 'Metadata', responses: { '200': json(ref('metadata_model_response'), 'OK'), ...errors } },
    };
    paths[`/v2/models/${d.name}/ready`] = {
      get: { summary: 'Ready', responses: { '200': json(ref('model_ready'), 'OK'), ...errors } },
    };
  }
  if (d.route) {
    const docs = d.routeDocs;
    const raw = { type: 'string', contentMediaType: 'application/octet-stream' };
    // The handler's own description where it gives one (defineDeployment's docs), else what any
    // handler route takes and answers.
    const requestContent: Json = docs?.request
      ? {
          [docs.request.contentType ?? 'application/json']: {
            schema: docs.request.schema ?? {},
            ...(docs.request.example === undefined ? {} : { example: docs.request.example }),
          },
        }
      : { '*/*': { schema: raw } };
    const responseContent: Json = docs?.response
      ? { [docs.response.contentType ?? 'application/json']: { schema: docs.response.schema ?? {} } }
      : {
          'application/json': { schema: {} },
          'application/x-ndjson': { schema: { type: 'string' } },
          'application/octet-stream': { schema: raw },
        };
    const operation = (method: string): Json => ({
      summary: docs?.summary ?? `${method} to the ${d.name} handler`,
      description:
        docs?.description ??
        'The raw body and its content type go to the handler, which answers JSON, bytes of its ' +
          'own content type, or a stream of JSON lines.',
      parameters: inferHeaders,
      ...(method === 'GET' || method === 'DELETE' ? {} : { requestBody: { content: requestContent } }),
      responses: {
        '200': { description: docs?.response?.description ?? "the handler's answer", content: responseContent },
        ...errors,
      },
    });
    const item = Object.fromEntries(d.route.methods.map((m) => [m.toLowerCase(), operation(m)]));
    paths[d.route.prefix] = item;
    paths[`${d.route.prefix}/{path}`] = {
      parameters: [{ name: 'path', in: 'path', required: true, schema: { type: 'string' } }],
      ...item,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: `vigil: ${d.name}`,
      version: serverVersion,
      description: `The deployment ${d.name} (versions ${d.versions.join(', ')}), as this node serves it now.`,
    },
    paths,
    components: { schemas },
  };
}

/** A request that fits the signature: each input with its dynamic sizes at 1, and zeros. */
function exampleRequest(signature: ModelSignature): Json {
  return {
    inputs: signature.inputs.map((s) => {
      const shape = s.shape.map((d) => (d < 0 ? 1 : d));
      const count = shape.reduce((a, b) => a * b, 1);
      const zero = s.datatype === 'BOOL' ? false : s.datatype === 'BYTES' ? '' : 0;
      return { name: s.name, shape, datatype: s.datatype, data: count <= 64 ? Array(count).fill(zero) : [] };
    }),
  };
}
