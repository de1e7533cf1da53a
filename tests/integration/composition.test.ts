import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSamples, sampleValue, scrape } from '../helpers/metrics-text.ts';
import { OtlpReceiver } from '../helpers/otlp-receiver.ts';
import { directRun } from '../helpers/tensors.ts';
import { CLS_MODEL, REPO_ROOT, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';

const fixture = (name: string) => join(REPO_ROOT, 'tests/fixtures/handlers', name);

describe('composition: handlers calling deployments through the router', () => {
  const receiver = new OtlpReceiver();
  let vigil: RunningVigil;
  beforeAll(async () => {
    const endpoint = await receiver.start();
    vigil = await startVigil(
      {
        deployments: [
          {
            name: 'cls',
            model: CLS_MODEL,
            execution_provider: 'cpu',
            warmup: { requests: 1, shapes: { x: [1, 3, 48, 192] } },
          },
          { name: 'slow', handler: fixture('slow.ts') },
          { name: 'tail', handler: fixture('tail.ts') },
          {
            name: 'pipeline',
            handler: fixture('pipeline.ts'),
            route: { prefix: '/pipeline' },
            calls: ['cls', 'slow', 'tail'],
          },
          { name: 'rogue', handler: fixture('rogue.ts'), route: { prefix: '/rogue' } },
        ],
      },
      { env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER: 'always_on' } },
    );
  });
  afterAll(async () => {
    await vigil?.stop();
    await receiver.stop();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${vigil.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('runs the stages (two model calls in parallel) and returns the model’s real numbers', async () => {
    const res = await post('/pipeline', { fill: 0.3 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { scores: number[]; same: boolean; slow: unknown; tail: unknown };
    const direct = await directRun(new Float32Array(3 * 48 * 192).fill(0.3));
    body.scores.forEach((s, i) => expect(s).toBeCloseTo(direct[i]!, 5));
    expect(body.same).toBe(true);
    expect(body.slow).toEqual({ slept: 0 });
    expect(body.tail).toEqual({ tail: true, got: { after: { slept: 0 } } });
  });

  it('makes one trace of the whole pipeline, with a span per call and the callee’s replica spans', async () => {
    const res = await post('/pipeline', { fill: 0.4 });
    const traceId = res.headers.get('x-vigil-trace-id')!;
    const spans = () => receiver.spans.filter((s) => s.traceId === traceId);
    // cls's own spans: the handler replicas (slow, tail) record batch and inference spans too,
    // and each replica exports on its own schedule, so two inference spans may be theirs.
    const clsBatches = () =>
      spans().filter((s) => s.name === 'vigil.batch' && s.attributes['vigil.deployment'] === 'cls');
    await waitFor(
      () => spans().filter((s) => s.name.startsWith('vigil.call')).length === 4 && clsBatches().length >= 2,
      15_000,
      'the pipeline trace',
    );
    const names = spans().map((s) => s.name);
    expect(names.filter((n) => n === 'vigil.call cls')).toHaveLength(2);
    expect(names).toContain('vigil.call slow');
    expect(names).toContain('vigil.call tail');
    // The model's inference spans hang under the calls, inside the same trace.
    const callIds = new Set(
      spans()
        .filter((s) => s.name === 'vigil.call cls')
        .map((s) => s.spanId),
    );
    const batches = clsBatches();
    expect(batches.length).toBeGreaterThanOrEqual(2);
    expect(spans().filter((s) => s.name === 'vigil.inference').length).toBeGreaterThanOrEqual(2);
    for (const b of batches) expect(callIds.has(b.parentSpanId!)).toBe(true);
    // The calls hang under the handler's own span, which the handler can annotate (ctx.span).
    const isPipeline = (s: { name: string; attributes: Record<string, unknown> }) =>
      s.name === 'vigil.handler' && s.attributes['vigil.deployment'] === 'pipeline';
    await waitFor(() => spans().some(isPipeline), 15_000, 'the pipeline handler span');
    const handler = spans().find(isPipeline)!;
    expect(handler.attributes['pipeline.stages']).toBe(4);
    for (const c of spans().filter((s) => s.name.startsWith('vigil.call'))) expect(c.parentSpanId).toBe(handler.spanId);
    // The callee handlers have spans of their own in the same trace. Each replica exports on its
    // own batch schedule, so wait for all three rather than assume they came with the caller's.
    const handlerDeployments = () =>
      spans()
        .filter((s) => s.name === 'vigil.handler')
        .map((s) => s.attributes['vigil.deployment'])
        .sort();
    await waitFor(() => handlerDeployments().length >= 3, 15_000, 'the callee handler spans');
    expect(handlerDeployments()).toEqual(['pipeline', 'slow', 'tail']);
  });

  it('passes the remaining deadline on: a deadline that runs out in stage 2 answers 504 and stage 3 never runs', async () => {
    const tailBefore = sampleValue(parseSamples((await scrape(vigil.url)).text), 'vigil_requests_total', {
      deployment: 'tail',
      version: 'v1',
      code: '200',
    });
    const res = await post('/pipeline', { slowMs: 1500 }, { 'x-vigil-timeout-ms': '700' });
    expect(res.status).toBe(504);
    expect(((await res.json()) as { code: string }).code).toBe('VIGIL_ERR_DEADLINE_EXCEEDED');
    // Give a runaway stage 3 time to show up before checking it did not.
    await new Promise((r) => setTimeout(r, 1500));
    const samples = parseSamples((await scrape(vigil.url)).text);
    expect(sampleValue(samples, 'vigil_requests_total', { deployment: 'tail', version: 'v1', code: '200' })).toBe(
      tailBefore,
    );
    // Each stage is measured like a request of its own.
    expect(
      sampleValue(samples, 'vigil_requests_total', { deployment: 'cls', version: 'v1', code: '200' }),
    ).toBeGreaterThanOrEqual(6);
    expect(sampleValue(samples, 'vigil_requests_total', { deployment: 'slow', version: 'v1', code: '504' })).toBe(1);
  });

  it('refuses a call to a deployment the calls list does not name', async () => {
    const res = await post('/rogue', {});
    expect(res.status).toBe(500);
    expect(((await res.json()) as { code: string }).code).toBe('VIGIL_ERR_UNDECLARED_CALL');
  });
});
