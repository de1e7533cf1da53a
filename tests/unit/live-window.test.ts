import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptySummary, LiveWindow } from '../../serving/rollout/live-window.ts';
import { DURATION_BUCKETS } from '../../serving/telemetry/buckets.ts';

const OVERFLOW = DURATION_BUCKETS.length;
const T0 = 1_700_000_000_000; // a whole second, so offsets below read as seconds since T0

describe('LiveWindow', () => {
  it('counts requests, server errors only (>= 500), and latency per bucket bound', () => {
    const w = new LiveWindow();
    w.record('d', 'v1', 200, 0.0005, T0); // exactly on the first bound: slot 0 (Prometheus `le`)
    w.record('d', 'v1', 499, 0.0006, T0 + 100); // just above it: slot 1; 4xx is the client's fault
    w.record('d', 'v1', 500, 30, T0 + 200); // the largest bound itself
    w.record('d', 'v1', 503, 31, T0 + 300); // above every bound: overflow slot
    const s = w.summary('d', 'v1', T0, T0 + 999);
    expect(s.requests).toBe(4);
    expect(s.errors).toBe(2);
    expect(s.latencyCounts).toHaveLength(DURATION_BUCKETS.length + 1);
    expect(s.latencyCounts[0]).toBe(1);
    expect(s.latencyCounts[1]).toBe(1);
    expect(s.latencyCounts[OVERFLOW - 1]).toBe(1);
    expect(s.latencyCounts[OVERFLOW]).toBe(1);
    expect(s.latencyCounts.reduce((a, b) => a + b, 0)).toBe(4);
  });

  it('keeps versions and deployments apart, even when names contain separators', () => {
    const w = new LiveWindow();
    w.record('a:b', 'c', 500, 0.01, T0);
    w.record('a', 'b:c', 200, 0.01, T0);
    w.record('a', 'b:c', 200, 0.01, T0);
    expect(w.summary('a:b', 'c', T0, T0)).toMatchObject({ requests: 1, errors: 1 });
    expect(w.summary('a', 'b:c', T0, T0)).toMatchObject({ requests: 2, errors: 0 });
    expect(w.summary('a', 'other', T0, T0)).toEqual(emptySummary());
  });

  it('counts a second when its start is >= floor(since / 1000) and <= now', () => {
    const w = new LiveWindow();
    w.record('d', 'v', 200, 0.01, T0 + 10_500); // second 10
    w.record('d', 'v', 200, 0.01, T0 + 12_000); // second 12
    // since inside second 10 still includes all of second 10 (bucket granularity is 1 s)
    expect(w.summary('d', 'v', T0 + 10_999, T0 + 12_000).requests).toBe(2);
    expect(w.summary('d', 'v', T0 + 11_000, T0 + 12_000).requests).toBe(1);
    // a second that starts after now is not counted
    expect(w.summary('d', 'v', T0, T0 + 11_999).requests).toBe(1);
    // an empty span
    expect(w.summary('d', 'v', T0 + 13_000, T0 + 12_000)).toEqual(emptySummary());
  });

  it('forgets seconds older than the retention, however far back `since` reaches', () => {
    const w = new LiveWindow({ retentionSeconds: 10 });
    w.record('d', 'v', 500, 0.01, T0 + 100_000);
    expect(w.summary('d', 'v', 0, T0 + 109_999).requests).toBe(1); // second 100 is within 101-10+1..109
    expect(w.summary('d', 'v', 0, T0 + 110_000).requests).toBe(0); // now second 110 keeps 101..110
  });

  it('reuses a ring slot for a new second without mixing in the old one', () => {
    const w = new LiveWindow({ retentionSeconds: 10 });
    w.record('d', 'v', 500, 0.01, T0 + 100_000);
    w.record('d', 'v', 200, 5, T0 + 110_000); // same slot, one retention later
    const s = w.summary('d', 'v', 0, T0 + 110_000);
    expect(s).toMatchObject({ requests: 1, errors: 0 });
    expect(s.latencyCounts[DURATION_BUCKETS.indexOf(5)]).toBe(1);
    expect(s.latencyCounts[DURATION_BUCKETS.indexOf(0.01)]).toBe(0);
  });

  it('drops a late record that is more than a retention behind what its slot holds', () => {
    const w = new LiveWindow({ retentionSeconds: 10 });
    w.record('d', 'v', 200, 0.01, T0 + 110_000);
    w.record('d', 'v', 500, 0.01, T0 + 100_000); // would land in second 110's slot
    expect(w.summary('d', 'v', 0, T0 + 110_000)).toMatchObject({ requests: 1, errors: 0 });
    // ...but a late record within the retention is counted in its own second
    w.record('d', 'v', 500, 0.01, T0 + 105_000);
    expect(w.summary('d', 'v', T0 + 105_000, T0 + 105_999)).toMatchObject({ requests: 1, errors: 1 });
  });

  it('stays bounded over a long run: only the last retention of seconds is summed', () => {
    const w = new LiveWindow({ retentionSeconds: 30 });
    for (let s = 0; s < 5_000; s++) w.record('d', 'v', s % 10 === 0 ? 500 : 200, 0.05, T0 + s * 1000);
    const last = T0 + 4_999 * 1000;
    const s = w.summary('d', 'v', 0, last);
    expect(s.requests).toBe(30); // seconds 4970..4999
    expect(s.errors).toBe(3); // 4970, 4980, 4990
    expect(w.size).toBe(1);
  });

  it('forget drops a key and its counts', () => {
    const w = new LiveWindow();
    w.record('d', 'v1', 200, 0.01, T0);
    w.record('d', 'v2', 200, 0.01, T0);
    w.forget('d', 'v1');
    expect(w.summary('d', 'v1', T0, T0).requests).toBe(0);
    expect(w.summary('d', 'v2', T0, T0).requests).toBe(1);
    expect(w.size).toBe(1);
    w.forget('d', 'v2');
    w.forget('nope', 'v'); // unknown keys are fine
    expect(w.size).toBe(0);
  });

  it('returns a copy: changing a summary does not change the window', () => {
    const w = new LiveWindow();
    w.record('d', 'v', 200, 0.01, T0);
    const s = w.summary('d', 'v', T0, T0);
    s.requests = 99;
    s.latencyCounts.fill(7);
    expect(w.summary('d', 'v', T0, T0).requests).toBe(1);
    expect(w.summary('d', 'v', T0, T0).latencyCounts[0]).toBe(0);
  });

  it('rejects a retention that is not a positive integer', () => {
    expect(() => new LiveWindow({ retentionSeconds: 0 })).toThrow(RangeError);
    expect(() => new LiveWindow({ retentionSeconds: 1.5 })).toThrow(RangeError);
  });

  it('agrees with a brute-force count over any span within the retention', () => {
    const event = fc.record({
      at: fc.integer({ min: 0, max: 19_999 }),
      status: fc.constantFrom(200, 404, 500, 503),
      duration: fc.double({ min: 0, max: 40, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 60 }),
        fc.integer({ min: 0, max: 25_000 }),
        fc.integer({ min: 0, max: 25_000 }),
        (events, since, now) => {
          const w = new LiveWindow({ retentionSeconds: 30 });
          for (const e of [...events].sort((a, b) => a.at - b.at)) w.record('d', 'v', e.status, e.duration, T0 + e.at);
          const inSpan = events.filter(
            (e) =>
              Math.floor(e.at / 1000) >= Math.floor(since / 1000) && Math.floor(e.at / 1000) <= Math.floor(now / 1000),
          );
          const s = w.summary('d', 'v', T0 + since, T0 + now);
          expect(s.requests).toBe(inSpan.length);
          expect(s.errors).toBe(inSpan.filter((e) => e.status >= 500).length);
          expect(s.latencyCounts.reduce((a, b) => a + b, 0)).toBe(inSpan.length);
        },
      ),
    );
  });
});
