import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  averageOngoing,
  decideScale,
  initialAutoscaleState,
  type AutoscaleContext,
  type AutoscaleState,
  type AutoscalingSettings,
  type MemoryView,
} from '../../serving/autoscale/autoscale-policy.ts';

const MiB = 1024 * 1024;

const settings = (over: Partial<AutoscalingSettings> = {}): AutoscalingSettings => ({
  minReplicas: 1,
  maxReplicas: 10,
  initialReplicas: 3,
  targetOngoingRequests: 2,
  upscaleDelayS: 30,
  downscaleDelayS: 600,
  lookBackPeriodS: 30,
  ...over,
});

const roomy: MemoryView = { budgetBytes: 64_000 * MiB, usedBytes: 0, perReplicaBytes: 100 * MiB };

/** A context whose only sample is `ongoing` at `now`, with as many live replicas as the target. */
const ctx = (now: number, ongoing: number, over: Partial<AutoscaleContext> = {}): AutoscaleContext => ({
  samples: [{ at: now, ongoing }],
  liveReplicas: 3,
  queued: 0,
  memory: roomy,
  ...over,
});

const at3: AutoscaleState = { target: 3, proposal: null };

describe('averageOngoing', () => {
  it('averages only the samples inside the look-back window', () => {
    const samples = [
      { at: 0, ongoing: 100 },
      { at: 10_000, ongoing: 4 },
      { at: 40_000, ongoing: 2 },
      { at: 50_000, ongoing: 999 }, // after `now`: not yet happened
    ];
    expect(averageOngoing(samples, 30, 40_000)).toBe(3);
    expect(averageOngoing(samples, 30, 30_000)).toBe(52); // window edge at 0 is inclusive
    expect(averageOngoing([], 30, 40_000)).toBe(0);
  });
});

describe('decideScale', () => {
  it('starts at initialReplicas', () => {
    expect(initialAutoscaleState(settings({ initialReplicas: 4 }))).toEqual({ target: 4, proposal: null });
  });

  it('scales up only once the upscale delay has passed', () => {
    const s = settings();
    let state = at3;
    let step = decideScale(s, ctx(0, 14), state, 0);
    expect(step.decision).toMatchObject({ target: 3, desired: 7, changed: false, cappedBy: null });
    expect(step.decision.reason).toBe(
      'holding at 3: scale-up to 7 waits 30 s more (avg 14.0 ongoing over 30 s / target 2 per replica → 7 replicas)',
    );
    state = step.state;

    step = decideScale(s, ctx(18_000, 14), state, 18_000);
    expect(step.decision.target).toBe(3);
    expect(step.decision.reason).toMatch(/^holding at 3: scale-up to 7 waits 12 s more/);
    state = step.state;

    step = decideScale(s, ctx(29_999, 14), state, 29_999);
    expect(step.decision.target).toBe(3);
    state = step.state;

    step = decideScale(s, ctx(30_000, 14), state, 30_000);
    expect(step.decision).toMatchObject({ target: 7, previousTarget: 3, desired: 7, changed: true });
    expect(step.decision.reason).toBe(
      'avg 14.0 ongoing over 30 s / target 2 per replica → 7 replicas (was 3, up after 30 s delay)',
    );
    expect(step.state).toEqual({ target: 7, proposal: null });
  });

  it('keeps the timer when the wanted size changes in the same direction', () => {
    const s = settings();
    let state = decideScale(s, ctx(0, 10), at3, 0).state; // wants 5
    state = decideScale(s, ctx(20_000, 16), state, 20_000).state; // now wants 8
    expect(state.proposal).toEqual({ direction: 'up', desired: 8, since: 0 });
    expect(decideScale(s, ctx(30_000, 16), state, 30_000).decision.target).toBe(8);
  });

  it('scales down only once the downscale delay has passed', () => {
    const s = settings({ downscaleDelayS: 60 });
    let state = at3;
    for (const t of [0, 30_000, 59_999]) {
      const step = decideScale(s, ctx(t, 1), state, t);
      expect(step.decision.target).toBe(3);
      state = step.state;
    }
    const step = decideScale(s, ctx(60_000, 1), state, 60_000);
    expect(step.decision).toMatchObject({ target: 1, changed: true });
    expect(step.decision.reason).toMatch(/\(was 3, down after 60 s delay\)$/);
  });

  it('restarts the timer when the direction flips', () => {
    const s = settings({ upscaleDelayS: 30, downscaleDelayS: 30 });
    let state = decideScale(s, ctx(0, 14), at3, 0).state; // up since 0
    state = decideScale(s, ctx(20_000, 1), state, 20_000).state; // down since 20 s
    expect(state.proposal).toEqual({ direction: 'down', desired: 1, since: 20_000 });
    state = decideScale(s, ctx(40_000, 14), state, 40_000).state; // up again, since 40 s
    expect(state.proposal).toEqual({ direction: 'up', desired: 7, since: 40_000 });
    // 30 s after the first wish to grow, but only 20 s after the latest one.
    expect(decideScale(s, ctx(60_000, 14), state, 60_000).decision.target).toBe(3);
    expect(decideScale(s, ctx(70_000, 14), state, 70_000).decision.target).toBe(7);
  });

  it('clears a pending proposal when the load matches the target again', () => {
    const s = settings();
    let state = decideScale(s, ctx(0, 14), at3, 0).state;
    const step = decideScale(s, ctx(10_000, 6), state, 10_000);
    expect(step.state.proposal).toBeNull();
    expect(step.decision.reason).toMatch(/^steady at 3/);
    state = decideScale(s, ctx(20_000, 14), step.state, 20_000).state;
    expect(state.proposal?.since).toBe(20_000);
  });

  it('forgets samples older than the look-back window', () => {
    const s = settings({ upscaleDelayS: 0 });
    const samples = [
      { at: 0, ongoing: 100 },
      { at: 40_000, ongoing: 6 },
    ];
    const step = decideScale(s, { ...ctx(40_000, 0), samples }, at3, 40_000);
    expect(step.decision).toMatchObject({ desired: 3, target: 3, changed: false });
  });

  it('caps an increase at what fits in the memory budget and says so', () => {
    const s = settings({ upscaleDelayS: 0 });
    const memory: MemoryView = { budgetBytes: 2000 * MiB, usedBytes: 1800 * MiB, perReplicaBytes: 120 * MiB };
    const step = decideScale(s, ctx(0, 14, { memory }), at3, 0);
    expect(step.decision).toMatchObject({ target: 4, desired: 7, changed: true, cappedBy: 'memory_budget' });
    expect(step.decision.capDetail).toBe('each replica uses ~120 MiB; 1800 of 2000 MiB budget in use; 1 more fits');
    expect(step.decision.reason).toContain('capped at 4 by memory budget: each replica uses ~120 MiB');
    // The delay was served: growth resumes as soon as memory frees up.
    expect(step.state.proposal).toMatchObject({ direction: 'up', desired: 7 });
  });

  it('resumes a memory-capped scale-up without a new delay once memory frees up', () => {
    const s = settings({ upscaleDelayS: 30 });
    const full: MemoryView = { budgetBytes: 2000 * MiB, usedBytes: 1950 * MiB, perReplicaBytes: 120 * MiB };
    let state = decideScale(s, ctx(0, 14, { memory: full }), at3, 0).state;
    const blocked = decideScale(s, ctx(30_000, 14, { memory: full }), state, 30_000);
    expect(blocked.decision).toMatchObject({ target: 3, changed: false, cappedBy: 'memory_budget' });
    expect(blocked.decision.capDetail).toContain('0 more fit');
    expect(blocked.decision.reason).toMatch(/^holding at 3: scale-up to 7 blocked by memory budget/);
    state = blocked.state;
    const freed = decideScale(s, ctx(31_000, 14, { memory: roomy }), state, 31_000);
    expect(freed.decision).toMatchObject({ target: 7, changed: true, cappedBy: null });
  });

  it('never scales down because memory is over budget', () => {
    const s = settings({ upscaleDelayS: 0 });
    const over: MemoryView = { budgetBytes: 1000 * MiB, usedBytes: 3000 * MiB, perReplicaBytes: 500 * MiB };
    const step = decideScale(s, ctx(0, 14, { memory: over, liveReplicas: 3 }), at3, 0);
    expect(step.decision.target).toBe(3);
  });

  it('allows one more replica while the per-replica memory is unknown', () => {
    const s = settings({ upscaleDelayS: 0 });
    const memory: MemoryView = { budgetBytes: 2000 * MiB, usedBytes: 1990 * MiB, perReplicaBytes: undefined };
    const step = decideScale(s, ctx(0, 14, { memory }), at3, 0);
    expect(step.decision).toMatchObject({ target: 4, cappedBy: 'memory_budget' });
    expect(step.decision.capDetail).toBe(
      'per-replica memory not measured yet; 1990 of 2000 MiB budget in use; starting 1 more to measure it',
    );
  });

  it('scales from zero at once when a request is queued, ignoring the upscale delay', () => {
    const s = settings({ minReplicas: 0, initialReplicas: 0, upscaleDelayS: 300 });
    const zero = initialAutoscaleState(s);
    const step = decideScale(s, { samples: [], liveReplicas: 0, queued: 2, memory: roomy }, zero, 5_000);
    expect(step.decision).toMatchObject({ target: 1, previousTarget: 0, changed: true, cappedBy: null });
    expect(step.decision.reason).toMatch(/^scale from zero: 2 queued/);
    expect(step.state.proposal).toBeNull();
    // Ongoing traffic in the window (and nothing queued right now) counts as demand too.
    expect(decideScale(s, ctx(5_000, 1, { liveReplicas: 0 }), zero, 5_000).decision.target).toBe(1);
  });

  it('scales from zero with unknown per-replica memory to one replica, even over budget', () => {
    const s = settings({ minReplicas: 0, initialReplicas: 0 });
    const memory: MemoryView = { budgetBytes: 1000 * MiB, usedBytes: 1000 * MiB, perReplicaBytes: undefined };
    const step = decideScale(s, { samples: [], liveReplicas: 0, queued: 1, memory }, { target: 0, proposal: null }, 0);
    expect(step.decision.target).toBe(1);
  });

  it('does not scale from zero when a measured replica does not fit', () => {
    const s = settings({ minReplicas: 0, initialReplicas: 0 });
    const memory: MemoryView = { budgetBytes: 1000 * MiB, usedBytes: 950 * MiB, perReplicaBytes: 100 * MiB };
    const step = decideScale(s, { samples: [], liveReplicas: 0, queued: 1, memory }, { target: 0, proposal: null }, 0);
    expect(step.decision).toMatchObject({ target: 0, changed: false, cappedBy: 'memory_budget' });
  });

  it('stays at zero without traffic', () => {
    const s = settings({ minReplicas: 0, initialReplicas: 0 });
    const step = decideScale(
      s,
      { samples: [], liveReplicas: 0, queued: 0, memory: roomy },
      { target: 0, proposal: null },
      0,
    );
    expect(step.decision).toMatchObject({ target: 0, changed: false });
  });

  it('with min_replicas 0, scales down to zero only after the downscale delay with no traffic', () => {
    const s = settings({ minReplicas: 0, initialReplicas: 1, downscaleDelayS: 120 });
    const idle: AutoscaleContext = { samples: [], liveReplicas: 1, queued: 0, memory: roomy };
    let state = initialAutoscaleState(s);
    for (const t of [0, 60_000, 119_999]) {
      const step = decideScale(s, idle, state, t);
      expect(step.decision.target).toBe(1);
      state = step.state;
    }
    const step = decideScale(s, idle, state, 120_000);
    expect(step.decision).toMatchObject({ target: 0, desired: 0, changed: true });
  });

  it('applies changed bounds at once', () => {
    const s = settings({ minReplicas: 2, maxReplicas: 5 });
    expect(decideScale(s, ctx(0, 100), { target: 9, proposal: null }, 0).decision).toMatchObject({
      target: 5,
      changed: true,
    });
    expect(decideScale(s, ctx(0, 0, { liveReplicas: 1 }), { target: 1, proposal: null }, 0).decision).toMatchObject({
      target: 2,
      changed: true,
    });
  });
});

describe('decideScale properties', () => {
  const settingsArb = fc
    .record({
      minReplicas: fc.integer({ min: 0, max: 5 }),
      span: fc.integer({ min: 0, max: 10 }),
      initialOffset: fc.integer({ min: 0, max: 10 }),
      targetOngoingRequests: fc.double({ min: 0.5, max: 10, noNaN: true }),
      upscaleDelayS: fc.integer({ min: 0, max: 60 }),
      downscaleDelayS: fc.integer({ min: 0, max: 120 }),
      lookBackPeriodS: fc.integer({ min: 1, max: 60 }),
    })
    .map(({ span, initialOffset, ...r }): AutoscalingSettings => {
      const maxReplicas = Math.max(1, r.minReplicas + span);
      return { ...r, maxReplicas, initialReplicas: Math.min(maxReplicas, r.minReplicas + initialOffset) };
    });

  const tickArb = fc.record({
    dtMs: fc.integer({ min: 0, max: 20_000 }),
    ongoing: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 100, noNaN: true })),
    queued: fc.integer({ min: 0, max: 5 }),
    liveDelta: fc.integer({ min: -2, max: 1 }),
    budgetMiB: fc.integer({ min: 0, max: 4000 }),
    usedMiB: fc.integer({ min: 0, max: 5000 }),
    perReplicaMiB: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
  });

  /** What an increase may reach under the memory rule, for checking. */
  const memoryCeiling = (previous: number, live: number, m: MemoryView) => {
    const extra =
      m.perReplicaBytes === undefined ? 1 : Math.max(0, Math.floor((m.budgetBytes - m.usedBytes) / m.perReplicaBytes));
    return Math.max(previous, live + extra);
  };

  it('keeps the target within bounds, except below min where memory caps it, and never past the memory cap', () => {
    fc.assert(
      fc.property(settingsArb, fc.array(tickArb, { maxLength: 40 }), (s, ticks) => {
        let state = initialAutoscaleState(s);
        let now = 1_000_000;
        const samples: { at: number; ongoing: number }[] = [];
        for (const tick of ticks) {
          now += tick.dtMs;
          samples.push({ at: now, ongoing: tick.ongoing });
          // Live replicas trail the target: some may have crashed or not yet started.
          const live = Math.max(0, state.target + tick.liveDelta);
          const memory: MemoryView = {
            budgetBytes: tick.budgetMiB * MiB,
            usedBytes: tick.usedMiB * MiB,
            perReplicaBytes: tick.perReplicaMiB === undefined ? undefined : tick.perReplicaMiB * MiB,
          };
          const { decision, state: next } = decideScale(
            s,
            { samples, liveReplicas: live, queued: tick.queued, memory },
            state,
            now,
          );

          expect(decision.previousTarget).toBe(state.target);
          expect(decision.changed).toBe(decision.target !== state.target);
          expect(next.target).toBe(decision.target);
          expect(decision.target).toBeLessThanOrEqual(s.maxReplicas);
          expect(decision.target).toBeGreaterThanOrEqual(0);
          // Below min only when the memory budget held back the climb to min (or the first
          // replica of a scale from zero).
          if (decision.target < s.minReplicas) expect(decision.cappedBy).toBe('memory_budget');
          if (decision.target > state.target)
            expect(decision.target).toBeLessThanOrEqual(memoryCeiling(state.target, live, memory));
          if (decision.cappedBy !== null) expect(decision.capDetail).toEqual(expect.any(String));
          expect(decision.reason.length).toBeGreaterThan(0);
          state = next;
        }
      }),
    );
  });

  it('never moves a target within bounds before the delay has passed, unless scaling from zero', () => {
    fc.assert(
      fc.property(
        settingsArb,
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.integer({ min: 0, max: 10 }),
        (s, ongoing, target) => {
          fc.pre(target >= s.minReplicas && target <= s.maxReplicas && target > 0);
          fc.pre(s.upscaleDelayS > 0 && s.downscaleDelayS > 0);
          const step = decideScale(
            s,
            { samples: [{ at: 0, ongoing }], liveReplicas: target, queued: 0, memory: roomy },
            { target, proposal: null },
            0,
          );
          expect(step.decision.target).toBe(target);
        },
      ),
    );
  });

  it('scales from zero to max(1, min_replicas) at once when memory allows', () => {
    fc.assert(
      fc.property(settingsArb, fc.integer({ min: 1, max: 5 }), (s, queued) => {
        const step = decideScale(
          s,
          { samples: [], liveReplicas: 0, queued, memory: roomy },
          { target: 0, proposal: null },
          0,
        );
        expect(step.decision.target).toBe(Math.min(s.maxReplicas, Math.max(1, s.minReplicas)));
      }),
    );
  });
});
