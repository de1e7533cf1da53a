import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analyzeCanary,
  binomialTail,
  quantileFromBuckets,
  wilsonInterval,
  type AnalysisInput,
  type AnalysisThresholds,
} from '../../serving/rollout/canary-analysis.ts';
import { emptySummary, LiveWindow, type WindowSummary } from '../../serving/rollout/live-window.ts';
import { decideRollout } from '../../serving/rollout/rollout-policy.ts';
import { DURATION_BUCKETS } from '../../serving/telemetry/buckets.ts';

const THRESHOLDS: AnalysisThresholds = {
  minRequests: 10,
  confidence: 0.99,
  burnRateFactor: 14.4,
  objective: 0.999,
  maxLatencyRatio: 1.2,
  minLatencyDeltaMs: 20,
  latencyMinRequests: 20,
  minExcessShare: 0.1,
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

/** Spreads a summary over `n` seconds as evenly as whole numbers allow. */
function overSeconds(total: WindowSummary, n: number): WindowSummary[] {
  const share = (x: number, i: number) => Math.floor(x / n) + (i < x % n ? 1 : 0);
  return Array.from({ length: n }, (_, i) => {
    const s = emptySummary();
    s.requests = share(total.requests, i);
    s.errors = share(total.errors, i);
    s.latencyCounts = total.latencyCounts.map((c) => share(c, i));
    return s;
  });
}

/** An interval of 8 seconds: `older` spread over its first 4, `newer` over its last 4. */
function parts(older: WindowSummary, newer: WindowSummary): Interval {
  return { seconds: [...overSeconds(older, 4), ...overSeconds(newer, 4)] };
}

/** The same traffic in both parts: `summary(n, e, l)` in each. */
function even(requests: number, errors: number, latencySeconds = 0.05): Interval {
  return parts(summary(requests, errors, latencySeconds), summary(requests, errors, latencySeconds));
}

interface Interval {
  seconds: WindowSummary[];
}

function input(
  p: { canary?: Interval; stable?: Interval; agreement?: AnalysisInput['agreement'] } & {
    thresholds?: Partial<AnalysisThresholds>;
    windows?: AnalysisInput['windows'];
  },
): AnalysisInput {
  return {
    canary: (p.canary ?? even(0, 0)).seconds,
    stable: (p.stable ?? even(0, 0)).seconds,
    shortSeconds: 4,
    agreement: p.agreement,
    thresholds: { ...THRESHOLDS, ...p.thresholds },
    windows: p.windows,
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

describe('binomialTail', () => {
  it('matches exact sums, tiny tails included', () => {
    // P(X >= 8), X ~ Binomial(10, 1/2) = (45 + 10 + 1) / 1024
    expect(binomialTail(8, 10, 0.5)).toBeCloseTo(56 / 1024, 12);
    // Two errors in 8 requests where the canary fails nothing else (page rate, 1.44%): a burst at 1%
    expect(binomialTail(2, 8, 0.0144)).toBeCloseTo(0.005480541954824335, 12);
    // Five errors in 100 requests at 0.1%: a tail of 7e-8 keeps its digits
    expect(binomialTail(5, 100, 0.001) / 6.956098934022622e-8).toBeCloseTo(1, 9);
    expect(binomialTail(0, 10, 0.3)).toBe(1);
    expect(binomialTail(11, 10, 0.3)).toBe(0);
    expect(binomialTail(3, 10, 0)).toBe(0);
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
    const a = analyzeCanary(input({ canary: parts(summary(4, 4), summary(5, 5)), stable: even(500, 0) }));
    expect(a.verdict).toBe('inconclusive');
    expect(check(a, 'error_burn_rate')).toMatchObject({ outcome: 'inconclusive', value: null });
    expect(a.summary).toContain('waiting for 10 canary requests, have 9');
  });

  it('does not roll back a healthy canary for one error in 50 while stable is at 0/450', () => {
    const a = analyzeCanary(input({ canary: parts(summary(25, 0), summary(25, 1)), stable: even(225, 0) }));
    const burn = check(a, 'error_burn_rate')!;
    // The point burn rate alone (20x) would have rolled it back.
    expect(burn.value).toBeCloseTo(20, 9);
    expect(burn.outcome).toBe('pass');
  });

  it('fails at 20% errors, naming the test, both samples, the bound and its confidence', () => {
    const a = analyzeCanary(
      input({ canary: even(25, 5), stable: even(225, 0), windows: { longSeconds: 5, shortSeconds: 2 } }),
    );
    expect(a.verdict).toBe('fail');
    expect(check(a, 'error_burn_rate')).toMatchObject({ outcome: 'fail', threshold: 14.4 });
    expect(check(a, 'error_burn_rate')!.value).toBeCloseTo(200, 9);
    expect(a.summary).toContain(
      'error_burn_rate: canary 20.0% (10/50) over 5 s, burn rate 200x, vs stable 0.0% (0/450) over the same interval; ' +
        '99% lower bound 9.4% vs the page rate 1.4% (the budget burning at 14.4x): above; ' +
        'without its error bursts 10/50 above',
    );
    expect(a.canary).toMatchObject({ requests: 50, errors: 10, errorRatio: 0.2 });
  });

  it('a canary failing every request is out after a handful', () => {
    const a = analyzeCanary(input({ canary: even(5, 5), stable: even(45, 0) }));
    expect(a.verdict).toBe('fail');
  });

  it('an error burst of two seconds is not enough, however large; four seconds are', () => {
    const seconds = (errorsAt: number[]) => ({
      seconds: Array.from({ length: 8 }, (_, i) => summary(5, errorsAt.includes(i) ? 5 : 0)),
    });
    for (const at of [
      [1, 2],
      [6, 7],
      [0, 7],
    ]) {
      const burst = analyzeCanary(input({ canary: seconds(at), stable: even(180, 0) }));
      expect(check(burst, 'error_burn_rate')!.outcome, `errors in seconds ${at}`).toBe('pass');
    }
    const lasting = analyzeCanary(input({ canary: seconds([2, 3, 4, 5]), stable: even(180, 0) }));
    expect(check(lasting, 'error_burn_rate')!.outcome).toBe('fail');
  });

  it('with 10% errors at 8 req/s through a LiveWindow, fails within 5 s of the first error', () => {
    const w = new LiveWindow();
    const start = 1_700_000_000_000;
    let firstFail: number | undefined;
    for (let i = 0; i < 200 && firstFail === undefined; i++) {
      const now = start + i * 125; // 8 canary req/s, one in ten a 500
      w.record('d', 'canary', i % 10 === 3 ? 500 : 200, 0.01, now);
      for (let k = 0; k < 9; k++) w.record('d', 'stable', 200, 0.01, now); // 72 req/s on stable
      if (i % 4 !== 3) continue; // analyse every 500 ms, like the controller
      const toS = Math.floor(now / 1000);
      const fromS = Math.floor(start / 1000);
      const shortS = Math.max(1, Math.min(10, Math.floor((toS - fromS + 1) / 2)));
      const perSecond = (v: string) => {
        const out = [];
        for (let sec = fromS; sec <= toS; sec++) out.push(w.summary('d', v, sec * 1000, sec * 1000));
        return out;
      };
      const a = analyzeCanary({
        canary: perSecond('canary'),
        stable: perSecond('stable'),
        shortSeconds: shortS,
        thresholds: THRESHOLDS,
      });
      if (a.verdict === 'fail') firstFail = now - start;
    }
    expect(firstFail).toBeDefined();
    // The first error is request 3, at 375 ms.
    expect(firstFail! - 375).toBeLessThanOrEqual(5_000);
  });

  it('does not fail a canary that is no worse than a bad stable', () => {
    const a = analyzeCanary(input({ canary: even(100, 20), stable: even(1000, 200) }));
    expect(check(a, 'error_burn_rate')!.value).toBeCloseTo(200, 9);
    expect(check(a, 'error_burn_rate')!.outcome).toBe('pass');
  });

  it('judges against the page rate, so a stable with few requests cannot hide a failing canary', () => {
    const a = analyzeCanary(input({ canary: even(25, 5), stable: even(4, 0) }));
    expect(a.verdict).toBe('fail');
    expect(a.summary).toContain('99% lower bound 9.4% vs the page rate 1.4% (the budget burning at 14.4x)');
  });

  it('keeps the evidence of a canary failing steadily, and drops only seconds that are bursts', () => {
    // 20 req/s, 2 errors in every second: no second stands out, none is dropped.
    const steady = { seconds: Array.from({ length: 4 }, () => summary(20, 2)) };
    expect(check(analyzeCanary(input({ canary: steady, stable: even(300, 0) })), 'error_burn_rate')!.outcome).toBe(
      'fail',
    );
    // One second of 10 errors and one stray error elsewhere: the burst is dropped, one is not enough.
    const burst = { seconds: Array.from({ length: 6 }, (_, i) => summary(20, i === 2 ? 10 : i === 5 ? 1 : 0)) };
    const a = analyzeCanary(input({ canary: burst, stable: even(300, 0) }));
    expect(check(a, 'error_burn_rate')!.outcome).toBe('pass');
    expect(check(a, 'error_burn_rate')!.detail).toContain('without its error bursts 1/');
  });

  it('waits for one second more than a burst lasts before judging errors', () => {
    const young = { seconds: [summary(8, 8), summary(8, 8)] };
    const a = analyzeCanary(input({ canary: young, stable: { seconds: [summary(72, 0), summary(72, 0)] } }));
    expect(check(a, 'error_burn_rate')).toMatchObject({ outcome: 'inconclusive' });
    expect(a.summary).toContain('waiting for 3 s of requests to judge errors, have 2 s');
  });

  it('does not roll back for one error in 50 when stable has no traffic (the 100% step)', () => {
    const a = analyzeCanary(input({ canary: parts(summary(25, 1), summary(25, 0)), stable: even(0, 0) }));
    expect(check(a, 'error_burn_rate')!.outcome).toBe('pass');
  });
});

/** Requests spread over latency bounds: [[seconds, count], ...]. */
function spread(buckets: [number, number][]): WindowSummary {
  const s = emptySummary();
  for (const [seconds, n] of buckets) {
    s.latencyCounts[DURATION_BUCKETS.indexOf(seconds)]! += n;
    s.requests += n;
  }
  return s;
}

describe('latency (exceedance test)', () => {
  // A stable version around 10-25 ms, p95 in the 25 ms bucket.
  const stablePart = () =>
    spread([
      [0.01, 60],
      [0.025, 37],
      [0.05, 3],
    ]);

  it('is inconclusive below latencyMinRequests canary requests', () => {
    const a = analyzeCanary(input({ canary: even(9, 0, 1), stable: parts(stablePart(), stablePart()) }));
    expect(check(a, 'latency')!.outcome).toBe('inconclusive');
  });

  it('fails a canary +250 ms slower, naming the shares, the bound and both p95s', () => {
    const a = analyzeCanary(
      input({ canary: parts(spread([[0.5, 20]]), spread([[0.5, 20]])), stable: parts(stablePart(), stablePart()) }),
    );
    const latency = check(a, 'latency')!;
    expect(latency.outcome).toBe('fail');
    expect(a.summary).toContain(
      "100.0% of 40 canary requests slower than stable's p95 bound 25 ms vs 3.0% of 200 stable",
    );
    expect(a.summary).toMatch(/canary p95 \d+ ms vs stable p95 \d+(\.\d)? ms over the same interval/);
  });

  it('is not fooled by noise that hits both versions alike', () => {
    // A burst of contention: both versions ten times slower in the same interval.
    const slowStable = () =>
      spread([
        [0.1, 60],
        [0.25, 37],
        [0.5, 3],
      ]);
    const slowCanary = () =>
      spread([
        [0.1, 12],
        [0.25, 7],
        [0.5, 1],
      ]);
    const a = analyzeCanary(
      input({ canary: parts(slowCanary(), slowCanary()), stable: parts(slowStable(), slowStable()) }),
    );
    expect(check(a, 'latency')!.outcome).toBe('pass');
  });

  it('needs the slowdown in both parts: a stall in one part only does not fail', () => {
    const fast = () =>
      spread([
        [0.01, 12],
        [0.025, 8],
      ]);
    const a = analyzeCanary(
      input({ canary: parts(spread([[1, 20]]), fast()), stable: parts(stablePart(), stablePart()) }),
    );
    expect(check(a, 'latency')!.outcome).toBe('pass');
  });

  it('needs the slowdown in most seconds: two stalls of the canary in 16 s do not fail, a slow canary does', () => {
    const stableSecond = () =>
      spread([
        [0.01, 15],
        [0.025, 9],
        [0.05, 1],
      ]);
    const fastSecond = () =>
      spread([
        [0.01, 5],
        [0.025, 3],
      ]);
    // Stalls of two seconds each, one in each part: even without the worst seconds, one remains.
    const stalled = [2, 3, 10, 11, 12];
    const canary = {
      seconds: Array.from({ length: 16 }, (_, i) => (stalled.includes(i) ? spread([[1, 8]]) : fastSecond())),
    };
    const stable = { seconds: Array.from({ length: 16 }, stableSecond) };
    const a = analyzeCanary(input({ canary, stable }));
    expect(check(a, 'latency')!.outcome).toBe('pass');
    const slow = { seconds: Array.from({ length: 16 }, () => spread([[0.5, 8]])) };
    expect(check(analyzeCanary(input({ canary: slow, stable })), 'latency')!.outcome).toBe('fail');
  });

  it('does not fail a fast model on a slowdown under the delta floor', () => {
    // 1 ms -> 5 ms: five times slower, every request above the stable's bound, but +4 ms.
    const a = analyzeCanary(
      input({
        canary: parts(spread([[0.005, 20]]), spread([[0.005, 20]])),
        stable: parts(spread([[0.001, 100]]), spread([[0.001, 100]])),
      }),
    );
    expect(check(a, 'latency')!.outcome).toBe('pass');
    const strict = analyzeCanary(
      input({
        canary: parts(spread([[0.005, 20]]), spread([[0.005, 20]])),
        stable: parts(spread([[0.001, 100]]), spread([[0.001, 100]])),
        thresholds: { minLatencyDeltaMs: 1 },
      }),
    );
    expect(check(strict, 'latency')!.outcome).toBe('fail');
  });

  it('passes with "no stable baseline" when stable has too few requests over the interval', () => {
    const a = analyzeCanary(input({ canary: even(20, 0, 10), stable: even(5, 0, 0.05) }));
    expect(check(a, 'latency')).toMatchObject({ outcome: 'pass', threshold: null });
    expect(check(a, 'latency')!.detail).toContain('no stable baseline');
  });
});

describe('output_agreement', () => {
  const healthy = { canary: even(100, 0), stable: even(500, 0) };

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
    const a = analyzeCanary(input({ canary: even(100, 0, 0.1), stable: even(900, 0, 0.1) }));
    expect(a.verdict).toBe('pass');
    expect(a.checks.map((c) => c.outcome)).toEqual(['pass', 'pass']);
    expect(a.summary).toBe('canary error ratio 0.0% (0/200), p95 98 ms vs stable 0.0% (0/1800), p95 98 ms');
  });

  it('fail wins over inconclusive, and names every failing check', () => {
    const a = analyzeCanary(input({ canary: even(6, 6), stable: even(100, 0) }));
    expect(check(a, 'latency')!.outcome).toBe('inconclusive');
    expect(a.verdict).toBe('fail');
    const both = analyzeCanary(input({ canary: even(100, 50, 2.5), stable: even(500, 0, 0.1) }));
    expect(both.checks.filter((c) => c.outcome === 'fail').map((c) => c.name)).toEqual(['error_burn_rate', 'latency']);
  });

  it('lists every reason to wait when inconclusive', () => {
    const a = analyzeCanary(input({ canary: even(2, 0), stable: even(500, 0) }));
    expect(a.verdict).toBe('inconclusive');
    expect(a.summary).toBe(
      'waiting for 10 canary requests, have 4; waiting for 20 canary requests to judge latency, have 4',
    );
  });

  it('a healthy canary with everything in passes, and the policy advances on it', () => {
    const a = analyzeCanary(input({ canary: even(250, 0), stable: even(2500, 1) }));
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

describe('the probe check', () => {
  const healthy = { canary: even(200, 0), stable: even(1800, 0) };
  it('fails the canary on one wrong answer, with or without traffic, naming it', () => {
    const withTraffic = analyzeCanary({
      ...input(healthy),
      probes: { runs: 4, failed: 1, lastFailure: 'probe upright on v2 failed: top-1 class 1' },
    });
    expect(withTraffic.verdict).toBe('fail');
    expect(withTraffic.summary).toContain('1 of 4 probe runs failed (probe upright on v2 failed: top-1 class 1)');
    const idle = analyzeCanary({ ...input({}), probes: { runs: 2, failed: 2, lastFailure: 'x' } });
    expect(idle.verdict).toBe('fail');
  });

  it('waits for a run before it passes, and is absent without probes', () => {
    expect(check(analyzeCanary({ ...input(healthy), probes: { runs: 0, failed: 0 } }), 'probes')!.outcome).toBe(
      'inconclusive',
    );
    expect(analyzeCanary({ ...input(healthy), probes: { runs: 0, failed: 0 } }).verdict).toBe('inconclusive');
    expect(check(analyzeCanary({ ...input(healthy), probes: { runs: 3, failed: 0 } }), 'probes')!.outcome).toBe('pass');
    expect(check(analyzeCanary(input(healthy)), 'probes')).toBeUndefined();
  });
});

describe('the prediction drift check (optional)', () => {
  const healthy = { canary: even(200, 0), stable: even(1800, 0) };
  it('is absent unless max_drift is set, waits for answers, and fails a canary that answers differently', () => {
    expect(check(analyzeCanary(input(healthy)), 'prediction_drift')).toBeUndefined();
    const on = (drift: { psi: number | null; signal: string | null }) =>
      analyzeCanary({ ...input({ ...healthy, thresholds: { maxDrift: 0.25 } }), drift });
    expect(check(on({ psi: null, signal: null }), 'prediction_drift')!.outcome).toBe('inconclusive');
    expect(check(on({ psi: 0.05, signal: 'output.y.class' }), 'prediction_drift')!.outcome).toBe('pass');
    const drifted = on({ psi: 1.2, signal: 'output.y.class' });
    expect(drifted.verdict).toBe('fail');
    expect(drifted.summary).toContain('PSI 1.200 on output.y.class against the stable version (max 0.25)');
  });
});
