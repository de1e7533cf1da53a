/**
 * `npm run bench:primary`: what recording finished requests costs the primary per request, the
 * one piece of the primary's work that grows with a node's request rate (decision 0016). No
 * server and no load generator: on a 2-core machine those would take the cores this measures,
 * and the figure is what bounds a node with many more cores than this one.
 *
 * Each round builds BLOCK rows (default 275: what one replica answering 5,500 req/s sends in one
 * 50 ms report) in one deployment version, with a sampled trace every tenth row and a batch
 * lead every row (batching off), as the sender does (`FinishedRequestColumns`). It passes them
 * through the IPC channel's serializer (node:v8 `serialize` / `deserialize`, what
 * `serialization: 'advanced'` uses) and into the consumers the primary feeds
 * (serving/node.ts `record`): the metrics, the SLI collector with two SLOs, the console's
 * history, its recent traces and the canary window.
 *
 * The baseline, in the same run, is the shape reports had before decision 0016: an object per
 * request for the metrics and another for the SLIs, through the same serializer, and
 * prom-client's `Histogram.observe` and `Counter.inc` per request. It leaves out the SLI,
 * history and window consumers, which it fed one request at a time, so it understates what the
 * old path cost.
 *
 * Prints µs per request for the sender's side, the primary's side and the baseline, the
 * requests per second one core could record at that cost, and writes
 * bench/results/primary-accounting.json. Options: BENCH_PRIMARY_ROWS (total rows per variant,
 * default 2,000,000), BENCH_PRIMARY_BLOCK (275).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import client from 'prom-client';
import { LiveWindow } from '../serving/rollout/live-window.ts';
import { DURATION_BUCKETS } from '../serving/telemetry/buckets.ts';
import {
  COUNTS_AS_SLI,
  COUNTS_IN_METRICS,
  FinishedRequestColumns,
  type FinishedRequests,
} from '../serving/telemetry/finished-requests.ts';
import { VigilMetrics } from '../serving/telemetry/metrics.ts';
import { RecentTraces } from '../serving/telemetry/recent-traces.ts';
import { RequestHistory } from '../serving/telemetry/request-history.ts';
import type { SloDefinition } from '../slo/definition.ts';
import { SliCollector } from '../slo/sli-collector.ts';
import { SliWindow } from '../slo/sli-window.ts';
import { ROOT } from './proc.ts';

const TOTAL = Number(process.env.BENCH_PRIMARY_ROWS ?? 2_000_000);
const BLOCK = Number(process.env.BENCH_PRIMARY_BLOCK ?? 275);
const ROUNDS = Math.ceil(TOTAL / BLOCK);

/** A duration for row i: spread over the buckets a small model's requests land in. */
const durationOf = (i: number) => 0.0004 + ((i * 7919) % 1000) / 100_000;
const traceOf = (i: number) => (i % 10 === 0 ? i.toString(16).padStart(32, '0') : undefined);
const statusOf = (i: number) => (i % 500 === 0 ? 503 : 200);

function slo(over: Partial<SloDefinition>): SloDefinition {
  return {
    id: 'availability',
    deployment: 'identity',
    version: null,
    kind: 'availability',
    objective: 0.999,
    windowSeconds: 30 * 86_400,
    latencyThresholdSeconds: null,
    ...over,
  };
}

/** Seconds of CPU this thread used while fn ran (process.cpuUsage, user + system). */
function cpuSeconds(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

function columnsPath(): { senderUs: number; primaryUs: number } {
  const sender = new FinishedRequestColumns();
  const metrics = new VigilMetrics(() => []);
  const collector = new SliCollector(new SliWindow(), [
    slo({}),
    slo({ id: 'latency', kind: 'latency', latencyThresholdSeconds: 0.005 }),
  ]);
  const history = new RequestHistory();
  const traces = new RecentTraces();
  const window = new LiveWindow();
  let sending = 0;
  let recording = 0;
  let row = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let wire: Buffer | undefined;
    sending += cpuSeconds(() => {
      for (let i = 0; i < BLOCK; i++, row++) {
        sender.add({
          deployment: 'identity',
          version: 'v1',
          status: statusOf(row),
          durationSeconds: durationOf(row),
          counts: COUNTS_IN_METRICS | COUNTS_AS_SLI,
          reject: statusOf(row) === 503 ? 'overload' : undefined,
          queueWaitSeconds: 0.0001,
          traceId: traceOf(row),
          batch: { provider: 'cpu', size: 1, inferenceSeconds: 0.0002 },
        });
      }
      wire = serialize(sender.take());
    });
    recording += cpuSeconds(() => {
      const now = Date.now();
      for (const f of deserialize(wire!) as FinishedRequests[]) {
        metrics.observeFinished(f);
        collector.recordFinished(f);
        history.recordFinished(f, now);
        for (const t of f.traces) {
          const status = f.status[t.row]!;
          const durationMs = f.durationSeconds[t.row]! * 1000;
          traces.add({ traceId: t.traceId, at: now, deployment: f.deployment, version: f.version, status, durationMs });
        }
        window.recordFinished(f, now);
      }
    });
  }
  metrics.stop();
  const rows = ROUNDS * BLOCK;
  return { senderUs: (sending * 1e6) / rows, primaryUs: (recording * 1e6) / rows };
}

/** Reports before decision 0016: objects per request, prom-client per request. */
function objectsPath(): { primaryUs: number } {
  const registry = new (
    client.Registry as unknown as new (
      contentType: string,
    ) => client.Registry<client.OpenMetricsContentType>
  )(client.Registry.OPENMETRICS_CONTENT_TYPE);
  const registers = [registry];
  const labelNames = ['deployment', 'version'] as const;
  const requests = new client.Counter({ name: 'r', help: 'h', labelNames: [...labelNames, 'code'], registers });
  const duration = new client.Histogram<'deployment' | 'version' | 'trace_id'>({
    name: 'd',
    help: 'h',
    labelNames: [...labelNames],
    buckets: DURATION_BUCKETS,
    enableExemplars: true,
    registers,
  });
  const queueWait = new client.Histogram({ name: 'q', help: 'h', labelNames, buckets: DURATION_BUCKETS, registers });
  const inference = new client.Histogram({
    name: 'i',
    help: 'h',
    labelNames: [...labelNames, 'provider'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const batchSize = new client.Histogram({ name: 'b', help: 'h', labelNames, buckets: [1, 2, 4, 8], registers });
  const rejected = new client.Counter({ name: 'x', help: 'h', labelNames: ['deployment', 'reason'], registers });
  let recording = 0;
  let row = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const report = { requests: [] as object[], slis: [] as object[], batches: [] as object[] };
    for (let i = 0; i < BLOCK; i++, row++) {
      const o = { deployment: 'identity', version: 'v1', status: statusOf(row), durationSeconds: durationOf(row) };
      report.requests.push({
        ...o,
        reject: o.status === 503 ? 'overload' : undefined,
        queueWaitSeconds: 0.0001,
        traceId: traceOf(row),
      });
      report.slis.push({ ...o, traceId: traceOf(row) });
      report.batches.push({
        deployment: 'identity',
        version: 'v1',
        provider: 'cpu',
        batchSize: 1,
        inferenceSeconds: 0.0002,
      });
    }
    const wire = serialize(report);
    recording += cpuSeconds(() => {
      const got = deserialize(wire) as {
        requests: {
          deployment: string;
          version: string;
          status: number;
          durationSeconds: number;
          reject?: string;
          queueWaitSeconds?: number;
          traceId?: string;
        }[];
        batches: {
          deployment: string;
          version: string;
          provider: string;
          batchSize: number;
          inferenceSeconds: number;
        }[];
      };
      for (const o of got.requests) {
        const labels = { deployment: o.deployment, version: o.version };
        requests.inc({ deployment: o.deployment, version: o.version, code: String(o.status) });
        if (o.traceId) duration.observe({ labels, value: o.durationSeconds, exemplarLabels: { trace_id: o.traceId } });
        else duration.observe({ labels, value: o.durationSeconds });
        if (o.queueWaitSeconds !== undefined) queueWait.observe(labels, o.queueWaitSeconds);
        if (o.reject) rejected.inc({ deployment: o.deployment, reason: o.reject });
      }
      for (const b of got.batches) {
        inference.observe({ deployment: b.deployment, version: b.version, provider: b.provider }, b.inferenceSeconds);
        batchSize.observe({ deployment: b.deployment, version: b.version }, b.batchSize);
      }
    });
  }
  return { primaryUs: (recording * 1e6) / (ROUNDS * BLOCK) };
}

const f = (x: number) => x.toFixed(2);
const perCore = (us: number) => Math.round(1e6 / us).toLocaleString('en-US');
// A first pass of each warms the JIT; the second is reported.
columnsPath();
objectsPath();
const columns = columnsPath();
const objects = objectsPath();
const lines = [
  `Primary accounting, ${(ROUNDS * BLOCK).toLocaleString('en-US')} requests in blocks of ${BLOCK}` +
    ` (node ${process.version})`,
  '',
  '| path | µs per request | requests/s one core records |',
  '|---|---:|---:|',
  `| columns (decision 0016): the primary | ${f(columns.primaryUs)} | ${perCore(columns.primaryUs)} |`,
  `| columns: the sender (rows, take, serialise) | ${f(columns.senderUs)} | – |`,
  `| objects and prom-client per request (before; metrics only) | ${f(objects.primaryUs)} |` +
    ` ${perCore(objects.primaryUs)} |`,
  '',
  `The primary's side costs ${f(objects.primaryUs / columns.primaryUs)}x less than the baseline's metrics alone.`,
];
process.stdout.write(`${lines.join('\n')}\n`);
const dir = join(ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, 'primary-accounting.json'),
  `${JSON.stringify({ block: BLOCK, requests: ROUNDS * BLOCK, node: process.version, columns, objects }, null, 2)}\n`,
);
