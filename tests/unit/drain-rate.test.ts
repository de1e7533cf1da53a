import { describe, expect, it } from 'vitest';
import { DrainRate } from '../../serving/router/drain-rate.ts';

/** A DrainRate on a clock the test moves by hand. */
function withClock(alpha?: number) {
  let t = 5_000;
  const rate = new DrainRate(() => t, alpha);
  return {
    rate,
    advance(ms: number) {
      t += ms;
    },
    /** `perSecond` completions spread evenly over each of `seconds` seconds. */
    run(perSecond: number, seconds: number) {
      for (let s = 0; s < seconds; s++) {
        for (let i = 0; i < perSecond; i++) {
          rate.record();
          t += 1000 / perSecond;
        }
        if (perSecond === 0) t += 1000;
      }
    },
  };
}

describe('DrainRate', () => {
  it('is 0 before anything completes', () => {
    const { rate, advance } = withClock();
    expect(rate.perSecond()).toBe(0);
    advance(3000);
    expect(rate.perSecond()).toBe(0);
  });

  it('counts a bucket only once its second is over', () => {
    const { rate, advance } = withClock();
    for (let i = 0; i < 10; i++) rate.record();
    advance(999);
    expect(rate.perSecond()).toBe(0);
    advance(1);
    expect(rate.perSecond()).toBeCloseTo(3, 10); // alpha 0.3 * 10
  });

  it('converges to a steady completion rate', () => {
    const clock = withClock();
    clock.run(20, 30);
    expect(clock.rate.perSecond()).toBeGreaterThan(19.9);
    expect(clock.rate.perSecond()).toBeLessThanOrEqual(20);
  });

  it('follows a change of rate', () => {
    const clock = withClock();
    clock.run(50, 30);
    clock.run(5, 30);
    expect(clock.rate.perSecond()).toBeCloseTo(5, 1);
  });

  it('decays while idle and reaches exactly 0 after a long idle period', () => {
    const clock = withClock();
    clock.run(10, 20);
    const before = clock.rate.perSecond();
    clock.advance(1000);
    expect(clock.rate.perSecond()).toBeCloseTo(before * 0.7, 6);
    clock.advance(5000);
    expect(clock.rate.perSecond()).toBeCloseTo(before * 0.7 ** 6, 6);
    // Observed every second, it keeps decaying towards 0.
    for (let i = 0; i < 60; i++) {
      clock.advance(1000);
      expect(clock.rate.perSecond()).toBeLessThan(before);
    }
    expect(clock.rate.perSecond()).toBeLessThan(1e-6);
  });

  it('reads exactly 0 after more than a minute without completions', () => {
    const clock = withClock();
    clock.run(10, 20);
    expect(clock.rate.perSecond()).toBeGreaterThan(9);
    clock.advance(61_001);
    expect(clock.rate.perSecond()).toBe(0);
  });

  it('jumps over a very long idle period without looping through it', () => {
    const clock = withClock();
    clock.run(10, 5);
    clock.advance(365 * 24 * 3600 * 1000);
    const started = performance.now();
    expect(clock.rate.perSecond()).toBe(0);
    expect(performance.now() - started).toBeLessThan(50);
    // And it measures again afterwards.
    clock.run(10, 10);
    expect(clock.rate.perSecond()).toBeGreaterThan(9);
  });

  describe('retryAfterSeconds', () => {
    it('treats a deployment with no measured completions as draining one per second', () => {
      expect(withClock().rate.retryAfterSeconds(1000)).toBe(60);
      expect(withClock().rate.retryAfterSeconds(5)).toBe(5);
      expect(withClock().rate.retryAfterSeconds(0)).toBe(1);
    });

    it('is the queue length over the rate, rounded up', () => {
      const clock = withClock();
      clock.run(10, 40);
      const perSecond = clock.rate.perSecond();
      expect(clock.rate.retryAfterSeconds(45)).toBe(Math.ceil(45 / perSecond));
      expect(clock.rate.retryAfterSeconds(45)).toBe(5);
    });

    it('is clamped to [1, 60]', () => {
      const clock = withClock();
      clock.run(10, 40);
      expect(clock.rate.retryAfterSeconds(0)).toBe(1);
      expect(clock.rate.retryAfterSeconds(1)).toBe(1);
      expect(clock.rate.retryAfterSeconds(10_000)).toBe(60);
      const slow = withClock();
      slow.rate.record();
      slow.advance(1000); // rate 0.3/s
      expect(slow.rate.retryAfterSeconds(1_000_000)).toBe(60);
      for (let q = 0; q < 200; q += 7) {
        const s = slow.rate.retryAfterSeconds(q);
        expect(Number.isInteger(s)).toBe(true);
        expect(s).toBeGreaterThanOrEqual(1);
        expect(s).toBeLessThanOrEqual(60);
      }
    });
  });

  it('uses the injected smoothing factor', () => {
    const clock = withClock(1);
    for (let i = 0; i < 7; i++) clock.rate.record();
    clock.advance(1000);
    expect(clock.rate.perSecond()).toBe(7);
  });
});
