import { afterEach, describe, expect, it } from 'vitest';
import { binaryInferBody, clsInput, CLS_OUTPUT, directRun, inferJson } from '../helpers/tensors.ts';
import { clsDeployment, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';

let vigil: RunningVigil | undefined;
afterEach(async () => {
  await vigil?.stop();
  vigil = undefined;
});

describe('dynamic batching', () => {
  it('forms batches under concurrency and returns every result to its own request', async () => {
    vigil = await startVigil({
      deployments: [
        clsDeployment({
          num_replicas: 1,
          max_ongoing_requests: 64,
          batching: { max_batch_size: 8, batch_wait_timeout_ms: 5 },
        }),
      ],
    });
    const seeds = Array.from({ length: 48 }, (_, i) => 1000 + i);
    const results = await Promise.all(seeds.map((s) => inferJson(vigil!.url, clsInput(s))));
    const batchSizes = results.map((r) => Number(r.headers.get('x-vigil-batch-size')));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(Math.max(...batchSizes)).toBeGreaterThan(1);
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(8);
    for (let i = 0; i < seeds.length; i++) {
      const expected = await directRun(clsInput(seeds[i]!));
      const got = results[i]!.body.outputs!.find((o) => o.name === CLS_OUTPUT)!.data;
      // Batched convolutions may round differently from batch-1 ones, so compare closely, not bit-exactly.
      expect(got[0]).toBeCloseTo(expected[0]!, 5);
      expect(got[1]).toBeCloseTo(expected[1]!, 5);
    }
  });

  it('serves requests of different shapes side by side under batching', async () => {
    vigil = await startVigil({
      deployments: [
        clsDeployment({
          num_replicas: 1,
          max_ongoing_requests: 64,
          batching: { max_batch_size: 8, batch_wait_timeout_ms: 5 },
          warmup: { requests: 0 },
        }),
      ],
    });
    // Same model, a different width: [1,3,48,96] cannot be concatenated with [1,3,48,192].
    const narrow = (seed: number) => {
      const data = clsInput(seed).subarray(0, 3 * 48 * 96);
      return fetch(`${vigil!.url}/v2/models/cls/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          inputs: [{ name: 'x', shape: [1, 3, 48, 96], datatype: 'FP32', data: Array.from(data) }],
        }),
      });
    };
    const reqs = Array.from({ length: 24 }, (_, i) =>
      i % 2 ? narrow(i).then((r) => r.status) : inferJson(vigil!.url, clsInput(i)).then((r) => r.status),
    );
    expect(await Promise.all(reqs)).toEqual(Array(24).fill(200));
  });
});

describe('backpressure', () => {
  it('sheds load with 503 and Retry-After past max_queued_requests, losing and mixing nothing', async () => {
    vigil = await startVigil({
      deployments: [
        clsDeployment({
          num_replicas: 1,
          max_ongoing_requests: 1,
          max_queued_requests: 4,
          batching: { max_batch_size: 1, batch_wait_timeout_ms: 0 },
        }),
      ],
    });
    const seeds = Array.from({ length: 60 }, (_, i) => 5000 + i);
    const results = await Promise.all(seeds.map((s) => inferJson(vigil!.url, clsInput(s))));
    const ok = results.filter((r) => r.status === 200);
    const shed = results.filter((r) => r.status === 503);
    expect(ok.length + shed.length).toBe(seeds.length);
    expect(shed.length).toBeGreaterThan(0);
    expect(ok.length).toBeGreaterThanOrEqual(5);
    for (const r of shed) {
      expect(r.body.code).toBe('VIGIL_ERR_OVERLOADED');
      const retryAfter = Number(r.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    for (let i = 0; i < seeds.length; i++) {
      if (results[i]!.status !== 200) continue;
      const expected = await directRun(clsInput(seeds[i]!));
      expect(Math.fround(results[i]!.body.outputs![0]!.data[0]!)).toBe(expected[0]);
    }
    const status = await vigil.status();
    // Shed requests never reached a replica.
    expect(status.deployments[0]!.versions[0]!.dispatched).toBe(ok.length);
  });

  it('answers 504 for a request whose deadline passes in the queue, without sending it to a replica', async () => {
    vigil = await startVigil({
      // The queue is a router's: with direct ingress a request that reaches the replica's own
      // port while it runs the blocker is read only after the run (docs/decisions/0012).
      ingress: { direct: false },
      deployments: [
        clsDeployment({
          num_replicas: 1,
          max_ongoing_requests: 1,
          max_queued_requests: 100,
          max_request_body_bytes: 64 << 20,
          batching: { max_batch_size: 1, batch_wait_timeout_ms: 0 },
        }),
      ],
    });
    // A 256-row request holds the only slot for a few hundred milliseconds.
    const big = binaryInferBody(clsInput(1, 256), 256);
    const sendBlocker = () =>
      fetch(`${vigil!.url}/v2/models/cls/infer`, { method: 'POST', headers: big.headers, body: big.body });
    const slotTaken = async () => (await vigil!.status()).deployments[0]!.versions[0]!.replicas[0]!.ongoing === 1;
    const blocker = sendBlocker();
    await waitFor(slotTaken, 10_000, 'the blocker to reach the replica');
    const short = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        inferJson(vigil!.url, clsInput(i), { headers: { 'x-vigil-timeout-ms': '20' } }),
      ),
    );
    for (const r of short) {
      expect(r.status).toBe(504);
      expect(r.body.code).toBe('VIGIL_ERR_DEADLINE_EXCEEDED');
    }
    expect((await blocker).status).toBe(200);
    const status = await vigil.status();
    expect(status.deployments[0]!.versions[0]!.dispatched).toBe(1);
    expect(status.deployments[0]!.versions[0]!.replicas[0]!.ongoing).toBe(0);
    // The protocol's own timeout parameter (microseconds) is honoured too.
    const blocker2 = sendBlocker();
    await waitFor(slotTaken, 10_000, 'the second blocker to reach the replica');
    const res = await fetch(`${vigil.url}/v2/models/cls/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        parameters: { timeout: 20_000 },
        inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32', data: Array.from(clsInput(3)) }],
      }),
    });
    expect(res.status).toBe(504);
    expect((await blocker2).status).toBe(200);
  });
});
