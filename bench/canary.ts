/**
 * `npm run bench:canary:live`: the canary judge through real processes, in the scenarios of the
 * canary-judgement issue, on whatever this machine is. One vigil (deployment `cls`, two versions
 * of the same model file, one replica each, default analysis settings) takes an open-loop stream
 * of JSON inference requests from this process; every answer is recorded with its receive time,
 * status, x-vigil-version and x-vigil-fault.
 *
 * Scenarios (--scenarios, all by default):
 *
 * - `errors`: the canary fails 10% of its requests (fault injection), rollout `steps: [10]`,
 *   80 req/s. Target: rolled back within 5 s of its first bad answer.
 * - `latency`: the canary answers 250 ms later (fault injection), `steps: [25]`, 60 req/s.
 *   Target: rolled back within 5 s of its first answer (every answer of it is slow).
 * - `healthy`: no fault, `steps: [50, 100]` every 10 s, 60 req/s, --runs rollouts beside each
 *   hog of --hogs: `none`, `cpu` (`stress-ng --cpu 2`) and `cpu-mem-io` (`stress-ng --cpu 1
 *   --vm 1 --vm-bytes 1G --iomix 1`); `install-build` (not in the default list: `npm ci` of this
 *   project in a loop beside `tsc` in a loop). Target: every one promoted on a quiet machine and none
 *   rolled back beside the hogs (a step held past its interval is a fine answer under that load).
 *
 * Times run from t0, the receive time of the canary's first bad answer, to the first 100 ms poll
 * that sees the rollout RolledBack with the canary's weight at 0: from then on no new request
 * goes to it. The table also gives when its last answer arrived and when its replicas were gone.
 *
 * Reproduce: `npm run bench:canary:live` (about 35 min on 2 cores), or
 * `npm run bench:canary:live -- --scenarios errors,latency --bad-runs 3` (2 min). Options:
 * --scenarios, --hogs, --runs (20), --bad-runs (5). Writes bench/results/canary-live.json.
 * Exit code 0 whether or not the targets are met (it is a measurement); 1 on a harness error.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../slo/duration.ts';
import { MODEL, makeTensor } from './payload.ts';
import { freePort, get, percentile, ROOT, sleep, startServer, type RunningServer } from './proc.ts';

const MAX_IN_FLIGHT = 64;
const WARMUP_MS = 5000;
const ROLLBACK_TIMEOUT_MS = 60_000;
const POLL_MS = 100;
const TARGET_ROLLBACK_S = 5;
const TERMINAL = new Set(['Promoted', 'RolledBack', 'Aborted']);
const LIVE_REPLICA = new Set(['STARTING', 'RUNNING', 'DRAINING']);

interface FaultScenario {
  name: 'errors' | 'latency';
  rate: number;
  weight: number;
  fault: { error_rate: number; added_latency_ms: number };
  /** Whether an answer of the canary is a bad one. */
  bad: (s: Sample) => boolean;
}
const FAULTS: FaultScenario[] = [
  {
    name: 'errors',
    rate: 80,
    weight: 10,
    fault: { error_rate: 0.1, added_latency_ms: 0 },
    bad: (s) => s.fault.includes('error'),
  },
  {
    name: 'latency',
    rate: 60,
    weight: 25,
    fault: { error_rate: 0, added_latency_ms: 250 },
    bad: () => true,
  },
];
const HEALTHY = { rate: 60, steps: [50, 100], interval: '10s' };
const HOGS: Record<string, string[]> = {
  none: [],
  cpu: ['--cpu', '2'],
  'cpu-mem-io': ['--cpu', '1', '--vm', '1', '--vm-bytes', '1G', '--iomix', '1'],
  // Not stress-ng: a developer's machine mid-work. `npm ci` of this project into a scratch
  // directory over and over (unpacking ~500 MB: IO and CPU), beside a full type-check of it
  // (CPU and ~1 GB of memory), as an `npm install` beside a Next.js build would be.
  'install-build': [],
};

interface Options {
  scenarios: string[];
  hogs: string[];
  runs: number;
  badRuns: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      scenarios: { type: 'string', default: 'errors,latency,healthy' },
      hogs: { type: 'string', default: 'none,cpu,cpu-mem-io' },
      runs: { type: 'string', default: '20' },
      'bad-runs': { type: 'string', default: '5' },
    },
  });
  const int = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be an integer >= 0, got ${JSON.stringify(v)}`);
    return n;
  };
  const list = (name: string, v: string, known: string[]) => {
    const items = v.split(',').filter(Boolean);
    for (const x of items)
      if (!known.includes(x)) throw new Error(`--${name}: unknown ${JSON.stringify(x)} (known: ${known.join(', ')})`);
    return items;
  };
  return {
    scenarios: list('scenarios', values.scenarios, ['errors', 'latency', 'healthy']),
    hogs: list('hogs', values.hogs, Object.keys(HOGS)),
    runs: int('runs', values.runs),
    badRuns: int('bad-runs', values['bad-runs']),
  };
}

/** The JSON inference request of the scenario: one cls image as a plain number array. */
function jsonRequest(): { path: string; headers: Record<string, string>; body: Buffer } {
  const data = Array.from(makeTensor(), (x) => Math.round(x * 1e4) / 1e4);
  const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32', data }] });
  return {
    path: '/v2/models/cls/infer',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(body),
  };
}

const JSON_REQUEST = jsonRequest();

// ---------------------------------------------------------------------------------------------
// Open-loop load

interface Sample {
  /** performance.now() when the whole response had arrived. */
  t: number;
  /** Date.now() at the same moment, to compare with times vigil stores. */
  wall: number;
  status: number;
  version: string;
  fault: string;
}

/** Sends on a fixed timetable (every 1000/rate ms), never waiting for answers; records every response. */
class OpenLoopLoad {
  readonly samples: Sample[] = [];
  sent = 0;
  skipped = 0;
  transportErrors = 0;
  private inFlight = 0;
  private next = 0;
  private startedAt = 0;
  private stoppedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  private readonly req = JSON_REQUEST;
  private readonly periodMs: number;

  constructor(
    private readonly port: number,
    rate: number,
  ) {
    this.periodMs = 1000 / rate;
  }

  start(): void {
    this.startedAt = this.next = performance.now();
    this.tick();
  }

  /** Sends every send that is due (catching up after a late timer, as a timetable does). */
  private tick(): void {
    const now = performance.now();
    while (this.next <= now) {
      this.next += this.periodMs;
      if (this.inFlight >= MAX_IN_FLIGHT) this.skipped++;
      else this.send();
    }
    this.timer = setTimeout(() => this.tick(), Math.max(0, this.next - performance.now()));
  }

  private send(): void {
    this.sent++;
    this.inFlight++;
    let settled = false;
    const done = (s: Omit<Sample, 't' | 'wall'> | undefined) => {
      if (settled) return;
      settled = true;
      this.inFlight--;
      if (s) this.samples.push({ t: performance.now(), wall: Date.now(), ...s });
      else this.transportErrors++;
    };
    const r = request(
      {
        agent: this.agent,
        host: '127.0.0.1',
        port: this.port,
        method: 'POST',
        path: this.req.path,
        headers: { ...this.req.headers, 'content-length': this.req.body.length },
      },
      (res) => {
        const s = {
          status: res.statusCode ?? 0,
          version: String(res.headers['x-vigil-version'] ?? ''),
          fault: String(res.headers['x-vigil-fault'] ?? ''),
        };
        res.on('error', () => done(undefined));
        res.on('end', () => done(s));
        res.resume();
      },
    );
    r.setTimeout(30_000, () => r.destroy(new Error('timeout')));
    r.on('error', () => done(undefined));
    r.end(this.req.body);
  }

  /** Stops sending and waits (up to 10 s) for the answers still outstanding. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.stoppedAt = performance.now();
    const until = performance.now() + 10_000;
    while (this.inFlight > 0 && performance.now() < until) await sleep(20);
    this.agent.destroy();
  }

  get seconds(): number {
    return ((this.stoppedAt || performance.now()) - this.startedAt) / 1000;
  }

  /** Responses per version received in [from, to): total, non-2xx, and those marked by fault injection. */
  byVersion(
    from = 0,
    to = Infinity,
  ): Record<string, { responses: number; non2xx: number; injected: number; other: number }> {
    const out: Record<string, { responses: number; non2xx: number; injected: number; other: number }> = {};
    for (const s of this.samples) {
      if (s.t < from || s.t >= to) continue;
      const v = (out[s.version || '(none)'] ??= { responses: 0, non2xx: 0, injected: 0, other: 0 });
      v.responses++;
      if (s.status < 200 || s.status >= 300) {
        v.non2xx++;
        if (s.fault.includes('error')) v.injected++;
        else v.other++;
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Control API

interface RolloutRow {
  id: number;
  status: string;
  reason: string | null;
  canaryVersion: string;
  stableVersion: string;
  canaryWeight: number;
  updatedAt: string;
}

interface DeploymentView {
  split: { version: string; weight: number }[];
  versions: { version: string; state: 'active' | 'retired'; weight: number; replicas: { state: string }[] }[];
}

class ControlApi {
  constructor(private readonly port: number) {}

  /** One call; throws unless the status is the expected one. */
  async call<T>(method: string, path: string, body: unknown, expect: number): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status !== expect)
      throw new Error(`${method} ${path}: expected ${expect}, got ${res.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  deployment = () => this.call<DeploymentView>('GET', '/api/v1/deployments/cls', undefined, 200);
  rollout = () =>
    this.call<{ active: { decision: { kind: string; reason: string } | null } | null; latest: RolloutRow | null }>(
      'GET',
      '/api/v1/deployments/cls/rollout',
      undefined,
      200,
    );
  startRollout = (version: string, steps: number[], interval: string) =>
    this.call<RolloutRow>('POST', '/api/v1/deployments/cls/rollouts', { version, steps, interval }, 201);
  abort = () => this.call<RolloutRow>('POST', '/api/v1/deployments/cls/rollout/abort', undefined, 200);
  fault = (version: string, fault: { error_rate: number; added_latency_ms: number }) =>
    this.call<unknown>('PUT', `/api/v1/deployments/cls/versions/${version}/fault-injection`, fault, 200);
}

const liveReplicas = (d: DeploymentView, version: string) =>
  d.versions.find((v) => v.version === version)?.replicas.filter((r) => LIVE_REPLICA.has(r.state)).length ?? 0;
const weightOf = (d: DeploymentView, version: string) => d.split.find((e) => e.version === version)?.weight ?? 0;
/** The version with the most traffic; the other one is the next canary. */
function stableAndCanary(d: DeploymentView): { stable: string; canary: string } {
  const stable = [...d.split].sort((a, b) => b.weight - a.weight)[0]!.version;
  const canary = d.versions.find((v) => v.version !== stable)!.version;
  return { stable, canary };
}

/** Waits until no rollout is active, the stable version has a RUNNING replica and no retired version has a live replica. */
async function settle(api: ControlApi, server: RunningServer, timeoutMs = 90_000): Promise<DeploymentView> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    if (!server.alive) throw new Error(`vigil exited:\n${server.log()}`);
    const [d, r] = await Promise.all([api.deployment(), api.rollout()]);
    const { stable } = stableAndCanary(d);
    const stableRunning = d.versions.find((v) => v.version === stable)!.replicas.some((x) => x.state === 'RUNNING');
    const retiredLive = d.versions.some((v) => v.state === 'retired' && liveReplicas(d, v.version) > 0);
    if (r.active === null && stableRunning && !retiredLive) return d;
    if (performance.now() > until)
      throw new Error(
        `deployment did not settle in ${timeoutMs / 1000} s: ${JSON.stringify({ deployment: d, rollout: r })}`,
      );
    await sleep(250);
  }
}

// ---------------------------------------------------------------------------------------------
// Runs

interface FaultRun {
  scenario: string;
  run: number;
  canary: string;
  status: string;
  reason: string | null;
  /** Seconds after t0 (the canary's first bad answer); null where it never happened. */
  rollbackSeconds: number | null;
  /** When vigil stored the rollback (the row's updatedAt), seconds after t0. */
  decidedSeconds: number | null;
  lastCanaryAnswerSeconds: number | null;
  replicasGoneSeconds: number | null;
  /** Seconds from the rollout's start to t0 (the canary replica's start plus the first bad answer). */
  t0AfterStartSeconds: number | null;
  canaryAnswers: number;
  canaryBad: number;
}

async function faultRun(
  sc: FaultScenario,
  run: number,
  api: ControlApi,
  load: OpenLoopLoad,
  server: RunningServer,
): Promise<FaultRun> {
  const { canary } = stableAndCanary(await settle(api, server));
  await api.fault(canary, sc.fault);
  const tStart = performance.now();
  const row = await api.startRollout(canary, [sc.weight], '30s');
  let t0: number | undefined;
  let t0Wall = 0;
  let scanned = 0;
  let tBack: number | undefined;
  let tGone: number | undefined;
  let latest: RolloutRow | null = row;
  const findT0 = () => {
    for (; t0 === undefined && scanned < load.samples.length; scanned++) {
      const s = load.samples[scanned]!;
      if (s.t >= tStart && s.version === canary && sc.bad(s)) {
        t0 = s.t;
        t0Wall = s.wall;
      }
    }
  };
  try {
    while (performance.now() - tStart < ROLLBACK_TIMEOUT_MS) {
      if (!server.alive) throw new Error(`vigil exited:\n${server.log()}`);
      const [r, d] = await Promise.all([api.rollout(), api.deployment()]);
      const now = performance.now();
      findT0();
      latest = r.latest;
      const rolledBack = latest?.id === row.id && latest.status === 'RolledBack';
      if (rolledBack && weightOf(d, canary) === 0) tBack ??= now;
      if (rolledBack && liveReplicas(d, canary) === 0) {
        tGone = now;
        break;
      }
      if (latest?.id === row.id && TERMINAL.has(latest.status) && !rolledBack) break;
      await sleep(POLL_MS);
    }
  } finally {
    await api.fault(canary, { error_rate: 0, added_latency_ms: 0 });
  }
  if (latest?.id === row.id && !TERMINAL.has(latest.status)) await api.abort();
  await sleep(1000); // answers still in flight at the rollback
  findT0();
  const canaryAnswers = load.samples.filter((s) => s.t >= tStart && s.version === canary);
  const since = (t: number | undefined) => (t === undefined || t0 === undefined ? null : (t - t0) / 1000);
  return {
    scenario: sc.name,
    run,
    canary,
    status: latest?.id === row.id ? latest.status : 'unknown',
    reason: latest?.id === row.id ? latest.reason : null,
    rollbackSeconds: since(tBack),
    decidedSeconds:
      t0 === undefined || latest?.id !== row.id || latest.status !== 'RolledBack'
        ? null
        : (Date.parse(latest.updatedAt) - t0Wall) / 1000,
    lastCanaryAnswerSeconds: since(canaryAnswers.at(-1)?.t),
    replicasGoneSeconds: since(tGone),
    t0AfterStartSeconds: t0 === undefined ? null : (t0 - tStart) / 1000,
    canaryAnswers: canaryAnswers.length,
    canaryBad: canaryAnswers.filter(sc.bad).length,
  };
}

interface HealthyRun {
  hog: string;
  run: number;
  canary: string;
  status: string;
  reason: string | null;
  seconds: number;
  canaryAnswers: number;
  canaryNon2xx: number;
  stableNon2xx: number;
}

async function healthyRun(
  hog: string,
  run: number,
  api: ControlApi,
  load: OpenLoopLoad,
  server: RunningServer,
): Promise<HealthyRun> {
  const { stable, canary } = stableAndCanary(await settle(api, server));
  const tStart = performance.now();
  const row = await api.startRollout(canary, HEALTHY.steps, HEALTHY.interval);
  // Two steps of the interval, and as long again for steps held under load.
  const limitS = 2 * HEALTHY.steps.length * parseDuration(HEALTHY.interval) + 30;
  let status = 'Timeout';
  let reason: string | null = `no terminal status within ${limitS} s`;
  while (performance.now() < tStart + limitS * 1000) {
    if (!server.alive) throw new Error(`vigil exited:\n${server.log()}`);
    const { active, latest } = await api.rollout();
    if (active?.decision)
      reason = `held past ${limitS} s; last decision: ${active.decision.kind}: ${active.decision.reason}`;
    if (latest?.id === row.id && TERMINAL.has(latest.status)) {
      status = latest.status;
      reason = latest.reason;
      break;
    }
    await sleep(250);
  }
  const tEnd = performance.now();
  if (status === 'Timeout') await api.abort();
  const counts = load.byVersion(tStart, tEnd);
  return {
    hog,
    run,
    canary,
    status,
    reason,
    seconds: (tEnd - tStart) / 1000,
    canaryAnswers: counts[canary]?.responses ?? 0,
    canaryNon2xx: counts[canary]?.non2xx ?? 0,
    stableNon2xx: counts[stable]?.non2xx ?? 0,
  };
}

/** A stress-ng hog in its own temp dir (--iomix writes files there), or nothing for `none`. */
function startHog(name: string): ChildProcess | undefined {
  const args = HOGS[name]!;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-hog-'));
  if (name === 'install-build') {
    const script =
      `cp ${ROOT}/package.json ${ROOT}/package-lock.json ${ROOT}/.npmrc ${dir}/ && ` +
      `(while :; do (cd ${dir} && rm -rf node_modules && npm ci --ignore-scripts --no-audit --prefer-offline ` +
      `>/dev/null 2>&1); done) & (while :; do (cd ${ROOT} && npx tsc --noEmit -p . >/dev/null 2>&1); done) & wait`;
    // Its own process group, so that stopping it stops both loops and what they run.
    return spawn('bash', ['-c', script], { stdio: 'ignore', detached: true });
  }
  if (args.length === 0) return undefined;
  return spawn('stress-ng', [...args, '--temp-path', dir, '--quiet'], { stdio: 'ignore' });
}

async function stopHog(hog: ChildProcess | undefined): Promise<void> {
  if (!hog || hog.exitCode !== null) return;
  const exited = new Promise((r) => hog.once('exit', r));
  const signal = (sig: NodeJS.Signals) => {
    try {
      // The install-build hog leads a group of its own; stress-ng stops its workers itself.
      if (hog.spawnargs[0] === 'bash') process.kill(-hog.pid!, sig);
      else hog.kill(sig);
    } catch {
      /* already gone */
    }
  };
  const group = hog.spawnargs[0] === 'bash';
  // A shell's background loops ignore SIGINT; SIGTERM reaches them, and SIGKILL leaves nothing.
  signal(group ? 'SIGTERM' : 'SIGINT');
  await Promise.race([exited, sleep(5000)]);
  if (group || hog.exitCode === null) signal('SIGKILL');
}

// ---------------------------------------------------------------------------------------------

function writeConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-canary-'));
  const file = join(dir, 'vigil.yaml');
  writeFileSync(
    file,
    [
      'deployments:',
      '  - name: cls',
      '    execution_provider: cpu',
      '    warmup: { requests: 1, shapes: { x: [1, 3, 48, 192] } }',
      '    versions:',
      `      - { version: v1, model: ${MODEL} }`,
      `      - { version: v2, model: ${MODEL}, weight: 0 }`,
      '',
    ].join('\n'),
  );
  return file;
}

const fmt = (x: number | null, digits = 1) => (x === null ? '-' : x.toFixed(digits));

async function main(): Promise<void> {
  const opt = options();
  if (opt.scenarios.includes('healthy') && opt.hogs.some((h) => h === 'cpu' || h === 'cpu-mem-io')) {
    if (spawnSync('stress-ng', ['--version']).status !== 0)
      throw new Error('stress-ng is not installed (apt-get install stress-ng), and --hogs asks for it');
  }
  const port = await freePort();
  const server = startServer({
    name: 'vigil',
    args: [join(ROOT, 'bin/vigil.mjs'), 'start', '-c', writeConfig(), '--port', String(port), '--host', '127.0.0.1'],
    port,
    env: { VIGIL_DATA_DIR: mkdtempSync(join(tmpdir(), 'vigil-canary-data-')) },
    ready: async (p) => (await get(p, '/v2/health/ready')).status === 200,
  });
  const faults: FaultRun[] = [];
  const healthy: HealthyRun[] = [];
  const loads: Record<string, { sent: number; seconds: number; skipped: number; transportErrors: number }> = {};
  const withLoad = async (name: string, rate: number, body: (load: OpenLoopLoad) => Promise<void>) => {
    const load = new OpenLoopLoad(port, rate);
    load.start();
    try {
      await sleep(WARMUP_MS);
      await body(load);
    } finally {
      await load.stop();
      const { sent, seconds, skipped, transportErrors } = load;
      loads[name] = { sent, seconds, skipped, transportErrors };
    }
  };
  try {
    await server.waitReady();
    const api = new ControlApi(port);
    await settle(api, server);
    console.error(`[canary] vigil ready on port ${port}`);
    for (const sc of FAULTS.filter((f) => opt.scenarios.includes(f.name))) {
      await withLoad(sc.name, sc.rate, async (load) => {
        for (let i = 1; i <= opt.badRuns; i++) {
          const r = await faultRun(sc, i, api, load, server);
          faults.push(r);
          console.error(
            `[canary] ${sc.name} ${i}/${opt.badRuns}: ${r.status} ${fmt(r.rollbackSeconds)} s ` +
              `after the first bad answer (${r.reason ?? ''})`,
          );
        }
      });
    }
    if (opt.scenarios.includes('healthy')) {
      for (const hogName of opt.hogs) {
        const hog = startHog(hogName);
        try {
          await withLoad(`healthy/${hogName}`, HEALTHY.rate, async (load) => {
            for (let i = 1; i <= opt.runs; i++) {
              const r = await healthyRun(hogName, i, api, load, server);
              healthy.push(r);
              const why = r.status === 'Promoted' ? '' : ` (${r.reason ?? ''})`;
              console.error(
                `[canary] healthy/${hogName} ${i}/${opt.runs}: ${r.status} after ${r.seconds.toFixed(1)} s${why}`,
              );
            }
          });
        } finally {
          await stopHog(hog);
        }
      }
    }
    await settle(api, server);
  } finally {
    const stopped = await server.stop();
    if (!stopped.graceful)
      console.error(`[canary] vigil did not stop cleanly (exit ${stopped.code}, ${stopped.ms.toFixed(0)} ms)`);
  }

  const out = (s = '') => console.log(s);
  out(
    `# vigil canary scenarios: ${new Date().toISOString()}; ${cpus()[0]?.model}, ` +
      `${cpus().length} cores; node ${process.version}`,
  );
  out('# default analysis settings; JSON inference, open loop');
  out();
  const summary: Record<string, unknown> = {};
  for (const sc of FAULTS.filter((f) => opt.scenarios.includes(f.name))) {
    const runs = faults.filter((r) => r.scenario === sc.name);
    out(`## ${sc.name}: ${JSON.stringify(sc.fault)} at ${sc.weight}%, ${sc.rate} req/s`);
    out(
      'run  status      decided_s  rollback_s  last_answer_s  replicas_gone_s  t0_after_start_s  canary_answers  bad',
    );
    for (const r of runs) {
      out(
        `${String(r.run).padEnd(4)} ${r.status.padEnd(11)} ${fmt(r.decidedSeconds).padStart(9)}  ` +
          `${fmt(r.rollbackSeconds).padStart(10)}  ` +
          `${fmt(r.lastCanaryAnswerSeconds).padStart(13)}  ${fmt(r.replicasGoneSeconds).padStart(15)}  ` +
          `${fmt(r.t0AfterStartSeconds).padStart(16)}  ${String(r.canaryAnswers).padStart(14)}  ${r.canaryBad}`,
      );
      if (r.reason) out(`     reason: ${r.reason}`);
    }
    const times = runs.map((r) => r.rollbackSeconds ?? Infinity).sort((a, b) => a - b);
    const worst = times.at(-1) ?? null;
    const median = times.length ? percentile(times, 50) : null;
    const met = worst !== null && worst <= TARGET_ROLLBACK_S;
    out(
      `${sc.name}: rolled back ${runs.filter((r) => r.status === 'RolledBack').length}/${runs.length}; ` +
        `median ${fmt(median)} s, worst ${fmt(worst)} s after the first bad answer ` +
        `(target <= ${TARGET_ROLLBACK_S} s: ${met ? 'met' : 'missed'})`,
    );
    out();
    summary[sc.name] = { medianSeconds: median, worstSeconds: worst, met };
  }
  for (const hog of opt.scenarios.includes('healthy') ? opt.hogs : []) {
    const runs = healthy.filter((r) => r.hog === hog);
    const count = (s: string) => runs.filter((r) => r.status === s).length;
    out(`## healthy beside ${hog}: steps ${HEALTHY.steps.join(',')} every ${HEALTHY.interval}, ${HEALTHY.rate} req/s`);
    for (const r of runs.filter((x) => x.status !== 'Promoted'))
      out(
        `run ${r.run}: ${r.status === 'RolledBack' ? 'FALSE ROLLBACK' : r.status} ` +
          `after ${r.seconds.toFixed(1)} s: ${r.reason ?? ''}`,
      );
    const seconds = runs.map((r) => r.seconds).sort((a, b) => a - b);
    out(
      `healthy/${hog}: ${count('Promoted')} promoted, ${count('RolledBack')} rolled back, ` +
        `${runs.length - count('Promoted') - count('RolledBack')} held past the limit, of ${runs.length}; ` +
        `median ${fmt(seconds.length ? percentile(seconds, 50) : null)} s per rollout`,
    );
    out();
    summary[`healthy/${hog}`] = { promoted: count('Promoted'), rolledBack: count('RolledBack'), runs: runs.length };
  }
  for (const [name, l] of Object.entries(loads))
    out(
      `load ${name}: ${l.sent} sent in ${l.seconds.toFixed(0)} s (${(l.sent / l.seconds).toFixed(1)} req/s), ` +
        `${l.skipped} skipped at ${MAX_IN_FLIGHT} in flight, ${l.transportErrors} transport errors`,
    );
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const json = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
    options: opt,
    summary,
    loads,
    faults,
    healthy,
  };
  writeFileSync(join(ROOT, 'bench/results/canary-live.json'), `${JSON.stringify(json, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
