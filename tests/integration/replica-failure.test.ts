import { afterEach, describe, expect, it } from 'vitest';
import { binaryInferBody, clsInput, inferJson } from '../helpers/tensors.ts';
import { clsDeployment, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';

let vigil: RunningVigil | undefined;
afterEach(async () => {
  await vigil?.stop();
  vigil = undefined;
});

/**
 * Sends one request with a client-side limit, so a hung request shows up as 'hung', not as a
 * stuck test; a connection the server reset shows up as 'reset'.
 */
async function send(url: string, seed: number): Promise<number | 'hung' | 'reset'> {
  const req = binaryInferBody(clsInput(seed));
  try {
    const res = await fetch(`${url}/v2/models/cls/infer`, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.timeout(15_000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    return (err as Error).name === 'TimeoutError' ? 'hung' : 'reset';
  }
}

describe('replica failure', () => {
  it.each([
    ['with direct ingress', true],
    ['with ingress.direct off', false],
  ])('replaces a replica killed with SIGKILL under load, with no hung request, %s', async (_, direct) => {
    vigil = await startVigil({
      ingress: { direct },
      deployments: [clsDeployment({ num_replicas: 2, max_ongoing_requests: 4, max_queued_requests: 1000 })],
    });
    const before = (await vigil.status()).deployments[0]!.versions[0]!.replicas;
    const victim = before[0]!.pid!;

    // 8 concurrent client loops for ~2 s; the kill lands in the middle.
    const statuses: Array<number | 'hung' | 'reset'> = [];
    const until = Date.now() + 2000;
    const loops = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; Date.now() < until; i++) statuses.push(await send(vigil!.url, w * 10_000 + i));
    });
    await new Promise((r) => setTimeout(r, 500));
    process.kill(victim, 'SIGKILL');
    await Promise.all(loops);

    expect(statuses).not.toContain('hung');
    // Requests other processes had sent to the dead replica are retried once elsewhere; at worst
    // they fail fast with 503. With direct ingress the victim also held client connections: the
    // kernel resets those (at most one request each, the 8 loops' connections), never a hang.
    const resets = statuses.filter((s) => s === 'reset').length;
    if (direct) expect(resets).toBeLessThanOrEqual(8);
    else expect(resets).toBe(0);
    expect(statuses.every((s) => s === 200 || s === 503 || s === 'reset')).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(statuses.length * 0.9);

    await waitFor(
      async () => {
        const replicas = (await vigil!.status()).deployments[0]!.versions[0]!.replicas;
        return (
          replicas.length === 2 &&
          replicas.every((r) => r.state === 'RUNNING') &&
          !replicas.some((r) => r.pid === victim)
        );
      },
      30_000,
      'a replacement replica',
    );
    const after = await vigil.status();
    expect(after.deployments[0]!.versions[0]!.restarts).toBe(1);
    const recovered = await Promise.all(Array.from({ length: 10 }, (_, i) => send(vigil!.url, i)));
    expect(recovered).toEqual(Array(10).fill(200));
    expect(
      vigil.lines.some((l) => l.includes('replica stopped; it will be replaced') && l.includes('"reason":"crash"')),
    ).toBe(true);
  });

  it('answers 503 (not a hang) when a model cannot be loaded, and reports a crash loop', async () => {
    vigil = await startVigil(
      { deployments: [clsDeployment({ model: new URL('../../package.json', import.meta.url).pathname })] },
      { waitReady: false },
    );
    await waitFor(
      async () => (await vigil!.status()).deployments[0]!.versions[0]!.restarts >= 2,
      30_000,
      'load failures',
    );
    expect((await fetch(`${vigil.url}/v2/health/ready`)).status).toBe(503);
    const res = await inferJson(vigil.url, clsInput(1));
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('VIGIL_ERR_NOT_READY');
    expect(vigil.lines.some((l) => l.includes('model load failed'))).toBe(true);
  });
});

describe('graceful shutdown', () => {
  it('finishes the requests in flight on SIGTERM and exits 0', async () => {
    vigil = await startVigil({
      deployments: [
        clsDeployment({
          num_replicas: 1,
          max_ongoing_requests: 1,
          max_request_body_bytes: 64 << 20,
          batching: { max_batch_size: 1, batch_wait_timeout_ms: 0 },
        }),
      ],
    });
    const big = binaryInferBody(clsInput(1, 200), 200);
    const inFlight = [
      fetch(`${vigil.url}/v2/models/cls/infer`, { method: 'POST', headers: big.headers, body: big.body }),
      ...Array.from({ length: 4 }, (_, i) => inferJson(vigil!.url, clsInput(i))),
    ];
    // In flight: accepted on the port and not answered. The 200-row request is, from its first
    // byte until its long run ends, so this window is wide (the replica's own ongoing count shows
    // work for a few milliseconds at a time, which a status read rarely lands in).
    await waitFor(async () => (await vigil!.status()).ingress.in_flight_requests > 0, 10_000, 'work in flight');
    vigil.proc.kill('SIGTERM');
    const results = await Promise.all(inFlight);
    // Including the 200-row request, which may still be uploading its 22 MB body when SIGTERM
    // arrives: a drain waits for every accepted request, not only those already routed.
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const { code } = await vigil.exited;
    expect(code).toBe(0);
    await expect(fetch(`${vigil.url}/v2/health/live`)).rejects.toThrow();
    expect(vigil.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
  });
});
