import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson } from '../helpers/load.ts';
import { parseSamples, sampleValue, scrape } from '../helpers/metrics-text.ts';
import { clsInput, directRun, inferJson } from '../helpers/tensors.ts';
import { CLS_MODEL, startVigil, type RunningVigil } from '../helpers/vigil-process.ts';

describe('model multiplexing (x-vigil-model-id)', () => {
  let vigil: RunningVigil;
  beforeAll(async () => {
    // Four "models" of the same shape: copies of the cls model under different ids.
    const dir = mkdtempSync(join(tmpdir(), 'vigil-models-'));
    for (const id of ['alpha', 'beta', 'gamma', 'delta']) copyFileSync(CLS_MODEL, join(dir, `${id}.onnx`));
    const base = { execution_provider: 'cpu', multiplex: { models_dir: dir, max_models_per_replica: 2 } };
    vigil = await startVigil({
      deployments: [
        { name: 'one', num_replicas: 1, ...base },
        { name: 'two', num_replicas: 2, ...base },
      ],
    });
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  const infer = (model: string, id: string | undefined, seed = 1) =>
    inferJson(vigil.url, clsInput(seed), { model, headers: id === undefined ? {} : { 'x-vigil-model-id': id } });
  const counter = async (name: string, deployment: string) =>
    sampleValue(parseSamples((await scrape(vigil.url)).text), name, { deployment, version: 'v1' });

  it('serves the named model with the model’s own numbers, and refuses missing, unknown and malformed ids', async () => {
    const res = await infer('one', 'alpha', 5);
    expect(res.status).toBe(200);
    const direct = await directRun(clsInput(5));
    res.body.outputs![0]!.data.forEach((v, i) => expect(v).toBeCloseTo(direct[i]!, 5));
    expect((await infer('one', undefined)).body.code).toBe('VIGIL_ERR_MISSING_MODEL_ID');
    const unknown = await infer('one', 'zeta');
    expect([unknown.status, unknown.body.code]).toEqual([404, 'VIGIL_ERR_UNKNOWN_MODEL_ID']);
    expect((await infer('one', '../one')).status).toBe(404);
  });

  it('keeps at most max_models_per_replica loaded, evicting the least recently used', async () => {
    for (const id of ['alpha', 'beta', 'alpha', 'gamma']) expect((await infer('one', id)).status).toBe(200);
    // alpha was used after beta, so beta is the one evicted when gamma loads.
    const status = await getJson<{ versions: { replicas: { models: string[] }[] }[] }>(
      `${vigil.url}/api/v1/deployments/one`,
    );
    expect(status.versions[0]!.replicas[0]!.models.sort()).toEqual(['alpha', 'gamma']);
    expect(await counter('vigil_multiplex_loads_total', 'one')).toBe(3);
    expect(await counter('vigil_multiplex_evictions_total', 'one')).toBe(1);
    expect((await infer('one', 'beta')).status).toBe(200);
    expect(await counter('vigil_multiplex_loads_total', 'one')).toBe(4);
    expect(await counter('vigil_multiplex_evictions_total', 'one')).toBe(2);
  });

  it('routes a model to the replica that already holds it', async () => {
    for (let i = 0; i < 20; i++) expect((await infer('two', 'delta', i)).status).toBe(200);
    // Without the preference, power-of-two choices over two replicas would have loaded it on both.
    expect(await counter('vigil_multiplex_loads_total', 'two')).toBe(1);
    const samples = parseSamples((await scrape(vigil.url)).text);
    const loaded = samples
      .filter((s) => s.name === 'vigil_multiplex_models_loaded' && s.labels.deployment === 'two')
      .map((s) => s.value);
    expect(loaded.sort()).toEqual([0, 1]);
  });
});
