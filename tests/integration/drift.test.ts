import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSamples, scrape } from '../helpers/metrics-text.ts';
import { freePort } from '../helpers/ports.ts';
import { clsInput, inferJson } from '../helpers/tensors.ts';
import { CLS_MODEL, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

/**
 * Issue 20: prediction drift. Two versions of the classifier share traffic; the minor one is
 * compared with the main one over the same window. On the same traffic its drift stays low; when
 * a load generator changes what it sends to it (inputs three times as large, shifted), drift on
 * its input signals passes the threshold, vigil_prediction_drift says so, and the ticket
 * VigilPredictionDrift fires and reaches an Alertmanager-format webhook.
 */
describe('prediction drift', () => {
  let vigil: RunningVigil;
  let receiver: WebhookReceiver;
  const api = async (path: string) => (await fetch(`${vigil.url}${path}`)).json() as Promise<any>;
  const drift = async () => (await api('/api/v1/deployments/cls/drift')).findings as any[];
  const send = async (n: number, from: number, opts: { pin?: string; shift?: boolean } = {}) => {
    const sends = [];
    for (let i = from; i < from + n; i++) {
      const data = clsInput(i);
      if (opts.shift) for (let j = 0; j < data.length; j++) data[j] = data[j]! * 3 + 0.5;
      sends.push(inferJson(vigil.url, data, { headers: opts.pin ? { 'x-vigil-version': opts.pin } : {} }));
      if (sends.length >= 8) for (const r of await Promise.all(sends.splice(0))) expect(r.status).toBe(200);
    }
    for (const r of await Promise.all(sends)) expect(r.status).toBe(200);
  };

  beforeAll(async () => {
    receiver = new WebhookReceiver(await freePort());
    await receiver.start();
    vigil = await startVigil({
      drift: { window: '2m', threshold: 0.25, for: '2s', min_samples: 100, evaluation_interval_s: 0.5 },
      alerting: { webhooks: [{ name: 'oncall', url: `http://127.0.0.1:${receiver.port}/hook` }] },
      deployments: [
        {
          name: 'cls',
          execution_provider: 'cpu',
          warmup: { requests: 1, shapes: { x: [1, 3, 48, 192] } },
          versions: [
            { version: 'v1', model: CLS_MODEL, weight: 60, num_replicas: 1 },
            { version: 'v2', model: CLS_MODEL, weight: 40, num_replicas: 1 },
          ],
        },
      ],
    });
  });
  afterAll(async () => {
    await vigil?.stop();
    await receiver?.stop();
  });

  it('stays low when both versions get the same traffic', async () => {
    await send(600, 0);
    await waitFor(
      async () => (await drift()).some((f) => f.version === 'v2' && f.psi !== null),
      15_000,
      'a comparison of v2 with v1',
    );
    const v2 = (await drift()).filter((f) => f.version === 'v2');
    expect(v2.map((f) => f.signal).sort()).toEqual(['input.x.mean', 'input.x.rms', 'output.softmax_0.tmp_0.class']);
    for (const f of v2) {
      expect(f.baseline).toEqual({ kind: 'stable', version: 'v1' });
      // Sampling noise alone gives about (bins - 1) × (1/n₁ + 1/n₂): some 0.06 here.
      expect(f.psi, f.signal).toBeLessThan(0.25);
      console.log(
        `drift on the same traffic: ${f.signal} PSI ${f.psi.toFixed(3)} (${f.samples.recent} against ${f.samples.baseline})`,
      );
      expect(f.bins.length).toBeGreaterThan(0);
    }
    expect((await api('/api/v1/alerts')).alerts.filter((a: any) => a.name === 'VigilPredictionDrift')).toEqual([]);

    // An operator pins v1's window as its reference: v1 is then judged against it, audited.
    const put = (method: string) => fetch(`${vigil.url}/api/v1/deployments/cls/versions/v1/drift/baseline`, { method });
    const pinned = await (await put('PUT')).json();
    expect(pinned.signals).toEqual(['input.x.mean', 'input.x.rms', 'output.softmax_0.tmp_0.class']);
    const v1 = (await drift()).filter((f) => f.version === 'v1');
    for (const f of v1) {
      expect(f.baseline).toEqual({ kind: 'pinned', pinned_at: pinned.pinned_at });
      expect(f.psi, f.signal).toBeLessThan(0.01); // the same window, compared with itself
    }
    expect((await api('/api/v1/audit?action=drift.pin_baseline')).entries).toHaveLength(1);
    expect((await put('DELETE')).status).toBe(204);
    expect((await put('DELETE')).status).toBe(404);
    expect((await drift()).find((f) => f.version === 'v1').baseline).toEqual({ kind: 'previous' });
    // Nothing answered by a version: nothing to pin, and no audit row.
    const none = await fetch(`${vigil.url}/api/v1/deployments/cls/versions/v9/drift/baseline`, { method: 'PUT' });
    expect(none.status).toBe(404);
  });

  it('rises when what v2 is sent changes, and raises a ticket that reaches the webhook', async () => {
    await send(300, 1000, { pin: 'v2', shift: true });
    await waitFor(
      async () => (await drift()).some((f) => f.version === 'v2' && f.signal === 'input.x.rms' && f.psi > 0.25),
      15_000,
      'v2 input drift',
    );
    const samples = parseSamples((await scrape(vigil.url)).text);
    const gauge = samples.find(
      (s) => s.name === 'vigil_prediction_drift' && s.labels.version === 'v2' && s.labels.signal === 'input.x.rms',
    );
    expect(gauge?.value).toBeGreaterThan(0.25);
    await waitFor(
      async () => (await api('/api/v1/alerts?state=firing')).alerts.some((a: any) => a.name === 'VigilPredictionDrift'),
      15_000,
      'the drift ticket',
    );
    const alert = (await api('/api/v1/alerts?state=firing')).alerts.find((a: any) => a.name === 'VigilPredictionDrift');
    expect(alert).toMatchObject({ severity: 'ticket', labels: { deployment: 'cls', version: 'v2' } });
    expect(alert.annotations.runbook).toBe('prediction-drift');
    await waitFor(
      () => receiver.deliveries.some((d) => d.body.includes('VigilPredictionDrift')),
      15_000,
      'the webhook',
    );
    const payload = JSON.parse(receiver.deliveries.find((d) => d.body.includes('VigilPredictionDrift'))!.body);
    expect(payload.alerts[0]).toMatchObject({ status: 'firing', labels: { severity: 'ticket', version: 'v2' } });
  });

  it('rolls back a canary whose answers drift from the stable version’s, when the rollout asks', async () => {
    const started = await fetch(`${vigil.url}/api/v1/deployments/cls/rollouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: 'v2', steps: [50, 100], interval: '30s', analysis: { max_drift: 0.25 } }),
    });
    expect(started.status).toBe(201);
    await waitFor(
      async () => (await api('/api/v1/deployments/cls/rollout')).latest?.status === 'RolledBack',
      20_000,
      'the rollback on drift',
    );
    const row = (await api('/api/v1/deployments/cls/rollout')).latest;
    expect(row.reason).toMatch(/PSI \d+\.\d{3} on input\.x\.(mean|rms) against the stable version \(max 0\.25\)/);
  });
});
