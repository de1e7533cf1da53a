import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSamples, sampleValue, scrape } from '../helpers/metrics-text.ts';
import { clsInput, inferJson } from '../helpers/tensors.ts';
import { clsDeployment, startVigil, type RunningVigil } from '../helpers/vigil-process.ts';

describe('fault injection (config and API)', () => {
  let vigil: RunningVigil;
  beforeAll(async () => {
    vigil = await startVigil({
      deployments: [clsDeployment({ fault_injection: { error_rate: 1, added_latency_ms: 0 } })],
    });
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('fails every request at error_rate 1, marks the response, and counts it as a 5xx', async () => {
    const res = await inferJson(vigil.url, clsInput(1));
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('VIGIL_ERR_FAULT_INJECTED');
    expect(res.headers.get('x-vigil-fault')).toBe('error');
    // Bad input is still the client's fault, checked before any injected failure.
    expect(
      (
        await fetch(`${vigil.url}/v2/models/cls/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{',
        })
      ).status,
    ).toBe(400);
    const samples = parseSamples((await scrape(vigil.url)).text);
    expect(sampleValue(samples, 'vigil_requests_total', { deployment: 'cls', version: 'v1', code: '500' })).toBe(1);
  });

  it('changes through the API, with an audit row, and adds latency when asked', async () => {
    const put = (body: unknown) =>
      fetch(`${vigil.url}/api/v1/deployments/cls/versions/v1/fault-injection`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await put({ error_rate: 2 })).status).toBe(400);
    expect((await put({ error_rate: 0, added_latency_ms: 150 })).status).toBe(200);
    const t = performance.now();
    const res = await inferJson(vigil.url, clsInput(2));
    expect(res.status).toBe(200);
    expect(performance.now() - t).toBeGreaterThanOrEqual(150);
    expect(res.headers.get('x-vigil-fault')).toBe('latency');
    expect((await put({ error_rate: 0 })).status).toBe(200);
    const clean = await inferJson(vigil.url, clsInput(3));
    expect(clean.status).toBe(200);
    expect(clean.headers.get('x-vigil-fault')).toBeNull();
    const audit = (await (await fetch(`${vigil.url}/api/v1/audit?action=fault_injection.set`)).json()) as {
      entries: Array<{ after: unknown }>;
    };
    expect(audit.entries).toHaveLength(2);
    expect(audit.entries[1]!.after).toEqual({ errorRate: 0, addedLatencyMs: 150 });
    const status = await vigil.status();
    expect((status.deployments[0]!.versions[0] as unknown as { fault_injection: unknown }).fault_injection).toEqual({
      error_rate: 0,
      added_latency_ms: 0,
    });
  });
});
