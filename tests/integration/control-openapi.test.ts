import { validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlApi } from '../../contract/control-api.ts';
import { controlRoutes } from '../../serving/api/control-handlers.ts';
import { errorDefinitions } from '../../serving/errors.ts';
import { clsDeployment, startVigil, type RunningVigil } from '../helpers/vigil-process.ts';

type Operation = { operationId: string; responses: Record<string, { content?: Record<string, { schema: unknown }> }> };
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: Record<string, unknown> };

/**
 * Issue 18: the control API is declared once (contract/control-api.ts), dispatched from that
 * declaration, and described by /api/v1/openapi.json. A real OpenAPI validator accepts the three
 * documents; the document and the dispatcher list the same routes; what a running node answers
 * fits the document; bad parameters, bodies and encodings get 400 with a registered code.
 */
describe('the control API contract', () => {
  let vigil: RunningVigil;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${vigil.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    return { status: res.status, body: (type.includes('json') && text ? JSON.parse(text) : text) as unknown };
  };
  beforeAll(async () => {
    vigil = await startVigil({ deployments: [clsDeployment()] });
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('publishes three documents that an OpenAPI validator accepts', async () => {
    for (const path of ['/api/v1/openapi.json', '/v2/openapi.json', '/v2/models/cls/openapi.json']) {
      const { status, body } = await call('GET', path);
      expect(status, path).toBe(200);
      const result = await validate(body as never);
      expect(result, path).toMatchObject({ valid: true });
    }
  });

  it('documents exactly the routes the server dispatches', async () => {
    const doc = (await call('GET', '/api/v1/openapi.json')).body as Doc;
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => `${m.toUpperCase()} ${path} ${op.operationId}`))
      .sort();
    const dispatched = controlRoutes.specs.map((r) => `${r.spec.method} ${r.spec.path} ${r.operationId}`).sort();
    expect(documented).toEqual(dispatched);
    expect(dispatched.length).toBe(Object.keys(controlApi).length);
    // Each documented route answers on the running node: none is missing from its dispatcher.
    for (const line of dispatched) {
      const [method, path] = line.split(' ') as [string, string];
      const concrete = path.replace(/\{[^}]+\}/g, '1');
      const r = await fetch(`${vigil.url}${concrete}`, { method, headers: { authorization: 'Bearer nope' } });
      expect([404, 405].includes(r.status) && (await r.json()).code === 'VIGIL_ERR_NOT_FOUND', line).toBe(false);
    }
  });

  it('answers what the document says, for every read the console and the CLI use', async () => {
    const doc = (await call('GET', '/api/v1/openapi.json')).body as Doc;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ $id: 'doc', components: doc.components });
    const fits = (path: string, status: number, value: unknown) => {
      const schema = doc.paths[path]!.get!.responses[String(status)]!.content!['application/json']!.schema;
      const ok = ajv.validate(rebase(schema), value);
      return ok ? [] : (ajv.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
    };
    // Something in each list: an SLO, a rollout refused, an audit row.
    expect(
      (await call('PUT', '/api/v1/slos/cls-availability', { deployment: 'cls', kind: 'availability', objective: 0.99 }))
        .status,
    ).toBe(200);
    const reads: [string, string][] = [
      ['/api/v1/status', '/api/v1/status'],
      ['/api/v1/deployments', '/api/v1/deployments'],
      ['/api/v1/deployments/{name}', '/api/v1/deployments/cls'],
      ['/api/v1/deployments/{name}/rollout', '/api/v1/deployments/cls/rollout'],
      ['/api/v1/slos', '/api/v1/slos'],
      ['/api/v1/slos/{id}', '/api/v1/slos/cls-availability'],
      ['/api/v1/alerts', '/api/v1/alerts?state=pending,firing'],
      ['/api/v1/incidents', '/api/v1/incidents'],
      ['/api/v1/audit', '/api/v1/audit?limit=5'],
      ['/api/v1/rollouts', '/api/v1/rollouts'],
      ['/api/v1/tokens', '/api/v1/tokens'],
      ['/api/v1/users', '/api/v1/users'],
      ['/api/v1/runbooks', '/api/v1/runbooks'],
      ['/api/v1/runbooks/{slug}', '/api/v1/runbooks/error-budget-burn'],
      ['/api/v1/sessions/current', '/api/v1/sessions/current'],
      ['/api/v1/cluster', '/api/v1/cluster'],
      ['/api/v1/console/summary', '/api/v1/console/summary'],
      ['/api/v1/console/series', '/api/v1/console/series?range=15m'],
      ['/api/v1/console/runtime', '/api/v1/console/runtime'],
    ];
    for (const [template, path] of reads) {
      const { status, body } = await call('GET', path);
      expect(status, path).toBe(200);
      expect(fits(template, 200, body), path).toEqual([]);
    }
    // And the schema is not vacuous: a wrong answer does not fit it.
    expect(fits('/api/v1/status', 200, { ready: 'yes' }).length).toBeGreaterThan(0);
    expect(fits('/api/v1/audit', 200, { entries: [{ id: 1, at: 'yesterday' }] }).join()).toContain('date-time');
  });

  it('refuses bad parameters, bodies and encodings with 400 and a registered code', async () => {
    const cases: [string, string, unknown, string][] = [
      ['GET', '/api/v1/rollouts/abc', undefined, 'VIGIL_ERR_INVALID_PARAMETER'],
      ['GET', '/api/v1/slos/%E0%A4%A', undefined, 'VIGIL_ERR_BAD_URL'],
      [
        'PUT',
        '/api/v1/slos/bad%20id',
        { deployment: 'cls', kind: 'availability', objective: 0.9 },
        'VIGIL_ERR_INVALID_PARAMETER',
      ],
      ['PUT', '/api/v1/slos/ok', { deployment: 'cls', kind: 'uptime', objective: 0.9 }, 'VIGIL_ERR_INVALID_BODY'],
      ['PUT', '/api/v1/slos/ok', '{"deployment":', 'VIGIL_ERR_MALFORMED_JSON'],
      ['GET', '/api/v1/console/series?range=2d', undefined, 'VIGIL_ERR_INVALID_PARAMETER'],
      ['GET', '/api/v1/alerts?state=burning', undefined, 'VIGIL_ERR_INVALID_PARAMETER'],
      ['GET', '/api/v1/audit?limit=0', undefined, 'VIGIL_ERR_INVALID_PARAMETER'],
      ['POST', '/api/v1/deployments/cls/rollout/explode', undefined, 'VIGIL_ERR_INVALID_PARAMETER'],
      ['PUT', '/api/v1/deployments/cls/weights', { weights: {} }, 'VIGIL_ERR_INVALID_BODY'],
      ['POST', '/api/v1/runbooks/error-budget-burn/steps/x/run', { confirm: true }, 'VIGIL_ERR_INVALID_PARAMETER'],
    ];
    for (const [method, path, body, code] of cases) {
      const r = await call(method, path, body);
      const answer = r.body as { code: string; error: string };
      expect({ path, status: r.status, code: answer.code }).toEqual({ path, status: 400, code });
      expect(errorDefinitions[code as keyof typeof errorDefinitions].status).toBe(400);
      expect(answer.error.length).toBeGreaterThan(0);
    }
    expect((await call('DELETE', '/api/v1/status')).status).toBe(405);
  });
});

/** A response schema from the document, its references pointed at the document's components. */
function rebase(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')) as Record<
    string,
    unknown
  >;
}
