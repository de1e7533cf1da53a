import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSamples, sampleValue, scrape } from '../helpers/metrics-text.ts';
import { haveProgram } from '../helpers/programs.ts';
import { clsInput, inferJson } from '../helpers/tensors.ts';
import { clsDeployment, REPO_ROOT, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';

describe('/metrics', () => {
  let vigil: RunningVigil;
  beforeAll(async () => {
    vigil = await startVigil(
      {
        deployments: [
          clsDeployment({ num_replicas: 2 }),
          // A deployment whose model never loads answers 503 (not ready), deterministically.
          clsDeployment({ name: 'broken', model: `${REPO_ROOT}/package.json` }),
        ],
      },
      { waitReady: false },
    );
    await waitFor(
      async () =>
        (await vigil.status()).deployments[0]!.versions[0]!.replicas.filter((r) => r.state === 'RUNNING').length === 2,
      30_000,
      'cls replicas',
    );
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('counts exactly the requests sent, by deployment, version and code', async () => {
    const ok = await Promise.all(Array.from({ length: 7 }, (_, i) => inferJson(vigil.url, clsInput(i))));
    const bad = await Promise.all(
      Array.from({ length: 3 }, () =>
        fetch(`${vigil.url}/v2/models/cls/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{nope',
        }),
      ),
    );
    const unknown = await Promise.all(
      Array.from({ length: 2 }, (_, i) => inferJson(vigil.url, clsInput(i), { model: `ghost${i}` })),
    );
    const notReady = await Promise.all(
      Array.from({ length: 4 }, (_, i) => inferJson(vigil.url, clsInput(i), { model: 'broken' })),
    );
    expect(ok.map((r) => r.status)).toEqual(Array(7).fill(200));
    expect(bad.map((r) => r.status)).toEqual(Array(3).fill(400));
    expect(unknown.map((r) => r.status)).toEqual([404, 404]);
    expect(notReady.map((r) => r.status)).toEqual(Array(4).fill(503));

    const samples = parseSamples((await scrape(vigil.url)).text);
    expect(sampleValue(samples, 'vigil_requests_total', { deployment: 'cls', version: 'v1', code: '200' })).toBe(7);
    expect(sampleValue(samples, 'vigil_requests_total', { deployment: 'cls', version: 'v1', code: '400' })).toBe(3);
    expect(sampleValue(samples, 'vigil_requests_total', { deployment: '__unknown__', version: '', code: '404' })).toBe(
      2,
    );
    expect(sampleValue(samples, 'vigil_requests_total', { deployment: 'broken', version: 'v1', code: '503' })).toBe(4);
    expect(sampleValue(samples, 'vigil_rejected_requests_total', { deployment: 'cls', reason: 'invalid' })).toBe(3);
    expect(sampleValue(samples, 'vigil_rejected_requests_total', { deployment: 'broken', reason: 'not_ready' })).toBe(
      4,
    );
    expect(sampleValue(samples, 'vigil_request_duration_seconds_count', { deployment: 'cls', version: 'v1' })).toBe(10);
    expect(sampleValue(samples, 'vigil_queue_wait_seconds_count', { deployment: 'cls', version: 'v1' })).toBe(7);
    // Each success ran in some batch; the batch histogram counts runs, their rows sum to 7.
    expect(sampleValue(samples, 'vigil_batch_size_sum', { deployment: 'cls', version: 'v1' })).toBe(7);
    expect(
      sampleValue(samples, 'vigil_inference_duration_seconds_count', {
        deployment: 'cls',
        version: 'v1',
        provider: 'cpu',
      }),
    ).toBe(sampleValue(samples, 'vigil_batch_size_count', { deployment: 'cls', version: 'v1' }));
  });

  it('exposes the replica, process and build families', async () => {
    await new Promise((r) => setTimeout(r, 2500)); // one stats ping
    const samples = parseSamples((await scrape(vigil.url)).text);
    expect(sampleValue(samples, 'vigil_replicas', { deployment: 'cls', version: 'v1', state: 'RUNNING' })).toBe(2);
    expect(
      sampleValue(samples, 'vigil_replica_restarts_total', { deployment: 'broken', reason: 'load_failed' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'vigil_cold_starts_total', { deployment: 'cls', version: 'v1' })).toBe(2);
    expect(sampleValue(samples, 'vigil_model_load_seconds_count', { deployment: 'cls', version: 'v1' })).toBe(2);
    for (const replica of ['0', '1']) {
      expect(
        sampleValue(samples, 'vigil_replica_memory_bytes', { deployment: 'cls', replica, kind: 'rss' }),
      ).toBeGreaterThan(10 * 2 ** 20);
      expect(
        sampleValue(samples, 'vigil_replica_cpu_seconds_total', { deployment: 'cls', replica, mode: 'user' }),
      ).toBeGreaterThan(0);
    }
    expect(samples.some((s) => s.name === 'vigil_event_loop_lag_seconds' && s.labels.process === 'primary')).toBe(true);
    expect(samples.some((s) => s.name === 'vigil_ongoing_requests')).toBe(true);
    expect(samples.some((s) => s.name === 'vigil_queued_requests')).toBe(true);
    expect(samples.find((s) => s.name === 'vigil_build_info')?.labels.version).toBe('0.1.0');
    expect(samples.some((s) => s.name === 'process_cpu_seconds_total')).toBe(true);
  });

  it('adds no series for 1,000 bogus model names', async () => {
    const before = parseSamples((await scrape(vigil.url)).text).filter(
      (s) => s.name.startsWith('vigil_requests_total') || s.name.startsWith('vigil_rejected'),
    ).length;
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          fetch(`${vigil.url}/v2/models/bogus-${i + j}/infer`, { method: 'POST', body: '{}' }).then((r) =>
            r.arrayBuffer(),
          ),
        ),
      );
    }
    const text = (await scrape(vigil.url)).text;
    const after = parseSamples(text).filter(
      (s) => s.name.startsWith('vigil_requests_total') || s.name.startsWith('vigil_rejected'),
    ).length;
    expect(after).toBe(before);
    expect(text).not.toContain('bogus-');
    expect(sampleValue(parseSamples(text), 'vigil_requests_total', { deployment: '__unknown__', code: '404' })).toBe(
      1002,
    );
  });

  it('speaks OpenMetrics when asked, and the text format otherwise', async () => {
    const om = await scrape(vigil.url, 'application/openmetrics-text; version=1.0.0');
    expect(om.contentType).toContain('application/openmetrics-text');
    expect(om.text.trimEnd().endsWith('# EOF')).toBe(true);
    expect(om.text).toContain('# TYPE vigil_requests counter');
    const text = await scrape(vigil.url);
    expect(text.contentType).toContain('text/plain; version=0.0.4');
    expect(text.text).toContain('# TYPE vigil_requests_total counter');
    expect(text.text).not.toContain('# EOF');
  });

  it('passes promtool check metrics', async (ctx) => {
    if (!haveProgram('promtool', 'checks the exposition format')) return ctx.skip();
    const { text } = await scrape(vigil.url);
    let output = '';
    try {
      output = execFileSync('promtool', ['check', 'metrics'], {
        input: text,
        encoding: 'utf8',
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (err) {
      const e = err as { stdout: string; stderr: string };
      throw new Error(`promtool found problems:\n${e.stdout}${e.stderr}`);
    }
    expect(output.trim()).toBe('');
  });
});
