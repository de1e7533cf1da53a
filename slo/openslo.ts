import { z } from 'zod';
import type { SloDefinition } from './definition.ts';
import { formatDuration, parseDuration } from './duration.ts';
import { errorRatioExpr } from './prometheus-rules.ts';

/**
 * OpenSLO v1 `SLO` objects in and out (budgetingMethod Occurrences, ratioMetric good/total).
 * vigil can only compute the SLIs it measures itself (availability and latency of a deployment),
 * so an export carries vigil's own annotations next to the PromQL, and an import reads them, or
 * failing that recognises the PromQL vigil writes.
 */
const ANNOTATION_KIND = 'vigil.dev/kind';
const ANNOTATION_THRESHOLD = 'vigil.dev/latency-threshold-ms';
const ANNOTATION_VERSION = 'vigil.dev/version';

const metricSource = z.object({
  metricSource: z.object({ type: z.string(), spec: z.record(z.string(), z.unknown()) }),
});

export const openSloSchema = z.object({
  apiVersion: z.literal('openslo/v1'),
  kind: z.literal('SLO'),
  metadata: z.object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/),
    displayName: z.string().optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.object({
    description: z.string().optional(),
    service: z.string().min(1),
    indicator: z.object({
      metadata: z.object({ name: z.string() }).optional(),
      spec: z.object({
        ratioMetric: z.object({
          counter: z.boolean().optional(),
          good: metricSource.optional(),
          bad: metricSource.optional(),
          total: metricSource,
        }),
      }),
    }),
    timeWindow: z.array(z.object({ duration: z.string(), isRolling: z.boolean().optional() })).min(1),
    budgetingMethod: z.literal('Occurrences', { error: 'vigil supports budgetingMethod: Occurrences only' }),
    objectives: z.array(z.object({ displayName: z.string().optional(), target: z.number().gt(0).lt(1) })).min(1),
  }),
});

export type OpenSlo = z.infer<typeof openSloSchema>;

function promSource(query: string) {
  return { metricSource: { type: 'Prometheus', spec: { query } } };
}

/** Exports an SLO; the good and total queries are the numerator and denominator vigil alerts on. */
export function toOpenSlo(slo: SloDefinition): OpenSlo {
  const selector = `deployment="${slo.deployment}"${slo.version ? `,version="${slo.version}"` : ''}`;
  const ratio =
    slo.kind === 'correctness'
      ? {
          counter: true,
          good: promSource(`sum(vigil_probe_results_total{${selector},result="pass"})`),
          total: promSource(`sum(vigil_probe_results_total{${selector}})`),
        }
      : slo.kind === 'availability'
        ? {
            counter: true,
            good: promSource(`sum(vigil_requests_total{${selector},code!~"5.."})`),
            total: promSource(`sum(vigil_requests_total{${selector}})`),
          }
        : {
            counter: true,
            good: promSource(
              `sum(vigil_request_duration_seconds_bucket{${selector},le="${slo.latencyThresholdSeconds}"})`,
            ),
            total: promSource(`sum(vigil_request_duration_seconds_count{${selector}})`),
          };
  const annotations: Record<string, string> = {
    [ANNOTATION_KIND]: slo.kind,
    'vigil.dev/error-ratio-promql': errorRatioExpr(slo, '5m'),
  };
  if (slo.latencyThresholdSeconds !== null)
    annotations[ANNOTATION_THRESHOLD] = String(Math.round(slo.latencyThresholdSeconds * 1000));
  if (slo.version) annotations[ANNOTATION_VERSION] = slo.version;
  return {
    apiVersion: 'openslo/v1',
    kind: 'SLO',
    metadata: { name: slo.id, displayName: `${slo.deployment} ${slo.kind}`, annotations },
    spec: {
      ...(slo.description ? { description: slo.description } : {}),
      service: slo.deployment,
      indicator: { metadata: { name: `${slo.id}-sli` }, spec: { ratioMetric: ratio } },
      timeWindow: [{ duration: formatDuration(slo.windowSeconds), isRolling: true }],
      budgetingMethod: 'Occurrences',
      objectives: [{ displayName: `${slo.kind} objective`, target: slo.objective }],
    },
  };
}

/** Imports an OpenSLO v1 SLO; throws with a clear message when vigil cannot compute its SLI. */
export function fromOpenSlo(doc: unknown): SloDefinition {
  const parsed = openSloSchema.safeParse(doc);
  if (!parsed.success) {
    throw new Error(
      `not an OpenSLO v1 SLO vigil can use: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const o = parsed.data;
  const ann = o.metadata.annotations ?? {};
  const goodQuery = String(o.spec.indicator.spec.ratioMetric.good?.metricSource.spec.query ?? '');
  let kind = ann[ANNOTATION_KIND];
  let thresholdMs = ann[ANNOTATION_THRESHOLD] ? Number(ann[ANNOTATION_THRESHOLD]) : undefined;
  if (!kind) {
    const le = /le="([0-9.]+)"/.exec(goodQuery);
    if (le) {
      kind = 'latency';
      thresholdMs = Number(le[1]) * 1000;
    } else if (goodQuery.includes('vigil_requests_total')) {
      kind = 'availability';
    } else if (goodQuery.includes('vigil_probe_results_total')) {
      kind = 'correctness';
    }
  }
  if (kind !== 'availability' && kind !== 'latency' && kind !== 'correctness') {
    throw new Error(
      `SLO "${o.metadata.name}": vigil computes availability, latency and correctness SLIs from its own metrics; annotate it with ${ANNOTATION_KIND}`,
    );
  }
  if (kind === 'latency' && !(thresholdMs! > 0))
    throw new Error(`SLO "${o.metadata.name}": a latency SLO needs ${ANNOTATION_THRESHOLD}`);
  return {
    id: o.metadata.name,
    deployment: o.spec.service,
    version: ann[ANNOTATION_VERSION] ?? null,
    kind,
    objective: o.spec.objectives[0]!.target,
    windowSeconds: parseDuration(o.spec.timeWindow[0]!.duration),
    latencyThresholdSeconds: kind === 'latency' ? thresholdMs! / 1000 : null,
    description: o.spec.description ?? null,
  };
}
