import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analyzeCanary,
  quantileFromBuckets,
  wilsonInterval,
  type AnalysisInput,
  type AnalysisThresholds,
} from '../../serving/rollout/canary-analysis.ts';
import { emptySummary, LiveWindow, type WindowSummary } from '../../serving/rollout/live-window.ts';
import { decideRollout } from '../../serving/rollout/rollout-policy.ts';
import { DURATION_BUCKETS } from '../../serving/telemetry/buckets.ts';

const THRESHOLDS: AnalysisThresholds = {
  minRequests: 50,
  confidence: 0.99,
  burnRateFactor: 14.4,
  objective: 0.999,
  maxLatencyRatio: 1.5,
  minLatencyDeltaMs: 50,
  latencyMinRequests: 100,
  minAgreement: null,
  minMirrorSamples: 50,
};

/** A summary whose requests all took `latencySeconds` (a DURATION_BUCKETS bound, so its slot is exact). */
function summary(requests: number, errors: number, latencySeconds = 0.05): WindowSummary {
  const s = emptySummary();
  s.requests = requests;
  s.errors = errors;
  const slot = DURATION_BUCKETS.indexOf(latencySeconds);
  if (slot < 0) throw new Error(`${latencySeconds} is not a bucket bound`);
  s.latencyCounts[slot] = requests;
  return s;
}

function input(
  parts: Partial<Omit<AnalysisInput, 'thresholds'>> & { thresholds?: Partial<AnalysisThresholds> },
): AnalysisInput {
  const canaryLong = parts.canaryLong ?? summary(0, 0);
  return {
    canaryLong,
    canaryShort: parts.canaryShort ?? canaryLong,
    stable: parts.stable ?? summary(0, 0),
    agreement: parts.agreement,
    thresholds: { ...THRESHOLDS, ...parts.thresholds },
    windows: parts.windows,
  };
}

const check = (a: ReturnType<typeof analyzeCanary>, name: string) => a.checks.find((c) => c.name === name);

describe('wilsonInterval', () => {
  it('matches published values', () => {
    // 5/10 at 95%: [0.2366, 0.7634]; 0/10 at 95%: [0, 0.2775] (Wilson 1927; Newcombe 1998, table I)
    const half = wilsonInterval(5, 10, 0.95);
    expect(half.lower).toBeCloseTo(0.2366, 4);
    expect(half.upper).toBeCloseTo(0.7634, 4);
    const none = wilsonInterval(0, 10, 0.95);
    expect(none.lower).toBe(0);
    expect(none.upper).toBeCloseTo(0.2775, 4);
    const all = wilsonInterval(10, 10, 0.95);
    expect(all.upper).toBe(1);
    expect(all.lower).toBeCloseTo(0.7225, 4);
  });

  it('knows nothing without trials, and rejects nonsense', () => {
    expect(wilsonInterval(0, 0, 0.99)).toEqual({ lower: 0, upper: 1 });
    expect(() => wilsonInterval(1, 10, 1)).toThrow(RangeError);
    expect(() => wilsonInterval(1, 10, 0)).toThrow(RangeError);
    expect(() => wilsonInterval(11, 10, 0.99)).toThrow(RangeError);
  });

  it('contains the point estimate, stays in [0, 1], and widens with confidence', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0.5, max: 0.9999, noNaN: true }),
        (n, share, conf) => {
          const x = Math.round(share * n);
          const { lower, upper } = wilsonInterval(x, n, conf);
          expect(lower).toBeGreaterThanOrEqual(0);
          expect(upper).toBeLessThanOrEqual(1);
          expect(lower).toBeLessThanOrEqual(x / n);
          expect(upper).toBeGreaterThanOrEqual(x / n);
          const wider = wilsonInterval(x, n, Math.min(0.99999, conf + (1 - conf) / 2));
          expect(wider.lower).toBeLessThanOrEqual(lower + 1e-12);
          expect(wider.upper).toBeGreaterThanOrEqual(upper - 1e-12);
        },
      ),
    );
  });
});

describe('quantileFromBuckets', () => {
  it('interpolates inside the bucket, the first one from 0', () => {
    expect(quantileFromBuckets(emptySummary().latencyCounts, 0.99)).toBeNull();
    expect(quantileFromBuckets(summary(100, 0, 0.0005).latencyCounts, 0.5)).toBeCloseTo(0.00025, 12);
    // 100 requests in (0.1, 0.2]: p99 is 99% of the way through the bucket
    expect(quantileFromBuckets(summary(100, 0, 0.2).latencyCounts, 0.99)).toBeCloseTo(0.199, 12);
    // 90 in (0.025, 0.05] and 10 in (0.5, 1]: p99 is 9/10 into the slow bucket
    const mixed = summary(90, 0, 0.05).latencyCounts;
    mixed[DURATION_BUCKETS.indexOf(1)] = 10;
    expect(quantileFromBuckets(mixed, 0.99)).toBeCloseTo(0.95, 12);
    expect(quantileFromBuckets(mixed, 0.5)).toBeCloseTo(0.025 + 0.025 * (50 / 90), 12);
  });

  it('answers the largest bound from the overflow slot, and the lowest occupied bucket for q = 0', () => {
    const counts = emptySummary().latencyCounts;
    counts[DURATION_BUCKETS.length] = 5;
    expect(quantileFromBuckets(counts, 0.99)).toBe(30);
    counts[DURATION_BUCKETS.indexOf(0.1)] = 5;
    expect(quantileFromBuckets(counts, 0)).toBeCloseTo(0.05, 12);
  });

  it('is monotone in q and stays within [0, largest bound]', () => {
    const counts = fc.array(fc.integer({ min: 0, max: 50 }), {
      minLength: DURATION_BUCKETS.length + 1,
      maxLength: DURATION_BUCKETS.length + 1,
    });
    fc.assert(
      fc.property(
        counts,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (c, q1, q2) => {
          const a = quantileFromBuckets(c, Math.min(q1, q2));
          const b = quantileFromBuckets(c, Math.max(q1, q2));
          if (c.every((x) => x === 0)) {
            expect(a).toBeNull();
            return;
          }
          expect(a).not.toBeNull();
          expect(a!).toBeLessThanOrEqual(b! + 1e-12);
          expect(a!).toBeGreaterThanOrEqual(0);
          expect(b!).toBeLessThanOrEqual(30);
        },
      ),
    );
  });
});

describe('error_burn_rate', () => {
  it('is inconclusive below minRequests, naming both counts', () => {
    const a = analyzeCanary(input({ canaryLong: summary(49, 49), stable: summary(1000, 0) }));
    expect(a.verdict).toBe('inconclusive');
    expect(check(a, 'error_burn_rate')).toMatchObject({ outcome: 'inconclusive', value: null });
    expect(a.summary).toContain('waiting for 50 canary requests, have 49');
  });

  it('does not roll back a healthy canary for one error in 50 while stable is at 0/450', () => {
    const a = analyzeCanary(
      input({ canaryLong: summary(50, 1), canaryShort: summary(50, 1), stable: summary(450, 0) }),
    );
    const burn = check(a, 'error_burn_rate')!;
    // The point burn rate alone (20x on both windows) would have rolled it back.
    expect(burn.value).toBeCloseTo(20, 9);
    expect(burn.value!).toBeGreaterThan(THRESHOLDS.burnRateFactor);
    expect(burn.outcome).toBe('pass');
    expect(a.verdict).not.toBe('fail');
  });

  it('fails at 20% errors once 50 canary requests are in, stable clean', () => {
    const a = analyzeCanary(
      input({
        canaryLong: summary(50, 10),
        canaryShort: summary(50, 10),
        stable: summary(450, 0),
        windows: { longSeconds: 5, shortSeconds: 10 },
      }),
    );
    expect(a.verdict).toBe('fail');
    expect(check(a, 'error_burn_rate')).toMatchObject({ outcome: 'fail', threshold: 14.4 });
    expect(check(a, 'error_burn_rate')!.value).toBeCloseTo(200, 9);
    expect(a.summary).toContain(
      'canary error ratio 20.0% (10/50, burn rate 200x over 5 s and 200x over 10 s) vs stable 0.0% (0/450)',
    );
    expect(a.summary).toContain('burn > 14.4x');
    expect(a.canary).toMatchObject({ requests: 50, errors: 10, errorRatio: 0.2 });
    expect(a.stable).toMatchObject({ requests: 450, errors: 0, errorRatio: 0 });
  });

  it('with 20% errors at 10 req/s through a LiveWindow, rolls back at the first tick with >= 50 requests', () => {
    const w = new LiveWindow();
    const start = 1_700_000_000_000;
    let firstFail: { at: number; requests: number } | undefined;
    let lastBeforeFail: string | undefined;
    for (let i = 0; i < 300 && !firstFail; i++) {
      const now = start + i * 100; // one canary request every 100 ms, one in five a 500
      w.record('d', 'canary', i % 5 === 4 ? 500 : 200, 0.05, now);
      for (let k = 0; k < 9; k++) w.record('d', 'stable', 200, 0.05, now); // 90 req/s on stable
      if (i % 20 !== 19) continue; // analyse every 2 s, like the controller
      const a = analyzeCanary({
        canaryLong: w.summary('d', 'canary', start, now),
        canaryShort: w.summary('d', 'canary', now - 10_000, now),
        stable: w.summary('d', 'stable', now - 60_000, now),
        thresholds: THRESHOLDS,
      });
      if (a.verdict === 'fail') firstFail = { at: now - start, requests: a.canary.requests };
      else lastBeforeFail = a.verdict;
    }
    expect(lastBeforeFail).toBe('inconclusive'); // 40 requests at 4 s: still waiting
    expect(firstFail).toBeDefined();
    expect(firstFail!.requests).toBeGreaterThanOrEqual(50);
    expect(firstFail!.requests).toBeLessThanOrEqual(60);
    expect(firstFail!.at).toBeLessThan(6_000);
  });

  it('needs the short window to burn too: an error burst that has stopped does not fail', () => {
    const a = analyzeCanary(
      input({ canaryLong: summary(200, 40), canaryShort: summary(100, 0), stable: summary(1800, 0) }),
    );
    expect(check(a, 'error_burn_rate')!.outcome).toBe('pass');
    // ...and an empty short window counts as burn 0, not NaN
    const idle = analyzeCanary(
      input({ canaryLong: summary(200, 40), canaryShort: summary(0, 0), stable: summary(1800, 0) }),
    );
    expect(check(idle, 'error_burn_rate')!.outcome).toBe('pass');
  });

  it('does not fail a canary that is no worse than a bad stable', () => {
    const a = analyzeCanary(input({ canaryLong: summary(200, 40), stable: summary(2000, 400) }));
    expect(check(a, 'error_burn_rate')!.value).toBeCloseTo(200, 9);
    expect(check(a, 'error_burn_rate')!.outcome).toBe('pass');
  });

  it('judges against the budget burning at the page factor when stable has too few requests', () => {
    const a = analyzeCanary(input({ canaryLong: summary(50, 10), stable: summary(10, 0) }));
    expect(a.verdict).toBe('fail');
    expect(a.summary).toContain('the budget burning at 14.4x, 1.4% (stable has 10 requests, too few to compare)');
  });

  it('does not roll back for one error in 50 when stable has no traffic (the 100% step)', () => {
    const a = analyzeCanary(input({ canaryLong: summary(50, 1), canaryShort: summary(50, 1), stable: summary(0, 0) }));
    expect(check(a, 'error_burn_rate')!.outcome).toBe('pass');
  });
});

describe('latency_p99', () => {
  it('is inconclusive below latencyMinRequests canary requests', () => {
    const a = analyzeCanary(input({ canaryLong: summary(99, 0, 1), stable: summary(1000, 0, 0.05) }));
    expect(check(a, 'latency_p99')!.outcome).toBe('inconclusive');
    expect(a.verdict).toBe('inconclusive');
  });

  it('fails when p99 is both 1.5x and 50 ms above stable, with the numbers in ms', () => {
    const a = analyzeCanary(input({ canaryLong: summary(200, 0, 0.5), stable: summary(1000, 0, 0.2) }));
    const latency = check(a, 'latency_p99')!;
    expect(latency.outcome).toBe('fail');
    expect(latency.value).toBeCloseTo(497.5, 6); // 0.25 + 0.25 * 0.99 s
    expect(latency.threshold).toBeCloseTo(199 * 1.5, 6);
    expect(a.canary.p99Ms).toBeCloseTo(497.5, 6);
    expect(a.stable.p99Ms).toBeCloseTo(199, 6);
    expect(a.verdict).toBe('fail');
    expect(a.summary).toBe('canary p99 498 ms vs stable p99 199 ms (2.5x, +299 ms); limit: > 1.5x and > +50 ms');
  });

  it('does not fail a fast model on the ratio alone: the delta floor holds', () => {
    // 0.005 s buckets: canary p99 ~4.98 ms vs stable ~0.995 ms is 5x slower but only +4 ms
    const a = analyzeCanary(input({ canaryLong: summary(200, 0, 0.005), stable: summary(1000, 0, 0.001) }));
    const latency = check(a, 'latency_p99')!;
    expect(latency.value! / a.stable.p99Ms!).toBeGreaterThan(1.5);
    expect(latency.outcome).toBe('pass');
    expect(latency.threshold).toBeCloseTo(a.stable.p99Ms! + 50, 6);
    // the same slowdown with the floor lowered does fail, so the floor is what held it
    const strict = analyzeCanary(
      input({
        canaryLong: summary(200, 0, 0.005),
        stable: summary(1000, 0, 0.001),
        thresholds: { minLatencyDeltaMs: 1 },
      }),
    );
    expect(check(strict, 'latency_p99')!.outcome).toBe('fail');
  });

  it('does not fail on delta alone when the ratio is under the limit', () => {
    // 10 s bucket vs 5 s bucket: +4.95 s but only 1.98x; raise the ratio limit to 2.5
    const a = analyzeCanary(
      input({ canaryLong: summary(200, 0, 10), stable: summary(1000, 0, 5), thresholds: { maxLatencyRatio: 2.5 } }),
    );
    expect(check(a, 'latency_p99')!.outcome).toBe('pass');
  });

  it('passes with "no stable baseline" when stable has too few requests', () => {
    const a = analyzeCanary(input({ canaryLong: summary(200, 0, 10), stable: summary(99, 0, 0.05) }));
    expect(check(a, 'latency_p99')).toMatchObject({ outcome: 'pass', threshold: null });
    expect(check(a, 'latency_p99')!.detail).toContain('no stable baseline');
  });
});

describe('output_agreement', () => {
  const healthy = { canaryLong: summary(200, 0), stable: summary(1000, 0) };

  it('is absent when the gate is off', () => {
    const a = analyzeCanary(input({ ...healthy, agreement: { compared: 100, agreed: 0 } }));
    expect(check(a, 'output_agreement')).toBeUndefined();
    expect(a.verdict).toBe('pass');
  });

  it('is inconclusive without comparisons or with too few', () => {
    const none = analyzeCanary(input({ ...healthy, thresholds: { minAgreement: 0.95 } }));
    expect(check(none, 'output_agreement')!.outcome).toBe('inconclusive');
    expect(none.verdict).toBe('inconclusive');
    const few = analyzeCanary(
      input({ ...healthy, agreement: { compared: 49, agreed: 0 }, thresholds: { minAgreement: 0.95 } }),
    );
    expect(check(few, 'output_agreement')!.outcome).toBe('inconclusive');
    expect(few.summary).toBe('waiting for 50 mirrored comparisons, have 49');
  });

  it('fails below minAgreement and passes at it', () => {
    const bad = analyzeCanary(
      input({ ...healthy, agreement: { compared: 50, agreed: 40 }, thresholds: { minAgreement: 0.95 } }),
    );
    expect(check(bad, 'output_agreement')).toMatchObject({ outcome: 'fail', value: 0.8, threshold: 0.95 });
    expect(bad.verdict).toBe('fail');
    expect(bad.summary).toBe('canary agreed with stable on 80.0% of mirrored requests (40/50); limit: >= 95.0%');
    const ok = analyzeCanary(
      input({ ...healthy, agreement: { compared: 100, agreed: 95 }, thresholds: { minAgreement: 0.95 } }),
    );
    expect(check(ok, 'output_agreement')!.outcome).toBe('pass');
    expect(ok.verdict).toBe('pass');
  });
});

describe('verdict and summary', () => {
  it('passes with a line naming both versions', () => {
    const a = analyzeCanary(input({ canaryLong: summary(200, 1, 0.1), stable: summary(1800, 9, 0.1) }));
    expect(a.verdict).toBe('pass');
    expect(a.checks.map((c) => c.outcome)).toEqual(['pass', 'pass']);
    expect(a.summary).toBe('canary error ratio 0.5% (1/200), p99 100 ms vs stable 0.5% (9/1800), p99 100 ms');
  });

  it('fail wins over inconclusive, and names every failing check', () => {
    // errors fail; latency is still waiting (fewer than 100 canary requests)
    const a = analyzeCanary(input({ canaryLong: summary(60, 30), stable: summary(1000, 0) }));
    expect(check(a, 'latency_p99')!.outcome).toBe('inconclusive');
    expect(a.verdict).toBe('fail');
    const both = analyzeCanary(input({ canaryLong: summary(200, 100, 2.5), stable: summary(1000, 0, 0.1) }));
    expect(both.checks.filter((c) => c.outcome === 'fail').map((c) => c.name)).toEqual([
      'error_burn_rate',
      'latency_p99',
    ]);
    expect(both.summary).toContain('50.0% (100/200');
    expect(both.summary).toContain('canary p99 2485 ms vs stable p99 100 ms');
  });

  it('lists every reason to wait when inconclusive', () => {
    const a = analyzeCanary(input({ canaryLong: summary(10, 0), stable: summary(1000, 0) }));
    expect(a.verdict).toBe('inconclusive');
    expect(a.summary).toBe(
      'waiting for 50 canary requests, have 10; waiting for 100 canary requests to compare p99, have 10',
    );
  });

  it('a healthy canary with everything in passes, and the policy advances on it', () => {
    const a = analyzeCanary(input({ canaryLong: summary(500, 0), stable: summary(5000, 1) }));
    expect(a.verdict).toBe('pass');
    const d = decideRollout(
      {
        status: 'Progressing',
        steps: [5, 25, 50, 100],
        stepIndex: 0,
        stepStartedAt: 0,
        intervalMs: 30_000,
        canaryReady: true,
      },
      a,
      30_000,
    );
    expect(d).toMatchObject({ kind: 'advance', stepIndex: 1, weight: 25 });
  });
});
