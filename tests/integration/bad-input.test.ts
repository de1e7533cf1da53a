import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clsInput, inferJson } from '../helpers/tensors.ts';
import { clsDeployment, startVigil, type RunningVigil } from '../helpers/vigil-process.ts';

describe('bad input gets its status and stable code, and never hurts a replica', () => {
  let vigil: RunningVigil;
  let pidsBefore: Array<number | null>;
  beforeAll(async () => {
    vigil = await startVigil({ deployments: [clsDeployment({ num_replicas: 2, max_request_body_bytes: 1_000_000 })] });
    pidsBefore = (await vigil.status()).deployments[0]!.versions[0]!.replicas.map((r) => r.pid);
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  const post = async (
    path: string,
    body: string | Uint8Array<ArrayBuffer>,
    headers: Record<string, string> = { 'content-type': 'application/json' },
  ) => {
    const res = await fetch(`${vigil.url}${path}`, { method: 'POST', headers, body });
    return { status: res.status, body: (await res.json()) as { error: string; code: string } };
  };
  const tensor = (over: Record<string, unknown>) =>
    JSON.stringify({
      inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32', data: Array.from(clsInput(1)), ...over }],
    });

  const cases: Array<[string, () => ReturnType<typeof post>, number, string]> = [
    ['malformed JSON', () => post('/v2/models/cls/infer', '{"inputs": [oops'), 400, 'VIGIL_ERR_MALFORMED_JSON'],
    ['unknown input name', () => post('/v2/models/cls/infer', tensor({ name: 'y' })), 400, 'VIGIL_ERR_UNKNOWN_INPUT'],
    ['wrong rank', () => post('/v2/models/cls/infer', tensor({ shape: [3, 48, 192] })), 400, 'VIGIL_ERR_WRONG_SHAPE'],
    [
      'wrong fixed dimension',
      () => post('/v2/models/cls/infer', tensor({ shape: [1, 4, 48, 144] })),
      400,
      'VIGIL_ERR_WRONG_SHAPE',
    ],
    [
      'wrong datatype',
      () => post('/v2/models/cls/infer', tensor({ datatype: 'INT32', data: Array(27648).fill(1) })),
      400,
      'VIGIL_ERR_WRONG_DATATYPE',
    ],
    [
      'data length not matching the shape',
      () => post('/v2/models/cls/infer', tensor({ data: [1, 2, 3] })),
      400,
      'VIGIL_ERR_DATA_LENGTH',
    ],
    [
      'unknown output',
      () => post('/v2/models/cls/infer', JSON.stringify({ ...JSON.parse(tensor({})), outputs: [{ name: 'nope' }] })),
      400,
      'VIGIL_ERR_UNKNOWN_OUTPUT',
    ],
    [
      'a shape the model rejects at run time',
      () => post('/v2/models/cls/infer', tensor({ shape: [1, 3, 0, 0], data: [] })),
      400,
      'VIGIL_ERR_INFERENCE_FAILED',
    ],
    ['unknown model', () => post('/v2/models/nope/infer', tensor({})), 404, 'VIGIL_ERR_UNKNOWN_MODEL'],
    ['unknown version', () => post('/v2/models/cls/versions/v9/infer', tensor({})), 404, 'VIGIL_ERR_UNKNOWN_VERSION'],
    [
      'body over the limit',
      () => post('/v2/models/cls/infer', new Uint8Array(1_100_000).fill(32)),
      413,
      'VIGIL_ERR_BODY_TOO_LARGE',
    ],
    [
      'unsupported content type',
      () => post('/v2/models/cls/infer', tensor({}), { 'content-type': 'text/plain' }),
      415,
      'VIGIL_ERR_UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'a bad timeout header',
      () =>
        post('/v2/models/cls/infer', tensor({}), { 'content-type': 'application/json', 'x-vigil-timeout-ms': 'soon' }),
      400,
      'VIGIL_ERR_BAD_TIMEOUT',
    ],
    ['an unknown route', () => post('/v2/nothing', '{}'), 404, 'VIGIL_ERR_NOT_FOUND'],
  ];

  for (const [what, run, status, code] of cases) {
    it(`${what} → ${status} ${code}`, async () => {
      const res = await run();
      expect(res.status).toBe(status);
      expect(res.body.code).toBe(code);
      expect(typeof res.body.error).toBe('string');
    });
  }

  it('leaves the replicas alive and serving', async () => {
    const status = await vigil.status();
    expect(status.deployments[0]!.versions[0]!.replicas.map((r) => r.pid)).toEqual(pidsBefore);
    expect(status.deployments[0]!.versions[0]!.restarts).toBe(0);
    expect((await inferJson(vigil.url, clsInput(9))).status).toBe(200);
  });

  it('bad requests sent together with good ones fail alone', async () => {
    const good = Array.from({ length: 12 }, (_, i) => inferJson(vigil.url, clsInput(100 + i)).then((r) => r.status));
    const bad = Array.from({ length: 4 }, () =>
      post('/v2/models/cls/infer', tensor({ shape: [1, 3, 0, 0], data: [] })).then((r) => r.status),
    );
    const [goodStatuses, badStatuses] = await Promise.all([Promise.all(good), Promise.all(bad)]);
    expect(goodStatuses).toEqual(Array(12).fill(200));
    expect(badStatuses).toEqual(Array(4).fill(400));
  });
});
