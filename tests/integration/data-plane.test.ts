import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSamples, sampleValue, scrape } from '../helpers/metrics-text.ts';
import { REPO_ROOT, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';

const fixture = (name: string) => join(REPO_ROOT, 'tests/fixtures/handlers', name);
const CONSTANT = join(REPO_ROOT, 'bench/fixtures/constant-handler.ts');

interface Status {
  ingress: { processes: number; pids: number[]; in_flight_requests: number };
  deployments: { name: string; versions: { version: string; dispatched: number; refusals: number }[] }[];
}

/**
 * The data plane with two ingress processes sharing the port: counts stay exact when summed
 * over processes, max_ongoing_requests holds across them (the replica refuses the excess), a
 * killed ingress process leaves no request hanging and is replaced, and a body nested too deep
 * is refused while it is still arriving.
 */
describe('data plane: two ingress processes', () => {
  let vigil: RunningVigil;
  const status = async () => (await (await fetch(`${vigil.url}/api/v1/status`)).json()) as Status;
  const post = (path: string, body: unknown, signal?: AbortSignal) =>
    fetch(`${vigil.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
  /**
   * A POST on a connection of its own: the kernel hands each new connection to either ingress
   * process, whereas pooled keep-alive connections can all sit on one of them for a whole test.
   */
  const postFresh = (path: string, body: unknown) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const payload = JSON.stringify(body);
      const req = httpRequest(
        `${vigil.url}${path}`,
        {
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  beforeAll(async () => {
    vigil = await startVigil({
      ingress: { processes: 2 },
      deployments: [
        { name: 'constant', handler: CONSTANT, route: { prefix: '/constant' }, num_replicas: 2 },
        {
          name: 'held',
          handler: fixture('concurrency.ts'),
          route: { prefix: '/held' },
          num_replicas: 1,
          max_ongoing_requests: 1,
          max_queued_requests: 200,
        },
      ],
    });
    await waitFor(async () => (await status()).ingress.pids.length === 2, 20_000, 'two ingress processes');
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('counts every request exactly once in /metrics, summed over both processes', async () => {
    const before = parseSamples((await scrape(vigil.url)).text);
    const labels = { deployment: 'constant', code: '200' };
    const base = sampleValue(before, 'vigil_requests_total', labels);
    const n = 600;
    let ok = 0;
    // 24 at a time, so that both processes take connections.
    for (let i = 0; i < n; i += 24) {
      const batch = await Promise.all(Array.from({ length: 24 }, () => post('/constant', {})));
      for (const r of batch) if (r.status === 200 && (await r.json()).ok === 1) ok++;
    }
    expect(ok).toBe(n);
    const after = parseSamples((await scrape(vigil.url)).text);
    const total = after
      .filter((s) => s.name === 'vigil_requests_total' && s.labels.deployment === 'constant')
      .reduce((sum, s) => sum + s.value, 0);
    expect(sampleValue(after, 'vigil_requests_total', labels) - base).toBe(n);
    expect(total - base).toBe(n);
    const dispatched = (await status()).deployments.find((d) => d.name === 'constant')!.versions[0]!.dispatched;
    expect(dispatched).toBeGreaterThanOrEqual(n);
  });

  it('answers a write only once every ingress process routes by it', async () => {
    const version = (await status()).deployments.find((d) => d.name === 'constant')!.versions[0]!.version;
    const setFault = async (errorRate: number) => {
      const res = await fetch(`${vigil.url}/api/v1/deployments/constant/versions/${version}/fault-injection`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error_rate: errorRate }),
      });
      expect(res.status).toBe(200);
    };
    // Fresh connections, so that both processes take requests right after each answer.
    const codes = async () =>
      (await Promise.all(Array.from({ length: 16 }, () => postFresh('/constant', {})))).map((r) => r.status);
    for (let round = 0; round < 10; round++) {
      await setFault(1);
      expect((await postFresh('/constant', {})).status).toBe(500);
      expect(await codes()).toEqual(Array(16).fill(500));
      await setFault(0);
      expect((await postFresh('/constant', {})).status).toBe(200);
      expect(await codes()).toEqual(Array(16).fill(200));
    }
  });

  it('keeps max_ongoing_requests across processes: the full replica refuses, nothing fails', async () => {
    const held: number[] = [];
    let refused = 0;
    // Bursts until the two processes have raced for the one slot at least once (almost always
    // the first burst): every request still succeeds, and the replica never held two at once.
    await waitFor(
      async () => {
        const burst = await Promise.all(Array.from({ length: 16 }, () => postFresh('/held', { ms: 20 })));
        for (const r of burst) {
          expect(r.status).toBe(200);
          held.push((JSON.parse(r.text) as { held: number }).held);
        }
        refused = (await status()).deployments.find((d) => d.name === 'held')!.versions[0]!.refusals;
        return refused > 0;
      },
      60_000,
      'a refusal by the full replica',
    );
    expect(Math.max(...held)).toBe(1);
    const samples = parseSamples((await scrape(vigil.url)).text);
    expect(sampleValue(samples, 'vigil_replica_refusals_total', { deployment: 'held' })).toBe(refused);
  });

  it('shows the requests accepted and not answered in status, over both processes', async () => {
    // One slot: the first runs for 500 ms, the other three wait their turn, so all four stay in
    // flight for at least half a second.
    const pending = Array.from({ length: 4 }, () => postFresh('/held', { ms: 500 }));
    await waitFor(async () => (await status()).ingress.in_flight_requests === 4, 10_000, 'four in flight');
    for (const r of await Promise.all(pending)) expect(r.status).toBe(200);
    await waitFor(async () => (await status()).ingress.in_flight_requests === 0, 10_000, 'none in flight');
  });

  it('refuses a body nested too deep while it is still arriving, and stays live', async () => {
    const total = 3 * 1024 * 1024;
    const head = [
      'POST /v2/models/constant/infer HTTP/1.1',
      'host: 127.0.0.1',
      'content-type: application/json',
      `content-length: ${total}`,
      '',
      '',
    ].join('\r\n');
    // Only the first 64 KiB is sent; the answer must come without the rest.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(vigil.port, '127.0.0.1');
      let text = '';
      socket.on('connect', () => socket.write(head + '['.repeat(64 * 1024)));
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('VIGIL_ERR_INVALID_REQUEST');
    expect(answer).toContain('nested deeper');
    expect((await fetch(`${vigil.url}/v2/health/live`)).status).toBe(200);
  });

  it('replaces an ingress process killed under load, and leaves no request hanging', async () => {
    const [victim] = (await status()).ingress.pids;
    let running = true;
    const outcomes: ('ok' | 'error' | 'hung')[] = [];
    const worker = async () => {
      while (running) {
        try {
          const r = await post('/constant', {}, AbortSignal.timeout(15_000));
          await r.arrayBuffer();
          outcomes.push(r.status === 200 ? 'ok' : 'error');
        } catch (err) {
          outcomes.push((err as Error).name === 'TimeoutError' ? 'hung' : 'error');
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    await waitFor(() => outcomes.length > 200, 30_000, 'load to flow');
    process.kill(victim!, 'SIGKILL');
    await waitFor(
      async () => {
        const pids = (await status()).ingress.pids;
        return pids.length === 2 && !pids.includes(victim!);
      },
      30_000,
      'a replacement ingress process',
    );
    const seen = outcomes.length;
    await waitFor(() => outcomes.length > seen + 200, 30_000, 'load to go on after the kill');
    running = false;
    await Promise.all(workers);
    expect(outcomes.filter((o) => o === 'hung')).toEqual([]);
    // The connections of the killed process broke (an error each); everything after them worked.
    expect(outcomes.slice(-100).every((o) => o === 'ok')).toBe(true);
    const after = await Promise.all(Array.from({ length: 24 }, () => post('/constant', {})));
    expect(after.map((r) => r.status)).toEqual(Array(24).fill(200));
  });
});
