/**
 * `npm run bench`: vigil against the limit (bare ONNX Runtime) and against the server a user
 * writes by hand (bench/naive-server.ts), same model, same input, same cores, in one run.
 *
 *   npm run bench                      full run, about 7 minutes (2 interleaved rounds)
 *   BENCH_QUICK=1 npm run bench        smoke run, under 90 s (1 round, short phases)
 *
 * Order: IPC transport (bench/transport.ts); bare ONNX Runtime at batch 8 and paced at the low
 * rate; then per round: bare ONNX Runtime (1 process, 2 processes at once) and each server alone:
 * naive, vigil without batching, vigil with batching (wait 2 ms, wait 0 ms). Each server is
 * started, waited for (listening line, then readiness with every worker/replica up), loaded three
 * ways by bench/load.ts in its own process, and stopped with SIGTERM before the next one starts:
 *   - saturation: autocannon, BENCH_CONNECTIONS (64) connections, BENCH_SECONDS (10) after
 *                 BENCH_WARMUP_SECONDS (3);
 *   - moderate:   open loop at BENCH_RATE (200) req/s over BENCH_RATE_CONNECTIONS (4) connections;
 *   - low:        open loop at BENCH_LOW_RATE (50) req/s over 1 connection;
 *   each latency phase BENCH_LATENCY_SECONDS (10) after BENCH_LATENCY_WARMUP_SECONDS (2).
 * Around each measured window the server's CPU time (its whole process group, from /proc), the
 * machine's CPU use (/proc/stat) and, for vigil, its own /metrics are sampled, so the report also
 * gives CPU milliseconds per request (which the machine's noise moves much less than requests per
 * second) and flags windows disturbed by other processes.
 *
 * Other settings (environment): BENCH_BARE_SECONDS, BENCH_TRANSPORT_ROUNDS, BENCH_ROUNDS (repeat
 * the limit and the servers, interleaved; default 2 in a full run and 1 in a quick one; the best
 * round is reported), BENCH_DISTURBED_PCT and BENCH_RETRIES (a server whose saturation window saw
 * other processes use more than 25 % of a core is measured again, once, in a full run),
 * BENCH_ONLY (comma list of: transport, bare, naive, vigil-nobatch, vigil-batch-w2,
 * vigil-batch-w0, vigil-nobatch-hop (ingress.direct: false), ceiling; the ceiling is bench/ceiling.ts, run last), BENCH_LATENCY_CLIENT=autocannon (autocannon's overallRate for the latency
 * phases instead of the paced client; see bench/load.ts for why it is not the default),
 * BENCH_OUT (default bench/results/latest.md; a .json with every figure is written next to it).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { LoadResult, LoadSpec } from './load.ts';
import { MODEL } from './payload.ts';
import {
  freePort,
  get,
  machineTicks,
  ROOT,
  runScript,
  startServer,
  TSX,
  type RunningServer,
  type ServerSpec,
} from './proc.ts';
import type { TransportRow } from './transport.ts';
import { type CeilingRow, measureCeiling, renderCeiling } from './ceiling.ts';

// ---------------------------------------------------------------- settings

const env = process.env;
const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
const num = (name: string, full: number, q: number): number => {
  const v = env[name];
  if (v === undefined || v === '') return quick ? q : full;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`${name}: expected a non-negative number, got ${JSON.stringify(v)}`);
  return n;
};
const S = {
  seconds: num('BENCH_SECONDS', 10, 3),
  warmupSeconds: num('BENCH_WARMUP_SECONDS', 3, 1),
  connections: num('BENCH_CONNECTIONS', 64, 64),
  latencySeconds: num('BENCH_LATENCY_SECONDS', 10, 2.5),
  latencyWarmupSeconds: num('BENCH_LATENCY_WARMUP_SECONDS', 2, 0.5),
  rate: num('BENCH_RATE', 200, 200),
  rateConnections: num('BENCH_RATE_CONNECTIONS', 4, 4),
  lowRate: num('BENCH_LOW_RATE', 50, 50),
  bareSeconds: num('BENCH_BARE_SECONDS', 10, 3),
  transportRounds: num('BENCH_TRANSPORT_ROUNDS', 500, 150),
  rounds: Math.max(1, Math.round(num('BENCH_ROUNDS', 2, 1))),
  /** A saturation window where other processes used more than this (% of one core) counts as disturbed. */
  disturbedPct: num('BENCH_DISTURBED_PCT', 25, 25),
  /** Extra attempts for a server whose saturation window was disturbed. */
  retries: Math.round(num('BENCH_RETRIES', 1, 0)),
};
const latencyClient: LoadSpec['mode'] = env.BENCH_LATENCY_CLIENT === 'autocannon' ? 'autocannon-rate' : 'paced';
const only = env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((s) => s.trim())) : undefined;
const wants = (name: string) => !only || only.has(name);
const outFile = resolve(ROOT, env.BENCH_OUT ?? 'bench/results/latest.md');

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---------------------------------------------------------------- servers

interface ServerDef {
  key: string;
  label: string;
  payload: LoadSpec['payload'];
  make(port: number): ServerSpec;
}

const tmp = mkdtempSync(join(tmpdir(), 'vigil-bench-'));

function vigilDef(key: string, label: string, maxBatchSize: number, waitMs: number, direct = true): ServerDef {
  return {
    key,
    label,
    payload: 'oip',
    make(port) {
      const file = join(tmp, `${key}.yaml`);
      writeFileSync(
        file,
        [
          '# generated by bench/run.ts',
          'ingress:',
          `  direct: ${direct}`,
          'deployments:',
          '  - name: cls',
          `    model: ${JSON.stringify(MODEL)}`,
          '    num_replicas: 2',
          '    batching:',
          `      max_batch_size: ${maxBatchSize}`,
          `      batch_wait_timeout_ms: ${waitMs}`,
          '    execution_provider: cpu',
          '    intra_op_threads: 1',
          '    warmup:',
          '      requests: 2',
          '      shapes:',
          '        x: [1, 3, 48, 192]',
          '',
        ].join('\n'),
      );
      return {
        name: label,
        args: ['bin/vigil.mjs', 'start', '-c', file, '--port', String(port)],
        port,
        env: { VIGIL_LOG_LEVEL: 'info', VIGIL_LOG_FORMAT: 'json' },
        // /v2/health/ready turns 200 with one replica up; wait for both before loading.
        async ready(p) {
          if ((await get(p, '/v2/health/ready')).status !== 200) return false;
          const status = JSON.parse((await get(p, '/api/v1/status')).body) as {
            deployments: { versions: { replicas: { state: string }[] }[] }[];
          };
          const replicas = status.deployments.flatMap((d) => d.versions.flatMap((v) => v.replicas));
          return replicas.filter((r) => r.state === 'RUNNING').length >= 2;
        },
      };
    },
  };
}

const SERVERS: ServerDef[] = [
  {
    key: 'naive',
    label: 'naive (cluster, 2 workers)',
    payload: 'naive',
    make: (port) => ({
      name: 'naive',
      args: [...TSX, 'bench/naive-server.ts', '--port', String(port), '--workers', '2'],
      port,
      async ready(p) {
        return (await get(p, '/health')).status === 200;
      },
    }),
  },
  // Direct ingress (opt-in, decision 0012); vigil-nobatch-hop below is the default design.
  vigilDef('vigil-nobatch', 'vigil, batching off (max_batch_size 1)', 1, 0),
  vigilDef('vigil-batch-w2', 'vigil, batching 8, wait 2 ms', 8, 2),
  vigilDef('vigil-batch-w0', 'vigil, batching 8, wait 0 ms', 8, 0),
  // The design before direct ingress (decision 0007), measured in the same run for comparison.
  vigilDef('vigil-nobatch-hop', 'vigil, batching off, ingress.direct: false', 1, 0, false),
];

// ---------------------------------------------------------------- measurements

/** Means over a measured window, from vigil's own /metrics (sum and count deltas). */
interface VigilWindow {
  requestMs: number;
  queueWaitMs: number;
  inferenceMs: number;
  batchSize: number;
  runs: number;
}

type Scrape = Map<string, number>;

async function scrape(port: number): Promise<Scrape | undefined> {
  try {
    const { status, body } = await get(port, '/metrics');
    if (status !== 200) return undefined;
    const out: Scrape = new Map();
    for (const line of body.split('\n')) {
      const m = /^(vigil_[a-z_]+_(?:sum|count))(?:\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
      if (m) out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
    }
    return out;
  } catch {
    return undefined;
  }
}

function metricsWindow(a: Scrape | undefined, b: Scrape | undefined): VigilWindow | undefined {
  if (!a || !b) return undefined;
  const d = (k: string) => (b.get(k) ?? 0) - (a.get(k) ?? 0);
  const mean = (name: string, scale = 1) =>
    d(`${name}_count`) > 0 ? (scale * d(`${name}_sum`)) / d(`${name}_count`) : NaN;
  return {
    requestMs: mean('vigil_request_duration_seconds', 1000),
    queueWaitMs: mean('vigil_queue_wait_seconds', 1000),
    inferenceMs: mean('vigil_inference_duration_seconds', 1000),
    batchSize: mean('vigil_batch_size'),
    runs: d('vigil_batch_size_count'),
  };
}

interface Phase {
  load: LoadResult;
  /** The whole machine over the window, as a share of all cores: is anything left idle, is anything stolen? */
  machine: { busyPct: number; idlePct: number; stealPct: number; otherPct: number };
  /** vigil only: what vigil's metrics say about the same window. */
  vigil?: VigilWindow;
  /** Server process group CPU seconds during the measured window. */
  serverCpuSeconds: number;
  serverCpuMsPerReq: number;
  /** The group leader: vigil's primary (the control plane), the naive server's cluster primary. */
  leaderCpuMsPerReq: number;
  /** vigil's ingress processes (HTTP, parsing, admission, routing); 0 for the naive server. */
  ingressCpuMsPerReq: number;
  /** Everything else in the group: vigil's replicas, the naive server's workers. */
  workersCpuMsPerReq: number;
  serverCpuPercent: number;
}

interface ServerRun {
  key: string;
  saturation: Phase;
  moderate: Phase;
  low: Phase;
  stop: { code: number | null; graceful: boolean; ms: number };
  startMs: number;
}

async function loadPhase(server: RunningServer, spec: Omit<LoadSpec, 'port'>, metrics: boolean): Promise<Phase> {
  let cpu0 = { leader: 0, ingress: 0, others: 0 };
  let cpu1 = { leader: 0, ingress: 0, others: 0 };
  let mt0 = machineTicks();
  let mt1 = mt0;
  let t0 = 0;
  let t1 = 0;
  let m0: Promise<Scrape | undefined> = Promise.resolve(undefined);
  let m1: Promise<Scrape | undefined> = Promise.resolve(undefined);
  const port = server.spec.port;
  const load = await runScript<LoadResult>('bench/load.ts', [JSON.stringify({ ...spec, port })], {}, (mark) => {
    if (mark === 'start') {
      cpu0 = server.cpuSplit();
      mt0 = machineTicks();
      t0 = performance.now();
      if (metrics) m0 = scrape(port);
    } else if (mark === 'end') {
      cpu1 = server.cpuSplit();
      mt1 = machineTicks();
      t1 = performance.now();
      if (metrics) m1 = scrape(port);
    }
  });
  const vigil = metrics ? metricsWindow(await m0, await m1) : undefined;
  if (!server.alive) throw new Error(`${server.spec.name} died under load:\n${server.log()}`);
  const leader = cpu1.leader - cpu0.leader;
  const ingress = cpu1.ingress - cpu0.ingress;
  const serverCpuSeconds = leader + ingress + cpu1.others - cpu0.others;
  const perReq = (s: number) => (load.ok > 0 ? (1000 * s) / load.ok : NaN);
  const ticks = mt1.busy + mt1.idle + mt1.steal - (mt0.busy + mt0.idle + mt0.steal);
  const pct = (k: 'busy' | 'idle' | 'steal') => (ticks > 0 ? (100 * (mt1[k] - mt0[k])) / ticks : NaN);
  const windowS = (t1 - t0) / 1000;
  // Busy CPU that was neither the server nor the load generator: other tenants' work (in % of one core).
  const busyCoreSeconds = (mt1.busy - mt0.busy) / 100;
  const otherPct = windowS > 0 ? (100 * (busyCoreSeconds - serverCpuSeconds - load.clientCpuSeconds)) / windowS : NaN;
  return {
    load,
    vigil,
    machine: { busyPct: pct('busy'), idlePct: pct('idle'), stealPct: pct('steal'), otherPct },
    serverCpuSeconds,
    serverCpuMsPerReq: perReq(serverCpuSeconds),
    leaderCpuMsPerReq: perReq(leader),
    ingressCpuMsPerReq: perReq(ingress),
    workersCpuMsPerReq: perReq(serverCpuSeconds - leader - ingress),
    serverCpuPercent: t1 > t0 ? (100 * serverCpuSeconds) / ((t1 - t0) / 1000) : NaN,
  };
}

async function runServer(def: ServerDef): Promise<ServerRun> {
  const port = await freePort();
  const spec = def.make(port);
  const t0 = performance.now();
  const server = startServer(spec);
  try {
    await server.waitReady();
    const startMs = performance.now() - t0;
    log(
      `${def.key}: ready in ${(startMs / 1000).toFixed(1)} s on port ${port}; saturating (${S.connections} connections, ${S.seconds} s)`,
    );
    const base = { payload: def.payload };
    const metrics = def.payload === 'oip';
    const saturation = await loadPhase(
      server,
      { ...base, mode: 'saturate', connections: S.connections, seconds: S.seconds, warmupSeconds: S.warmupSeconds },
      metrics,
    );
    log(`${def.key}: ${saturation.load.rps.toFixed(0)} req/s; paced ${S.rate}/s`);
    const moderate = await loadPhase(
      server,
      {
        ...base,
        mode: latencyClient,
        connections: S.rateConnections,
        rate: S.rate,
        seconds: S.latencySeconds,
        warmupSeconds: S.latencyWarmupSeconds,
      },
      metrics,
    );
    log(`${def.key}: p50 ${moderate.load.latencyMs.p50.toFixed(2)} ms; paced ${S.lowRate}/s`);
    const low = await loadPhase(
      server,
      {
        ...base,
        mode: latencyClient,
        connections: 1,
        rate: S.lowRate,
        seconds: S.latencySeconds,
        warmupSeconds: S.latencyWarmupSeconds,
      },
      metrics,
    );
    log(`${def.key}: p50 ${low.load.latencyMs.p50.toFixed(2)} ms; stopping`);
    const stop = await server.stop();
    if (!stop.graceful) log(`${def.key}: did not stop cleanly (exit ${stop.code}); killed its process group`);
    return { key: def.key, saturation, moderate, low, stop, startMs };
  } catch (err) {
    await server.stop(5000);
    throw err;
  }
}

interface BareResult {
  batch: number;
  runs: number;
  items: number;
  seconds: number;
  itemsPerSec: number;
  runP50Ms: number;
  runP99Ms: number;
  cpuSeconds: number;
}

async function bare(processes: number, batch: number, rate?: number): Promise<{ total: number; per: BareResult[] }> {
  // Load all copies first, then measure over the same window.
  const startAt = processes > 1 ? ['--start-at', String(Date.now() + 2000)] : [];
  const args = [
    '--seconds',
    String(rate ? S.latencySeconds : S.bareSeconds),
    '--batch',
    String(batch),
    ...startAt,
    ...(rate ? ['--rate', String(rate)] : []),
  ];
  const per = await Promise.all(
    Array.from({ length: processes }, () => runScript<BareResult>('bench/bare-ort.ts', args)),
  );
  return { total: per.reduce((n, r) => n + r.itemsPerSec, 0), per };
}

// ---------------------------------------------------------------- reporting

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * With BENCH_ROUNDS > 1, the run with the best saturated throughput represents a server: on a
 * shared machine interference only ever slows a run down, so the best of N is the least disturbed.
 */
function representative(runs: ServerRun[]): ServerRun {
  return [...runs].sort((a, b) => b.saturation.load.rps - a.saturation.load.rps)[0]!;
}

function disturbed(r: ServerRun): boolean {
  return r.saturation.machine.otherPct > S.disturbedPct;
}

/** Requests/s the machine could sustain if CPU were the only limit: cores / (server + load-gen CPU per request). */
function cpuBoundEstimate(p: Phase, cores: number): number {
  const clientMs = p.load.ok > 0 ? (1000 * p.load.clientCpuSeconds) / p.load.ok : NaN;
  return (1000 * cores) / (p.serverCpuMsPerReq + clientMs);
}

function gitDescribe(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    // The diff itself, hashed, so that an edit during the run shows even when nothing is committed.
    const diff = execFileSync('git', ['diff', 'HEAD', '--', 'serving', 'cli', 'bin'], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const untracked = execFileSync(
      'git',
      ['ls-files', '--others', '--exclude-standard', '--', 'serving', 'cli', 'bin'],
      { cwd: ROOT, encoding: 'utf8' },
    ).trim();
    if (!diff && !untracked) return `commit ${head}`;
    const hash = createHash('sha256').update(diff).update(untracked).digest('hex').slice(0, 8);
    return `commit ${head} with uncommitted changes in serving/cli/bin (diff ${hash})`;
  } catch {
    return 'an unknown commit';
  }
}

function commandLine(): string {
  const vars = Object.keys(env)
    .filter((k) => k.startsWith('BENCH_'))
    .sort()
    .map((k) => `${k}=${env[k]}`);
  const cmd =
    env.npm_lifecycle_event === 'bench'
      ? 'npm run bench'
      : `node ${process.execArgv.join(' ')} ${process.argv
          .slice(1)
          .map((a) => a.replace(`${ROOT}`, ''))
          .join(' ')}`;
  return [...vars, cmd].join(' ');
}

async function main(): Promise<void> {
  const started = new Date();
  const gitAtStart = gitDescribe();
  const load0 = loadavg();
  const ticks0 = machineTicks();
  const ortVersion = (
    JSON.parse(readFileSync(join(ROOT, 'node_modules/onnxruntime-node/package.json'), 'utf8')) as { version: string }
  ).version;
  log(`${quick ? 'quick' : 'full'} run; settings ${JSON.stringify(S)}; latency client ${latencyClient}`);

  let transport: TransportRow[] | undefined;
  if (wants('transport')) {
    log(`transport: ${S.transportRounds} round trips per case`);
    transport = await runScript<TransportRow[]>('bench/transport.ts', ['--rounds', String(S.transportRounds)]);
  }

  type Bare = Awaited<ReturnType<typeof bare>>;
  // The limit is measured in every round, next to the servers, and the best round kept: on a
  // shared machine a single bare run is as likely to be disturbed as a server run.
  const bare1s: Bare[] = [];
  const bare2s: Bare[] = [];
  let bare8: Bare | undefined;
  let bareLow: Bare | undefined;
  const measureLimit = async () => {
    log(`bare ONNX Runtime: 1 process, ${S.bareSeconds} s`);
    bare1s.push(await bare(1, 1));
    log(`bare ONNX Runtime: 2 processes, ${S.bareSeconds} s`);
    bare2s.push(await bare(2, 1));
  };
  if (wants('bare')) {
    log(`bare ONNX Runtime: 1 process, batch 8, ${S.bareSeconds} s`);
    bare8 = await bare(1, 8);
    log(`bare ONNX Runtime: 1 process, one run every ${1000 / S.lowRate} ms, ${S.latencySeconds} s`);
    bareLow = await bare(1, 1, S.lowRate);
  }

  const runs = new Map<string, ServerRun[]>();
  const defs = SERVERS.filter((d) => wants(d.key));
  for (let round = 0; round < S.rounds; round++) {
    if (S.rounds > 1) log(`round ${round + 1}/${S.rounds}`);
    if (wants('bare')) await measureLimit();
    for (const def of defs) {
      for (let attempt = 0; ; attempt++) {
        const r = await runServer(def);
        runs.set(def.key, [...(runs.get(def.key) ?? []), r]);
        if (!disturbed(r) || attempt >= S.retries) break;
        log(
          `${def.key}: other processes used ${f0(r.saturation.machine.otherPct)} % of a core during saturation; measuring again`,
        );
      }
    }
  }
  let ceiling: { rows: CeilingRow[] } | { skipped: string } | undefined;
  if (wants('ceiling')) ceiling = await measureCeiling({ seconds: num('BENCH_CEILING_SECONDS', 10, 3), log });
  const best = (xs: Bare[]) => (xs.length ? [...xs].sort((a, b) => b.total - a.total)[0] : undefined);
  const bare1 = best(bare1s);
  const bare2 = best(bare2s);
  const rep = new Map([...runs].map(([k, rs]) => [k, representative(rs)]));

  // ------------------------------------------------ markdown
  const ticks1 = machineTicks();
  const allTicks = ticks1.busy + ticks1.idle + ticks1.steal - (ticks0.busy + ticks0.idle + ticks0.steal);
  const stealPct = allTicks > 0 ? (100 * (ticks1.steal - ticks0.steal)) / allTicks : NaN;
  const md: string[] = [];
  const cpu = cpus();
  md.push(`# vigil benchmark — ${quick ? 'quick' : 'full'} run`);
  md.push('');
  md.push(`- date: ${started.toISOString()}`);
  md.push(
    `- machine: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores (${platform()} ${release()}); load average at start ${load0.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const gitAtEnd = gitDescribe();
  md.push(
    `- node ${process.version}, onnxruntime-node ${ortVersion}; vigil at ${gitAtStart}; vigil runs with its defaults otherwise (metrics on, no OTLP endpoint, log level info)`,
  );
  if (gitAtEnd !== gitAtStart)
    md.push(
      `- ⚠ vigil's code changed during the run (at the end: ${gitAtEnd}); servers started at different times may have run different code`,
    );
  md.push(`- command: \`${commandLine()}\``);
  md.push(
    `- settings: saturation ${S.connections} connections, ${S.seconds} s after ${S.warmupSeconds} s warm-up ` +
      `(autocannon); latency ${latencyClient === 'paced' ? 'open-loop paced client' : 'autocannon overallRate'} ` +
      `at ${S.rate} req/s over ${S.rateConnections} connections and at ${S.lowRate} req/s over 1 connection, ` +
      `${S.latencySeconds} s after ${S.latencyWarmupSeconds} s; bare ORT ${S.bareSeconds} s` +
      (S.rounds > 1
        ? `; ${S.rounds} rounds of the server sequence, interleaved; the round with the best saturated ` +
          "throughput is shown, all rounds' figures in brackets"
        : ''),
  );
  md.push(
    '- model: ch_ppocr_mobile_v2.0_cls_infer.onnx, input x FP32 [1,3,48,192] (110,592 bytes), CPU provider, intra_op_threads 1',
  );
  md.push('');

  if (transport) {
    md.push('## Transport: 110 KB Float32Array round trip between a node:cluster primary and a worker');
    md.push('');
    md.push('| case | transport | round trips | median µs | p99 µs | mean µs | CPU µs / round trip (both processes) |');
    md.push('|---|---|---:|---:|---:|---:|---:|');
    for (const r of transport)
      md.push(
        `| ${r.name} | ${r.serialization} | ${r.rounds} | ${f0(r.medianUs)} | ${f0(r.p99Us)} | ${f0(r.meanUs)} | ${f0(r.cpuUsPerRoundTrip)} |`,
      );
    md.push('');
    md.push(
      'json-array: default serialization, tensor as a number array both ways, with the Float32Array <-> ' +
        'number[] conversions at both ends; json-array-raw: the same without the conversions; advanced: ' +
        'structured clone of the Float32Array both ways; advanced-reply: tensor out, 2 floats back (a vigil ' +
        'request); advanced-empty: small message both ways; unix-frame(-reply): the same two shapes as binary ' +
        'frames (length, JSON header, raw bytes) over a Unix domain socket between the same processes. One ' +
        'message in flight at a time; CPU is user+system of both processes.',
    );
    md.push('');
  }

  const limit2 = bare2?.total;
  if (bare1 && bare2 && bare8 && bareLow) {
    md.push('## (a) Bare ONNX Runtime (the limit)');
    md.push('');
    md.push('| setup | inferences/s | run p50 ms | run p99 ms | CPU ms / item |');
    md.push('|---|---:|---:|---:|---:|');
    const row = (label: string, b: Awaited<ReturnType<typeof bare>>) => {
      const items = b.per.reduce((n, r) => n + r.items, 0);
      const cpuS = b.per.reduce((n, r) => n + r.cpuSeconds, 0);
      md.push(
        `| ${label} | ${f0(b.total)} | ${f2(median(b.per.map((r) => r.runP50Ms)))} | ${f2(median(b.per.map((r) => r.runP99Ms)))} | ${f2((1000 * cpuS) / items)} |`,
      );
    };
    const all = (xs: Bare[]) => (xs.length > 1 ? ` [rounds: ${xs.map((b) => f0(b.total)).join(', ')}]` : '');
    row(`1 process, batch 1${all(bare1s)}`, bare1);
    row(
      `2 processes in parallel, batch 1 (${bare2.per.map((r) => f0(r.itemsPerSec)).join(' + ')})${all(bare2s)}`,
      bare2,
    );
    row('1 process, batch 8 (items/s)', bare8);
    md.push(
      `| 1 process, batch 1, paced at ${S.lowRate} runs/s (idle in between; no throughput figure) | – ` +
        `| ${f2(median(bareLow.per.map((r) => r.runP50Ms)))} | ${f2(median(bareLow.per.map((r) => r.runP99Ms)))} ` +
        `| ${f2((1000 * bareLow.per[0]!.cpuSeconds) / bareLow.per[0]!.items)} |`,
    );
    md.push('');
  }

  const naive = rep.get('naive');
  if (rep.size) {
    md.push('## Servers');
    md.push('');
    const columns = [
      'server',
      'saturated req/s',
      'non-2xx / errors',
      'vs (a) 2 proc',
      'vs (b) naive',
      'sat. p50 / p99 ms',
      'server CPU ms/req (primary + ingress + workers)',
      'server CPU %',
      'machine idle % / other processes CPU %',
      'CPU-bound estimate req/s',
      `p50 / p99 ms @ ${S.rate}/s`,
      `p50 / p99 ms @ ${S.lowRate}/s`,
      `load-gen CPU % (sat / ${S.rate} / ${S.lowRate})`,
    ];
    md.push(`| ${columns.join(' | ')} |`);
    md.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const def of defs) {
      const r = rep.get(def.key);
      if (!r) continue;
      const s = r.saturation.load;
      const bad = (p: Phase) => p.load.non2xx + p.load.errors + p.load.timeouts;
      const rps =
        S.rounds > 1
          ? `${f0(s.rps)} (${runs
              .get(def.key)!
              .map((x) => f0(x.saturation.load.rps))
              .join(', ')})`
          : f0(s.rps);
      md.push(
        [
          '',
          `${def.label}${disturbed(r) ? ' ⚠ disturbed' : ''}`,
          rps,
          `${s.non2xx} / ${s.errors + s.timeouts}${bad(r.moderate) + bad(r.low) ? ` (latency phases: ${bad(r.moderate) + bad(r.low)})` : ''}`,
          limit2 ? `${f2(s.rps / limit2)}x` : '–',
          naive ? `${f2(s.rps / naive.saturation.load.rps)}x` : '–',
          `${f1(s.latencyMs.p50)} / ${f1(s.latencyMs.p99)}`,
          `${f2(r.saturation.serverCpuMsPerReq)} (${f2(r.saturation.leaderCpuMsPerReq)} + ${f2(r.saturation.ingressCpuMsPerReq)} + ${f2(r.saturation.workersCpuMsPerReq)})`,
          f0(r.saturation.serverCpuPercent),
          `${f0(r.saturation.machine.idlePct)} / ${f0(Math.max(0, r.saturation.machine.otherPct))}`,
          f0(cpuBoundEstimate(r.saturation, cpu.length)),
          `${f2(r.moderate.load.latencyMs.p50)} / ${f2(r.moderate.load.latencyMs.p99)}`,
          `${f2(r.low.load.latencyMs.p50)} / ${f2(r.low.load.latencyMs.p99)}`,
          `${f0(s.clientCpuPercent)} / ${f0(r.moderate.load.clientCpuPercent)} / ${f0(r.low.load.clientCpuPercent)}`,
          '',
        ]
          .join(' | ')
          .trim(),
      );
    }
    md.push('');
    md.push('Columns:');
    md.push('- vs (a): saturated req/s over bare ONNX Runtime in 2 processes; vs (b): over the naive server.');
    md.push(
      [
        "- server CPU: user+system time of the server's whole process group during the measured saturation",
        'window, per 2xx response, split into the primary process (vigil: the control plane and the metrics',
        "registry, fed by the ingress processes' reports; naive: the cluster primary, which only hands out",
        "connections), vigil's ingress processes (HTTP, parsing, admission, routing) and the workers (vigil's",
        "replicas, the naive server's workers); then as a percentage of one core",
        `(the machine has ${cpu.length}).`,
      ].join(' '),
    );
    md.push(
      '- machine idle / other processes: /proc/stat idle share of all cores over the same window, and the CPU ' +
        '(in % of one core) used by processes that were neither the server nor the load generator, i.e. ' +
        `interference. Rows marked ⚠ disturbed had more than ${S.disturbedPct} %. Steal reported by the kernel ` +
        `over the whole run: ${f1(stealPct)} %.`,
    );
    md.push(
      "- CPU-bound estimate: cores × 1000 / (server + load-generator CPU ms per request): the throughput if CPU were the only limit. It moves much less with the machine's noise than measured req/s.",
    );
    md.push(
      '- latency at a fixed rate: measured in the load generator from the write of the request to the last byte of the response, 2xx only.',
    );
    md.push('');
    const extra = defs.map((d) => rep.get(d.key)).filter((r): r is ServerRun => !!r);
    md.push(
      `Start (to all replicas/workers ready) / stop (SIGTERM to exit): ${extra
        .map(
          (r) => `${r.key} ${f1(r.startMs / 1000)} s / ${f1(r.stop.ms / 1000)} s${r.stop.graceful ? '' : ' (killed)'}`,
        )
        .join('; ')}.`,
    );
    md.push('');
  }

  const withMetrics = defs.map((d) => rep.get(d.key)).filter((r): r is ServerRun => !!r?.saturation.vigil);
  if (withMetrics.length) {
    md.push('### Inside vigil (its own /metrics over the same windows)');
    md.push('');
    md.push(
      'Means per request: vigil_request_duration_seconds (ingress to response), vigil_queue_wait_seconds ' +
        '(router queue), vigil_inference_duration_seconds (one session.run), vigil_batch_size (rows per run).',
    );
    md.push('');
    md.push(`| server | phase | request ms | queue wait ms | session.run ms | rows per run | client p50 ms |`);
    md.push('|---|---|---:|---:|---:|---:|---:|');
    for (const r of withMetrics) {
      for (const [name, p] of [
        ['saturation', r.saturation],
        [`${S.rate}/s`, r.moderate],
        [`${S.lowRate}/s`, r.low],
      ] as const) {
        const v = p.vigil;
        if (!v) continue;
        md.push(
          `| ${r.key} | ${name} | ${f2(v.requestMs)} | ${f2(v.queueWaitMs)} | ${f2(v.inferenceMs)} | ${f2(v.batchSize)} | ${f2(p.load.latencyMs.p50)} |`,
        );
      }
    }
    md.push('');
  }

  const targets: string[] = [];
  const anyDisturbed = [...rep.values()].some(disturbed);
  if (naive) {
    const nRps = naive.saturation.load.rps;
    const nP50 = naive.low.load.latencyMs.p50;
    const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    const batch = ['vigil-batch-w2', 'vigil-batch-w0'].map((k) => rep.get(k)).filter((r): r is ServerRun => !!r);
    for (const b of batch) {
      const ratio = b.saturation.load.rps / nRps;
      targets.push(
        `${verdict(ratio >= 1.1)} ${b.key}: saturated throughput ${f2(ratio)}x naive (target >= 1.10x; ${f0(b.saturation.load.rps)} vs ${f0(nRps)} req/s)`,
      );
    }
    const nb = rep.get('vigil-nobatch');
    if (nb) {
      const ratio = nb.saturation.load.rps / nRps;
      targets.push(
        `${verdict(ratio >= 0.9)} vigil-nobatch: saturated throughput ${f2(ratio)}x naive (target >= 0.90x; ${f0(nb.saturation.load.rps)} vs ${f0(nRps)} req/s)`,
      );
    }
    for (const k of ['vigil-nobatch', 'vigil-batch-w2', 'vigil-batch-w0']) {
      const r = rep.get(k);
      if (!r) continue;
      const d = r.low.load.latencyMs.p50 - nP50;
      targets.push(
        `${verdict(d <= 0.5)} ${k}: p50 at ${S.lowRate} req/s is ${f2(r.low.load.latencyMs.p50)} ms, naive + ${f2(d)} ms (target <= naive + 0.50 ms; ratio ${f2(r.low.load.latencyMs.p50 / nP50)}x)`,
      );
    }
    for (const k of ['vigil-nobatch', 'vigil-batch-w2', 'vigil-batch-w0']) {
      const r = rep.get(k);
      if (!r) continue;
      const outside = r.saturation.leaderCpuMsPerReq + r.saturation.ingressCpuMsPerReq;
      targets.push(
        `${verdict(outside <= 0.2)} ${k}: CPU outside the replicas ${f2(outside)} ms per request ` +
          `(primary ${f2(r.saturation.leaderCpuMsPerReq)} + ingress ${f2(r.saturation.ingressCpuMsPerReq)}; ` +
          'target <= 0.20 ms)',
      );
    }
    const nEff = naive.saturation.serverCpuMsPerReq;
    for (const k of ['vigil-nobatch', 'vigil-batch-w2', 'vigil-batch-w0']) {
      const r = rep.get(k);
      if (r)
        targets.push(
          `info ${k}: CPU per request ${f2(r.saturation.serverCpuMsPerReq)} ms vs naive ${f2(nEff)} ms ` +
            `(efficiency ${f2(nEff / r.saturation.serverCpuMsPerReq)}x naive; CPU-bound estimate ` +
            `${f2(cpuBoundEstimate(r.saturation, cpu.length) / cpuBoundEstimate(naive.saturation, cpu.length))}x naive)`,
        );
    }
    md.push('## Targets');
    md.push('');
    if (anyDisturbed)
      md.push(
        'Some runs below were disturbed by other processes on the machine (⚠ in the table); their ratios are not trustworthy. The CPU-per-request lines are less affected.\n',
      );
    for (const t of targets) md.push(`- ${t}`);
    md.push('');
  }

  if (ceiling) md.push(...renderCeiling(ceiling));

  const text = md.join('\n');
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, text);
  writeFileSync(
    outFile.replace(/\.md$/, '.json'),
    JSON.stringify(
      {
        date: started.toISOString(),
        quick,
        settings: S,
        latencyClient,
        transport,
        bare: { bare1s, bare2s, bare8, bareLow },
        runs: Object.fromEntries(runs),
        ceiling,
      },
      null,
      2,
    ),
  );
  process.stdout.write(`${text}\n`);
  log(`done in ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s; wrote ${outFile}`);
}

try {
  await main();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
