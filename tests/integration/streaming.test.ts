import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSamples, sampleValue, scrape } from '../helpers/metrics-text.ts';
import { REPO_ROOT, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';

describe('streaming handlers', () => {
  let vigil: RunningVigil;
  beforeAll(async () => {
    vigil = await startVigil({
      deployments: [
        { name: 'stream', handler: join(REPO_ROOT, 'tests/fixtures/handlers/stream.ts'), route: { prefix: '/stream' } },
      ],
    });
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  const progress = async () =>
    (await (await fetch(`${vigil.url}/stream/progress`, { method: 'POST' })).json()) as {
      produced: number;
      cancelled: number;
      finallyRan: number;
    };

  it('sends Server-Sent Events when the client accepts them, and JSON lines otherwise', async () => {
    const sse = await fetch(`${vigil.url}/stream/tokens`, { method: 'POST', headers: { accept: 'text/event-stream' } });
    expect(sse.headers.get('content-type')).toBe('text/event-stream');
    expect(await sse.text()).toBe('data: "vigil"\n\ndata: "streams"\n\ndata: "tokens"\n\nevent: end\ndata: {}\n\n');
    const lines = await fetch(`${vigil.url}/stream/tokens`, { method: 'POST' });
    expect(lines.headers.get('content-type')).toBe('application/x-ndjson');
    expect(await lines.text()).toBe('"vigil"\n"streams"\n"tokens"\n');
  });

  it('ends a stream that fails midway with an error event, after the chunks it sent', async () => {
    const res = await fetch(`${vigil.url}/stream/fail`, { method: 'POST' });
    expect(res.status).toBe(200);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.slice(0, 2)).toEqual([1, 2]);
    expect(lines[2]).toMatchObject({ code: 'VIGIL_ERR_HANDLER_FAILED' });
  });

  it('holds the producer back while the client does not read, and cancels it when the client leaves', async () => {
    const port = vigil.port;
    // A raw client that reads one chunk and then stops reading (the socket stays open).
    const req = httpRequest({ host: '127.0.0.1', port, path: '/stream/firehose', method: 'POST' });
    const firstChunk = new Promise<void>((resolve) =>
      req.on('response', (res) => {
        res.once('data', () => {
          res.pause();
          resolve();
        });
      }),
    );
    req.end();
    await firstChunk;
    await new Promise((r) => setTimeout(r, 1500));
    const stalled = await progress();
    await new Promise((r) => setTimeout(r, 1000));
    const still = await progress();
    // Bounded by the window and the sockets' buffers (64 KiB chunks): nowhere near the 10,000 it would make.
    expect(stalled.produced).toBeLessThan(200);
    expect(still.produced).toBe(stalled.produced);
    expect(still.cancelled).toBe(0);

    req.destroy();
    await waitFor(
      async () => (await progress()).cancelled === 1 && (await progress()).finallyRan === 1,
      10_000,
      'the handler to be cancelled',
    );
    expect((await progress()).produced).toBeLessThan(200);
  });

  it('counts time to first chunk, stream duration and chunks', async () => {
    const samples = parseSamples((await scrape(vigil.url)).text);
    expect(
      sampleValue(samples, 'vigil_stream_first_chunk_seconds_count', { deployment: 'stream', version: 'v1' }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      sampleValue(samples, 'vigil_stream_duration_seconds_count', { deployment: 'stream', version: 'v1' }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      sampleValue(samples, 'vigil_stream_chunks_total', { deployment: 'stream', version: 'v1' }),
    ).toBeGreaterThanOrEqual(8);
  });
});
