import { z } from 'zod';
import { controlSchemas, timestamp } from './common.ts';
import { replicaView } from './node.ts';
import { sloStatus } from './slos.ts';
import { route } from './route.ts';

/**
 * What the console's pages read, computed by the control plane so that every number has one
 * definition (serving/api/console-routes.ts): the console renders, it does not compute.
 */

export const windowSummary = z
  .object({
    window: z.enum(['1h', '24h', '7d']),
    requests: z.number(),
    errors: z.number().describe('status >= 500'),
    success_rate: z.number().nullable().describe('(requests - errors) / requests; null without requests'),
    p95_ms: z.number().nullable().describe('estimated from the latency histogram (linear within a bucket)'),
    p99_ms: z.number().nullable(),
    cpu_seconds: z.number().describe('replica CPU time (user + system) spent in the window'),
    cost_per_1k_usd: z.number().nullable().describe('null without requests or a configured price'),
  })
  .register(controlSchemas, { id: 'WindowSummary' });
export type WindowSummary = z.infer<typeof windowSummary>;

export const consoleSummary = z
  .object({
    generated_at: timestamp,
    windows: z.array(windowSummary).describe('1h, 24h, 7d in that order'),
    cpu_hour_usd: z.number().nullable().describe('console.cpu_hour_usd; null when unset'),
    active_deployments: z.number().int().describe('deployments with an active version taking traffic'),
    deployments: z.array(
      z.object({
        name: z.string(),
        versions: z.number().int().describe('versions serving now or in the last hour'),
        requests_1h: z.number(),
        success_rate_1h: z.number().nullable(),
        p99_ms_1h: z.number().nullable(),
      }),
    ),
    slos: z.array(sloStatus),
  })
  .register(controlSchemas, { id: 'ConsoleSummary' });
export type ConsoleSummary = z.infer<typeof consoleSummary>;

export const seriesPoint = z.object({
  t: z.number().describe('bucket start, epoch seconds'),
  requests: z.number(),
  errors: z.number(),
  p50_ms: z.number().nullable(),
  p95_ms: z.number().nullable(),
  p99_ms: z.number().nullable(),
});
export type SeriesPoint = z.infer<typeof seriesPoint>;

export const consoleSeries = z
  .object({
    source: z.literal('memory'),
    range_seconds: z.number(),
    step_seconds: z.number(),
    series: z
      .array(z.object({ deployment: z.string(), version: z.string(), points: z.array(seriesPoint) }))
      .describe('one per deployment and version, oldest point first, empty buckets as zero-request points'),
  })
  .register(controlSchemas, { id: 'ConsoleSeries' });
export type ConsoleSeries = z.infer<typeof consoleSeries>;

const counted = z.object({ deployment: z.string(), reason: z.string(), count: z.number() });

export const consoleRuntime = z
  .object({
    generated_at: timestamp,
    node: z.object({
      uptime_seconds: z.number(),
      ready: z.boolean(),
      draining: z.boolean(),
      event_loop_lag_ms: z.number().nullable(),
      rss_bytes: z.number(),
    }),
    deployments: z.array(
      z.object({
        name: z.string(),
        versions: z.array(
          z.object({
            version: z.string(),
            weight: z.number(),
            state: z.enum(['active', 'retired']),
            target_replicas: z.number().int(),
            queued: z.number().int(),
            restarts: z.number().int(),
            crash_loop: z.boolean(),
            last_error: z.string().nullable(),
            replicas: z.array(replicaView),
          }),
        ),
      }),
    ),
    rejected: z.array(counted).describe('since this node started'),
    restarts: z.array(counted).describe('since this node started'),
    batch_sizes: z.array(
      z.object({
        deployment: z.string(),
        version: z.string(),
        buckets: z
          .array(z.object({ le: z.union([z.number(), z.literal('+Inf')]), count: z.number() }))
          .describe('cumulative, as Prometheus’ le'),
        count: z.number(),
        sum: z.number(),
      }),
    ),
    model_loads: z.array(
      z.object({
        deployment: z.string(),
        version: z.string(),
        count: z.number(),
        mean_seconds: z.number().nullable(),
        cold_starts: z.number(),
      }),
    ),
    traces: z
      .array(
        z.object({
          trace_id: z.string(),
          at: timestamp,
          deployment: z.string(),
          version: z.string(),
          status: z.number().int(),
          duration_ms: z.number(),
        }),
      )
      .describe('newest first, sampled requests only'),
    trace_url_template: z.string().nullable().describe('e.g. http://localhost:16686/trace/{trace_id}'),
  })
  .register(controlSchemas, { id: 'ConsoleRuntime' });
export type ConsoleRuntime = z.infer<typeof consoleRuntime>;
export type ReplicaView = z.infer<typeof replicaView>;

export const consoleRoutes = {
  getConsoleSummary: route({
    method: 'GET',
    path: '/api/v1/console/summary',
    access: 'viewer',
    tag: 'console',
    summary: 'The executive summary: 1h, 24h and 7d windows, deployments, SLOs',
    status: 200,
    response: consoleSummary,
  }),
  getConsoleSeries: route({
    method: 'GET',
    path: '/api/v1/console/series',
    access: 'viewer',
    tag: 'console',
    summary: 'Per-minute requests, errors and latency quantiles per deployment and version',
    query: z.object({
      range: z.enum(['15m', '1h', '6h', '24h']).default('1h'),
      deployment: z.string().min(1).optional(),
    }),
    status: 200,
    response: consoleSeries,
  }),
  getConsoleRuntime: route({
    method: 'GET',
    path: '/api/v1/console/runtime',
    access: 'viewer',
    tag: 'console',
    summary: 'Replicas, rejections, restarts, batches, model loads and recent traces',
    status: 200,
    response: consoleRuntime,
  }),
};
