import type { ReplicaHandle } from './replica-handle.ts';

/**
 * One replica as the API shows it (`/api/v1/status`, `/api/v1/console/runtime`): its identity,
 * load, and the stats it last reported with a health ping (null until the first report).
 */
export function replicaView(r: ReplicaHandle) {
  return {
    id: r.id,
    slot: r.slot,
    state: r.state,
    pid: r.pid ?? null,
    ongoing: r.ongoing,
    sent: r.sent,
    succeeded: r.succeeded,
    provider: r.provider,
    rss_bytes: r.stats?.rssBytes ?? null,
    heap_used_bytes: r.stats?.heapUsedBytes ?? null,
    cpu_seconds: r.stats ? Math.round((r.stats.cpuUserSeconds + r.stats.cpuSystemSeconds) * 1000) / 1000 : null,
    event_loop_lag_ms: r.stats ? Math.round(r.stats.eventLoopLagSeconds * 1e6) / 1000 : null,
    load_seconds: r.loadSeconds ?? null,
    started_at: new Date(Date.now() - (performance.now() - r.startedAt)).toISOString(),
  };
}
