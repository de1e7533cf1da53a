import { describe, expect, it } from 'vitest';
import { FlushRounds } from '../../serving/ingress/flush-rounds.ts';

/** A clock that moves only when the test says; wait() resolves when the clock passes its time. */
function fakeClock() {
  let t = 0;
  const sleepers: { at: number; wake: () => void }[] = [];
  return {
    now: () => t,
    wait: (ms: number) => new Promise<void>((wake) => sleepers.push({ at: t + ms, wake })),
    async advance(ms: number) {
      const until = t + ms;
      for (;;) {
        await flushMicrotasks();
        const due = sleepers.filter((s) => s.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        sleepers.splice(sleepers.indexOf(due), 1);
        t = due.at;
        due.wake();
      }
      t = until;
      await flushMicrotasks();
    },
  };
}

const flushMicrotasks = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

/** Rounds that take `durationMs` on the fake clock; records when each started and ended. */
function rounds(clock: ReturnType<typeof fakeClock>, durationMs: number) {
  const log: { start: number; end?: number }[] = [];
  return {
    log,
    round: async () => {
      const entry: { start: number; end?: number } = { start: clock.now() };
      log.push(entry);
      await clock.wait(durationMs);
      entry.end = clock.now();
    },
  };
}

describe('flush rounds for control reads', () => {
  it('answers each read after a round that started after it, however reads and rounds interleave', async () => {
    const clock = fakeClock();
    const r = rounds(clock, 1);
    const flush = new FlushRounds({ round: r.round, minGapMs: 5, now: clock.now, wait: clock.wait });
    const reads: { asked: number; answered?: number }[] = [];
    // A read every 0.7 ms for 100 ms: many arrive while a round is in flight or waiting its gap.
    for (let i = 0; i < 143; i++) {
      const read: { asked: number; answered?: number } = { asked: clock.now() };
      reads.push(read);
      void flush.settle().then(() => (read.answered = clock.now()));
      await clock.advance(0.7);
    }
    await clock.advance(20);
    for (const read of reads) {
      expect(read.answered).toBeDefined();
      // Some round started at or after the read and ended by the time it was answered.
      const covering = r.log.filter((x) => x.start >= read.asked && x.end !== undefined && x.end <= read.answered!);
      expect(covering.length, `read at ${read.asked}`).toBeGreaterThan(0);
    }
  });

  it('starts rounds at least minGapMs apart, so polling cannot flood the replicas', async () => {
    const clock = fakeClock();
    const r = rounds(clock, 2);
    const flush = new FlushRounds({ round: r.round, minGapMs: 5, now: clock.now, wait: clock.wait });
    for (let i = 0; i < 1000; i++) {
      void flush.settle();
      await clock.advance(0.1);
    }
    await clock.advance(20);
    // 100 ms of reads: at most one round per 5 ms (and the one that covers the last read).
    expect(r.log.length).toBeLessThanOrEqual(100 / 5 + 2);
    expect(r.log.length).toBeGreaterThan(10);
    for (let i = 1; i < r.log.length; i++) {
      expect(r.log[i]!.start - r.log[i - 1]!.start).toBeGreaterThanOrEqual(5);
    }
  });

  it('does not hold a read behind a slow round that started before it', async () => {
    const clock = fakeClock();
    // A replica busy with a long run: each round takes 250 ms (the settle timeout).
    const r = rounds(clock, 250);
    const flush = new FlushRounds({ round: r.round, minGapMs: 5, now: clock.now, wait: clock.wait });
    void flush.settle();
    await clock.advance(10);
    let answeredAt: number | undefined;
    void flush.settle().then(() => (answeredAt = clock.now()));
    await clock.advance(600);
    // Its own round started at 10 ms and took 250: not after the first round's 250 as well.
    expect(answeredAt).toBe(260);
  });

  it('starts at once when nothing ran lately, and survives a round that fails', async () => {
    const clock = fakeClock();
    let calls = 0;
    const flush = new FlushRounds({
      round: async () => {
        calls++;
        if (calls === 1) throw new Error('a process went away');
      },
      minGapMs: 5,
      now: clock.now,
      wait: clock.wait,
    });
    let first = false;
    void flush.settle().then(() => (first = true));
    await clock.advance(0);
    expect(calls).toBe(1);
    expect(first).toBe(true);
    let second = false;
    void flush.settle().then(() => (second = true));
    await clock.advance(4);
    expect(second).toBe(false);
    await clock.advance(1);
    expect(calls).toBe(2);
    expect(second).toBe(true);
  });
});
