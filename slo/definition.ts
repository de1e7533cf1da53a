import { DURATION_BUCKETS } from '../serving/telemetry/buckets.ts';
import type { DeploymentConfig } from '../serving/config/schema.ts';
import { parseDuration } from './duration.ts';

export const sloKinds = ['availability', 'latency', 'correctness'] as const;
export type SloKind = (typeof sloKinds)[number];

/**
 * One service level objective, as the engine and the rule generator see it.
 * - availability: bad = 5xx answers, which include load shed (503) and deadlines (504);
 *   4xx are the client's doing and count as good.
 * - latency: good = answered within `latencyThresholdSeconds` (inclusive, like a histogram's le).
 * - correctness: the events are probe runs (synthetic requests with known answers, `probes:` in
 *   vigil.yaml), never user requests; good = the answer met its expectation.
 */
export interface SloDefinition {
  id: string;
  deployment: string;
  /** null: every version of the deployment counts. */
  version: string | null;
  kind: SloKind;
  objective: number;
  windowSeconds: number;
  latencyThresholdSeconds: number | null;
  description?: string | null;
}

/** Whether one finished request is a good event for this SLO. */
export function isGoodEvent(
  slo: Pick<SloDefinition, 'kind' | 'latencyThresholdSeconds'>,
  status: number,
  durationSeconds: number,
): boolean {
  if (slo.kind === 'availability') return status < 500;
  if (slo.kind === 'latency') return durationSeconds <= slo.latencyThresholdSeconds!;
  throw new Error('correctness SLIs count probe runs, not requests');
}

/** Latency thresholds must be histogram bucket bounds, or PromQL could not compute the same SLI. */
export function isValidLatencyThreshold(seconds: number): boolean {
  return DURATION_BUCKETS.includes(seconds);
}

/** The SLOs a deployment declares in vigil.yaml, as engine definitions. */
export function slosFromConfig(d: DeploymentConfig): SloDefinition[] {
  return d.slos.map((s) => ({
    id: s.name ?? `${d.name}-${s.kind}`,
    deployment: d.name,
    version: s.version ?? null,
    kind: s.kind,
    objective: s.objective,
    windowSeconds: parseDuration(s.window),
    latencyThresholdSeconds: s.threshold_ms === undefined ? null : s.threshold_ms / 1000,
  }));
}
