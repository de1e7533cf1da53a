import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { fingerprint, inactiveAlert, stepAlert } from '../../slo/alert-state.ts';
import { buildWebhookPayload, signPayload, verifySignature, ZERO_TIME } from '../../slo/alertmanager-payload.ts';
import type { SloDefinition } from '../../slo/definition.ts';
import { formatDuration, parseDuration } from '../../slo/duration.ts';
import { fromOpenSlo, toOpenSlo } from '../../slo/openslo.ts';

describe('alert state machine', () => {
  it('goes inactive → pending → firing → resolved, honouring `for` like Prometheus', () => {
    let s = stepAlert(inactiveAlert, true, 0, 120);
    expect(s.status.state).toBe('pending');
    s = stepAlert(s.status, true, 60_000, 120);
    expect(s.status.state).toBe('pending');
    s = stepAlert(s.status, true, 120_000, 120);
    expect(s.status.state).toBe('firing');
    expect(s.transitions).toEqual([{ from: 'pending', to: 'firing', at: 120_000 }]);
    s = stepAlert(s.status, false, 180_000, 120);
    expect(s.status).toMatchObject({ state: 'resolved', resolvedAt: 180_000 });
    s = stepAlert(s.status, false, 240_000, 120);
    expect(s.transitions).toEqual([]);
  });

  it('fires at once with for = 0, and a pending alert that clears goes back to inactive silently', () => {
    const s = stepAlert(inactiveAlert, true, 5, 0);
    expect(s.status.state).toBe('firing');
    expect(s.transitions.map((t) => t.to)).toEqual(['pending', 'firing']);
    const p = stepAlert(stepAlert(inactiveAlert, true, 0, 60).status, false, 10, 60);
    expect(p.status.state).toBe('inactive');
  });

  it('fingerprints label sets deterministically, whatever the key order', () => {
    expect(fingerprint({ a: '1', b: '2' })).toBe(fingerprint({ b: '2', a: '1' }));
    expect(fingerprint({ a: '1', b: '2' })).not.toBe(fingerprint({ a: '1', b: '3' }));
    expect(fingerprint({ a: '1' })).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('Alertmanager webhook payload', () => {
  it('has every field of version 4 and verifiable signatures', () => {
    const alert = {
      status: 'firing' as const,
      labels: { alertname: 'X', slo_id: 's', severity: 'page' },
      annotations: { summary: 'hi' },
      startsAt: '2026-01-01T00:00:00Z',
      endsAt: ZERO_TIME,
      generatorURL: 'http://v/x',
      fingerprint: 'abc',
    };
    const p = buildWebhookPayload('oncall', 'http://vigil', [alert]);
    expect(p).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'oncall',
      truncatedAlerts: 0,
      externalURL: 'http://vigil',
      groupLabels: { alertname: 'X', slo_id: 's' },
      commonLabels: alert.labels,
      commonAnnotations: { summary: 'hi' },
    });
    expect(p.groupKey).toBe('{}:{alertname="X", slo_id="s"}');
    const body = JSON.stringify(p);
    const sig = signPayload('secret', '1700000000', body);
    expect(verifySignature('secret', '1700000000', body, sig)).toBe(true);
    expect(verifySignature('secret', '1700000001', body, sig)).toBe(false);
    expect(verifySignature('other', '1700000000', body, sig)).toBe(false);
  });
});

describe('OpenSLO v1', () => {
  const slos: SloDefinition[] = [
    {
      id: 'cls-availability',
      deployment: 'cls',
      version: null,
      kind: 'availability',
      objective: 0.999,
      windowSeconds: 28 * 86400,
      latencyThresholdSeconds: null,
      description: null,
    },
    {
      id: 'cls-latency',
      deployment: 'cls',
      version: 'v2',
      kind: 'latency',
      objective: 0.99,
      windowSeconds: 30 * 86400,
      latencyThresholdSeconds: 0.2,
      description: 'fast enough',
    },
  ];
  it('round-trips through YAML export and import', () => {
    for (const slo of slos) {
      const doc = toOpenSlo(slo);
      expect(doc.spec.budgetingMethod).toBe('Occurrences');
      expect(doc.spec.indicator.spec.ratioMetric.total.metricSource.type).toBe('Prometheus');
      expect(fromOpenSlo(parse(stringify(doc)))).toEqual(slo);
    }
  });

  it('recognises vigil PromQL without annotations, and refuses SLIs vigil cannot compute', () => {
    const doc = toOpenSlo(slos[1]!);
    delete doc.metadata.annotations;
    expect(fromOpenSlo(doc)).toMatchObject({ kind: 'latency', latencyThresholdSeconds: 0.2, version: null });
    const foreign = { ...toOpenSlo(slos[0]!), metadata: { name: 'x' } };
    foreign.spec.indicator.spec.ratioMetric.good = {
      metricSource: { type: 'Datadog', spec: { query: 'sum:requests.ok' } },
    };
    expect(() => fromOpenSlo(foreign)).toThrow(/vigil computes availability, latency and correctness/);
    expect(() =>
      fromOpenSlo({ ...toOpenSlo(slos[0]!), spec: { ...toOpenSlo(slos[0]!).spec, budgetingMethod: 'Timeslices' } }),
    ).toThrow(/Occurrences/);
  });
});

describe('durations', () => {
  it('parse and format', () => {
    expect(parseDuration('28d')).toBe(2419200);
    expect(parseDuration('5m')).toBe(300);
    expect(formatDuration(2419200)).toBe('28d');
    expect(formatDuration(5400)).toBe('90m');
    expect(() => parseDuration('5 minutes')).toThrow();
  });
});
