import 'server-only';
import type { ConsoleSeries, SeriesPoint } from './api-types';
import { consoleConfig } from './config';
import { apiGet, type ApiResult } from './vigil-api';

export type SeriesRange = '1h' | '6h' | '24h';

/** ConsoleSeries, from vigil's memory or from Prometheus (the contract only names the first). */
export type Series = Omit<ConsoleSeries, 'source'> & { source: ConsoleSeries['source'] | 'prometheus' };

const RANGE_SECONDS: Record<SeriesRange, number> = { '1h': 3600, '6h': 6 * 3600, '24h': 24 * 3600 };
const STEP_SECONDS = 60;
const PROMETHEUS_TIMEOUT_MS = 10_000;

/**
 * Requests, errors and latency per deployment and version, one point per minute. Prometheus
 * holds history across restarts, so it is preferred when the console knows where it is.
 */
export function getSeries(range: SeriesRange, deployment?: string): Promise<ApiResult<Series>> {
  if (consoleConfig.prometheusUrl) return fromPrometheus(consoleConfig.prometheusUrl, range, deployment);
  return apiGet('getConsoleSeries', { query: { range, deployment } });
}

/** Sums every series point by point: the whole node's traffic per minute (latencies do not add up, so they are left null). */
export function totalPoints(series: Series): SeriesPoint[] {
  const byT = new Map<number, SeriesPoint>();
  for (const s of series.series) {
    for (const p of s.points) {
      const acc = byT.get(p.t);
      if (acc) {
        acc.requests += p.requests;
        acc.errors += p.errors;
      } else {
        byT.set(p.t, { t: p.t, requests: p.requests, errors: p.errors, p50_ms: null, p95_ms: null, p99_ms: null });
      }
    }
  }
  return [...byT.values()].sort((a, b) => a.t - b.t);
}

interface PromMatrix {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
}

type Field = 'requests' | 'errors' | 'p50_ms' | 'p95_ms' | 'p99_ms';

async function fromPrometheus(base: string, range: SeriesRange, deployment?: string): Promise<ApiResult<Series>> {
  const rangeSeconds = RANGE_SECONDS[range];
  const end = Math.floor(Date.now() / 1000 / STEP_SECONDS) * STEP_SECONDS;
  const start = end - rangeSeconds + STEP_SECONDS;
  // Label values are quoted for PromQL; names come from vigil.yaml, but quote them anyway.
  const sel = deployment ? `deployment="${deployment.replace(/["\\]/g, '\\$&')}"` : '';
  const comma = sel ? `,${sel}` : '';
  const quantile = (q: number) =>
    `histogram_quantile(${q}, sum by (le, deployment, version) (rate(vigil_request_duration_seconds_bucket{${sel}}[5m]))) * 1000`;
  const queries: Record<Field, string | null> = {
    requests: `sum by (deployment, version) (increase(vigil_requests_total{${sel}}[1m]))`,
    errors: `sum by (deployment, version) (increase(vigil_requests_total{code=~"5.."${comma}}[1m]))`,
    p50_ms: null,
    p95_ms: quantile(0.95),
    p99_ms: quantile(0.99),
  };
  const grid = new Map<string, { deployment: string; version: string; points: Map<number, SeriesPoint> }>();
  const pointAt = (metric: Record<string, string>, t: number): SeriesPoint => {
    const key = `${metric.deployment ?? ''}\u0000${metric.version ?? ''}`;
    let s = grid.get(key);
    if (!s)
      grid.set(
        key,
        (s = { deployment: metric.deployment ?? 'unknown', version: metric.version ?? 'unknown', points: new Map() }),
      );
    let p = s.points.get(t);
    if (!p) s.points.set(t, (p = emptyPoint(t)));
    return p;
  };
  for (const [field, query] of Object.entries(queries) as Array<[Field, string | null]>) {
    if (query === null) continue;
    const res = await promQuery(base, query, start, end);
    if (!res.ok) return res;
    for (const r of res.data) {
      for (const [ts, raw] of r.values) {
        const v = Number(raw);
        if (!Number.isFinite(v)) continue; // NaN: no requests in the rate window
        // increase(...[1m]) at t covers (t - 60, t]: the bucket that starts at t - 60.
        const p = pointAt(r.metric, ts - STEP_SECONDS);
        if (field === 'requests' || field === 'errors') p[field] = Math.round(v);
        else p[field] = v;
      }
    }
  }
  const ts: number[] = [];
  for (let t = start - STEP_SECONDS; t < end; t += STEP_SECONDS) ts.push(t);
  const series = [...grid.values()]
    .sort((a, b) => a.deployment.localeCompare(b.deployment) || a.version.localeCompare(b.version))
    .map((s) => ({
      deployment: s.deployment,
      version: s.version,
      points: ts.map((t) => s.points.get(t) ?? emptyPoint(t)),
    }));
  return {
    ok: true,
    status: 200,
    data: { source: 'prometheus', range_seconds: rangeSeconds, step_seconds: STEP_SECONDS, series },
  };
}

function emptyPoint(t: number): SeriesPoint {
  return { t, requests: 0, errors: 0, p50_ms: null, p95_ms: null, p99_ms: null };
}

async function promQuery(
  base: string,
  query: string,
  start: number,
  end: number,
): Promise<ApiResult<NonNullable<PromMatrix['data']>['result']>> {
  const q = new URLSearchParams({ query, start: String(start), end: String(end), step: String(STEP_SECONDS) });
  let res: Response;
  try {
    res = await fetch(`${base}/api/v1/query_range?${q}`, {
      cache: 'no-store',
      signal: AbortSignal.timeout(PROMETHEUS_TIMEOUT_MS),
    });
  } catch {
    return {
      ok: false,
      status: 0,
      error: 'VIGIL_ERR_PROMETHEUS_UNREACHABLE',
      message: `cannot reach Prometheus at ${base}`,
    };
  }
  let body: PromMatrix | null = null;
  try {
    body = (await res.json()) as PromMatrix;
  } catch {
    // handled below: a non-JSON answer is an error like any other
  }
  if (!res.ok || !body || body.status !== 'success' || !body.data) {
    return {
      ok: false,
      status: res.status,
      error: 'VIGIL_ERR_PROMETHEUS_QUERY_FAILED',
      message: `Prometheus: ${body?.error ?? res.statusText}`,
    };
  }
  return { ok: true, status: res.status, data: body.data.result };
}
