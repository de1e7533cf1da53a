import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryInferBody, clsInput, CLS_OUTPUT, directRun, inferJson, jsonInferBody } from '../helpers/tensors.ts';
import { clsDeployment, startVigil, type RunningVigil } from '../helpers/vigil-process.ts';

/** Float32 outputs cross JSON as doubles of the same float32 values, so they compare exactly. */
function expectSameFloats(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.fround(actual[i]!)).toBe(expected[i]);
}

/** Three waves of 32 concurrent binary requests, each with its own input and its own answer. */
async function expectOwnAnswers(url: string): Promise<void> {
  const seeds = Array.from({ length: 96 }, (_, i) => 1000 + i);
  const expected = new Map<number, Float32Array>();
  for (const seed of seeds) expected.set(seed, await directRun(clsInput(seed)));
  for (let wave = 0; wave < 3; wave++) {
    const answers = await Promise.all(
      seeds.slice(wave * 32, wave * 32 + 32).map(async (seed) => {
        const req = binaryInferBody(clsInput(seed));
        const res = await fetch(`${url}/v2/models/cls/infer`, { method: 'POST', ...req });
        const doc = (await res.json()) as { outputs: Array<{ data: number[] }> };
        return { seed, status: res.status, data: doc.outputs[0]!.data };
      }),
    );
    for (const a of answers) {
      expect(a.status).toBe(200);
      expectSameFloats(a.data, expected.get(a.seed)!);
    }
  }
}

describe('inference over the Open Inference Protocol', () => {
  let vigil: RunningVigil;
  beforeAll(async () => {
    // webgpu has no adapter on this machine: the replica must fall back to CPU with a warning.
    vigil = await startVigil({ deployments: [clsDeployment({ num_replicas: 2, execution_provider: 'webgpu' })] });
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('JSON inference gives the same numbers as a direct onnxruntime run', async () => {
    for (const seed of [1, 2, 3]) {
      const input = clsInput(seed);
      const res = await inferJson(vigil.url, input);
      expect(res.status).toBe(200);
      const out = res.body.outputs!.find((o) => o.name === CLS_OUTPUT)!;
      expect(out.shape).toEqual([1, 2]);
      expectSameFloats(out.data, await directRun(input));
    }
  });

  it('a multi-row request is answered row for row', async () => {
    const input = clsInput(42, 3);
    const res = await inferJson(vigil.url, input, { rows: 3 });
    expect(res.status).toBe(200);
    expect(res.body.outputs![0]!.shape).toEqual([3, 2]);
    expectSameFloats(res.body.outputs![0]!.data, await directRun(input, 3));
  });

  it('binary tensor data in, JSON or binary out, gives the same numbers', async () => {
    const input = clsInput(7);
    const expected = await directRun(input);

    const req = binaryInferBody(input);
    const res = await fetch(`${vigil.url}/v2/models/cls/infer`, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
    });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { outputs: Array<{ data: number[] }> };
    expectSameFloats(doc.outputs[0]!.data, expected);

    const reqBin = binaryInferBody(input, 1, true);
    const resBin = await fetch(`${vigil.url}/v2/models/cls/infer`, {
      method: 'POST',
      headers: reqBin.headers,
      body: reqBin.body,
    });
    expect(resBin.status).toBe(200);
    expect(resBin.headers.get('content-type')).toBe('application/octet-stream');
    const headerLength = Number(resBin.headers.get('inference-header-content-length'));
    const raw = Buffer.from(await resBin.arrayBuffer());
    const header = JSON.parse(raw.subarray(0, headerLength).toString()) as {
      outputs: Array<{ name: string; parameters: { binary_data_size: number } }>;
    };
    expect(header.outputs[0]!.parameters.binary_data_size).toBe(8);
    const floats = new Float32Array(raw.buffer.slice(raw.byteOffset + headerLength, raw.byteOffset + headerLength + 8));
    expectSameFloats(floats, expected);
  });

  it('concurrent binary requests each get the answer to their own input, wave after wave', async () => {
    // Bodies are reused once answered (serving/ingress/body-pool.ts): memory handed back while a
    // run, a frame to the other replica or the drift sketch still read it would show up here as
    // one request answered with another's numbers. 32 at a time fill both replicas (16 ongoing
    // each, the default), so many bodies are alive at once, whichever replica takes the
    // connection; later waves reuse earlier waves' bodies.
    await expectOwnAnswers(vigil.url);
  });

  it('echoes the request id and names model and version', async () => {
    const res = await fetch(`${vigil.url}/v2/models/cls/versions/v1/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: jsonInferBody(clsInput(5), 1, { id: 'req-123' }),
    });
    const doc = (await res.json()) as Record<string, unknown>;
    expect(res.status).toBe(200);
    expect(doc.id).toBe('req-123');
    expect(doc.model_name).toBe('cls');
    expect(doc.model_version).toBe('v1');
  });

  it('serves health, readiness and model metadata with the provider it fell back to', async () => {
    expect((await fetch(`${vigil.url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${vigil.url}/v2/health/ready`)).status).toBe(200);
    expect((await fetch(`${vigil.url}/v2/models/cls/ready`)).status).toBe(200);
    const meta = (await (await fetch(`${vigil.url}/v2/models/cls`)).json()) as Record<string, any>;
    expect(meta.platform).toBe('onnxruntime');
    expect(meta.versions).toEqual(['v1']);
    expect(meta.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] }]);
    expect(meta.outputs).toEqual([{ name: CLS_OUTPUT, datatype: 'FP32', shape: [-1, 2] }]);
    expect(meta.parameters.execution_provider).toBe('cpu');
    // The node's provider probe says once why WebGPU was passed over (no GPU here).
    const chose = vigil.lines.filter((l) => l.includes('execution provider for cls: cpu ('));
    expect(chose).toHaveLength(1);
    expect(chose[0]).toMatch(/webgpu: /);
    const status = await vigil.status();
    expect(status.deployments[0]!.versions[0]!.replicas.map((r) => r.provider)).toEqual(['cpu', 'cpu']);
  });
});

describe('inference through ingress processes (ingress.direct: false)', () => {
  let vigil: RunningVigil;
  beforeAll(async () => {
    // Batching off: each request runs alone, on exactly the bytes its frame carried.
    const batching = { max_batch_size: 1, batch_wait_timeout_ms: 0 };
    vigil = await startVigil({
      ingress: { direct: false },
      deployments: [clsDeployment({ num_replicas: 2, batching })],
    });
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('concurrent binary requests each get the answer to their own input, wave after wave', async () => {
    // Every request crosses the replica socket: the ingress process reads each body into pooled
    // memory (serving/ingress/body-pool.ts), writes it in a frame, and gives it back only once
    // the replica has answered. Given back any earlier, a later body could overwrite a frame the
    // socket has not sent yet, and a request would be answered with another's numbers.
    await expectOwnAnswers(vigil.url);
  });
});
