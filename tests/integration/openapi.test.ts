import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oip from '../../contract/oip.ts';
import { clsInput, jsonInferBody } from '../helpers/tensors.ts';
import { CLS_MODEL, REPO_ROOT, startVigil, type RunningVigil } from '../helpers/vigil-process.ts';
import { join } from 'node:path';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown> };
};

/** Every "$ref" in a document, which must each name one of its components. */
function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, out);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) k === '$ref' ? out.push(String(v)) : refs(v, out);
  return out;
}

/** A validator for one component of a document, with the document's other components in reach. */
function validatorFor(doc: Doc, id: string) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'doc', components: doc.components });
  return (value: unknown) => {
    const valid = ajv.validate({ $ref: `doc#/components/schemas/${id}` }, value);
    return valid ? [] : (ajv.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

/**
 * Issue 18 (item 3, the inference part): /v2/openapi.json describes the protocol with KServe's
 * schema names, each deployment publishes a document with its real inputs and outputs, and what
 * vigil actually answers fits both. /docs shows them.
 */
describe('OpenAPI for the inference protocol', () => {
  let vigil: RunningVigil;
  const getJson = async (path: string) => (await (await fetch(`${vigil.url}${path}`)).json()) as never;
  beforeAll(async () => {
    vigil = await startVigil({
      deployments: [
        { name: 'cls', model: CLS_MODEL, execution_provider: 'cpu', num_replicas: 1 },
        {
          name: 'echo',
          handler: join(REPO_ROOT, 'tests/fixtures/handlers/echo.ts'),
          route: { prefix: '/echo', methods: ['POST', 'PUT'] },
          num_replicas: 1,
        },
      ],
    });
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('describes the protocol with KServe’s names, every reference resolving', async () => {
    const doc = (await getJson('/v2/openapi.json')) as Doc;
    expect(doc.openapi).toBe('3.1.0');
    for (const path of ['/v2/health/live', '/v2/health/ready', '/v2', '/v2/models/{model}/infer'])
      expect(Object.keys(doc.paths)).toContain(path);
    for (const id of ['inference_request', 'inference_response', 'metadata_model_response', 'metadata_tensor'])
      expect(Object.keys(doc.components.schemas)).toContain(id);
    for (const r of refs(doc)) expect(doc.components.schemas[r.replace('#/components/schemas/', '')], r).toBeDefined();
  });

  it('fits what vigil answers, errors included', async () => {
    oip.metadataServerResponse.parse(await getJson('/v2'));
    oip.healthLive.parse(await getJson('/v2/health/live'));
    oip.healthReady.parse(await getJson('/v2/health/ready'));
    oip.metadataModelResponse.parse(await getJson('/v2/models/cls'));
    oip.modelReady.parse(await getJson('/v2/models/cls/ready'));
    const post = async (body: string) =>
      fetch(`${vigil.url}/v2/models/cls/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const ok = await post(jsonInferBody(clsInput(1)));
    expect(ok.status).toBe(200);
    const answer = oip.inferenceResponse.parse(await ok.json());
    const wrong = await post(
      JSON.stringify({ inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] }] }),
    );
    expect(wrong.status).toBe(400);
    expect(oip.errorResponse.parse(await wrong.json()).code).toBe('VIGIL_ERR_WRONG_SHAPE');

    // The model's own document, checked by a JSON Schema validator against the same traffic.
    const doc = (await getJson('/v2/models/cls/openapi.json')) as Doc;
    const request = validatorFor(doc, 'cls_request');
    expect(request(JSON.parse(jsonInferBody(clsInput(1))))).toEqual([]);
    expect(
      request({ inputs: [{ name: 'y', shape: [1, 3, 48, 192], datatype: 'FP32', data: [] }] }).length,
    ).toBeGreaterThan(0);
    expect(
      request({ inputs: [{ name: 'x', shape: [1, 4, 48, 192], datatype: 'FP32', data: [] }] }).length,
    ).toBeGreaterThan(0);
    expect(
      request({ inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'INT64', data: [] }] }).length,
    ).toBeGreaterThan(0);
    expect(validatorFor(doc, 'cls_response')(answer)).toEqual([]);
    const output = (doc.components.schemas.cls_output as { oneOf: { properties: { name: { const: string } } }[] })
      .oneOf;
    expect(output.map((o) => o.properties.name.const)).toEqual(answer.outputs.map((o) => o.name));
  });

  it('describes a handler’s own route with its methods, as the handler describes it', async () => {
    const doc = (await getJson('/v2/models/echo/openapi.json')) as Doc;
    expect(Object.keys(doc.paths['/echo'] ?? {}).sort()).toEqual(['post', 'put']);
    expect(Object.keys(doc.paths['/echo/{path}'] ?? {})).toContain('post');
    type Op = {
      summary: string;
      requestBody: { content: Record<string, { example?: unknown }> };
      responses: { '200': { content: Record<string, { schema: object }> } };
    };
    const post = (doc.paths['/echo'] as Record<string, Op>).post!;
    expect(post.summary).toBe('Echo what was sent');
    expect(post.requestBody.content['text/plain']?.example).toBe('hello');
    // The handler's own response schema fits what it really answers, and is not vacuous.
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const fits = ajv.compile(post.responses['200'].content['application/json']!.schema);
    const answer = await (
      await fetch(`${vigil.url}/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' })
    ).json();
    expect(fits(answer), JSON.stringify(fits.errors)).toBe(true);
    expect(fits({ method: 'POST' })).toBe(false);
  });

  it('shows the documents in a page that loads nothing from elsewhere', async () => {
    const page = await fetch(`${vigil.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.length).toBeGreaterThan(2);
    for (const s of sources) {
      expect(s.startsWith('/docs/')).toBe(true);
      expect((await fetch(`${vigil.url}${s}`)).status, s).toBe(200);
    }
    const init = await (await fetch(`${vigil.url}/docs/init.js`)).text();
    expect(init).toContain('/v2/models/cls/openapi.json');
    expect(init).toContain('/v2/models/echo/openapi.json');
    expect(init).toContain('/api/v1/openapi.json');
    expect((await fetch(`${vigil.url}/docs/../package.json`)).status).toBe(404);
  });
});
