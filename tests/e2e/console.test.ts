import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, sendJsonTo, startLoad } from '../helpers/load.ts';
import { freePort } from '../helpers/ports.ts';
import { haveProgram } from '../helpers/programs.ts';
import { clsInput, jsonInferBody } from '../helpers/tensors.ts';
import { CLS_MODEL, REPO_ROOT, startVigil, VIGIL_BIN, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';

/**
 * The console end to end, in Debian's Chromium driven by playwright-core: a real vigil node
 * (real model, embedded database) started by `vigil start` with its console process, users made
 * with `vigil user add`, and every check read off the rendered pages. Screenshots of each page
 * go to a temporary folder, or, with VIGIL_UPDATE_SCREENSHOTS=1, to docs/screenshots/ (the README
 * shows them), so that `npm test` leaves the checkout as it found it.
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = haveProgram('chromium', 'the console browser test drives Debian Chromium');
const SHOTS =
  process.env.VIGIL_UPDATE_SCREENSHOTS === '1'
    ? join(REPO_ROOT, 'docs/screenshots')
    : mkdtempSync(join(tmpdir(), 'vigil-screenshots-'));
const OPERATOR = { name: 'ops', password: 'operator-password-42' };
const VIEWER = { name: 'watcher', password: 'viewer-password-42' };

function addUser(dataDir: string, user: { name: string; password: string }, role: string): void {
  // VIGIL_PORT=1: no node answers there, so the CLI writes to the embedded database directly.
  const r = spawnSync(process.execPath, [VIGIL_BIN, 'user', 'add', user.name, '--role', role], {
    cwd: REPO_ROOT,
    input: `${user.password}\n`,
    env: { ...process.env, VIGIL_DATA_DIR: dataDir, VIGIL_PORT: '1' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`vigil user add failed: ${r.stderr}`);
}

describe.skipIf(!hasChromium)('web console in a real browser', () => {
  let vigil: RunningVigil;
  let consoleUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-console-'));
    addUser(dataDir, OPERATOR, 'operator');
    addUser(dataDir, VIEWER, 'viewer');
    const consolePort = await freePort();
    vigil = await startVigil(
      {
        console: { port: consolePort, cpu_hour_usd: 0.05 },
        rollouts: { min_requests: 20, short_window_s: 10 },
        deployments: [
          {
            name: 'cls',
            execution_provider: 'cpu',
            warmup: { requests: 1, shapes: { x: [1, 3, 48, 192] } },
            versions: [
              { version: 'v1', model: CLS_MODEL, weight: 100, num_replicas: 1 },
              // The canary fails every request: the rollout must roll it back by itself.
              { version: 'v2', model: CLS_MODEL, weight: 0, num_replicas: 1, fault_injection: { error_rate: 1 } },
            ],
            slos: [{ kind: 'availability', objective: 0.99, window: '1h' }],
            // A known answer on the stable version (the canary fails every request by design).
            probes: [
              {
                name: 'upright',
                request_file: join(REPO_ROOT, 'examples/cls/probes/upright.json'),
                expect: { top1: 0 },
                interval: '2s',
                versions: ['v1'],
              },
            ],
          },
        ],
      },
      { dataDir, env: { VIGIL_CONSOLE: '1' } },
    );
    consoleUrl = `http://127.0.0.1:${consolePort}`;
    // The first start builds the console (tens of seconds on two cores); then it answers.
    await waitFor(
      async () => (await fetch(`${consoleUrl}/login`).catch(() => undefined))?.status === 200,
      240_000,
      'the console to answer',
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await vigil?.stop();
  });

  async function login(user: { name: string; password: string }): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${consoleUrl}/executive`);
    // Not logged in: the console sends us to the login page.
    await page.waitForURL(/\/login/);
    await page.fill('input[name="username"]', user.name);
    await page.fill('input[name="password"]', user.password);
    await Promise.all([page.waitForURL(/\/executive/), page.click('button[type="submit"]')]);
    return page;
  }

  it('shows the requests sent, a canary rolled back with its runbook, runs a runbook action, and keeps viewers read-only', async () => {
    // --- 1. an operator logs in; the session cookie is httpOnly and SameSite=Strict
    const ops = await login(OPERATOR);
    const cookie = (await ops.context().cookies()).find((c) => c.name === 'vigil_session');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Strict');

    // --- 2. N inference requests: 30 to the stable version, 10 pinned to the failing canary
    const body = jsonInferBody(clsInput(3));
    const send = (headers: Record<string, string>) =>
      fetch(`${vigil.url}/v2/models/cls/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      });
    const statuses = [];
    for (let i = 0; i < 30; i++) statuses.push(await send({}));
    for (let i = 0; i < 10; i++) statuses.push(await send({ 'x-vigil-version': 'v2' }));
    expect(statuses.filter((s) => s === 200)).toHaveLength(30);
    expect(statuses.filter((s) => s === 500)).toHaveLength(10);
    await ops.goto(`${consoleUrl}/executive`);
    await expect
      .poll(async () => (await ops.getByTestId('requests-1h').textContent())?.replace(/[^\d]/g, ''), {
        timeout: 15_000,
      })
      .toBe('40');
    expect(await ops.getByTestId('success-rate-1h').textContent()).toContain('75.00');
    await ops.screenshot({ path: join(SHOTS, 'executive.png'), fullPage: true });

    // --- 3. a rollout of the fault-injected canary, under load, rolls itself back
    const started = await sendJsonTo('POST', `${vigil.url}/api/v1/deployments/cls/rollouts`, {
      version: 'v2',
      steps: [20, 50, 100],
      interval: '60s',
    });
    expect(started.status).toBe(201);
    const load = startLoad(vigil.url, { concurrency: 2, pauseMs: 20 });
    try {
      await waitFor(
        async () => (await getJson(`${vigil.url}/api/v1/rollouts/${started.body.id}`)).status === 'RolledBack',
        90_000,
        'the canary to be rolled back',
      );
    } finally {
      await load.stop();
    }

    // --- 4. the on-call page shows the alert with its runbook
    await ops.goto(`${consoleUrl}/oncall`);
    const alert = ops.getByTestId('alert-VigilCanaryRolledBack');
    await alert.waitFor({ timeout: 15_000 });
    expect(await alert.textContent()).toContain('v2');
    await expect
      .poll(async () => alert.locator('a[href*="/runbooks/canary-rolled-back"]').count(), { timeout: 10_000 })
      .toBeGreaterThan(0);
    await ops.screenshot({ path: join(SHOTS, 'oncall.png'), fullPage: true });

    // --- 5. a runbook action: scale cls v1 to 2 replicas, confirmed, through the console
    const runbooks = (await getJson(`${vigil.url}/api/v1/runbooks`)).runbooks as Array<{
      slug: string;
      steps: Array<{ position: number; kind: string; action: { type: string } | null }>;
    }>;
    const withScale = runbooks.find((r) => r.steps.some((s) => s.action?.type === 'scale'))!;
    expect(withScale).toBeDefined();
    const step = withScale.steps.find((s) => s.action?.type === 'scale')!;
    await ops.goto(`${consoleUrl}/runbooks/${withScale.slug}?deployment=cls&version=v1`);
    await ops.getByTestId(`run-step-${step.position}`).click();
    const replicasInput = ops.locator('[data-testid="param-replicas"]');
    if (await replicasInput.count()) await replicasInput.fill('2');
    const versionInput = ops.locator('[data-testid="param-version"]');
    if ((await versionInput.count()) && !(await versionInput.inputValue())) await versionInput.fill('v1');
    await ops
      .getByTestId('preview-action')
      .click()
      .catch(() => undefined);
    await ops.getByText(/from 1 to 2 replicas/).waitFor({ timeout: 10_000 });
    await ops.screenshot({ path: join(SHOTS, 'runbook-confirm.png'), fullPage: true });
    await ops.getByTestId('confirm-action').click();
    await ops
      .getByText(/succeeded/i)
      .first()
      .waitFor({ timeout: 10_000 });
    await ops.goto(`${consoleUrl}/deployments`);
    await expect
      .poll(async () => (await ops.getByTestId('replicas-cls-v1').textContent())?.trim(), { timeout: 15_000 })
      .toMatch(/^2\b/);
    // The probe's latest run on v1, as the known answer found it.
    await expect
      .poll(async () => (await ops.getByTestId('probes-cls').textContent()) ?? '', { timeout: 15_000 })
      .toMatch(/upright\s*v1\s*top-1 class 0\s*pass/);
    // Prediction drift of the traffic sent so far: v1 against its own previous window, gathering.
    expect(await ops.getByTestId('drift-cls').textContent()).toContain('v1 input.x.mean');
    await ops.screenshot({ path: join(SHOTS, 'deployments.png'), fullPage: true });
    await ops.goto(`${consoleUrl}/audit?action=deployment.scale`);
    const row = ops.locator('tr', { hasText: 'deployment.scale' }).filter({ hasText: OPERATOR.name });
    await row.first().waitFor({ timeout: 10_000 });
    expect(await row.first().textContent()).toContain('cls/v1');
    await ops.screenshot({ path: join(SHOTS, 'audit.png'), fullPage: true });
    await ops.goto(`${consoleUrl}/debug`);
    await ops.getByText('cls-v1-1').first().waitFor({ timeout: 10_000 });
    // The machine: the suite reads an empty one (VIGIL_HOST_ROOT), so every sensor is said missing.
    expect(await ops.getByTestId('host').textContent()).toMatch(/no temperature sensor.*not held/s);
    // The node list: on the embedded database this node is the only one, healthy and the leader.
    expect(await ops.getByTestId('cluster-summary').textContent()).toContain('Embedded database');
    const nodeRow = ops.locator('tr[data-testid^="node-"]');
    expect(await nodeRow.count()).toBe(1);
    expect(await nodeRow.first().textContent()).toMatch(/healthy.*leader/);
    await ops.screenshot({ path: join(SHOTS, 'debug.png'), fullPage: true });
    await ops.goto(`${consoleUrl}/runbooks/canary-rolled-back`);
    await ops.screenshot({ path: join(SHOTS, 'runbook.png'), fullPage: true });
    await ops.close();

    // --- 6. a viewer sees no action buttons, and the server refuses the action anyway
    const viewer = await login(VIEWER);
    await viewer.goto(`${consoleUrl}/deployments`);
    await viewer.getByTestId('deployment-cls').waitFor();
    for (const label of ['Pause', 'Resume', 'Promote', 'Roll back', 'Scale', 'Set weights'])
      expect(await viewer.getByRole('button', { name: label, exact: true }).count()).toBe(0);
    await viewer.goto(`${consoleUrl}/runbooks/${withScale.slug}`);
    expect(await viewer.getByTestId(`run-step-${step.position}`).count()).toBe(0);
    const forced = await viewer.evaluate(async () => {
      const csrf = document.querySelector('meta[name="vigil-csrf"]')?.getAttribute('content') ?? '';
      const res = await fetch('/api/v1/deployments/cls/versions/v1/replicas', {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'x-vigil-csrf': csrf },
        body: JSON.stringify({ replicas: 3 }),
      });
      return { status: res.status, body: await res.json() };
    });
    expect(forced.status).toBe(403);
    expect(forced.body.code).toBe('VIGIL_ERR_FORBIDDEN');
    const state = await getJson(`${vigil.url}/api/v1/deployments/cls`);
    expect(state.versions.find((v: { version: string }) => v.version === 'v1').target_replicas).toBe(2);
    await viewer.close();
  }, 300_000);

  it('sends security headers with a fresh script nonce, and records the socket address, not a forged one', async () => {
    const res = await fetch(`${consoleUrl}/login`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    // Every script Next.js renders carries this response's nonce, so the page still runs.
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    const second = (await fetch(`${consoleUrl}/login`)).headers.get('content-security-policy');
    expect(second).not.toBe(csp);

    // The console's own refusals have vigil's one error shape, with codes from its registry.
    const unsigned = await fetch(`${consoleUrl}/api/v1/slos`);
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toEqual({ error: 'not signed in', code: 'VIGIL_ERR_UNAUTHORIZED' });
    const foreign = await fetch(`${consoleUrl}/api/v1/slos`, {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
    expect((await foreign.json()).code).toBe('VIGIL_ERR_FORBIDDEN');

    // A browser that sends its own X-Forwarded-For is recorded under its socket address.
    const form = new URLSearchParams({ username: OPERATOR.name, password: 'not-the-password' });
    const login = await fetch(`${consoleUrl}/api/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        origin: consoleUrl,
        'x-forwarded-for': '6.6.6.6',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: form,
    });
    expect(login.status).toBe(303);
    const audit = await getJson(`${vigil.url}/api/v1/audit?action=auth.login_failed&target=user/${OPERATOR.name}`);
    const addresses = audit.entries.map((e: { after: { address: string } }) => e.after.address);
    expect(addresses).not.toContain('6.6.6.6');
    expect(addresses.some((a: string) => a === '127.0.0.1' || a === '::ffff:127.0.0.1' || a === '::1')).toBe(true);

    // Parallel guesses through the console get no more checks than the limit allows.
    const burst = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        fetch(`${consoleUrl}/api/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { origin: consoleUrl, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ username: VIEWER.name, password: `guess-${i}-password` }),
        }),
      ),
    );
    const outcomes = burst.map((r) => new URL(r.headers.get('location') ?? '', consoleUrl).searchParams.get('error'));
    expect(outcomes.filter((o) => o === 'login_failed').length).toBeLessThanOrEqual(5);
    expect(outcomes.filter((o) => o === 'rate_limited').length).toBeGreaterThanOrEqual(20);
  }, 60_000);
});
