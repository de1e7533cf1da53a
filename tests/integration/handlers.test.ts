import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSamples, sampleValue, scrape } from '../helpers/metrics-text.ts';
import { directRun } from '../helpers/tensors.ts';
import { CLS_MODEL, REPO_ROOT, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';

const fixture = (name: string) => join(REPO_ROOT, 'tests/fixtures/handlers', name);

/** Inodes of the sockets listening on `port` (Linux: /proc/net/tcp and tcp6, state 0A). */
function listeningInodes(port: number): Set<string> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] === '0A') inodes.add(f[9]!);
    }
  }
  return inodes;
}

/** The socket inodes a process holds open. */
function socketInodesOf(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir).flatMap((fd) => {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(join(dir, fd)));
      return m ? [m[1]!] : [];
    } catch {
      return []; // closed while we looked
    }
  });
}

describe('TypeScript handlers', () => {
  let vigil: RunningVigil;
  beforeAll(async () => {
    vigil = await startVigil({
      deployments: [
        {
          name: 'echo',
          handler: fixture('echo.ts'),
          route: { prefix: '/echo', methods: ['POST', 'PUT'] },
          execution_provider: 'cpu',
        },
        { name: 'batched', handler: fixture('batched.ts'), route: { prefix: '/batched' }, max_ongoing_requests: 32 },
        {
          name: 'classify',
          model: CLS_MODEL,
          handler: fixture('classify.ts'),
          route: { prefix: '/classify' },
          execution_provider: 'cpu',
        },
      ],
    });
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  const post = (path: string, body: string = '', headers: Record<string, string> = {}, method = 'POST') =>
    fetch(`${vigil.url}${path}`, { method, headers, body });

  it('gives the handler the raw body, content type, sub-path and query, and runs setup once per replica', async () => {
    const answers = [];
    for (let i = 0; i < 5; i++) {
      const res = await post(`/echo/items/${i}?lang=en`, `hello ${i}`, { 'content-type': 'text/plain' });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-vigil-version')).toBe('v1');
      answers.push((await res.json()) as Record<string, unknown>);
    }
    expect(answers[3]).toMatchObject({
      method: 'POST',
      path: '/items/3',
      query: { lang: 'en' },
      contentType: 'text/plain',
      text: 'hello 3',
      bytes: 7,
      setups: 1,
      hasModel: false,
    });
    expect(new Set(answers.map((a) => a.pid)).size).toBe(1);
    expect((await post('/echo', 'x', {}, 'PUT')).status).toBe(200);
    expect((await fetch(`${vigil.url}/echo`)).status).toBe(405);
  });

  it("keeps every handler's replica off the port: none holds the listening socket", async (ctx) => {
    if (!existsSync('/proc/net/tcp')) {
      console.log('skipped: reading which process holds a socket needs Linux /proc');
      ctx.skip();
    }
    const inodes = listeningInodes(Number(new URL(vigil.url).port));
    expect(inodes.size).toBeGreaterThan(0);
    const holds = (pid: number) => socketInodesOf(pid).some((i) => inodes.has(i));
    const status = (await (await fetch(`${vigil.url}/api/v1/status`)).json()) as {
      ingress: { pids: number[] };
      deployments: { versions: { replicas: { pid: number | null }[] }[] }[];
    };
    const replicas = status.deployments.flatMap((d) => d.versions.flatMap((v) => v.replicas.map((r) => r.pid)));
    expect(replicas.length).toBeGreaterThanOrEqual(3);
    for (const pid of replicas) expect(pid !== null && holds(pid), `replica ${pid} holds the port`).toBe(false);
    // The control: the dedicated ingress process, serving the port while no model replica
    // does, holds the socket, so the check above could have seen one.
    expect(status.ingress.pids.length).toBeGreaterThan(0);
    for (const pid of status.ingress.pids) expect(holds(pid)).toBe(true);
  });

  it('answers bytes with the status and content type the handler chose', async () => {
    const res = await post('/echo/bytes');
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([137, 80, 78, 71]);
  });

  it('contains a throwing handler: that request gets 500 without the message, the next one is served', async () => {
    const res = await post('/echo/boom');
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(JSON.parse(body).code).toBe('VIGIL_ERR_HANDLER_FAILED');
    expect(body).not.toContain('secret internals');
    expect((await post('/echo/json', 'not json')).status).toBe(400);
    expect(await (await post('/echo/json', '{"a":1}')).json()).toEqual({ parsed: { a: 1 } });
  });

  it('contains a handler that kills its process: the replica is replaced and runs setup again', async () => {
    const before = (await (await post('/echo/x')).json()) as { pid: number };
    const res = await post('/echo/exit');
    expect(res.status).toBe(503);
    let after: { pid: number; setups: number } | undefined;
    await waitFor(
      async () => {
        const r = await post('/echo/x');
        if (r.status !== 200) return false;
        after = (await r.json()) as { pid: number; setups: number };
        return true;
      },
      30_000,
      'the replacement replica',
    );
    expect(after!.pid).not.toBe(before.pid);
    expect(after!.setups).toBe(1);
  });

  it('batches concurrent requests for handleBatch, each answer going back to its own request', async () => {
    const answers = await Promise.all(
      Array.from({ length: 24 }, async (_, n) => {
        const res = await post('/batched', JSON.stringify({ n }), { 'content-type': 'application/json' });
        return { n, res: (await res.json()) as { batch: number; n: number }, batchHeader: res.status };
      }),
    );
    for (const a of answers) expect(a.res.n).toBe(a.n);
    expect(Math.max(...answers.map((a) => a.res.batch))).toBeGreaterThan(1);
    expect(Math.max(...answers.map((a) => a.res.batch))).toBeLessThanOrEqual(8);
  });

  it('gives the handler the version’s model as ctx.model, with the same numbers as a direct run', async () => {
    const res = await post('/classify', JSON.stringify({ fill: 0.25 }));
    expect(res.status).toBe(200);
    const { scores } = (await res.json()) as { scores: number[] };
    const direct = await directRun(new Float32Array(3 * 48 * 192).fill(0.25));
    expect(scores).toHaveLength(direct.length);
    scores.forEach((s, i) => expect(s).toBeCloseTo(direct[i]!, 5));
  });

  it('instruments custom routes like /infer', async () => {
    const samples = parseSamples((await scrape(vigil.url)).text);
    expect(sampleValue(samples, 'vigil_requests_total', { deployment: 'echo', version: 'v1', code: '500' })).toBe(1);
    expect(sampleValue(samples, 'vigil_requests_total', { deployment: 'echo', version: 'v1', code: '201' })).toBe(1);
    expect(sampleValue(samples, 'vigil_requests_total', { deployment: 'batched', version: 'v1', code: '200' })).toBe(
      24,
    );
  });
});
