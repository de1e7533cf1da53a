import type { SloStatus } from '../../contract/control/slos.ts';
import { errorRatio } from '../../slo/burn-rate.ts';
import type { SloDefinition } from '../../slo/definition.ts';
import { formatDuration } from '../../slo/duration.ts';
import { sliKey, type SloEvaluation } from '../../slo/evaluate-slo.ts';
import type { SliWindow } from '../../slo/sli-window.ts';

/**
 * The JSON the API (and the console) show for one SLO. `served` says whether the node serves the
 * SLO's deployment now: an SLO stays in the database when its deployment leaves vigil.yaml, so its
 * history can still be read, and it is shown as removed rather than as a live objective.
 */
export function sloStatus(
  slo: SloDefinition,
  e: SloEvaluation | undefined,
  window: SliWindow,
  now = Date.now(),
  served = true,
): SloStatus {
  const windowCounts = e?.counts[slo.windowSeconds];
  // Versions seen in the last hour, each with its own short-window burn (the canary view).
  const versions = [...window.keysSince(now - 3_600_000, `${slo.id}|`)].map((k) => k.slice(slo.id.length + 1));
  const perVersion = Object.fromEntries(
    versions.map((v) => {
      const k = sliKey(slo.id, v);
      const h = window.totals(now, 3_600_000, (x) => x === k);
      const m5 = window.totals(now, 300_000, (x) => x === k);
      return [
        v,
        {
          requests_1h: h.total,
          error_ratio_1h: errorRatio(h),
          burn_rate_1h: errorRatio(h) / (1 - slo.objective),
          burn_rate_5m: errorRatio(m5) / (1 - slo.objective),
        },
      ];
    }),
  );
  return {
    id: slo.id,
    deployment: slo.deployment,
    deployment_served: served,
    version: slo.version,
    kind: slo.kind,
    objective: slo.objective,
    window: formatDuration(slo.windowSeconds),
    latency_threshold_ms: slo.latencyThresholdSeconds === null ? null : slo.latencyThresholdSeconds * 1000,
    description: slo.description ?? null,
    evaluated_at: e ? new Date(e.at).toISOString() : null,
    sli: windowCounts && windowCounts.total > 0 ? 1 - errorRatio(windowCounts) : null,
    events: windowCounts ?? null,
    error_budget_remaining: e && windowCounts && windowCounts.total > 0 ? e.budget.remaining : null,
    seconds_to_exhaustion: e?.budget.secondsToExhaustion ?? null,
    burn_rates: e
      ? Object.fromEntries(Object.entries(e.burn.burnRates).map(([s, b]) => [formatDuration(Number(s)), b]))
      : {},
    alerts: e
      ? { page: e.alerts.page.status.state, ticket: e.alerts.ticket.status.state }
      : { page: 'inactive', ticket: 'inactive' },
    versions: perVersion,
  };
}
