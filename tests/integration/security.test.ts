import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgresUrl } from '../helpers/test-db.ts';
import { clsInput, jsonInferBody } from '../helpers/tensors.ts';
import {
  CLS_MODEL,
  clsDeployment,
  REPO_ROOT,
  startVigil,
  VIGIL_BIN,
  waitFor,
  type RunningVigil,
} from '../helpers/vigil-process.ts';

/**
 * The security findings of the hardening review, each replayed as the attack or fault it was,
 * against real vigil processes: the attack must now fail.
 */
interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

async function call(
  url: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...opts.headers,
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/** A login as the console makes it on a browser's behalf, from the browser at `address`. */
function loginFrom(url: string, address: string, username: string, password: string): Promise<Answer> {
  return call(url, 'POST', '/api/v1/sessions', {
    body: { username, password },
    headers: { 'x-vigil-console': '1', 'x-forwarded-for': address },
  });
}

/** Sends raw bytes and returns everything the server answered until it closed the connection. */
function rawExchange(
  port: number,
  head: string,
  trickle: { bytes: number; everyMs: number },
): Promise<{ response: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let response = '';
    let sentBytes = 0;
    const timer = setInterval(() => {
      if (sentBytes < trickle.bytes && socket.writable) {
        socket.write('x');
        sentBytes++;
      }
    }, trickle.everyMs);
    socket.on('connect', () => socket.write(head));
    socket.on('data', (d) => (response += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ response, closedAfterMs: Date.now() - started });
    });
  });
}

const faulty = {
  slo_engine: { evaluation_interval_s: 1, flush_interval_s: 1 },
  deployments: [
    {
      ...clsDeployment(),
      model: undefined,
      versions: [{ version: 'v1', model: CLS_MODEL, weight: 100, num_replicas: 1, fault_injection: { error_rate: 1 } }],
      slos: [{ kind: 'availability', objective: 0.99, window: '1h' }],
    },
  ],
  alerting: { webhooks: [{ name: 'ops', url: 'http://127.0.0.1:9/hook', secret_env: 'VIGIL_TEST_WEBHOOK_SECRET' }] },
};

describe('hardening: one node', () => {
  let vigil: RunningVigil;
  /** An admin API token (changes made with a session would need its CSRF token too). */
  let admin: string;
  const secrets = { VIGIL_TEST_WEBHOOK_SECRET: 'webhook-secret-do-not-leak', VIGIL_TOKEN: 'vgl_cli-token-do-not-leak' };

  beforeAll(async () => {
    vigil = await startVigil(faulty, { env: secrets });
    admin = (await call(vigil.url, 'POST', '/api/v1/tokens', { body: { name: 'root', role: 'admin' } })).body.token;
    for (const [username, password, role] of [
      ['admin', 'admin-password-1', 'admin'],
      ['ops', 'ops-password-123', 'operator'],
      ['racer', 'racer-password-1', 'viewer'],
    ]) {
      expect(
        (await call(vigil.url, 'POST', '/api/v1/users', { token: admin, body: { username, password, role } })).status,
      ).toBe(201);
    }
  }, 60_000);
  afterAll(async () => {
    await vigil?.stop();
  });

  it('1: thirty parallel wrong passwords get at most five checks, and the right one after them is refused', async () => {
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) => loginFrom(vigil.url, '203.0.113.10', 'racer', `wrong-password-${i}`)),
    );
    const statuses = burst.map((a) => a.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(25);
    const right = await loginFrom(vigil.url, '203.0.113.10', 'racer', 'racer-password-1');
    expect(right.status).toBe(429);
    expect(right.body.code).toBe('VIGIL_ERR_RATE_LIMITED');
  });

  it('7: wrong passwords from one address do not lock the user out elsewhere, and spraying across users is limited', async () => {
    for (let i = 0; i < 5; i++)
      expect((await loginFrom(vigil.url, '198.51.100.66', 'admin', `guess-${i}-password`)).status).toBe(401);
    expect((await loginFrom(vigil.url, '198.51.100.66', 'admin', 'admin-password-1')).status).toBe(429);
    // The admin at their own desk still gets in.
    expect((await loginFrom(vigil.url, '192.0.2.1', 'admin', 'admin-password-1')).status).toBe(201);
    // One password tried against every user from one address: 20, then refused.
    const sprayed = [];
    for (let i = 0; i < 22; i++)
      sprayed.push((await loginFrom(vigil.url, '198.51.100.99', `user${i}`, 'Summer2026!pass')).status);
    expect(sprayed.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(sprayed.slice(20)).toEqual([429, 429]);
    const refused = await loginFrom(vigil.url, '198.51.100.99', 'ops', 'ops-password-123');
    expect(refused.body.error).toContain('from this address');
  });

  it('6: only the console (loopback, marked) can name the browser address; others are counted under their own', async () => {
    await loginFrom(vigil.url, '192.0.2.44', 'ops', 'ops-password-123');
    // Without the console's mark, x-forwarded-for is the caller's claim, and is ignored.
    await call(vigil.url, 'POST', '/api/v1/sessions', {
      body: { username: 'ops', password: 'ops-password-123' },
      headers: { 'x-forwarded-for': '10.9.9.9' },
    });
    const audit = (await call(vigil.url, 'GET', '/api/v1/audit?target=user/ops&action=auth.login', { token: admin }))
      .body.entries as Array<{ after: { address: string } }>;
    const addresses = audit.map((e) => e.after.address);
    expect(addresses).toContain('192.0.2.44');
    expect(addresses).not.toContain('10.9.9.9');
    expect(addresses.some((a) => a === '127.0.0.1' || a === '::ffff:127.0.0.1')).toBe(true);
  });

  it('3: an Alertmanager payload cannot resolve or rename an alert vigil raised; its token can do nothing else', async () => {
    const body = jsonInferBody(clsInput(3));
    const send = () =>
      fetch(`${vigil.url}/v2/models/cls/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }).then((r) => r.arrayBuffer());
    const firing = async () =>
      ((await call(vigil.url, 'GET', '/api/v1/alerts?state=firing', { token: admin })).body.alerts as any[]).find(
        (a) => a.source === 'vigil',
      );
    await waitFor(
      async () => {
        for (let i = 0; i < 5; i++) await send();
        return (await firing()) !== undefined;
      },
      60_000,
      'vigil to raise a burn-rate alert',
    );
    const own = await firing();

    const created = await call(vigil.url, 'POST', '/api/v1/tokens', {
      token: admin,
      body: { name: 'alertmanager', role: 'alert-receiver' },
    });
    expect(created.body).toMatchObject({ role: 'alert-receiver' });
    const receiver = created.body.token;
    const payload = {
      receiver: 'vigil',
      status: 'resolved',
      alerts: [
        {
          status: 'resolved',
          labels: { alertname: 'Renamed', severity: 'none' },
          annotations: {},
          fingerprint: own.fingerprint,
          startsAt: new Date().toISOString(),
        },
      ],
    };
    const stored = await call(vigil.url, 'POST', '/api/v1/alerts/alertmanager', { token: receiver, body: payload });
    expect(stored.status).toBe(200);
    expect(stored.body.stored[0].fingerprint).toBe(`am:${own.fingerprint}`);
    const after = await firing();
    expect(after).toMatchObject({ fingerprint: own.fingerprint, name: own.name, state: 'firing', source: 'vigil' });

    // The receiver's token reads nothing and changes nothing else.
    for (const [method, path, reqBody] of [
      ['GET', '/api/v1/status', undefined],
      ['GET', '/api/v1/alerts', undefined],
      ['POST', '/api/v1/shutdown', undefined],
      ['PUT', '/api/v1/deployments/cls/weights', { weights: { v1: 100 } }],
      ['POST', '/api/v1/tokens', { name: 'x', role: 'admin' }],
    ] as const) {
      const refused = await call(vigil.url, method, path, { token: receiver, body: reqBody });
      expect(refused.status, `${method} ${path}`).toBe(403);
    }
  }, 90_000);

  it('4: bad percent-encoding in a path is a 400 with a code, before authentication', async () => {
    for (const path of [
      '/api/v1/slos/%zz',
      '/api/v1/deployments/%E0%A4%A/versions/v1/replicas',
      '/v2/models/%/ready',
    ]) {
      const res = await fetch(`${vigil.url}${path}`, { headers: { authorization: 'Bearer nonsense' } });
      expect(res.status, path).toBe(400);
      expect((await res.json()).code).toBe('VIGIL_ERR_BAD_URL');
    }
    expect(vigil.lines.some((l) => l.includes('URIError'))).toBe(false);
  });

  it('8: no replica inherits the webhook secret, the CLI token or the database URL', async () => {
    const status = (await call(vigil.url, 'GET', '/api/v1/status', { token: admin })).body;
    const pids = status.deployments
      .flatMap((d: any) => d.versions.flatMap((v: any) => v.replicas.map((r: any) => r.pid)))
      .filter(Boolean);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      expect(environ).toContain('VIGIL_REPLICA_SPEC=');
      for (const value of Object.values(secrets)) expect(environ).not.toContain(value);
      expect(environ).not.toMatch(/(^|\0)DATABASE_URL=/);
    }
  });

  it('9: a body that trickles in is cut off at its deadline, and the connection closed', async () => {
    const head = [
      'POST /v2/models/cls/infer HTTP/1.1',
      'host: 127.0.0.1',
      'content-type: application/json',
      'content-length: 100000',
      'x-vigil-timeout-ms: 1500',
      '',
      '',
    ].join('\r\n');
    const infer = await rawExchange(vigil.port, head, { bytes: 1000, everyMs: 100 });
    expect(infer.response).toMatch(/^HTTP\/1\.1 504/);
    expect(infer.response).toContain('VIGIL_ERR_DEADLINE_EXCEEDED');
    expect(infer.closedAfterMs).toBeLessThan(10_000);

    const api = [
      'POST /api/v1/sessions HTTP/1.1',
      'host: 127.0.0.1',
      'content-type: application/json',
      'content-length: 5000',
      '',
      '',
    ].join('\r\n');
    const slow = await rawExchange(vigil.port, api, { bytes: 1000, everyMs: 200 });
    expect(slow.response).toMatch(/^HTTP\/1\.1 408/);
    expect(slow.response).toContain('VIGIL_ERR_BODY_TIMEOUT');
    expect(slow.closedAfterMs).toBeLessThan(20_000);
  }, 40_000);

  it('10: an admin can change a role or password, disable a user and end their sessions; the last admin stays', async () => {
    await call(vigil.url, 'POST', '/api/v1/users', {
      token: admin,
      body: { username: 'dana', password: 'dana-password-12', role: 'operator' },
    });
    const dana = (await loginFrom(vigil.url, '192.0.2.7', 'dana', 'dana-password-12')).body;
    expect(dana.token, JSON.stringify(dana)).toMatch(/^vgs_/);
    const me = (token: string) => call(vigil.url, 'GET', '/api/v1/sessions/current', { token });
    expect((await me(dana.token)).body.user.role).toBe('operator');

    const demoted = await call(vigil.url, 'PATCH', '/api/v1/users/dana', { token: admin, body: { role: 'viewer' } });
    expect(demoted.body).toMatchObject({ username: 'dana', role: 'viewer', disabled: false, sessions_ended: 1 });
    expect((await me(dana.token)).status).toBe(401);

    expect(
      (await call(vigil.url, 'PATCH', '/api/v1/users/dana', { token: admin, body: { password: 'dana-new-password' } }))
        .status,
    ).toBe(200);
    expect((await loginFrom(vigil.url, '192.0.2.7', 'dana', 'dana-password-12')).status).toBe(401);
    const again = (await loginFrom(vigil.url, '192.0.2.7', 'dana', 'dana-new-password')).body;
    expect((await me(again.token)).body.user.role).toBe('viewer');

    const ended = await call(vigil.url, 'DELETE', '/api/v1/users/dana/sessions', { token: admin });
    expect(ended.body.sessions_ended).toBe(1);
    expect((await me(again.token)).status).toBe(401);

    expect(
      (await call(vigil.url, 'PATCH', '/api/v1/users/dana', { token: admin, body: { disabled: true } })).body.disabled,
    ).toBe(true);
    expect((await loginFrom(vigil.url, '192.0.2.7', 'dana', 'dana-new-password')).status).toBe(401);

    const last = await call(vigil.url, 'PATCH', '/api/v1/users/admin', { token: admin, body: { role: 'operator' } });
    expect(last.status).toBe(409);
    expect((await call(vigil.url, 'PATCH', '/api/v1/users/dana', { token: admin, body: {} })).status).toBe(400);
    expect(
      (await call(vigil.url, 'PATCH', '/api/v1/users/nobody', { token: admin, body: { disabled: true } })).status,
    ).toBe(404);
    const ops = (await loginFrom(vigil.url, '192.0.2.8', 'ops', 'ops-password-123')).body.token;
    expect(
      (await call(vigil.url, 'PATCH', '/api/v1/users/dana', { token: ops, body: { disabled: false } })).status,
    ).toBe(403);
    // The same through the CLI.
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [VIGIL_BIN, 'user', ...args, '--url', vigil.url], {
        cwd: REPO_ROOT,
        env: { ...process.env, VIGIL_TOKEN: admin },
        encoding: 'utf8',
      });
    const enabled = cli('set', 'dana', '--enable', '--role', 'operator');
    expect(enabled.stderr).toBe('');
    expect(enabled.stdout).toContain('user "dana": role operator, enabled');
    expect((await loginFrom(vigil.url, '192.0.2.7', 'dana', 'dana-new-password')).status).toBe(201);
    expect(cli('logout', 'dana').stdout).toContain('1 session(s) ended');
    const audit = (await call(vigil.url, 'GET', '/api/v1/audit?target=user/dana', { token: admin })).body.entries.map(
      (e: any) => e.action,
    );
    expect(audit).toEqual(expect.arrayContaining(['user.update', 'user.logout_everywhere']));
  });
});

const adminUrl = process.env.VIGIL_TEST_DATABASE_URL;

describe.skipIf(!adminUrl)('hardening: two nodes on one Postgres', () => {
  let db: Awaited<ReturnType<typeof freshPostgresUrl>>;
  const nodes: RunningVigil[] = [];

  beforeAll(async () => {
    db = await freshPostgresUrl();
    nodes.push(
      ...(await Promise.all(
        ['sec-a', 'sec-b'].map((name) =>
          startVigil({ deployments: [clsDeployment()] }, { env: { DATABASE_URL: db!.url, VIGIL_NODE_NAME: name } }),
        ),
      )),
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await db?.dispose();
  });

  it('2: a token created through one node ends loopback trust on the other at once', async () => {
    const [a, b] = nodes as [RunningVigil, RunningVigil];
    expect((await call(b.url, 'GET', '/api/v1/status')).status).toBe(200);
    const created = await call(a.url, 'POST', '/api/v1/tokens', { body: { name: 'first', role: 'admin' } });
    expect(created.status).toBe(201);
    expect((await call(b.url, 'GET', '/api/v1/status')).status).toBe(401);
    const minted = await call(b.url, 'POST', '/api/v1/tokens', { body: { name: 'sneaky', role: 'admin' } });
    expect(minted.status).toBe(401);
    expect((await call(b.url, 'GET', '/api/v1/status', { token: created.body.token })).status).toBe(200);
  });
});
