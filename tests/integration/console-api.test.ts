import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRequestRollups, loadRequestRollups } from '../../db/queries/request-rollups.ts';
import { DURATION_BUCKETS } from '../../serving/telemetry/buckets.ts';
import { getJson } from '../helpers/load.ts';
import { openTestDatabases, type TestDatabase } from '../helpers/test-db.ts';
import { clsInput, jsonInferBody } from '../helpers/tensors.ts';
import { CLS_MODEL, REPO_ROOT, startVigil, VIGIL_BIN, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';

/**
 * The control plane's side of the console: console users and sessions (argon2 passwords, CSRF,
 * failed-login limit, every login recorded), and the numbers the pages show (every request
 * counted per minute and kept across restarts, replica stats, operator restarts).
 */
const config = {
  deployments: [
    {
      name: 'cls',
      execution_provider: 'cpu',
      warmup: { requests: 1, shapes: { x: [1, 3, 48, 192] } },
      versions: [
        { version: 'v1', model: CLS_MODEL, weight: 100, num_replicas: 1 },
        { version: 'v2', model: CLS_MODEL, weight: 0, num_replicas: 1, fault_injection: { error_rate: 1 } },
      ],
    },
  ],
};

async function call(
  url: string,
  method: string,
  path: string,
  opts: { token?: string; csrf?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.csrf ? { 'x-vigil-csrf': opts.csrf } : {}),
      ...opts.headers,
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

describe('console users, sessions and numbers', () => {
  let vigil: RunningVigil;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-console-api-'));
    vigil = await startVigil(config, { dataDir });
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  const login = (username: string, password: string) =>
    call(vigil.url, 'POST', '/api/v1/sessions', { body: { username, password } });

  it('logs users in with argon2-hashed passwords and records every attempt', async () => {
    expect(
      (
        await call(vigil.url, 'POST', '/api/v1/users', {
          body: { username: 'alice', password: 'short', role: 'operator' },
        })
      ).body.code,
    ).toBe('VIGIL_ERR_INVALID_BODY');
    expect(
      (
        await call(vigil.url, 'POST', '/api/v1/users', {
          body: { username: 'alice', password: 'alice-password-1', role: 'operator' },
        })
      ).status,
    ).toBe(201);
    // The CLI goes through the running node (its embedded database is that process's).
    const cli = spawnSync(
      process.execPath,
      [VIGIL_BIN, 'user', 'add', 'vera', '--role', 'viewer', '--url', vigil.url],
      { cwd: REPO_ROOT, input: 'vera-password-12\n', encoding: 'utf8' },
    );
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);

    const ok = await login('alice', 'alice-password-1');
    expect(ok.status).toBe(201);
    expect(ok.body.token).toMatch(/^vgs_/);
    expect(ok.body.user).toEqual({ name: 'alice', role: 'operator' });
    const me = await call(vigil.url, 'GET', '/api/v1/sessions/current', { token: ok.body.token });
    expect(me.body).toMatchObject({ user: { name: 'alice', role: 'operator' }, csrf_token: ok.body.csrf_token });

    expect((await login('alice', 'wrong-password-1')).body.code).toBe('VIGIL_ERR_LOGIN_FAILED');
    expect((await login('nobody', 'whatever-password')).body.code).toBe('VIGIL_ERR_LOGIN_FAILED');
    const audit = (await getJson(`${vigil.url}/api/v1/audit?target=user/alice`)).entries as Array<{ action: string }>;
    expect(audit.map((e) => e.action)).toEqual(
      expect.arrayContaining(['auth.login', 'auth.login_failed', 'user.create']),
    );
  });

  it('locks a username after five failed logins, even with the right password', async () => {
    await call(vigil.url, 'POST', '/api/v1/users', {
      body: { username: 'bob', password: 'bob-password-123', role: 'viewer' },
    });
    for (let i = 0; i < 5; i++) expect((await login('bob', `wrong-${i}-password`)).status).toBe(401);
    const limited = await login('bob', 'bob-password-123');
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('VIGIL_ERR_RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(800);
    // Another user is not affected.
    expect((await login('alice', 'alice-password-1')).status).toBe(201);
  });

  it('needs the CSRF token for changes made with a session, and checks the role', async () => {
    const op = (await login('alice', 'alice-password-1')).body;
    const path = '/api/v1/deployments/cls/versions/v1/replicas';
    expect((await call(vigil.url, 'PUT', path, { token: op.token, body: { replicas: 1 } })).body.code).toBe(
      'VIGIL_ERR_CSRF',
    );
    expect(
      (await call(vigil.url, 'PUT', path, { token: op.token, csrf: 'not-the-token', body: { replicas: 1 } })).body.code,
    ).toBe('VIGIL_ERR_CSRF');
    expect(
      (await call(vigil.url, 'PUT', path, { token: op.token, csrf: op.csrf_token, body: { replicas: 1 } })).status,
    ).toBe(200);
    const viewer = (await login('vera', 'vera-password-12')).body;
    const refused = await call(vigil.url, 'PUT', path, {
      token: viewer.token,
      csrf: viewer.csrf_token,
      body: { replicas: 1 },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('VIGIL_ERR_FORBIDDEN');
    // A console call without a session is never trusted as a loopback caller.
    expect(
      (await call(vigil.url, 'PUT', path, { headers: { 'x-vigil-console': '1' }, body: { replicas: 1 } })).status,
    ).toBe(401);
    // Logging out ends the session.
    expect(
      (await call(vigil.url, 'DELETE', '/api/v1/sessions/current', { token: viewer.token, csrf: viewer.csrf_token }))
        .status,
    ).toBe(204);
    expect((await call(vigil.url, 'GET', '/api/v1/sessions/current', { token: viewer.token })).status).toBe(401);
  });

  it('counts every request per minute, with errors, latency and CPU, and keeps them across a restart', async () => {
    const body = jsonInferBody(clsInput(5));
    const send = (headers: Record<string, string> = {}) =>
      fetch(`${vigil.url}/v2/models/cls/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      });
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push(await send());
    for (let i = 0; i < 4; i++) statuses.push(await send({ 'x-vigil-version': 'v2' }));
    expect(statuses.filter((s) => s === 500)).toHaveLength(4);

    const summary = await getJson(`${vigil.url}/api/v1/console/summary`);
    const hour = summary.windows.find((w: { window: string }) => w.window === '1h');
    expect(hour).toMatchObject({ requests: 16, errors: 4, success_rate: 0.75 });
    expect(hour.p99_ms).toBeGreaterThan(0);
    expect(hour.cost_per_1k_usd).toBeNull(); // no price configured: no made-up number
    expect(summary.deployments[0]).toMatchObject({ name: 'cls', requests_1h: 16 });
    const series = await getJson(`${vigil.url}/api/v1/console/series?range=15m`);
    const sent = series.series
      .flatMap((s: { points: { requests: number }[] }) => s.points)
      .reduce((n: number, p: { requests: number }) => n + p.requests, 0);
    expect(sent).toBe(16);
    expect((await fetch(`${vigil.url}/api/v1/console/series?range=2y`)).status).toBe(400);

    // CPU time arrives with the replicas' health reports (every 2 s, sampled every 5 s).
    await waitFor(
      async () => (await getJson(`${vigil.url}/api/v1/console/summary`)).windows[0].cpu_seconds > 0,
      20_000,
      'replica CPU time to be credited',
    );

    await vigil.stop();
    vigil = await startVigil(config, { dataDir });
    const after = await getJson(`${vigil.url}/api/v1/console/summary`);
    expect(after.windows[0]).toMatchObject({ requests: 16, errors: 4 });
  });

  it('shows replica stats and restarts a replica on request, without counting a crash', async () => {
    const runtime = await getJson(`${vigil.url}/api/v1/console/runtime`);
    const v1 = runtime.deployments[0].versions.find((v: { version: string }) => v.version === 'v1');
    const replica = v1.replicas[0];
    expect(replica.state).toBe('RUNNING');
    await waitFor(
      async () =>
        (await getJson(`${vigil.url}/api/v1/console/runtime`)).deployments[0].versions[0].replicas[0].rss_bytes > 0,
      10_000,
      'replica stats',
    );
    const restarted = await call(
      vigil.url,
      'POST',
      `/api/v1/deployments/cls/versions/v1/replicas/${replica.id}/restart`,
    );
    expect(restarted.status).toBe(202);
    await waitFor(
      async () => {
        const v = (await getJson(`${vigil.url}/api/v1/console/runtime`)).deployments[0].versions.find(
          (x: { version: string }) => x.version === 'v1',
        );
        return (
          v.replicas.some((r: { id: string; state: string }) => r.id !== replica.id && r.state === 'RUNNING') &&
          !v.replicas.some((r: { id: string }) => r.id === replica.id)
        );
      },
      30_000,
      'the replacement replica',
    );
    const after = (await getJson(`${vigil.url}/api/v1/console/runtime`)).deployments[0].versions.find(
      (x: { version: string }) => x.version === 'v1',
    );
    expect(after.restarts).toBe(0);
    const audit = (await getJson(`${vigil.url}/api/v1/audit?action=replica.restart`)).entries;
    expect(audit[0]).toMatchObject({ actor: 'local', target: 'deployment/cls/v1' });
    expect((await call(vigil.url, 'POST', '/api/v1/deployments/cls/versions/v1/replicas/nope/restart')).body.code).toBe(
      'VIGIL_ERR_NO_SUCH_RESOURCE',
    );
  });
});

describe.each(openTestDatabases())('request rollups on $name', ({ open }) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await open();
  });
  afterAll(async () => {
    await database?.dispose();
  });

  it('adds flushes and nodes together, latency buckets element by element', async () => {
    const at = Date.UTC(2026, 10, 23, 12, 0, 0);
    const latency = (i: number, n: number) => DURATION_BUCKETS.map((_, j) => (j === i ? n : 0)).concat(0);
    const row = (total: number, errors: number, l: number[], cpu: number) => ({
      deployment: 'cls',
      version: 'v1',
      bucketStart: at,
      bucketSeconds: 60,
      total,
      errors,
      latencyCounts: l,
      latencySumSeconds: total * 0.01,
      cpuSeconds: cpu,
    });
    await addRequestRollups(database.db, [row(3, 1, latency(4, 3), 0.5)]);
    await addRequestRollups(database.db, [row(2, 0, latency(6, 2), 0.25)]);
    await addRequestRollups(database.db, [row(1, 1, latency(4, 1), 0)], 'node-b');
    const rows = await loadRequestRollups(database.db, new Date(at - 1));
    const total = rows.reduce((n, r) => n + r.total, 0);
    expect(total).toBe(6);
    const mine = rows.find((r) => r.total === 5)!;
    expect(mine.errors).toBe(1);
    expect(mine.latencyCounts[4]).toBe(3);
    expect(mine.latencyCounts[6]).toBe(2);
    expect(mine.cpuSeconds).toBeCloseTo(0.75);
    await expect(addRequestRollups(database.db, [row(1, 2, latency(0, 1), 0)])).rejects.toThrow();
  });
});
