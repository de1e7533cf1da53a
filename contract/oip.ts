import { z } from 'zod';
import { datatypes } from '../serving/protocol/datatypes.ts';

/**
 * The Open Inference Protocol's JSON objects as vigil sends and takes them, as zod schemas: the
 * source of /v2/openapi.json and of the per-model documents (serving/protocol/openapi.ts), and
 * what the tests check vigil's real answers against. Names follow KServe's published REST
 * definition (open-inference-protocol, `open_inference_rest.yaml`) where the two overlap, so a
 * client generated from either reads the same types. The ingress parses requests with its own
 * streaming parser (serving/protocol/infer-request.ts), which is stricter than these schemas.
 */

/** The schemas the OpenAPI documents name, under their KServe names (components.schemas). */
export const oipSchemas = z.registry<{ id: string; description?: string }>();

export const parameters = z
  .record(z.string(), z.unknown())
  .register(oipSchemas, { id: 'parameters', description: 'Free-form parameters.' });

export const datatype = z
  .enum(datatypes)
  .register(oipSchemas, { id: 'datatype', description: 'A tensor element type.' });

export const tensorData = z.array(z.unknown()).register(oipSchemas, {
  id: 'tensor_data',
  description: 'The elements, flat in row-major order, or nested by dimension; numbers, booleans or strings (BYTES).',
});

export const metadataTensor = z
  .object({ name: z.string(), datatype, shape: z.array(z.int()).describe('-1 marks a dimension of any size') })
  .register(oipSchemas, { id: 'metadata_tensor' });

export const metadataServerResponse = z
  .object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) })
  .register(oipSchemas, { id: 'metadata_server_response' });

export const metadataModelResponse = z
  .object({
    name: z.string(),
    versions: z.array(z.string()),
    platform: z.string(),
    inputs: z.array(metadataTensor),
    outputs: z.array(metadataTensor),
    parameters: z
      .object({
        version: z.string().describe('the version that answered'),
        execution_provider: z.string().nullable(),
        batchable: z.boolean(),
        max_batch_size: z.int(),
      })
      .describe("vigil's additions"),
  })
  .register(oipSchemas, { id: 'metadata_model_response' });

export const requestInput = z
  .object({
    name: z.string(),
    shape: z.array(z.int().nonnegative()),
    datatype,
    parameters: parameters.optional(),
    data: tensorData.optional().describe('absent when parameters.binary_data_size gives the size of a binary part'),
  })
  .register(oipSchemas, { id: 'request_input' });

export const requestOutput = z
  .object({ name: z.string(), parameters: parameters.optional() })
  .register(oipSchemas, { id: 'request_output' });

export const inferenceRequest = z
  .object({
    id: z.string().optional(),
    parameters: parameters.optional(),
    inputs: z.array(requestInput),
    outputs: z.array(requestOutput).optional(),
  })
  .register(oipSchemas, { id: 'inference_request' });

export const responseOutput = z
  .object({
    name: z.string(),
    shape: z.array(z.int().nonnegative()),
    datatype,
    parameters: parameters.optional(),
    data: tensorData.optional(),
  })
  .register(oipSchemas, { id: 'response_output' });

export const inferenceResponse = z
  .object({
    model_name: z.string(),
    model_version: z.string().optional(),
    id: z.string().optional(),
    parameters: parameters.optional(),
    outputs: z.array(responseOutput),
  })
  .register(oipSchemas, { id: 'inference_response' });

/** Every error vigil answers: OIP's `error` (a message) and vigil's stable `code` (docs/errors.md). */
export const errorResponse = z
  .object({
    error: z.string().describe('what went wrong, for a person'),
    code: z.string().describe('a stable code from docs/errors.md, e.g. VIGIL_ERR_WRONG_SHAPE'),
  })
  .register(oipSchemas, { id: 'inference_error_response' });

export const healthLive = z.object({ live: z.boolean() }).register(oipSchemas, { id: 'health_live' });
export const healthReady = z.object({ ready: z.boolean() }).register(oipSchemas, { id: 'health_ready' });
export const modelReady = z
  .object({ name: z.string(), ready: z.boolean() })
  .register(oipSchemas, { id: 'model_ready' });
