import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Batcher, type BatchItem } from '../../serving/replica/batcher.ts';

interface Item extends BatchItem {
  id: number;
}

/** A promise with its resolver, to hold a run open. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const nextImmediate = () => new Promise<void>((r) => setImmediate(r));

let nextId = 0;
const item = (key: string, rows = 1, enqueuedAt = Date.now()): Item => ({ id: nextId++, key, rows, enqueuedAt });
const ids = (batches: Item[][]) => batches.map((b) => b.map((i) => i.id));

/** A batcher whose runs are recorded; each run finishes at once unless `hold` is given. */
function recording(options: { maxBatchSize: number; waitMs: number; hold?: () => Promise<void> }) {
  const batches: Item[][] = [];
  const batcher = new Batcher<Item>({
    maxBatchSize: options.maxBatchSize,
    waitMs: options.waitMs,
    now: () => Date.now(),
    run: async (batch) => {
      batches.push(batch);
      if (options.hold) await options.hold();
    },
  });
  return { batcher, batches };
}

describe('Batcher with real timers', () => {
  it('with waitMs 0, runs what is there on the next setImmediate, not synchronously', async () => {
    const { batcher, batches } = recording({ maxBatchSize: 8, waitMs: 0 });
    const a = item('k');
    const b = item('k');
    batcher.submit(a);
    batcher.submit(b);
    expect(batches).toHaveLength(0);
    expect(batcher.pending).toBe(2);
    await nextImmediate();
    expect(ids(batches)).toEqual([[a.id, b.id]]);
    expect(batcher.pending).toBe(0);
  });

  it('runs a full batch at once instead of waiting out a long timer', async () => {
    const { batcher, batches } = recording({ maxBatchSize: 3, waitMs: 60_000 });
    const items = [item('k'), item('k'), item('k')];
    for (const i of items) batcher.submit(i);
    await nextImmediate();
    expect(ids(batches)).toEqual([items.map((i) => i.id)]);
  });
});

describe('Batcher with fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'],
      now: 1_000_000,
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds a partial batch for waitMs, then runs it', async () => {
    const { batcher, batches } = recording({ maxBatchSize: 8, waitMs: 10 });
    const a = item('k');
    batcher.submit(a);
    await vi.advanceTimersByTimeAsync(5);
    const b = item('k');
    batcher.submit(b);
    await vi.advanceTimersByTimeAsync(4);
    expect(batches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1); // 10 ms after the first item, not after the second
    expect(ids(batches)).toEqual([[a.id, b.id]]);
  });

  it('never puts more than maxBatchSize rows in a batch', async () => {
    const { batcher, batches } = recording({ maxBatchSize: 8, waitMs: 5 });
    const items = [item('k', 3), item('k', 3), item('k', 3), item('k', 2)];
    for (const i of items) batcher.submit(i);
    await vi.runAllTimersAsync();
    expect(batches.map((b) => b.reduce((n, i) => n + i.rows, 0))).toEqual([8, 3]);
    expect(ids(batches)).toEqual([[items[0]!.id, items[1]!.id, items[3]!.id], [items[2]!.id]]);
  });

  it('runs an item larger than maxBatchSize alone, at once', async () => {
    const { batcher, batches } = recording({ maxBatchSize: 4, waitMs: 1000 });
    const big = item('k', 9);
    batcher.submit(big);
    await vi.advanceTimersByTimeAsync(0);
    expect(ids(batches)).toEqual([[big.id]]);
  });

  it('never lets items with different keys share a batch', async () => {
    const { batcher, batches } = recording({ maxBatchSize: 4, waitMs: 5 });
    const items = [item('a'), item('b'), item('a'), item('b'), item('c')];
    for (const i of items) batcher.submit(i);
    await vi.runAllTimersAsync();
    expect(batches.map((b) => b.map((i) => i.key))).toEqual([['a', 'a'], ['b', 'b'], ['c']]);
  });

  it('flushes once the head key alone fills a batch', async () => {
    const { batcher, batches } = recording({ maxBatchSize: 2, waitMs: 1000 });
    const a1 = item('a');
    const b1 = item('b');
    const a2 = item('a');
    batcher.submit(a1);
    batcher.submit(b1);
    batcher.submit(a2);
    await vi.advanceTimersByTimeAsync(0);
    expect(ids(batches)).toEqual([[a1.id, a2.id]]);
    // b1 still gets its own waitMs, counted from when it arrived.
    await vi.advanceTimersByTimeAsync(999);
    expect(ids(batches)).toEqual([[a1.id, a2.id]]);
    await vi.advanceTimersByTimeAsync(1);
    expect(ids(batches)).toEqual([[a1.id, a2.id], [b1.id]]);
  });

  it('batches the items that arrive during a run together in the next run', async () => {
    let gate = deferred();
    const { batcher, batches } = recording({ maxBatchSize: 8, waitMs: 0, hold: () => gate.promise });
    const first = item('k');
    batcher.submit(first);
    await vi.advanceTimersByTimeAsync(0);
    expect(ids(batches)).toEqual([[first.id]]);

    const during = [item('k'), item('k'), item('k')];
    for (const i of during) batcher.submit(i);
    await vi.advanceTimersByTimeAsync(50);
    expect(batches).toHaveLength(1); // one run at a time
    expect(batcher.pending).toBe(3);

    const done = gate;
    gate = deferred();
    done.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(ids(batches)).toEqual([[first.id], during.map((i) => i.id)]);
    gate.resolve();
  });

  it('after a run, does not make items wait again once they have waited waitMs', async () => {
    let gate = deferred();
    const { batcher, batches } = recording({ maxBatchSize: 8, waitMs: 10, hold: () => gate.promise });
    batcher.submit(item('k', 8));
    await vi.advanceTimersByTimeAsync(0);
    const late = item('k');
    batcher.submit(late);
    await vi.advanceTimersByTimeAsync(30); // the run takes longer than waitMs
    const done = gate;
    gate = deferred();
    done.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(batches.at(-1)!.map((i) => i.id)).toEqual([late.id]);
    gate.resolve();
  });

  it('after a short run, waits only the rest of waitMs for the oldest item', async () => {
    let gate = deferred();
    const { batcher, batches } = recording({ maxBatchSize: 8, waitMs: 10, hold: () => gate.promise });
    batcher.submit(item('k', 8));
    await vi.advanceTimersByTimeAsync(0);
    const late = item('k');
    batcher.submit(late);
    await vi.advanceTimersByTimeAsync(4);
    const done = gate;
    gate = deferred();
    done.resolve();
    await vi.advanceTimersByTimeAsync(5);
    expect(batches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toHaveLength(2);
    expect(batches[1]!.map((i) => i.id)).toEqual([late.id]);
    gate.resolve();
  });

  it('keeps submission order within a key', async () => {
    const { batcher, batches } = recording({ maxBatchSize: 3, waitMs: 2 });
    const items = Array.from({ length: 10 }, () => item('k'));
    for (const i of items) batcher.submit(i);
    await vi.runAllTimersAsync();
    expect(ids(batches)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]].map((b) => b.map((j) => items[j]!.id)));
  });

  it('runs every item exactly once, one run at a time, within the rules (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(0, 1, 5),
        fc.integer({ min: 0, max: 4 }),
        fc.array(
          fc.record({
            key: fc.constantFrom('a', 'b', 'c'),
            rows: fc.integer({ min: 1, max: 3 }),
            gap: fc.integer({ min: 0, max: 4 }),
          }),
          { maxLength: 25 },
        ),
        async (maxBatchSize, waitMs, runMs, plan) => {
          const batches: Item[][] = [];
          let running = 0;
          let overlapped = false;
          const batcher = new Batcher<Item>({
            maxBatchSize,
            waitMs,
            now: () => Date.now(),
            run: async (batch) => {
              if (running++ > 0) overlapped = true;
              batches.push(batch);
              if (runMs > 0) await new Promise((r) => setTimeout(r, runMs));
              running--;
            },
          });
          const submitted: Item[] = [];
          for (const p of plan) {
            if (p.gap > 0) await vi.advanceTimersByTimeAsync(p.gap);
            const i = item(p.key, p.rows);
            submitted.push(i);
            batcher.submit(i);
          }
          await vi.runAllTimersAsync();

          expect(overlapped).toBe(false);
          expect(batcher.pending).toBe(0);
          // Every item exactly once.
          expect(
            batches
              .flat()
              .map((i) => i.id)
              .sort((x, y) => x - y),
          ).toEqual(submitted.map((i) => i.id));
          const done = new Set<number>();
          for (const batch of batches) {
            expect(batch.length).toBeGreaterThan(0);
            // One key per batch, rows within the limit (an oversized item runs alone).
            expect(new Set(batch.map((i) => i.key)).size).toBe(1);
            const rows = batch.reduce((n, i) => n + i.rows, 0);
            if (batch.length > 1) expect(rows).toBeLessThanOrEqual(maxBatchSize);
            // Items keep their queue order inside a batch.
            expect(batch.map((i) => i.id)).toEqual([...batch.map((i) => i.id)].sort((x, y) => x - y));
            // The head of each batch is the oldest item not yet run: nothing older is overtaken for ever.
            const oldestLeft = submitted.find((i) => !done.has(i.id))!;
            expect(batch[0]!.id).toBe(oldestLeft.id);
            for (const i of batch) done.add(i.id);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
