import type { consoleRoutes } from '../../contract/control/console.ts';
import { DURATION_BUCKETS } from '../telemetry/buckets.ts';
import { histogramQuantile } from '../telemetry/histogram-quantile.ts';
import type { Handlers } from './handler.ts';
import { sloStatus } from './slo-status.ts';
import type { WindowTotals } from '../telemetry/request-history.ts';
import { replicaView } from '../controller/replica-view.ts';

/**
 * What the console's pages read, computed here so that every number has one definition: the
 * executive summary (1h, 24h, 7d), the per-minute series, and the runtime view (replicas,
 * rejections, restarts, batches, model loads, recent traces). The console renders; it does not
 * compute.
 */
const WINDOWS = [
  ['1h', 3_600_000],
  ['24h', 86_400_000],
  ['7d', 7 * 86_400_000],
] as const;

const ms = (seconds: number | null) => (seconds === null ? null : Math.round(seconds * 1000 * 1000) / 1000);

function windowSummary(window: (typeof WINDOWS)[number][0], t: WindowTotals, cpuHourUsd: number | undefined) {
  return {
    window,
    requests: t.requests,
    errors: t.errors,
    success_rate: t.requests > 0 ? (t.requests - t.errors) / t.requests : null,
    p95_ms: ms(histogramQuantile(0.95, DURATION_BUCKETS, t.latency)),
    p99_ms: ms(histogramQuantile(0.99, DURATION_BUCKETS, t.latency)),
    cpu_seconds: Math.round(t.cpuSeconds * 1000) / 1000,
    cost_per_1k_usd:
      cpuHourUsd === undefined || t.requests === 0 ? null : ((t.cpuSeconds * cpuHourUsd) / 3600 / t.requests) * 1000,
  };
}

const RANGE_MS = { '15m': 900_000, '1h': 3_600_000, '6h': 21_600_000, '24h': 86_400_000 } as const;

type PromValue = { labels: Record<string, string | number>; value: number; metricName?: string };

export const consoleHandlers: Handlers<typeof consoleRoutes> = {
  getConsoleSummary: async ({ ctx }) => {
    const now = Date.now();
    const history = ctx.plane.history;
    const price = ctx.consoleConfig.cpu_hour_usd;
    const evals = new Map(ctx.plane.engine.evaluations().map((e) => [e.slo.id, e]));
    const deployments = [...ctx.router.deployments.values()];
    return {
      generated_at: new Date(now).toISOString(),
      windows: WINDOWS.map(([name, w]) => windowSummary(name, history.totals(now, w), price)),
      cpu_hour_usd: price ?? null,
      active_deployments: deployments.filter((d) =>
        [...d.pools.values()].some((p) => !p.retired && d.weightOf(p.version) > 0),
      ).length,
      deployments: deployments.map((d) => {
        const t = history.totals(now, 3_600_000, d.name);
        // "Last hour": the versions that serve now, and those that served in the hour (a
        // canary rolled back or a stable replaced by a promotion still had traffic).
        const versions = new Set([...d.pools.values()].filter((p) => !p.retired).map((p) => p.version));
        for (const s of history.series(now, 3_600_000, d.name)) versions.add(s.version);
        return {
          name: d.name,
          versions: versions.size,
          requests_1h: t.requests,
          success_rate_1h: t.requests > 0 ? (t.requests - t.errors) / t.requests : null,
          p99_ms_1h: ms(histogramQuantile(0.99, DURATION_BUCKETS, t.latency)),
        };
      }),
      slos: [...ctx.plane.slos.values()].map((s) =>
        sloStatus(s, evals.get(s.id), ctx.plane.collector.window, now, ctx.router.deployments.has(s.deployment)),
      ),
    };
  },
  getConsoleSeries: async ({ ctx, query }) => {
    const rangeMs = RANGE_MS[query.range];
    const history = ctx.plane.history;
    return {
      source: 'memory',
      range_seconds: rangeMs / 1000,
      step_seconds: history.bucketMs / 1000,
      series: history.series(Date.now(), rangeMs, query.deployment).map((s) => ({
        deployment: s.deployment,
        version: s.version,
        points: s.points.map((p) => ({
          t: p.t,
          requests: p.requests,
          errors: p.errors,
          p50_ms: ms(p.p50),
          p95_ms: ms(p.p95),
          p99_ms: ms(p.p99),
        })),
      })),
    };
  },
  getConsoleRuntime: async ({ ctx }) => {
    const m = ctx.metrics;
    const values = async (metric: { get(): Promise<{ values: PromValue[] }> | { values: PromValue[] } }) =>
      (await metric.get()).values;
    const byLabels = (v: PromValue, keys: string[]) => keys.map((k) => String(v.labels[k] ?? '')).join('\u0000');

    const batch = new Map<
      string,
      {
        deployment: string;
        version: string;
        buckets: { le: number | '+Inf'; count: number }[];
        count: number;
        sum: number;
      }
    >();
    for (const v of await values(m.batchSize)) {
      const key = byLabels(v, ['deployment', 'version']);
      let e = batch.get(key);
      if (!e)
        batch.set(
          key,
          (e = {
            deployment: String(v.labels.deployment),
            version: String(v.labels.version),
            buckets: [],
            count: 0,
            sum: 0,
          }),
        );
      if (v.metricName?.endsWith('_bucket'))
        e.buckets.push({ le: v.labels.le === '+Inf' ? '+Inf' : Number(v.labels.le), count: v.value });
      else if (v.metricName?.endsWith('_count')) e.count = v.value;
      else if (v.metricName?.endsWith('_sum')) e.sum = v.value;
    }
    const loads = new Map<
      string,
      { deployment: string; version: string; count: number; sum: number; cold_starts: number }
    >();
    for (const v of await values(m.modelLoad)) {
      const key = byLabels(v, ['deployment', 'version']);
      let e = loads.get(key);
      if (!e)
        loads.set(
          key,
          (e = {
            deployment: String(v.labels.deployment),
            version: String(v.labels.version),
            count: 0,
            sum: 0,
            cold_starts: 0,
          }),
        );
      if (v.metricName?.endsWith('_count')) e.count = v.value;
      else if (v.metricName?.endsWith('_sum')) e.sum = v.value;
    }
    for (const v of await values(m.coldStarts)) {
      const e = loads.get(byLabels(v, ['deployment', 'version']));
      if (e) e.cold_starts = v.value;
    }
    const status = ctx.status();
    const template = ctx.consoleConfig.trace_url_template ?? null;
    return {
      generated_at: new Date().toISOString(),
      node: {
        uptime_seconds: status.uptime_seconds,
        ready: status.ready,
        draining: status.draining,
        event_loop_lag_ms: Math.round(ctx.metrics.lag.p99Seconds() * 1e6) / 1000,
        rss_bytes: process.memoryUsage.rss(),
      },
      deployments: [...ctx.router.deployments.values()].map((d) => ({
        name: d.name,
        versions: [...d.pools.values()].map((p) => {
          const c = ctx.replicaHealth(p);
          return {
            version: p.version,
            weight: d.weightOf(p.version),
            state: p.retired ? 'retired' : 'active',
            target_replicas: p.targetReplicas,
            queued: p.queued,
            restarts: c.restarts,
            crash_loop: c.crashLoop,
            last_error: c.lastError ?? null,
            replicas: p.replicas.map(replicaView),
          };
        }),
      })),
      rejected: (await values(m.rejected)).map((v) => ({
        deployment: String(v.labels.deployment),
        reason: String(v.labels.reason),
        count: v.value,
      })),
      restarts: (await values(m.restarts)).map((v) => ({
        deployment: String(v.labels.deployment),
        reason: String(v.labels.reason),
        count: v.value,
      })),
      batch_sizes: [...batch.values()],
      model_loads: [...loads.values()].map((e) => ({
        deployment: e.deployment,
        version: e.version,
        count: e.count,
        mean_seconds: e.count > 0 ? e.sum / e.count : null,
        cold_starts: e.cold_starts,
      })),
      traces: ctx.plane.traces.list().map((t) => ({
        trace_id: t.traceId,
        at: new Date(t.at).toISOString(),
        deployment: t.deployment,
        version: t.version,
        status: t.status,
        duration_ms: Math.round(t.durationMs * 1000) / 1000,
      })),
      trace_url_template: template,
    };
  },
};
