/**
 * `npm run bench:canary`: an offline evaluation of the canary judge (serving/rollout/
 * canary-analysis.ts). The judge is pure, so it runs here thousands of times on synthetic
 * request streams, analysed every 500 ms as the rollout controller does, over the same windows
 * (the step so far, its older part and its newest short_window_s seconds).
 *
 * Streams: requests arrive as a Poisson process (--rate req/s split by the canary's weight),
 * each with a log-normal latency (median 15 ms, sigma 0.3, so p95 ≈ 25 ms) and a 0.1% error
 * rate on both versions (the whole budget of a 99.9% objective). Noise, in the healthy runs:
 *
 * - contention: each second, with probability 2%, a burst of 1-5 s starts that multiplies every
 *   latency of BOTH versions by 2-10x (a build or a noisy neighbour on the machine);
 * - stalls: each second, with probability 1%, a stall of 1-2 s multiplies the latency of ONE
 *   version by 3-20x (a process descheduled, paging), which is what a same-interval comparison
 *   alone cannot tell from a slow canary;
 * - error bursts: each second, with probability 0.4%, ONE version fails half of its requests
 *   for that second (a replica killed and restarted, a dependency blip);
 * - cold start: the canary's first 10 requests (in its first step) are 4x slower, as after a
 *   warm-up too short to fill every cache;
 * - low traffic: a scenario at 4 req/s in all.
 *
 * Healthy: whole rollouts (steps 5, 25, 50, 100 at 30 s each); a rollback anywhere is a false one.
 * Faulty: one 30 s step at the given weight; the time to detection runs from the canary's first
 * bad answer (its first error, or its first request for a latency fault) to the analysis that
 * fails. Prints one table per kind and writes bench/results/canary-judge.json.
 *
 * Options: --healthy-runs (3000), --faulty-runs (300), --rate (60), --seed (1), --only (scenario
 * names containing one of these comma-separated strings).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { rolloutAnalysisSchema } from '../serving/config/schema.ts';
import { analyzeCanary, type AnalysisThresholds } from '../serving/rollout/canary-analysis.ts';
import { emptySummary, type WindowSummary } from '../serving/rollout/live-window.ts';
import { settingsFromConfig } from '../serving/rollout/rollout-controller.ts';
import { DURATION_BUCKETS } from '../serving/telemetry/buckets.ts';
import { percentile, ROOT } from './proc.ts';

const { values } = parseArgs({
  options: {
    'healthy-runs': { type: 'string', default: '3000' },
    'faulty-runs': { type: 'string', default: '300' },
    rate: { type: 'string', default: '60' },
    seed: { type: 'string', default: '1' },
    only: { type: 'string', default: '' },
  },
});
const HEALTHY_RUNS = Number(values['healthy-runs']);
const FAULTY_RUNS = Number(values['faulty-runs']);
const RATE = Number(values.rate);
/** Runs only the scenarios whose name contains one of these comma-separated strings. */
const ONLY = values.only.split(',').filter(Boolean);
const selected = (name: string) => ONLY.length === 0 || ONLY.some((x) => name.includes(x));
const config = rolloutAnalysisSchema.parse({});
const settings = settingsFromConfig(config, 0.999);
const THRESHOLDS: AnalysisThresholds = settings;
const TICK_MS = 100;
const ANALYSIS_EVERY_TICKS = Math.round((config.analysis_interval_s * 1000) / TICK_MS);
const STEP_S = 30;
const SLOTS = DURATION_BUCKETS.length + 1;

/** mulberry32: a small seeded generator, so a run of the bench is reproducible. */
let state = Number(values.seed) >>> 0;
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function normal(): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
function poisson(mean: number): number {
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal()));
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = random(); p > limit; p *= random()) k++;
  return k;
}
function slotOf(seconds: number): number {
  for (let i = 0; i < DURATION_BUCKETS.length; i++) if (seconds <= DURATION_BUCKETS[i]!) return i;
  return DURATION_BUCKETS.length;
}

interface Fault {
  errorRate?: number;
  /** Latency multiplied by this... */
  factor?: number;
  /** ...then this many seconds added. */
  addSeconds?: number;
  /** Base median latency, seconds (default 15 ms). */
  medianSeconds?: number;
}

interface Noise {
  contention: boolean;
  stalls: boolean;
  cold: boolean;
  errorBursts?: boolean;
}

/** Per-tick counts of one version as prefix sums: [requests, errors, slot0..slotN] per tick. */
class Stream {
  readonly prefix: Float64Array;
  firstBadTick = -1;
  constructor(readonly ticks: number) {
    this.prefix = new Float64Array((ticks + 1) * (SLOTS + 2));
  }
  sum(fromTick: number, toTick: number): WindowSummary {
    const out = emptySummary();
    if (toTick < fromTick) return out;
    const w = SLOTS + 2;
    const a = fromTick * w;
    const b = (toTick + 1) * w;
    out.requests = this.prefix[b]! - this.prefix[a]!;
    out.errors = this.prefix[b + 1]! - this.prefix[a + 1]!;
    for (let i = 0; i < SLOTS; i++) out.latencyCounts[i] = this.prefix[b + 2 + i]! - this.prefix[a + 2 + i]!;
    return out;
  }
}

/**
 * Simulates `seconds` of traffic at `rate` req/s with the canary at `weight`%, returning the two
 * versions' streams. The noise schedule is shared, so a contention burst hits both versions at once.
 */
function simulate(seconds: number, weights: number[], rate: number, fault: Fault, noise: Noise): [Stream, Stream] {
  const ticks = seconds * (1000 / TICK_MS);
  const canary = new Stream(ticks);
  const stable = new Stream(ticks);
  const w = SLOTS + 2;
  let shared = { until: -1, factor: 1 };
  const stall = { until: -1, factor: 1, canary: false };
  const burst = { until: -1, canary: false };
  let canaryInStep = 0;
  const row = new Float64Array(w);
  for (let t = 0; t < ticks; t++) {
    const second = Math.floor((t * TICK_MS) / 1000);
    const step = Math.min(weights.length - 1, Math.floor(second / STEP_S));
    if (t % (1000 / TICK_MS) === 0) {
      if (noise.contention && second > shared.until && random() < 0.02)
        shared = { until: second + 1 + Math.floor(random() * 5), factor: 2 + random() * 8 };
      if (noise.stalls && second > stall.until && random() < 0.01) {
        stall.until = second + Math.floor(random() * 2);
        stall.factor = 3 + random() * 17;
        stall.canary = random() < 0.5;
      }
      if (noise.errorBursts && second > burst.until && random() < 0.004) {
        burst.until = second;
        burst.canary = random() < 0.5;
      }
      if (second % STEP_S === 0) canaryInStep = 0;
    }
    const weight = weights[step]! / 100;
    for (const [stream, isCanary] of [
      [canary, true],
      [stable, false],
    ] as const) {
      row.fill(0);
      const n = poisson((rate * (isCanary ? weight : 1 - weight) * TICK_MS) / 1000);
      for (let k = 0; k < n; k++) {
        const f = isCanary ? fault : {};
        let latency = (f.medianSeconds ?? 0.015) * Math.exp(0.3 * normal()) * (f.factor ?? 1) + (f.addSeconds ?? 0);
        if (second <= shared.until) latency *= shared.factor;
        if (second <= stall.until && stall.canary === isCanary) latency *= stall.factor;
        if (isCanary && noise.cold && step === 0 && canaryInStep++ < 10) latency *= 4;
        const inBurst = second <= burst.until && burst.canary === isCanary;
        const errorRate = inBurst ? 0.5 : isCanary && f.errorRate !== undefined ? f.errorRate : 0.001;
        const error = random() < errorRate;
        row[0]!++;
        if (error) row[1]!++;
        row[2 + slotOf(latency)]!++;
        const bad = error || (isCanary && (f.factor !== undefined || f.addSeconds !== undefined));
        if (isCanary && bad && stream.firstBadTick < 0 && (f.errorRate === undefined || error)) stream.firstBadTick = t;
      }
      for (let i = 0; i < w; i++) stream.prefix[(t + 1) * w + i] = stream.prefix[t * w + i]! + row[i]!;
    }
  }
  return [canary, stable];
}

/** Runs the judge every 500 ms over the streams; the tick of the first failing analysis, or -1. */
function judge(canary: Stream, stable: Stream, weights: number[]): { failTick: number; reason: string } {
  const ticksPerS = 1000 / TICK_MS;
  for (let t = ANALYSIS_EVERY_TICKS - 1; t < canary.ticks; t += ANALYSIS_EVERY_TICKS) {
    const second = Math.floor(t / ticksPerS);
    const step = Math.min(weights.length - 1, Math.floor(second / STEP_S));
    const stepStartS = step * STEP_S;
    const fromS = Math.max(stepStartS, second - Math.max(STEP_S, 120) + 1);
    const shortS = Math.max(1, Math.min(settings.shortWindowS, Math.floor((second - fromS + 1) / 2)));
    const perSecond = (s: Stream) => {
      const out: WindowSummary[] = [];
      for (let sec = fromS; sec <= second; sec++)
        out.push(s.sum(sec * ticksPerS, Math.min(t, (sec + 1) * ticksPerS - 1)));
      return out;
    };
    const a = analyzeCanary({
      canary: perSecond(canary),
      stable: perSecond(stable),
      shortSeconds: shortS,
      warmRequests: step === 0 ? 10 : 0,
      thresholds: THRESHOLDS,
    });
    if (a.verdict === 'fail') return { failTick: t, reason: a.summary };
  }
  return { failTick: -1, reason: '' };
}

interface Row {
  scenario: string;
  runs: number;
  rolledBack: number;
  medianS: number | null;
  p95S: number | null;
  example?: string;
}

function healthy(name: string, rate: number, noise: Noise): Row {
  const weights = [5, 25, 50, 100];
  let rolledBack = 0;
  let example: string | undefined;
  for (let r = 0; r < HEALTHY_RUNS; r++) {
    const [c, s] = simulate(STEP_S * weights.length, weights, rate, {}, noise);
    const { failTick, reason } = judge(c, s, weights);
    if (failTick >= 0) {
      rolledBack++;
      example ??= reason;
    }
  }
  return { scenario: name, runs: HEALTHY_RUNS, rolledBack, medianS: null, p95S: null, example };
}

function faulty(name: string, weight: number, fault: Fault): Row {
  const times: number[] = [];
  let rolledBack = 0;
  let example: string | undefined;
  for (let r = 0; r < FAULTY_RUNS; r++) {
    const [c, s] = simulate(STEP_S, [weight], RATE, fault, { contention: false, stalls: false, cold: false });
    const { failTick, reason } = judge(c, s, [weight]);
    if (failTick < 0 || c.firstBadTick < 0) continue;
    rolledBack++;
    example ??= reason;
    times.push(((failTick - c.firstBadTick) * TICK_MS) / 1000);
  }
  times.sort((a, b) => a - b);
  return {
    scenario: name,
    runs: FAULTY_RUNS,
    rolledBack,
    medianS: times.length ? percentile(times, 50) : null,
    p95S: times.length ? percentile(times, 95) : null,
    example,
  };
}

const started = performance.now();
const noisy = { contention: true, stalls: true, cold: true, errorBursts: true };
const quiet = { contention: false, stalls: false, cold: false };
const healthyScenarios: [string, number, Noise][] = [
  [`quiet, ${RATE} req/s`, RATE, quiet],
  [`contention bursts on both versions, ${RATE} req/s`, RATE, { ...quiet, contention: true }],
  [`stalls of one version, ${RATE} req/s`, RATE, { ...quiet, stalls: true }],
  [`error bursts of one version, ${RATE} req/s`, RATE, { ...quiet, errorBursts: true }],
  [`cold canary replicas, ${RATE} req/s`, RATE, { ...quiet, cold: true }],
  [`all of the above, ${RATE} req/s`, RATE, noisy],
  ['all of the above, 4 req/s (low traffic)', 4, noisy],
];
const healthyRows = healthyScenarios
  .filter(([name]) => selected(name))
  .map(([name, rate, noise]) => healthy(name, rate, noise));
const faults: [string, Fault][] = [
  ['1% errors', { errorRate: 0.01 }],
  ['5% errors', { errorRate: 0.05 }],
  ['10% errors', { errorRate: 0.1 }],
  ['+20% latency (15 ms model: +3 ms)', { factor: 1.2 }],
  ['+20% latency (300 ms model: +60 ms)', { factor: 1.2, medianSeconds: 0.3 }],
  ['+50 ms', { addSeconds: 0.05 }],
  ['+250 ms', { addSeconds: 0.25 }],
];
const faultyRows: Row[] = [];
for (const [name, fault] of faults)
  for (const weight of [5, 10, 25, 50])
    if (selected(`${name} at ${weight}%`)) faultyRows.push(faulty(`${name} at ${weight}%`, weight, fault));

const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(2)}%`;
const secs = (x: number | null) => (x === null ? '-' : `${x.toFixed(1)} s`);
const lines = [
  `canary judge, offline: analysis every ${config.analysis_interval_s} s, confidence ${config.confidence}, ` +
    `short window ${config.short_window_s} s, ${((performance.now() - started) / 1000).toFixed(0)} s to run`,
  '',
  '| healthy scenario (rollouts 5, 25, 50, 100% x 30 s) | rollouts | false rollbacks | rate |',
  '|---|---|---|---|',
  ...healthyRows.map((r) => `| ${r.scenario} | ${r.runs} | ${r.rolledBack} | ${pct(r.rolledBack, r.runs)} |`),
  '',
  `| faulty canary (one 30 s step, ${RATE} req/s) | runs | detected | median time to detection | p95 |`,
  '|---|---|---|---|---|',
  ...faultyRows.map(
    (r) => `| ${r.scenario} | ${r.runs} | ${pct(r.rolledBack, r.runs)} | ${secs(r.medianS)} | ${secs(r.p95S)} |`,
  ),
];
console.log(lines.join('\n'));
for (const r of healthyRows) if (r.example) console.log(`\nexample false rollback (${r.scenario}): ${r.example}`);
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(
  join(ROOT, 'bench/results/canary-judge.json'),
  `${JSON.stringify({ settings: config, rate: RATE, healthy: healthyRows, faulty: faultyRows }, null, 2)}\n`,
);
