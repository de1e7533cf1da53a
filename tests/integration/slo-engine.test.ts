import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../slo/alertmanager-payload.ts';
import { freePort } from '../helpers/ports.ts';
import { clsInput, inferJson } from '../helpers/tensors.ts';
import { clsDeployment, REPO_ROOT, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

const SECRET = 'test-secret-123';

describe('SLO engine end to end: burn-rate alerts, durable webhooks, restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-slo-'));
  let vigil: RunningVigil | undefined;
  let receiver: WebhookReceiver | undefined;
  afterAll(async () => {
    await vigil?.stop();
    await receiver?.stop();
  });

  const config = (port: number) => ({
    slo_engine: { evaluation_interval_s: 0.5, flush_interval_s: 0.5 },
    alerting: {
      external_url: 'http://vigil.example',
      webhooks: [{ name: 'oncall', url: `http://127.0.0.1:${port}/hook`, secret_env: 'VIGIL_TEST_WEBHOOK_SECRET' }],
    },
    deployments: [
      clsDeployment({ slos: [{ kind: 'availability', objective: 0.999 }] }),
      // Its model never loads: every request is a 503, which burns the availability budget.
      clsDeployment({
        name: 'broken',
        model: `${REPO_ROOT}/package.json`,
        slos: [{ kind: 'availability', objective: 0.999 }],
      }),
    ],
  });
  const start = (port: number) =>
    startVigil(config(port), { dataDir, waitReady: false, env: { VIGIL_TEST_WEBHOOK_SECRET: SECRET } });
  const api = async (path: string, init: RequestInit = {}) =>
    (await fetch(`${vigil!.url}${path}`, init)).json() as Promise<any>;

  it('pages on a 100% error burn, delivers exactly once after the receiver comes up, signed', async () => {
    const port = await freePort();
    receiver = new WebhookReceiver(port); // not listening yet: the receiver is down
    vigil = await start(port);
    await waitFor(async () => (await fetch(`${vigil!.url}/v2/models/cls/ready`)).ok, 30_000, 'cls ready');

    for (let i = 0; i < 5; i++) expect((await inferJson(vigil.url, clsInput(i))).status).toBe(200);
    for (let i = 0; i < 20; i++)
      expect((await inferJson(vigil.url, clsInput(i), { model: 'broken' })).status).toBe(503);

    await waitFor(
      async () => (await api('/api/v1/alerts?state=firing')).alerts.length === 2,
      15_000,
      'page and ticket to fire',
    );
    const firing = (await api('/api/v1/alerts?state=firing')).alerts as any[];
    expect(firing.map((a) => a.severity).sort()).toEqual(['page', 'ticket']);
    expect(firing.every((a) => a.sloId === 'broken-availability' && a.source === 'vigil')).toBe(true);
    const slos = (await api('/api/v1/slos')).slos as any[];
    const broken = slos.find((s) => s.id === 'broken-availability');
    expect(broken.alerts).toEqual({ page: 'firing', ticket: 'firing' });
    expect(broken.burn_rates['5m']).toBeCloseTo(1000, 0);
    expect(broken.error_budget_remaining).toBeLessThan(0);
    expect(slos.find((s) => s.id === 'cls-availability').alerts.page).toBe('inactive');
    const incidents = (await api('/api/v1/incidents?status=open')).incidents as any[];
    expect(incidents).toHaveLength(1);

    // The receiver is down: deliveries fail and are retried.
    await waitFor(() => vigil!.lines.some((l) => l.includes('webhook delivery failed')), 10_000, 'a failed delivery');
    await receiver.start();
    await waitFor(() => receiver!.accepted().length >= 2, 20_000, 'two accepted deliveries');
    await new Promise((r) => setTimeout(r, 3000));
    const accepted = receiver.accepted();
    expect(accepted).toHaveLength(2);
    for (const d of accepted) {
      const ts = String(d.headers['x-vigil-timestamp']);
      expect(verifySignature(SECRET, ts, d.body, String(d.headers['x-vigil-signature']))).toBe(true);
      const payload = JSON.parse(d.body);
      expect(payload).toMatchObject({
        version: '4',
        status: 'firing',
        receiver: 'oncall',
        externalURL: 'http://vigil.example',
        truncatedAlerts: 0,
      });
      expect(payload.alerts[0].labels).toMatchObject({ slo_id: 'broken-availability', deployment: 'broken' });
      expect(payload.alerts[0].annotations.runbook).toBe('error-budget-burn');
      expect(payload.alerts[0].endsAt).toBe('0001-01-01T00:00:00Z');
      expect(payload.groupKey).toContain('broken-availability');
    }
    expect(new Set(accepted.map((d) => d.headers['x-vigil-delivery'])).size).toBe(2);
  });

  it('survives SIGKILL on PGlite: alerts, tokens and audit are there, nothing is re-sent, and it exits cleanly', async () => {
    const created = await api('/api/v1/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ops', role: 'operator' }),
    });
    expect(created.token).toMatch(/^vgl_/);
    const before = (await api('/api/v1/alerts?state=firing', { headers: { authorization: `Bearer ${created.token}` } }))
      .alerts as any[];
    await new Promise((r) => setTimeout(r, 1000)); // one flush interval

    vigil!.proc.kill('SIGKILL');
    await vigil!.exited;
    vigil = await start(receiver!.port);
    const auth = { authorization: `Bearer ${created.token}` };
    // The token committed before the kill still works, and now that one exists, anonymous calls are refused.
    expect((await fetch(`${vigil.url}/api/v1/alerts`)).status).toBe(401);
    const after = (await api('/api/v1/alerts?state=firing', { headers: auth })).alerts as any[];
    expect(after.map((a) => [a.fingerprint, a.startsAt]).sort()).toEqual(
      before.map((a) => [a.fingerprint, a.startsAt]).sort(),
    );
    const audit = (await api('/api/v1/audit?action=token.create', { headers: auth })).entries as any[];
    expect(audit.map((e) => e.target)).toContain('token/ops');

    // Still burning after the restart: the alerts stay firing, with no duplicate notification.
    for (let i = 0; i < 10; i++) await inferJson(vigil.url, clsInput(i), { model: 'broken' });
    await new Promise((r) => setTimeout(r, 3000));
    const still = (await api('/api/v1/alerts?state=firing', { headers: auth })).alerts as any[];
    expect(still).toHaveLength(2);
    expect(receiver!.accepted()).toHaveLength(2);

    vigil.proc.kill('SIGTERM');
    const exit = await Promise.race([vigil.exited, new Promise((r) => setTimeout(() => r('hung'), 20_000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    vigil = undefined;
  });
});
