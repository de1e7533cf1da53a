import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { controlSchemas, errorBody } from '../../contract/control/common.ts';
import type { RouteSpec } from '../../contract/control/route.ts';

/**
 * /api/v1/openapi.json: the control API as OpenAPI 3.1, generated from the routes the server
 * dispatches by (contract/control-api.ts), so the document cannot list a route the server lacks
 * or miss one it has. Schemas the contract names become components; a request body is described
 * as a caller writes it (defaults optional), a response as the server sends it.
 */

type Json = Record<string, unknown>;

class Components {
  readonly schemas: Record<string, Json> = {};

  /** The JSON Schema of `schema`, its named parts moved into components and referenced. */
  convert(schema: z.ZodType, io: 'input' | 'output'): Json {
    const json = z.toJSONSchema(schema, {
      metadata: controlSchemas,
      io,
      unrepresentable: 'any',
      target: 'draft-2020-12',
    }) as Json;
    const { $defs, $schema: _schema, ...rest } = json as Json & { $defs?: Record<string, Json> };
    const names = new Map<string, string>();
    const rewrite = (value: Json): Json =>
      JSON.parse(
        JSON.stringify(value).replace(/"#\/\$defs\/([^"]+)"/g, (_m, id: string) =>
          JSON.stringify(`#/components/schemas/${names.get(id) ?? id}`),
        ),
      ) as Json;
    const defs = Object.entries($defs ?? {});
    for (const [id, def] of defs) {
      // A named schema whose input form differs from its output form (defaults, transforms)
      // gets a component of its own, e.g. StartRolloutInput beside StartRollout.
      const known = this.schemas[id];
      names.set(id, known === undefined || isDeepStrictEqual(known, rewrite(def)) ? id : `${id}Input`);
    }
    for (const [id, def] of defs) this.schemas[names.get(id)!] = rewrite(def);
    return rewrite(rest);
  }
}

const jsonContent = (schema: Json): Json => ({ 'application/json': { schema } });
const errorRef = { $ref: '#/components/schemas/Error' };
const failure = (description: string): Json => ({ description, content: jsonContent(errorRef) });

function parametersOf(spec: RouteSpec, c: Components): Json[] {
  const out: Json[] = [];
  for (const [where, schema] of [
    ['path', spec.params],
    ['query', spec.query],
  ] as const) {
    for (const [name, field] of Object.entries(schema?.shape ?? {})) {
      const fieldSchema = field as z.ZodType;
      out.push({
        name,
        in: where,
        required: where === 'path' || !fieldSchema.safeParse(undefined).success,
        schema: c.convert(fieldSchema, 'input'),
        ...(fieldSchema.description ? { description: fieldSchema.description } : {}),
      });
    }
  }
  return out;
}

function operation(operationId: string, spec: RouteSpec, c: Components): Json {
  const success: Json = { description: spec.summary };
  if (spec.response) {
    const type = spec.contentType ?? 'application/json';
    success.content = { [type]: { schema: c.convert(spec.response, 'output') } };
  }
  const responses: Json = { [String(spec.status)]: success };
  if (spec.params || spec.query || spec.body)
    responses['400'] = failure('a parameter or the body is not valid (VIGIL_ERR_INVALID_PARAMETER, _BODY, ...)');
  if (spec.access !== 'public') {
    responses['401'] = failure('no valid token or session (VIGIL_ERR_UNAUTHORIZED)');
    responses['403'] = failure(`the caller lacks the role (this needs ${spec.access}) or a session's CSRF token`);
  }
  if (spec.params) responses['404'] = failure('no such resource');
  responses.default = failure('any other error, with its stable code');
  const body = spec.body
    ? {
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: c.convert(spec.body, 'input') },
            ...(spec.yaml ? { 'application/yaml': { schema: { type: 'string' } } } : {}),
          },
        },
      }
    : {};
  const params = parametersOf(spec, c);
  return {
    operationId,
    summary: spec.summary,
    tags: [spec.tag],
    'x-vigil-access': spec.access,
    security: spec.access === 'public' ? [] : [{ bearer: [] }],
    ...(params.length ? { parameters: params } : {}),
    ...body,
    responses,
  };
}

export function controlDocument(routes: { operationId: string; spec: RouteSpec }[], serverVersion: string): Json {
  const c = new Components();
  c.convert(errorBody, 'output');
  const paths: Record<string, Json> = {};
  const sorted = [...routes].sort((a, b) => a.spec.path.localeCompare(b.spec.path));
  for (const { operationId, spec } of sorted) {
    paths[spec.path] ??= {};
    paths[spec.path]![spec.method.toLowerCase()] = operation(operationId, spec, c);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'vigil control API',
      version: serverVersion,
      description:
        'Deployments, traffic, rollouts, SLOs, alerts, runbooks and access. Reads need the viewer role, ' +
        'changes operator, tokens and users admin (x-vigil-access on each operation). Until the first ' +
        'token exists, loopback callers are served as admin. Every error is {"error": message, "code": ' +
        'stable code}.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas: c.schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API token, or a console session (vgs_...)' },
      },
    },
  };
}
