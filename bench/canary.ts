/**
 * `npm run bench:canary`: how fast vigil rolls back a bad canary, and whether it ever rolls back
 * a healthy one, under a steady load. The targets (from the rollouts issue):
 *
 *  - a canary at 10% weight that fails 20% of its requests, under 100 req/s, is fully rolled back
 *    in 15 s or less after its first bad request, with the default analysis settings;
 *  - in 20 runs of a healthy canary (no injected faults) under the same load, no false rollback.
 *
 * Setup: one vigil on a free loopback port with a temp vigil.yaml and a fresh VIGIL_DATA_DIR.
 * Deployment `cls` has two versions of the same model file, v1 (weight 100) and v2 (weight 0),
 * 1 replica each, and no `rollouts:` section: the analysis runs with its defaults, and no rollout
 * overrides them. For the whole scenario an open-loop client in this process sends the OIP binary
 * request of bench/payload.ts on a fixed timetable (--rate, 100 req/s: one send every 10 ms,
 * never waiting for answers). At most 64 requests are in flight; a send due while 64 are
 * outstanding is skipped and counted, so a slow server shows up as skipped sends rather than as a
 * lower rate that would hide it. Every response is recorded: receive time, status,
 * x-vigil-version and x-vigil-fault.
 *
 * Bad canary (--bad-runs, default 3): fault injection `error_rate: 0.2` on the non-stable version,
 * then a rollout of it with `steps: [10], interval: '30s'`. t0 is the receive time of the first
 * response from the canary whose x-vigil-fault says `error`. The rollout is *fully rolled back*
 * once, in one poll (every 100 ms), the latest rollout is `RolledBack`, the canary's weight in the
 * split is 0 and none of its replicas is STARTING, RUNNING or DRAINING. rollback_seconds is that
 * moment minus t0; the final line gives the worst run (the JSON also has the median), and `inf`
 * if a bad canary was not rolled back within 120 s.
 *
 * Healthy canary (--runs, default 20): each run is ONE rollout of the currently non-stable version
 * (v2, then v1 once v2 is promoted, and so on) with `steps: [10]` held for --interval (default
 * 15s), no faults, judged by the default thresholds. It ends Promoted (right), RolledBack (a false
 * rollback; its reason is printed) or Aborted/timeout (interval + 60 s; reported, not counted as a
 * false rollback). Why one 10% step and not the default 5,25,50,100 x 30 s: a false rollback is
 * the analysis misjudging a canary, and it judges every tick of every step alike, so 20 runs of
 * one step held for the interval cover the same decisions in minutes rather than 40 min; 10% is
 * the weight of the bad-canary target, where the canary has the fewest requests behind each verdict
 * that still gets past min_requests (low-traffic noise is the usual cause of false rollbacks).
 * Between runs the scenario waits until the retired version's replicas are gone.
 *
 * The canary needs enough requests: the default latency check wants 100 canary requests in the
 * analysis window (the step so far, up to the interval or two minutes), so at 10% of 100 req/s a
 * healthy step passes after about 10 s whatever the interval; 15 s leaves a margin.
 *
 * Reproduce: `npm run bench:canary` (about 10 min on 2 cores), or quicker:
 * `node --import tsx bench/canary.ts --runs 2 --bad-runs 1` (about 1 min). Options: --runs,
 * --bad-runs, --interval, --rate. Writes bench/results/canary.json and ends with exactly
 * `rollback_seconds=<x>` and `false_rollbacks=<n>/<runs>`. Exit code 0 whether or not the targets
 * are met (it is a measurement); 1 on a harness error. Do not run it beside other heavy work.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { rolloutAnalysisSchema } from '../serving/config/schema.ts';
import { parseDuration } from '../slo/duration.ts';
import { MODEL, oipRequest } from './payload.ts';
import { freePort, get, percentile, ROOT, sleep, startServer, type RunningServer } from './proc.ts';

const CANARY_WEIGHT = 10;
const BAD_ERROR_RATE = 0.2;
const BAD_INTERVAL = '30s';
const MAX_IN_FLIGHT = 64;
const WARMUP_MS = 5000;
const ROLLBACK_TIMEOUT_MS = 120_000;
const POLL_MS = 100;
const TARGET_ROLLBACK_S = 15;
const TERMINAL = new Set(['Promoted', 'RolledBack', 'Aborted']);
const LIVE_REPLICA = new Set(['STARTING', 'RUNNING', 'DRAINING']);
/** vigil's default analysis settings, which this scenario never overrides. */
const ANALYSIS_DEFAULTS = rolloutAnalysisSchema.parse({});

interface Options {
  runs: number;
  badRuns: number;
  interval: string;
  rate: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '20' },
      'bad-runs': { type: 'string', default: '3' },
      interval: { type: 'string', default: '15s' },
      rate: { type: 'string', default: '100' },
    },
  });
  const int = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  if (!/^\d+(s|m|h)$/.test(values.interval))
    throw new Error(`--interval must be a duration like 15s or 1m, got ${JSON.stringify(values.interval)}`);
  return {
    runs: int('runs', values.runs, 0),
    badRuns: int('bad-runs', values['bad-runs'], 0),
    interval: values.interval,
    rate: int('rate', values.rate, 1),
  };
}

// ---------------------------------------------------------------------------------------------
// Open-loop load

interface Sample {
  /** performance.now() when the whole response had arrived. */
  t: number;
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
  private readonly req = oipRequest();
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
    const done = (s: Omit<Sample, 't'> | undefined) => {
      if (settled) return;
      settled = true;
      this.inFlight--;
      if (s) this.samples.push({ t: performance.now(), ...s });
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
  startRollout = (version: string, interval: string) =>
    this.call<RolloutRow>(
      'POST',
      '/api/v1/deployments/cls/rollouts',
      { version, steps: [CANARY_WEIGHT], interval },
      201,
    );
  abort = () => this.call<RolloutRow>('POST', '/api/v1/deployments/cls/rollout/abort', undefined, 200);
  fault = (version: string, errorRate: number) =>
    this.call<unknown>(
      'PUT',
      `/api/v1/deployments/cls/versions/${version}/fault-injection`,
      { error_rate: errorRate, added_latency_ms: 0 },
      200,
    );
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

interface BadRun {
  run: number;
  canary: string;
  rolloutId: number;
  status: string;
  reason: string | null;
  /** Seconds after t0 (the first injected error seen by the client); null where it never happened. */
  rollbackSeconds: number | null;
  decidedSeconds: number | null;
  lastCanaryResponseSeconds: number | null;
  replicasGoneSeconds: number | null;
  /** Seconds from the rollout's start to t0 (canary replica start plus the first bad request). */
  firstBadAfterStartSeconds: number | null;
  canary_responses: number;
  canary_injected_errors: number;
}

async function badRun(run: number, api: ControlApi, load: OpenLoopLoad, server: RunningServer): Promise<BadRun> {
  const { canary } = stableAndCanary(await settle(api, server));
  await api.fault(canary, BAD_ERROR_RATE);
  const tStart = performance.now();
  const row = await api.startRollout(canary, BAD_INTERVAL);
  let t0: number | undefined;
  let scanned = 0;
  let tDecided: number | undefined;
  let tGone: number | undefined;
  let tDone: number | undefined;
  let latest: RolloutRow | null = row;
  const findT0 = () => {
    for (; t0 === undefined && scanned < load.samples.length; scanned++) {
      const s = load.samples[scanned]!;
      if (s.t >= tStart && s.version === canary && s.fault.includes('error')) t0 = s.t;
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
      if (rolledBack) tDecided ??= now;
      if (rolledBack && liveReplicas(d, canary) === 0) tGone ??= now;
      if (rolledBack && weightOf(d, canary) === 0 && liveReplicas(d, canary) === 0) {
        tDone = now;
        break;
      }
      // Promoted or Aborted: it will never roll back.
      if (latest?.id === row.id && TERMINAL.has(latest.status) && !rolledBack) break;
      await sleep(POLL_MS);
    }
  } finally {
    await api.fault(canary, 0);
  }
  if (tDone === undefined && latest?.id === row.id && !TERMINAL.has(latest.status)) await api.abort();
  await sleep(1000); // answers still in flight at the rollback
  findT0();
  const lastCanary = load.samples.filter((s) => s.t >= tStart && s.version === canary).at(-1)?.t;
  const since = (t: number | undefined) => (t === undefined || t0 === undefined ? null : (t - t0) / 1000);
  const counts = load.byVersion(tStart)[canary] ?? { responses: 0, injected: 0 };
  return {
    run,
    canary,
    rolloutId: row.id,
    status: latest?.id === row.id ? latest.status : 'unknown',
    reason: latest?.id === row.id ? latest.reason : null,
    rollbackSeconds: since(tDone),
    decidedSeconds: since(tDecided),
    lastCanaryResponseSeconds: since(lastCanary),
    replicasGoneSeconds: since(tGone),
    firstBadAfterStartSeconds: t0 === undefined ? null : (t0 - tStart) / 1000,
    canary_responses: counts.responses,
    canary_injected_errors: counts.injected,
  };
}

interface HealthyRun {
  run: number;
  canary: string;
  rolloutId: number;
  status: string;
  reason: string | null;
  seconds: number;
  canary_responses: number;
  canary_non2xx: number;
  stable_non2xx: number;
}

async function healthyRun(
  run: number,
  api: ControlApi,
  load: OpenLoopLoad,
  server: RunningServer,
  interval: string,
): Promise<HealthyRun> {
  const { stable, canary } = stableAndCanary(await settle(api, server));
  const tStart = performance.now();
  const row = await api.startRollout(canary, interval);
  const until = tStart + (parseDuration(interval) + 60) * 1000;
  let status = 'Timeout';
  let reason: string | null = `no terminal status within ${interval} + 60 s`;
  while (performance.now() < until) {
    if (!server.alive) throw new Error(`vigil exited:\n${server.log()}`);
    const { active, latest } = await api.rollout();
    // Where it times out, the controller's last decision says what it was waiting for.
    if (active?.decision)
      reason = `no terminal status within ${interval} + 60 s; last decision: ${active.decision.kind}: ${active.decision.reason}`;
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
    run,
    canary,
    rolloutId: row.id,
    status,
    reason,
    seconds: (tEnd - tStart) / 1000,
    canary_responses: counts[canary]?.responses ?? 0,
    canary_non2xx: counts[canary]?.non2xx ?? 0,
    stable_non2xx: counts[stable]?.non2xx ?? 0,
  };
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
  const port = await freePort();
  const server = startServer({
    name: 'vigil',
    args: [join(ROOT, 'bin/vigil.mjs'), 'start', '-c', writeConfig(), '--port', String(port), '--host', '127.0.0.1'],
    port,
    env: { VIGIL_DATA_DIR: mkdtempSync(join(tmpdir(), 'vigil-canary-data-')) },
    ready: async (p) => (await get(p, '/v2/health/ready')).status === 200,
  });
  const load = new OpenLoopLoad(port, opt.rate);
  const bad: BadRun[] = [];
  const healthy: HealthyRun[] = [];
  try {
    await server.waitReady();
    const api = new ControlApi(port);
    await settle(api, server);
    console.error(`[canary] vigil ready on port ${port}; ${opt.rate} req/s open loop, ${WARMUP_MS / 1000} s warm-up`);
    // The analysis's long window is the step so far, up to the interval or two minutes: at a low
    // canary rate even that may not hold enough requests for a verdict, and the step holds.
    const perWindow = (opt.rate * CANARY_WEIGHT * Math.max(parseDuration(opt.interval), 120)) / 100;
    const needed = Math.max(ANALYSIS_DEFAULTS.min_requests, ANALYSIS_DEFAULTS.latency_min_requests);
    if (opt.runs > 0 && perWindow < needed * 1.2) {
      console.error(
        `[canary] warning: --interval ${opt.interval} gives a ${CANARY_WEIGHT}% canary about ${perWindow.toFixed(0)} requests per analysis window; the default analysis needs ${needed} (min_requests ${ANALYSIS_DEFAULTS.min_requests}, latency_min_requests ${ANALYSIS_DEFAULTS.latency_min_requests}), so healthy runs may hold until they time out`,
      );
    }
    load.start();
    await sleep(WARMUP_MS);
    for (let i = 1; i <= opt.badRuns; i++) {
      const r = await badRun(i, api, load, server);
      bad.push(r);
      console.error(
        `[canary] bad run ${i}/${opt.badRuns}: ${r.canary} ${r.status} rollback ${fmt(r.rollbackSeconds)} s after the first bad response (${r.reason ?? ''})`,
      );
    }
    for (let i = 1; i <= opt.runs; i++) {
      const r = await healthyRun(i, api, load, server, opt.interval);
      healthy.push(r);
      console.error(
        `[canary] healthy run ${i}/${opt.runs}: ${r.canary} ${r.status} after ${r.seconds.toFixed(1)} s${r.status === 'Promoted' ? '' : ` (${r.reason ?? ''})`}`,
      );
    }
    await settle(api, server);
  } finally {
    await load.stop();
    const stopped = await server.stop();
    if (!stopped.graceful)
      console.error(`[canary] vigil did not stop cleanly (exit ${stopped.code}, ${stopped.ms.toFixed(0)} ms)`);
  }

  const out = (s = '') => console.log(s);
  out(
    `# vigil canary scenario: ${new Date().toISOString()}; ${cpus()[0]?.model}, ${cpus().length} cores; node ${process.version}`,
  );
  out(
    `# ${opt.rate} req/s open loop; canary weight ${CANARY_WEIGHT}%; default analysis settings; bad canary: error_rate ${BAD_ERROR_RATE}, interval ${BAD_INTERVAL}; healthy: interval ${opt.interval}`,
  );
  out();
  out(
    'run      canary  status      rollback_s  decided_s  traffic_stop_s  replicas_gone_s  t0_after_start_s  canary_resp  canary_err',
  );
  for (const r of bad) {
    out(
      `bad ${String(r.run).padEnd(4)} ${r.canary.padEnd(7)} ${r.status.padEnd(11)} ${fmt(r.rollbackSeconds).padStart(10)}  ${fmt(r.decidedSeconds).padStart(9)}  ${fmt(r.lastCanaryResponseSeconds).padStart(14)}  ${fmt(r.replicasGoneSeconds).padStart(15)}  ${fmt(r.firstBadAfterStartSeconds).padStart(16)}  ${String(r.canary_responses).padStart(11)}  ${String(r.canary_injected_errors).padStart(10)}`,
    );
    if (r.reason) out(`         reason: ${r.reason}`);
  }
  out();
  out('run      canary  status      seconds  canary_resp  canary_non2xx  stable_non2xx');
  for (const r of healthy) {
    out(
      `ok  ${String(r.run).padEnd(4)} ${r.canary.padEnd(7)} ${r.status.padEnd(11)} ${r.seconds.toFixed(1).padStart(7)}  ${String(r.canary_responses).padStart(11)}  ${String(r.canary_non2xx).padStart(13)}  ${String(r.stable_non2xx).padStart(13)}`,
    );
    if (r.status !== 'Promoted')
      out(`         ${r.status === 'RolledBack' ? 'FALSE ROLLBACK' : r.status}: ${r.reason ?? ''}`);
  }
  out();

  const perVersion = load.byVersion();
  const achieved = load.sent / load.seconds;
  out(
    `load: ${load.sent} sent in ${load.seconds.toFixed(1)} s = ${achieved.toFixed(1)} req/s (target ${opt.rate}); ${load.skipped} skipped sends (${MAX_IN_FLIGHT} in flight); ${load.transportErrors} transport errors`,
  );
  for (const [v, c] of Object.entries(perVersion).sort())
    out(`  ${v}: ${c.responses} responses, ${c.non2xx} non-2xx (${c.injected} injected, ${c.other} other)`);

  const rollbacks = bad.map((r) => r.rollbackSeconds);
  const measured = rollbacks.filter((x): x is number => x !== null).sort((a, b) => a - b);
  const worst = bad.length === 0 ? null : measured.length < bad.length ? Infinity : measured.at(-1)!;
  const median = measured.length ? percentile(measured, 50) : null;
  const falseRollbacks = healthy.filter((r) => r.status === 'RolledBack').length;
  const unfinished = healthy.filter((r) => r.status !== 'Promoted' && r.status !== 'RolledBack').length;
  out(
    `rollback: worst ${worst === null ? '-' : worst.toFixed(1)} s, median ${fmt(median)} s over ${bad.length} run(s) (target <= ${TARGET_ROLLBACK_S} s: ${worst !== null && worst <= TARGET_ROLLBACK_S ? 'met' : 'missed'})`,
  );
  out(
    `healthy: ${healthy.length - falseRollbacks - unfinished} promoted, ${falseRollbacks} rolled back, ${unfinished} aborted or timed out (target: no false rollback: ${falseRollbacks === 0 ? 'met' : 'missed'})`,
  );

  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const json = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
    options: opt,
    settings: {
      canaryWeight: CANARY_WEIGHT,
      badErrorRate: BAD_ERROR_RATE,
      badInterval: BAD_INTERVAL,
      maxInFlight: MAX_IN_FLIGHT,
      warmupMs: WARMUP_MS,
      pollMs: POLL_MS,
      analysis: 'defaults',
    },
    load: {
      sent: load.sent,
      seconds: load.seconds,
      achievedRps: achieved,
      skipped: load.skipped,
      transportErrors: load.transportErrors,
      perVersion,
    },
    bad,
    healthy,
    rollbackSeconds: { worst: worst === Infinity ? 'inf' : worst, median },
    falseRollbacks,
    unfinishedHealthyRuns: unfinished,
    targets: { rollbackSeconds: TARGET_ROLLBACK_S, falseRollbacks: 0 },
  };
  writeFileSync(join(ROOT, 'bench/results/canary.json'), `${JSON.stringify(json, null, 2)}\n`);
  out();
  out(`rollback_seconds=${worst === null ? 'none' : worst === Infinity ? 'inf' : worst.toFixed(1)}`);
  out(`false_rollbacks=${falseRollbacks}/${healthy.length}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
