import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape } from '../helpers/metrics-text.ts';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';
import { clsInput, jsonInferBody } from '../helpers/tensors.ts';
import { clsDeployment, REPO_ROOT, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';

describe('traces across the router → replica hop', () => {
  const receiver = new OtlpReceiver();
  let vigil: RunningVigil;
  beforeAll(async () => {
    const endpoint = await receiver.start();
    vigil = await startVigil(
      // 'broken' never loads its model, so it answers 503 deterministically.
      {
        logging: { request_sample_rate: 1 },
        deployments: [
          clsDeployment({ num_replicas: 1 }),
          clsDeployment({ name: 'broken', model: `${REPO_ROOT}/package.json` }),
        ],
      },
      {
        waitReady: false,
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_TRACES_SAMPLER: 'parentbased_always_on',
          OTEL_SERVICE_NAME: 'vigil-test',
        },
      },
    );
    await waitFor(async () => (await fetch(`${vigil.url}/v2/models/cls/ready`)).ok, 30_000, 'cls to be ready');
  });
  afterAll(async () => {
    await vigil?.stop();
    await receiver.stop();
  });

  const traceOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);

  it('forms one trace: SERVER span, vigil.queue, and the replica’s vigil.batch and vigil.inference', async () => {
    const res = await fetch(`${vigil.url}/v2/models/cls/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: jsonInferBody(clsInput(1)),
    });
    expect(res.status).toBe(200);
    const traceId = res.headers.get('x-vigil-trace-id')!;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    await waitFor(() => traceOf(traceId).length >= 4, 15_000, 'four spans at the receiver');

    const spans = traceOf(traceId);
    const byName = (n: string) => spans.find((s) => s.name === n) as ReceivedSpan;
    const server = byName('POST /v2/models/{model}/infer');
    expect(server).toBeDefined();
    expect(server.kind).toBe(2); // SERVER
    expect(server.parentSpanId).toBe('');
    // Whichever process took the connection: a replica (direct ingress) or the dedicated one.
    expect(['replica', 'ingress']).toContain(server.process);
    expect(server.serviceName).toBe('vigil-test');
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/v2/models/cls/infer',
      'url.scheme': 'http',
      'http.route': '/v2/models/{model}/infer',
      'http.response.status_code': 200,
      'server.port': vigil.port,
    });
    expect(server.attributes['error.type']).toBeUndefined();

    const queue = byName('vigil.queue');
    expect(queue.parentSpanId).toBe(server.spanId);
    const batch = byName('vigil.batch');
    expect(batch.process).toBe('replica');
    expect(batch.parentSpanId).toBe(server.spanId);
    expect(batch.attributes).toMatchObject({
      'vigil.deployment': 'cls',
      'vigil.version': 'v1',
      'vigil.provider': 'cpu',
    });
    expect(Number(batch.attributes['vigil.batch_size'])).toBeGreaterThanOrEqual(1);
    const inference = byName('vigil.inference');
    expect(inference.process).toBe('replica');
    expect(inference.parentSpanId).toBe(batch.spanId);
  });

  it('honours an incoming traceparent and returns its trace id', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const res = await fetch(`${vigil.url}/v2/models/cls/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${parent}-01` },
      body: jsonInferBody(clsInput(2)),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-vigil-trace-id')).toBe(traceId);
    // The primary and the replica export separately: wait for both sides of the trace.
    await waitFor(
      () => traceOf(traceId).some((s) => s.name === 'vigil.inference') && traceOf(traceId).some((s) => s.kind === 2),
      15_000,
      'both sides of the client trace',
    );
    const server = traceOf(traceId).find((s) => s.kind === 2)!;
    expect(server.parentSpanId).toBe(parent);
  });

  it('marks 5xx server spans as errors with error.type, and 4xx with error.type only', async () => {
    const bad = await fetch(`${vigil.url}/v2/models/cls/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    const badTrace = bad.headers.get('x-vigil-trace-id')!;
    await waitFor(() => traceOf(badTrace).length >= 1, 15_000, 'the 400 span');
    expect(traceOf(badTrace)[0]!.attributes['error.type']).toBe('VIGIL_ERR_MALFORMED_JSON');
    expect(traceOf(badTrace)[0]!.attributes['http.response.status_code']).toBe(400);
    expect(traceOf(badTrace)[0]!.attributes['http.route']).toBe('/v2/models/{model}/infer');

    const down = await fetch(`${vigil.url}/v2/models/broken/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: jsonInferBody(clsInput(3)),
    });
    expect(down.status).toBe(503);
    const downTrace = down.headers.get('x-vigil-trace-id')!;
    await waitFor(() => traceOf(downTrace).length >= 1, 15_000, 'the 503 span');
    expect(traceOf(downTrace)[0]!.attributes['error.type']).toBe('VIGIL_ERR_NOT_READY');
    expect(traceOf(downTrace)[0]!.attributes['http.response.status_code']).toBe(503);
  });

  it('puts trace exemplars on the request duration histogram in OpenMetrics', async () => {
    const { text } = await scrape(vigil.url, 'application/openmetrics-text');
    const line = text
      .split('\n')
      .find((l) => l.startsWith('vigil_request_duration_seconds_bucket') && l.includes('# {trace_id="'));
    expect(line).toBeDefined();
    const exemplarTrace = /trace_id="([0-9a-f]{32})"/.exec(line!)![1]!;
    expect(receiver.spans.some((s) => s.traceId === exemplarTrace)).toBe(true);
  });

  it('logs request lines with trace and span ids', () => {
    const lines = vigil.lines.filter((l) => l.includes('"msg":"request"')).map((l) => JSON.parse(l));
    const withTrace = lines.find((l) => l.trace_id === '4bf92f3577b34da6a3ce929d0e0e4736');
    expect(withTrace).toMatchObject({
      deployment: 'cls',
      version: 'v1',
      status: 200,
      route: '/v2/models/{model}/infer',
    });
    expect(withTrace.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof withTrace.duration_ms).toBe('number');
  });
});
