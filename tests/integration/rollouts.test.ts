import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { getJson, sendJsonTo, startLoad } from '../helpers/load.ts';
import { parseSamples, sampleValue, scrape } from '../helpers/metrics-text.ts';
import { freePort } from '../helpers/ports.ts';
import { clsInput, inferJson } from '../helpers/tensors.ts';
import { CLS_MODEL, clsDeployment, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { openTestDatabases } from '../helpers/test-db.ts';

/** The cls deployment with two versions of the same model; v2 starts dark (weight 0). */
function twoVersions(v2: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { model: _model, ...base } = clsDeployment();
  return {
    ...base,
    versions: [
      { version: 'v1', model: CLS_MODEL },
      { version: 'v2', model: CLS_MODEL, ...v2 },
    ],
    ...extra,
  };
}

interface DeploymentDoc {
  split: { version: string; weight: number }[];
  versions: {
    version: string;
    weight: number;
    state: string;
    target_replicas: number;
    replicas: { state: string }[];
    dispatched: number;
  }[];
  rollout: {
    status: string;
    step: number;
    canary_weight: number;
    decision: { kind: string; reason: string } | null;
  } | null;
  mirror: { version: string; compared: number; agreed: number; errors: number } | null;
}

const deployment = (v: RunningVigil) => getJson<DeploymentDoc>(`${v.url}/api/v1/deployments/cls`);
const latestRollout = async (v: RunningVigil) =>
  (
    await getJson<{
      latest: { id: number; status: string; reason: string; canaryWeight: number; stepIndex: number } | null;
    }>(`${v.url}/api/v1/deployments/cls/rollout`)
  ).latest;
const liveReplicas = (d: DeploymentDoc, version: string) =>
  d.versions.find((x) => x.version === version)!.replicas.filter((r) => r.state === 'STARTING' || r.state === 'RUNNING')
    .length;

describe('canary rollouts', () => {
  let vigil: RunningVigil | undefined;
  const receiver = { current: undefined as WebhookReceiver | undefined };
  afterEach(async () => {
    await vigil?.stop();
    vigil = undefined;
    await receiver.current?.stop();
  });

  it('rolls a bad canary back by itself: weight 0, replicas stopped, RolledBack with the numbers, audit row, webhook naming the runbook', async () => {
    const port = await freePort();
    receiver.current = new WebhookReceiver(port);
    await receiver.current.start();
    vigil = await startVigil({
      alerting: {
        external_url: 'http://vigil.example',
        webhooks: [{ name: 'oncall', url: `http://127.0.0.1:${port}/hook` }],
      },
      deployments: [twoVersions({ fault_injection: { error_rate: 0.3 } })],
    });
    const load = startLoad(vigil.url, { concurrency: 4 });
    const started = await sendJsonTo('POST', `${vigil.url}/api/v1/deployments/cls/rollouts`, {
      version: 'v2',
      steps: [50, 100],
      interval: '60s',
    });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({
      status: 'Progressing',
      canaryVersion: 'v2',
      stableVersion: 'v1',
      canaryWeight: 0,
    });
    await waitFor(
      async () => (await latestRollout(vigil!))?.status === 'RolledBack',
      40_000,
      'the rollout to roll back',
    );
    const results = await load.stop();

    const row = (await latestRollout(vigil))!;
    expect(row.canaryWeight).toBe(0);
    expect(row.reason).toMatch(/error_burn_rate: canary \d+\.\d% \(\d+\/\d+\) over [\d.]+ s, burn rate/);
    const d = await deployment(vigil);
    expect(d.split.find((e) => e.version === 'v2')!.weight).toBe(0);
    expect(d.split.find((e) => e.version === 'v1')!.weight).toBe(100);
    expect(d.versions.find((v) => v.version === 'v2')!.state).toBe('retired');
    expect(d.rollout).toBeNull();
    // The executive page's "Deployments, last hour" counts the canary that had traffic.
    const summary = await getJson<{ deployments: { name: string; versions: number }[] }>(
      `${vigil.url}/api/v1/console/summary`,
    );
    expect(summary.deployments.find((x) => x.name === 'cls')!.versions).toBe(2);
    await waitFor(
      async () => liveReplicas(await deployment(vigil!), 'v2') === 0,
      10_000,
      'the canary replicas to stop',
    );
    // Only injected faults failed: the stable version answered everything it got.
    expect(results.filter((r) => r.status !== 200 && r.fault === null)).toEqual([]);
    expect(results.some((r) => r.version === 'v2' && r.fault !== null)).toBe(true);
    // After the rollback every new request goes to v1.
    const after = await inferJson(vigil.url, clsInput(1));
    expect(after.headers.get('x-vigil-version')).toBe('v1');

    const audit = await getJson<{ entries: { actor: string; after: { status: string; reason: string } }[] }>(
      `${vigil.url}/api/v1/audit?action=rollout.rollback`,
    );
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]!.actor).toBe('vigil/rollout-controller');
    expect(audit.entries[0]!.after.status).toBe('RolledBack');

    await waitFor(() => receiver.current!.accepted().length > 0, 10_000, 'the rollback webhook');
    const payload = JSON.parse(receiver.current.accepted()[0]!.body);
    expect(payload.alerts[0].labels).toMatchObject({
      alertname: 'VigilCanaryRolledBack',
      deployment: 'cls',
      version: 'v2',
    });
    expect(payload.alerts[0].annotations.runbook_url).toBe('http://vigil.example/runbooks/canary-rolled-back');
    expect(payload.alerts[0].annotations.description).toBe(row.reason);

    const samples = parseSamples((await scrape(vigil.url)).text);
    expect(sampleValue(samples, 'vigil_rollouts_total', { deployment: 'cls', outcome: 'RolledBack' })).toBe(1);
    expect(sampleValue(samples, 'vigil_traffic_weight', { deployment: 'cls', version: 'v2' })).toBe(0);
  });

  it('rolls a slow canary back on latency, the reason naming both samples, the bound and the seconds it was slower', async () => {
    vigil = await startVigil({ deployments: [twoVersions({ fault_injection: { added_latency_ms: 250 } })] });
    const load = startLoad(vigil.url, { concurrency: 4 });
    const started = await sendJsonTo('POST', `${vigil.url}/api/v1/deployments/cls/rollouts`, {
      version: 'v2',
      steps: [25, 100],
      interval: '60s',
    });
    expect(started.status).toBe(201);
    await waitFor(
      async () => (await latestRollout(vigil!))?.status === 'RolledBack',
      40_000,
      'the slow canary to be rolled back',
    );
    const results = await load.stop();
    const row = (await latestRollout(vigil))!;
    expect(row.reason).toMatch(/^latency: canary p95 \d+ ms vs stable p95 [\d.]+ ms over the same interval/);
    expect(row.reason).toMatch(/\d+\.\d% of \d+ canary requests slower than stable's p95 bound [\d.]+ ms/);
    expect(row.reason).toMatch(/\(99% bounds [\d.]+% > [\d.]+%: yes\)/);
    const [, slower, judged] = /slower in (\d+) of (\d+) seconds/.exec(row.reason)!;
    expect(Number(slower)).toBeGreaterThanOrEqual(Math.ceil(0.75 * Number(judged)));
    // Nothing failed: latency alone rolled it back, and the stable kept answering.
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect((await deployment(vigil)).split.find((e) => e.version === 'v2')!.weight).toBe(0);
  });

  it('promotes a good canary declared in vigil.yaml: v2 becomes stable and v1 drains', async () => {
    vigil = await startVigil({
      rollouts: { min_requests: 20, latency_min_requests: 20 },
      deployments: [twoVersions({}, { rollout: { canary: 'v2', steps: [50, 100], interval: '2s' } })],
    });
    const load = startLoad(vigil.url, { concurrency: 3 });
    await waitFor(
      async () => (await latestRollout(vigil!))?.status === 'Promoted',
      40_000,
      'the rollout to be promoted',
    );
    const results = await load.stop();
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    const d = await deployment(vigil);
    expect(d.split.find((e) => e.version === 'v2')!.weight).toBe(100);
    expect(d.versions.find((v) => v.version === 'v1')!.state).toBe('retired');
    await waitFor(
      async () => liveReplicas(await deployment(vigil!), 'v1') === 0,
      10_000,
      'the old stable replicas to stop',
    );
    expect((await inferJson(vigil.url, clsInput(2))).headers.get('x-vigil-version')).toBe('v2');
    const steps = await getJson<{ entries: { after: { canary_weight: number } }[] }>(
      `${vigil.url}/api/v1/audit?action=rollout.step`,
    );
    expect(steps.entries.map((e) => e.after.canary_weight).sort((a, b) => a - b)).toEqual([50, 100]);
    const start = await getJson<{ entries: { actor: string }[] }>(`${vigil.url}/api/v1/audit?action=rollout.start`);
    expect(start.entries[0]!.actor).toBe('vigil.yaml');
  });

  it('gates on output agreement: the rollout mirrors stable traffic to the canary, compares answers, and stops mirroring when done', async () => {
    vigil = await startVigil({
      rollouts: {
        min_requests: 20,
        latency_min_requests: 20,
        min_agreement: 0.99,
        min_mirror_samples: 20,
        mirror_percent: 100,
      },
      deployments: [twoVersions()],
    });
    const load = startLoad(vigil.url, { concurrency: 3 });
    expect(
      (
        await sendJsonTo('POST', `${vigil.url}/api/v1/deployments/cls/rollouts`, {
          version: 'v2',
          steps: [50, 100],
          interval: '2s',
        })
      ).status,
    ).toBe(201);
    await waitFor(async () => (await deployment(vigil!)).mirror?.version === 'v2', 5000, 'the rollout mirror');
    await waitFor(async () => (await latestRollout(vigil!))?.status === 'Promoted', 60_000, 'the promotion');
    await load.stop();
    const row = (
      await getJson<{ latest: { analysis: { checks: { name: string; outcome: string; value: number }[] } } }>(
        `${vigil.url}/api/v1/deployments/cls/rollout`,
      )
    ).latest;
    const agreement = row.analysis.checks.find((c) => c.name === 'output_agreement')!;
    expect(agreement).toMatchObject({ outcome: 'pass', value: 1 });
    expect((await deployment(vigil)).mirror).toBeNull();
  });

  it('rolls back a canary whose model cannot load, instead of waiting for it forever', async () => {
    const broken = join(mkdtempSync(join(tmpdir(), 'vigil-model-')), 'broken.onnx');
    writeFileSync(broken, 'not a model');
    vigil = await startVigil({ deployments: [twoVersions({ model: broken }, { startup_timeout_s: 1 })] });
    expect(
      (await sendJsonTo('POST', `${vigil.url}/api/v1/deployments/cls/rollouts`, { version: 'v2', steps: [10, 100] }))
        .status,
    ).toBe(201);
    // startup_timeout_s (1 s) + 30 s without a running canary replica.
    await waitFor(
      async () => (await latestRollout(vigil!))?.status === 'RolledBack',
      50_000,
      'the rollback of the broken canary',
    );
    expect((await latestRollout(vigil))!.reason).toMatch(
      /^canary v2 has had no running replica for \d+ s at weight 0%/,
    );
    expect((await inferJson(vigil.url, clsInput(1))).status).toBe(200);
  }, 70_000);

  it('resumes a rollout after vigil is killed mid-way, with the split it had, then promotes on request', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-data-'));
    const config = { deployments: [twoVersions()] };
    vigil = await startVigil(config, { dataDir });
    expect(
      (
        await sendJsonTo('POST', `${vigil.url}/api/v1/deployments/cls/rollouts`, {
          version: 'v2',
          steps: [20, 60, 100],
          interval: '10m',
        })
      ).status,
    ).toBe(201);
    await waitFor(async () => (await latestRollout(vigil!))?.canaryWeight === 20, 20_000, 'the first step');
    vigil.proc.kill('SIGKILL');
    await vigil.exited;

    vigil = await startVigil(config, { dataDir });
    const d = await deployment(vigil);
    expect(d.rollout).toMatchObject({ status: 'Progressing', step: 0, canary_weight: 20 });
    expect(d.split).toEqual([
      { version: 'v2', weight: 20 },
      { version: 'v1', weight: 80 },
    ]);
    expect(liveReplicas(d, 'v2')).toBe(1);
    // Paused and resumed by hand, then promoted now.
    expect((await sendJsonTo('POST', `${vigil.url}/api/v1/deployments/cls/rollout/pause`)).body.status).toBe('Paused');
    expect((await sendJsonTo('POST', `${vigil.url}/api/v1/deployments/cls/rollout/resume`)).body.status).toBe(
      'Progressing',
    );
    const promoted = await sendJsonTo('POST', `${vigil.url}/api/v1/deployments/cls/rollout/promote`);
    expect(promoted.body).toMatchObject({ status: 'Promoted', canaryWeight: 100 });
    expect((await sendJsonTo('POST', `${vigil.url}/api/v1/deployments/cls/rollout/abort`)).status).toBe(409);
    expect((await deployment(vigil)).split[0]).toEqual({ version: 'v2', weight: 100 });
  });

  // CI sets VIGIL_TEST_DATABASE_URL; elsewhere the PGlite test above covers the same path.
  it.runIf(process.env.VIGIL_TEST_DATABASE_URL)(
    'resumes a rollout after a kill on Postgres too, then aborts it back to the stable split',
    async () => {
      const pg = await openTestDatabases()
        .find((k) => k.name === 'postgres')!
        .open({ migrate: false });
      try {
        const config = { deployments: [twoVersions()] };
        const env = { DATABASE_URL: pg.url! };
        vigil = await startVigil(config, { env });
        expect(
          (
            await sendJsonTo('POST', `${vigil.url}/api/v1/deployments/cls/rollouts`, {
              version: 'v2',
              steps: [30, 100],
              interval: '10m',
            })
          ).status,
        ).toBe(201);
        await waitFor(async () => (await latestRollout(vigil!))?.canaryWeight === 30, 20_000, 'the first step');
        vigil.proc.kill('SIGKILL');
        await vigil.exited;
        vigil = await startVigil(config, { env });
        expect((await deployment(vigil)).split).toEqual([
          { version: 'v2', weight: 30 },
          { version: 'v1', weight: 70 },
        ]);
        expect((await sendJsonTo('POST', `${vigil.url}/api/v1/deployments/cls/rollout/abort`)).body.status).toBe(
          'Aborted',
        );
        const d = await deployment(vigil);
        expect(d.split[0]).toEqual({ version: 'v1', weight: 100 });
        expect(d.versions.find((v) => v.version === 'v2')!.state).toBe('retired');
        await vigil.stop();
        vigil = undefined;
      } finally {
        await pg.dispose();
      }
    },
  );

  it('refuses a second rollout, an unknown version, and a manual weight change while one runs', async () => {
    vigil = await startVigil({ deployments: [twoVersions()] });
    const post = (body: unknown) => sendJsonTo('POST', `${vigil!.url}/api/v1/deployments/cls/rollouts`, body);
    expect((await post({ version: 'v9' })).body.code).toBe('VIGIL_ERR_UNKNOWN_VERSION');
    expect((await post({ version: 'v1' })).body.code).toBe('VIGIL_ERR_CONFLICT');
    expect((await post({ version: 'v2', steps: [50, 10] })).body.code).toBe('VIGIL_ERR_INVALID_BODY');
    expect((await post({ version: 'v2', interval: '10m' })).status).toBe(201);
    expect((await post({ version: 'v2' })).body.code).toBe('VIGIL_ERR_ROLLOUT_ACTIVE');
    expect(
      (await sendJsonTo('PUT', `${vigil.url}/api/v1/deployments/cls/weights`, { weights: { v1: 50, v2: 50 } })).body
        .code,
    ).toBe('VIGIL_ERR_ROLLOUT_ACTIVE');
    const aborted = await sendJsonTo('POST', `${vigil.url}/api/v1/deployments/cls/rollout/abort`);
    expect(aborted.body).toMatchObject({ status: 'Aborted', canaryWeight: 0 });
    expect(aborted.body.reason).toMatch(/^aborted by /);
  });
});

describe('traffic: routing keys, pinning and shadow traffic', () => {
  let vigil: RunningVigil;
  afterAll(async () => {
    await vigil?.stop();
  });

  it('gives a routing key the same version every time, and honours a pinned version', async () => {
    vigil = await startVigil({ deployments: [twoVersions({ weight: 50 })] });
    await waitFor(
      async () => liveReplicas(await deployment(vigil), 'v2') === 1 && (await vigil.status()).ready,
      20_000,
      'both versions',
    );
    const seen = new Map<string, Set<string>>();
    for (let k = 0; k < 16; k++) {
      for (let i = 0; i < 4; i++) {
        const res = await inferJson(vigil.url, clsInput(k), { headers: { 'x-vigil-routing-key': `user-${k}` } });
        expect(res.status).toBe(200);
        const versions = seen.get(`user-${k}`) ?? new Set();
        versions.add(res.headers.get('x-vigil-version')!);
        seen.set(`user-${k}`, versions);
      }
    }
    for (const versions of seen.values()) expect(versions.size).toBe(1);
    const all = new Set([...seen.values()].flatMap((s) => [...s]));
    expect(all).toEqual(new Set(['v1', 'v2']));
    for (const v of ['v1', 'v2']) {
      expect(
        (await inferJson(vigil.url, clsInput(1), { headers: { 'x-vigil-version': v } })).headers.get('x-vigil-version'),
      ).toBe(v);
    }
    const pinnedPath = await fetch(`${vigil.url}/v2/models/cls/versions/v2/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192], data: Array.from(clsInput(3)) }],
      }),
    });
    expect(pinnedPath.headers.get('x-vigil-version')).toBe('v2');
    expect((await inferJson(vigil.url, clsInput(1), { headers: { 'x-vigil-version': 'v7' } })).body.code).toBe(
      'VIGIL_ERR_UNKNOWN_VERSION',
    );
  });

  it('changes weights atomically through the API, and a weight of 0 takes no unpinned traffic', async () => {
    const put = await sendJsonTo('PUT', `${vigil.url}/api/v1/deployments/cls/weights`, { weights: { v1: 0, v2: 100 } });
    expect(put.status).toBe(200);
    for (let i = 0; i < 10; i++)
      expect((await inferJson(vigil.url, clsInput(i))).headers.get('x-vigil-version')).toBe('v2');
    expect(
      (await sendJsonTo('PUT', `${vigil.url}/api/v1/deployments/cls/weights`, { weights: { v1: 0, v2: 0 } })).body.code,
    ).toBe('VIGIL_ERR_INVALID_BODY');
    expect(
      (await sendJsonTo('PUT', `${vigil.url}/api/v1/deployments/cls/weights`, { weights: { v1: 100, v2: 0 } })).status,
    ).toBe(200);
  });

  it('mirrors traffic to the candidate, compares the answers, and never returns the candidate’s answer', async () => {
    const mirror = await sendJsonTo('PUT', `${vigil.url}/api/v1/deployments/cls/mirror`, {
      version: 'v2',
      percent: 100,
    });
    expect(mirror.status).toBe(200);
    const before = (await deployment(vigil)).versions.find((v) => v.version === 'v2')!.dispatched;
    // A change through the control API reaches every ingress process within moments, not at
    // once: requests are sent until the comparisons arrive, and the counts must agree exactly.
    let sent = 0;
    const send = async (seed: number) => {
      const res = await inferJson(vigil.url, clsInput(seed));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-vigil-version')).toBe('v1');
      expect(res.headers.get('x-vigil-fault')).toBeNull();
    };
    await waitFor(
      async () => {
        await send(100 + sent++);
        return (await deployment(vigil)).mirror!.compared >= 20;
      },
      30_000,
      'twenty comparisons',
    );
    const d = await deployment(vigil);
    expect(d.mirror).toMatchObject({ version: 'v2', agreed: d.mirror!.compared, errors: 0 });
    expect(d.versions.find((v) => v.version === 'v2')!.dispatched - before).toBe(d.mirror!.compared);

    // A failing candidate: the shadow calls fail, the clients never notice.
    await sendJsonTo('PUT', `${vigil.url}/api/v1/deployments/cls/versions/v2/fault-injection`, { error_rate: 1 });
    await waitFor(
      async () => {
        await send(1000 + sent++);
        return (await deployment(vigil)).mirror!.errors >= 10;
      },
      30_000,
      'ten shadow errors',
    );
    const seen = (await deployment(vigil)).mirror!;
    const samples = parseSamples((await scrape(vigil.url)).text);
    expect(
      sampleValue(samples, 'vigil_mirror_requests_total', { deployment: 'cls', version: 'v2', result: 'agree' }),
    ).toBe(seen.agreed);
    expect(
      sampleValue(samples, 'vigil_mirror_requests_total', { deployment: 'cls', version: 'v2', result: 'error' }),
    ).toBe(seen.errors);
    expect(seen.compared).toBe(seen.agreed);
    // Shadow calls are not client requests: v2 served none in the request metrics.
    expect(sampleValue(samples, 'vigil_requests_total', { deployment: 'cls', version: 'v2', code: '500' })).toBe(0);
    expect((await fetch(`${vigil.url}/api/v1/deployments/cls/mirror`, { method: 'DELETE' })).status).toBe(204);
    expect((await deployment(vigil)).mirror).toBeNull();
  });
});
