import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AdmissionQueue, type Waiter } from '../../serving/router/admission-queue.ts';

interface Named extends Waiter<string> {
  id: number;
}
const waiter = (id: number): Named => ({ id, cancelled: false, grant: () => {} });
const idsOf = (ws: Waiter<string>[]) => ws.map((w) => (w as Named).id);

describe('AdmissionQueue', () => {
  it('starts empty', () => {
    const q = new AdmissionQueue<string>(2);
    expect(q.length).toBe(0);
    expect(q.full).toBe(false);
    expect(q.shift()).toBeUndefined();
    expect(q.drain()).toEqual([]);
  });

  it('hands out waiters in FIFO order', () => {
    const q = new AdmissionQueue<string>(10);
    for (let i = 0; i < 5; i++) q.push(waiter(i));
    expect(q.length).toBe(5);
    const out: number[] = [];
    for (let w = q.shift(); w; w = q.shift()) out.push((w as Named).id);
    expect(out).toEqual([0, 1, 2, 3, 4]);
    expect(q.length).toBe(0);
  });

  it('reports full at capacity and not full after a shift', () => {
    const q = new AdmissionQueue<string>(2);
    q.push(waiter(0));
    expect(q.full).toBe(false);
    q.push(waiter(1));
    expect(q.full).toBe(true);
    q.shift();
    expect(q.full).toBe(false);
  });

  it('is always full with capacity 0', () => {
    expect(new AdmissionQueue<string>(0).full).toBe(true);
  });

  it('skips a waiter cancelled in the middle and counts it once', () => {
    const q = new AdmissionQueue<string>(3);
    const ws = [waiter(0), waiter(1), waiter(2)];
    for (const w of ws) q.push(w);
    expect(q.full).toBe(true);
    q.cancel(ws[1]!);
    expect(q.length).toBe(2);
    expect(q.full).toBe(false);
    q.cancel(ws[1]!); // a second cancel is a no-op
    expect(q.length).toBe(2);
    expect((q.shift() as Named).id).toBe(0);
    expect((q.shift() as Named).id).toBe(2);
    expect(q.shift()).toBeUndefined();
    expect(q.length).toBe(0);
  });

  it('ignores a cancel that comes after the waiter was shifted', () => {
    const q = new AdmissionQueue<string>(3);
    const a = waiter(0);
    q.push(a);
    q.push(waiter(1));
    expect(q.shift()).toBe(a);
    q.cancel(a); // e.g. its deadline fires just after it was granted a slot
    expect(q.length).toBe(1);
    expect((q.shift() as Named).id).toBe(1);
    expect(q.length).toBe(0);
  });

  it('drains every live waiter in order and leaves the queue empty', () => {
    const q = new AdmissionQueue<string>(10);
    const ws = Array.from({ length: 6 }, (_, i) => waiter(i));
    for (const w of ws) q.push(w);
    q.cancel(ws[0]!);
    q.cancel(ws[4]!);
    expect(idsOf(q.drain())).toEqual([1, 2, 3, 5]);
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  it('keeps FIFO order across its internal compaction', () => {
    const q = new AdmissionQueue<string>(10_000);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 1500; i++) q.push(waiter(next++));
      for (let i = 0; i < 1200; i++) expect((q.shift() as Named).id).toBe(expected++);
    }
    expect(q.length).toBe(next - expected);
    expect(idsOf(q.drain())).toEqual(Array.from({ length: next - expected }, (_, i) => expected + i));
  });

  it('behaves like a simple list model under random push, shift and cancel (property)', () => {
    type Op = { kind: 'push' } | { kind: 'shift' } | { kind: 'cancel'; pick: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.constant<Op>({ kind: 'push' }),
      fc.constant<Op>({ kind: 'shift' }),
      fc.nat(50).map((pick): Op => ({ kind: 'cancel', pick })),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8 }), fc.array(op, { maxLength: 80 }), (capacity, ops) => {
        const q = new AdmissionQueue<string>(capacity);
        const all: Named[] = [];
        let model: number[] = [];
        for (const o of ops) {
          if (o.kind === 'push') {
            const w = waiter(all.length);
            all.push(w);
            q.push(w);
            model.push(w.id);
          } else if (o.kind === 'shift') {
            const w = q.shift() as Named | undefined;
            expect(w?.id).toBe(model[0]);
            model = model.slice(1);
          } else if (all.length > 0) {
            const w = all[o.pick % all.length]!;
            q.cancel(w);
            model = model.filter((id) => id !== w.id);
          }
          expect(q.length).toBe(model.length);
          expect(q.full).toBe(model.length >= capacity);
        }
        expect(idsOf(q.drain())).toEqual(model);
        expect(q.length).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
