import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clsDeployment, REPO_ROOT, startVigil, VIGIL_BIN, type RunningVigil } from '../helpers/vigil-process.ts';

const run = promisify(execFile);

describe('the control API: tokens, roles, audit, SLOs, Alertmanager inbound', () => {
  let vigil: RunningVigil;
  let admin: string;
  let operator: string;
  let viewer: string;

  beforeAll(async () => {
    vigil = await startVigil({ deployments: [clsDeployment({ slos: [{ kind: 'availability', objective: 0.999 }] })] });
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  const call = async (method: string, path: string, token?: string, body?: unknown, type = 'application/json') => {
    const res = await fetch(`${vigil.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': type } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let doc: any = text;
    try {
      doc = text ? JSON.parse(text) : null;
    } catch {
      /* YAML or empty */
    }
    return { status: res.status, body: doc, text };
  };

  it('serves loopback callers until the first token exists, then requires one', async () => {
    expect((await call('GET', '/api/v1/slos')).status).toBe(200);
    expect(vigil.lines.some((l) => l.includes('no API token exists'))).toBe(true);
    // The CLI creates the first token through the running node (its database belongs to it).
    const { stdout } = await run(
      process.execPath,
      [VIGIL_BIN, 'token', 'create', '--admin', '--name', 'root', '--url', vigil.url],
      { cwd: REPO_ROOT },
    );
    admin = stdout.trim();
    expect(admin).toMatch(/^vgl_[A-Za-z0-9_-]{20,}$/);
    const anon = await call('GET', '/api/v1/slos');
    expect(anon.status).toBe(401);
    expect(anon.body.code).toBe('VIGIL_ERR_UNAUTHORIZED');
    expect((await call('GET', '/api/v1/slos', 'vgl_wrong')).status).toBe(401);
    operator = (await call('POST', '/api/v1/tokens', admin, { name: 'oncall', role: 'operator' })).body.token;
    viewer = (await call('POST', '/api/v1/tokens', admin, { name: 'exec', role: 'viewer' })).body.token;
    const listed = await call('GET', '/api/v1/tokens', admin);
    expect(listed.body.tokens.map((t: any) => t.role).sort()).toEqual(['admin', 'operator', 'viewer']);
    expect(JSON.stringify(listed.body)).not.toContain('tokenHash');
  });

  it('enforces roles: viewers read, operators change, admins manage tokens', async () => {
    expect((await call('GET', '/api/v1/slos', viewer)).status).toBe(200);
    const denied = await call('PUT', '/api/v1/slos/cls-fast', viewer, {
      deployment: 'cls',
      kind: 'latency',
      objective: 0.99,
      threshold_ms: 100,
    });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('VIGIL_ERR_FORBIDDEN');
    expect((await call('POST', '/api/v1/tokens', operator, { name: 'x', role: 'admin' })).status).toBe(403);
    expect((await call('GET', '/api/v1/status', viewer)).status).toBe(200);
  });

  it('creates, reads and deletes SLOs with an audit row each, and protects vigil.yaml SLOs', async () => {
    const bad = await call('PUT', '/api/v1/slos/cls-fast', operator, {
      deployment: 'cls',
      kind: 'latency',
      objective: 0.99,
      threshold_ms: 123,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VIGIL_ERR_INVALID_BODY');
    const made = await call('PUT', '/api/v1/slos/cls-fast', operator, {
      deployment: 'cls',
      kind: 'latency',
      objective: 0.99,
      threshold_ms: 100,
      window: '7d',
    });
    expect(made.status).toBe(200);
    expect(made.body).toMatchObject({ id: 'cls-fast', kind: 'latency', latency_threshold_ms: 100, window: '7d' });
    const list = (await call('GET', '/api/v1/slos', viewer)).body.slos.map((s: any) => s.id);
    expect(list).toEqual(expect.arrayContaining(['cls-availability', 'cls-fast']));
    const conflict = await call('DELETE', '/api/v1/slos/cls-availability', operator);
    expect(conflict.status).toBe(409);
    expect((await call('DELETE', '/api/v1/slos/cls-fast', operator)).status).toBe(204);
    expect((await call('GET', '/api/v1/slos/cls-fast', viewer)).status).toBe(404);
    const audit = (await call('GET', '/api/v1/audit?actor=oncall', viewer)).body.entries as any[];
    expect(audit.map((e) => e.action)).toEqual(['slo.delete', 'slo.create']);
    expect(audit[1].after).toMatchObject({ id: 'cls-fast', objective: 0.99 });
    expect(audit[0].before).toMatchObject({ id: 'cls-fast' });
  });

  it('exports and imports OpenSLO v1', async () => {
    const exported = await call('GET', '/api/v1/slos/cls-availability/openslo', viewer);
    expect(exported.status).toBe(200);
    const doc = parse(exported.text);
    expect(doc).toMatchObject({
      apiVersion: 'openslo/v1',
      kind: 'SLO',
      spec: { service: 'cls', budgetingMethod: 'Occurrences', objectives: [{ target: 0.999 }] },
    });
    doc.metadata.name = 'cls-imported';
    doc.spec.objectives[0].target = 0.995;
    const imported = await call(
      'POST',
      '/api/v1/slos/openslo',
      operator,
      exported.text.replace('name: cls-availability', 'name: cls-imported').replace('target: 0.999', 'target: 0.995'),
      'application/yaml',
    );
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({ id: 'cls-imported', objective: 0.995, kind: 'availability' });
    const refused = await call('POST', '/api/v1/slos/openslo', operator, {
      ...doc,
      spec: { ...doc.spec, budgetingMethod: 'Timeslices' },
    });
    expect(refused.status).toBe(400);
  });

  it('stores Alertmanager alerts: the status decides the state, not endsAt', async () => {
    const future = new Date(Date.now() + 3600_000).toISOString();
    const payload = {
      version: '4',
      status: 'firing',
      receiver: 'vigil',
      groupLabels: {},
      commonLabels: {},
      commonAnnotations: {},
      externalURL: 'http://am',
      groupKey: '{}',
      truncatedAlerts: 0,
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'DiskFull', severity: 'page', instance: 'db1' },
          annotations: { summary: 'disk' },
          startsAt: new Date().toISOString(),
          endsAt: future,
          fingerprint: 'am-1',
          generatorURL: 'http://prom',
        },
        {
          status: 'resolved',
          labels: { alertname: 'HighLoad', severity: 'ticket' },
          annotations: {},
          startsAt: new Date(Date.now() - 60_000).toISOString(),
          endsAt: new Date().toISOString(),
          fingerprint: 'am-2',
          generatorURL: 'http://prom',
        },
      ],
    };
    expect((await call('POST', '/api/v1/alerts/alertmanager', undefined, payload)).status).toBe(401);
    expect((await call('POST', '/api/v1/alerts/alertmanager', viewer, payload)).status).toBe(403);
    const res = await call('POST', '/api/v1/alerts/alertmanager', operator, payload);
    expect(res.status).toBe(200);
    const alerts = (await call('GET', '/api/v1/alerts', viewer)).body.alerts as any[];
    expect(alerts.find((a) => a.fingerprint === 'am:am-1')).toMatchObject({
      source: 'alertmanager',
      state: 'firing',
      name: 'DiskFull',
      severity: 'page',
      endsAt: null,
    });
    expect(alerts.find((a) => a.fingerprint === 'am:am-2')).toMatchObject({ state: 'resolved' });
    const ack = await call('POST', '/api/v1/alerts/am:am-1/ack', operator);
    expect(ack.body.acknowledgedBy).toBe('oncall');
    const silence = await call('POST', '/api/v1/alerts/am:am-1/silence', operator, { until: future });
    expect(new Date(silence.body.silencedUntil).toISOString()).toBe(future);
    expect((await call('POST', '/api/v1/alerts/nope/ack', operator)).status).toBe(404);
    const actions = ((await call('GET', '/api/v1/audit?actor=oncall', viewer)).body.entries as any[]).map(
      (e) => e.action,
    );
    expect(actions).toEqual(expect.arrayContaining(['alert.receive', 'alert.acknowledge', 'alert.silence']));
  });

  it('revoking a token locks it out', async () => {
    const tokens = (await call('GET', '/api/v1/tokens', admin)).body.tokens as any[];
    const id = tokens.find((t) => t.name === 'exec').id;
    expect((await call('DELETE', `/api/v1/tokens/${id}`, admin)).status).toBe(204);
    expect((await call('GET', '/api/v1/slos', viewer)).status).toBe(401);
  });
});
