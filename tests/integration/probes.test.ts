import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { swapClasses } from '../../examples/cls/swap-classes.ts';
import { parseSamples, sampleValue, scrape } from '../helpers/metrics-text.ts';
import { OtlpReceiver } from '../helpers/otlp-receiver.ts';
import { freePort } from '../helpers/ports.ts';
import { CLS_MODEL, REPO_ROOT, startVigil, VIGIL_BIN, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

const PROBES = join(REPO_ROOT, 'examples/cls/probes');

/**
 * Issue 20: probes with known answers, through the public port, pinned to each live version. The
 * real classifier passes them; a wrong expectation is caught and named; a canary that is the same
 * model with its classes swapped (it loads, answers fast, never fails a request) is rolled back
 * by its probes before its first step, so no client gets one of its answers. Probe requests are
 * traced as synthetic and never counted as user traffic; their failures burn a correctness SLO
 * whose alert reaches an Alertmanager-format webhook.
 */
describe('probes: synthetic requests with known answers', () => {
  let vigil: RunningVigil;
  let receiver: WebhookReceiver;
  const otlp = new OtlpReceiver();
  const api = async (path: string, init: RequestInit = {}) =>
    (await fetch(`${vigil.url}${path}`, init)).json() as Promise<any>;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-probes-'));
    const swapped = join(dir, 'cls-swapped.onnx');
    writeFileSync(swapped, swapClasses(readFileSync(CLS_MODEL)));
    receiver = new WebhookReceiver(await freePort());
    await receiver.start();
    const endpoint = await otlp.start();
    const probe = (name: string, file: string, top1: number, versions?: string[]) => ({
      name,
      request_file: join(PROBES, file),
      expect: { top1 },
      interval: '1s',
      ...(versions ? { versions } : {}),
    });
    vigil = await startVigil(
      {
        slo_engine: { evaluation_interval_s: 0.5, flush_interval_s: 0.5 },
        alerting: { webhooks: [{ name: 'oncall', url: `http://127.0.0.1:${receiver.port}/hook` }] },
        rollouts: { analysis_interval_s: 0.2 },
        deployments: [
          {
            name: 'cls',
            execution_provider: 'cpu',
            warmup: { requests: 1, shapes: { x: [1, 3, 48, 192] } },
            slos: [
              { kind: 'availability', objective: 0.999 },
              { name: 'cls-v1-correctness', kind: 'correctness', objective: 0.99, version: 'v1' },
            ],
            probes: [
              probe('upright', 'upright.json', 0),
              probe('upside-down', 'upside-down.json', 1),
              // A wrong expectation, on v1 only: the real model must be caught disagreeing with it.
              probe('wrong-expectation', 'upright.json', 1, ['v1']),
              // Handler-defined checks: a module judges the answer (one that throws fails its run).
              {
                name: 'confident',
                request_file: join(PROBES, 'upright.json'),
                expect: { check: join(REPO_ROOT, 'tests/fixtures/probe-checks/upright-confident.ts') },
                interval: '1s',
                versions: ['v1'],
              },
              {
                name: 'broken-check',
                request_file: join(PROBES, 'upright.json'),
                expect: { check: join(REPO_ROOT, 'tests/fixtures/probe-checks/broken.ts') },
                interval: '1s',
                versions: ['v1'],
              },
            ],
            versions: [
              { version: 'v1', model: CLS_MODEL, num_replicas: 1 },
              { version: 'v2', model: swapped, weight: 0, num_replicas: 1 },
            ],
          },
        ],
      },
      {
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_TRACES_SAMPLER: 'parentbased_always_on',
          OTEL_SERVICE_NAME: 'vigil-test',
        },
      },
    );
  });
  afterAll(async () => {
    await vigil?.stop();
    await receiver?.stop();
    await otlp.stop();
  });

  const latest = async () => (await api('/api/v1/deployments/cls/probes')).results as any[];
  const resultOf = (results: any[], version: string, probe: string) =>
    results.find((r) => r.version === version && r.probe === probe);

  it('passes on the real model, and catches a wrong expectation with the difference', async () => {
    await waitFor(async () => (await latest()).length === 7, 30_000, 'every probe to run on both versions');
    const results = await latest();
    expect(resultOf(results, 'v1', 'upright')).toMatchObject({ result: 'pass', detail: 'top-1 class 0' });
    expect(resultOf(results, 'v1', 'upside-down')).toMatchObject({ result: 'pass', detail: 'top-1 class 1' });
    const wrong = resultOf(results, 'v1', 'wrong-expectation');
    expect(wrong.result).toBe('fail');
    expect(wrong.detail).toMatch(/^top-1 class 0 \(score 1\), expected class 1 \(score 0\)$/);
    expect(resultOf(results, 'v2', 'upright')).toMatchObject({ result: 'fail' });
    expect(resultOf(results, 'v2', 'wrong-expectation')).toBeUndefined();
    expect(resultOf(results, 'v1', 'confident')).toMatchObject({ result: 'pass', detail: 'P(upright) = 1.0000' });
    expect(resultOf(results, 'v1', 'broken-check')).toMatchObject({ result: 'error', detail: 'this check is broken' });
  });

  it('is counted in its own metrics and correctness SLO, never as user traffic', async () => {
    const samples = parseSamples((await scrape(vigil.url)).text);
    const runs = (version: string, probe: string, result: string) =>
      sampleValue(samples, 'vigil_probe_results_total', { deployment: 'cls', version, probe, result });
    expect(runs('v1', 'upright', 'pass')).toBeGreaterThan(0);
    expect(runs('v1', 'wrong-expectation', 'fail')).toBeGreaterThan(0);
    expect(runs('v2', 'upright', 'fail')).toBeGreaterThan(0);
    // No client sent anything: the request counters have no cls samples at all.
    expect(samples.filter((s) => s.name === 'vigil_requests_total' && s.labels.deployment === 'cls')).toEqual([]);
    await waitFor(
      async () => (await api('/api/v1/slos/cls-v1-correctness')).events?.total >= 3,
      15_000,
      'probe runs in the correctness SLI',
    );
    const correctness = await api('/api/v1/slos/cls-v1-correctness');
    expect(correctness.kind).toBe('correctness');
    // Three of v1's five probes pass (a wrong expectation and a broken check do not).
    expect(correctness.sli).toBeGreaterThan(0.45);
    expect(correctness.sli).toBeLessThan(0.75);
    const availability = await api('/api/v1/slos/cls-availability');
    expect(availability.events?.total ?? 0).toBe(0);
    // Traced, marked synthetic, with the probe's name.
    await waitFor(() => otlp.spans.some((s) => s.attributes['vigil.synthetic'] === true), 15_000, 'a synthetic span');
    const span = otlp.spans.find((s) => s.attributes['vigil.synthetic'] === true)!;
    expect(['upright', 'upside-down', 'wrong-expectation', 'confident', 'broken-check']).toContain(
      span.attributes['vigil.probe'],
    );
  });

  it('pages on correctness through an Alertmanager-format webhook', async () => {
    await waitFor(
      () => receiver.deliveries.some((d) => d.body.includes('cls-v1-correctness')),
      30_000,
      'the correctness alert to be delivered',
    );
    const payload = JSON.parse(receiver.deliveries.find((d) => d.body.includes('cls-v1-correctness'))!.body);
    expect(payload.version).toBe('4');
    const alert = payload.alerts.find((a: any) => a.labels.slo_id === 'cls-v1-correctness');
    expect(alert).toMatchObject({ status: 'firing' });
    expect(alert.labels.slo_kind).toBe('correctness');
  });

  it('runs on demand, and records what a known-good version says as the expectations', async () => {
    const cli = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await promisify(execFile)(process.execPath, [
          VIGIL_BIN,
          ...args,
          '--url',
          vigil.url,
        ]);
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
    const run = await cli('probe', 'run', 'cls', '--version', 'v2');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAIL  upright on v2');
    expect(run.stdout).toContain('expected class 0');
    expect((await cli('probe', 'run', 'cls', '--version', 'v1')).stdout).toMatch(/PASS +upright on v1/);

    // v1 is the known-good version: its answers become the expectations, the wrong one included.
    const top1 = await cli('probe', 'record', 'cls', '--version', 'v1', '--expect', 'top1');
    expect(top1.code).toBe(0);
    expect(parseYaml(top1.stdout).probes).toEqual([
      { name: 'upright', expect: { top1: 0 } },
      { name: 'upside-down', expect: { top1: 1 } },
      { name: 'wrong-expectation', expect: { top1: 0 } },
      { name: 'confident', expect: { top1: 0 } },
      { name: 'broken-check', expect: { top1: 0 } },
    ]);
    // New requests from files, recorded as values, which v1 then passes and v2 fails.
    const file = join(PROBES, 'upside-down.json');
    const values = await cli('probe', 'record', 'cls', file, '--version', 'v1');
    const [recorded] = parseYaml(values.stdout).probes;
    expect(recorded).toMatchObject({ name: 'upside-down', request_file: file });
    expect(recorded.expect.allclose).toHaveLength(2);
    const judge = (await import('../../serving/probes/expectation.ts')).judgeAnswer;
    const answer = async (version: string) =>
      (await (
        await fetch(`${vigil.url}/v2/models/cls/versions/${version}/infer`, {
          method: 'POST',
          body: readFileSync(file),
        })
      ).json()) as { outputs: { name: string; shape: number[]; data: number[] }[] };
    expect(judge(recorded.expect, await answer('v1')).pass).toBe(true);
    expect(judge(recorded.expect, await answer('v2')).pass).toBe(false);
  });

  it('rolls back a canary with a wrong model by its probes, before it takes a request', async () => {
    const v2Requests = async () =>
      parseSamples((await scrape(vigil.url)).text)
        .filter((s) => s.name === 'vigil_requests_total' && s.labels.version === 'v2')
        .reduce((sum, s) => sum + s.value, 0);
    const before = await v2Requests();
    const started = await fetch(`${vigil.url}/api/v1/deployments/cls/rollouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: 'v2', steps: [50, 100], interval: '1s' }),
    });
    expect(started.status).toBe(201);
    await waitFor(
      async () => (await api('/api/v1/deployments/cls/rollout')).latest?.status === 'RolledBack',
      20_000,
      'the rollback',
    );
    const row = (await api('/api/v1/deployments/cls/rollout')).latest;
    expect(row.canaryWeight).toBe(0);
    expect(row.reason).toContain('before its first step');
    expect(row.reason).toContain('probe upright on v2 failed: top-1 class 1 (score 1), expected class 0 (score 0)');
    // The canary never had a weight: no audit row moved it off 0 and no client request reached it.
    const audit = (await api('/api/v1/audit?action=rollout.step')).entries as any[];
    expect(audit.filter((e) => e.after?.rollout === row.id)).toEqual([]);
    expect(await v2Requests()).toBe(before);
  });
});
