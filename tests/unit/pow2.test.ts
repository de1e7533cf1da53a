import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseNearest, choosePow2, type Choosable, type Placeable } from '../../serving/router/pow2.ts';

interface Replica extends Choosable {
  id: string;
  ongoing: number;
}

const replicas = (...loads: number[]): Replica[] => loads.map((ongoing, i) => ({ id: `r${i}`, ongoing }));
/** A random() that returns the given values in turn. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};
const ALMOST_ONE = 1 - Number.EPSILON / 2;

describe('choosePow2', () => {
  it('returns undefined when there are no replicas', () => {
    expect(choosePow2([], 4)).toBeUndefined();
  });

  it('returns undefined when every replica is at or over maxOngoing', () => {
    expect(choosePow2(replicas(4, 4, 5), 4)).toBeUndefined();
  });

  it('returns the only replica with room without calling random', () => {
    const rs = replicas(4, 3, 9);
    const random = () => {
      throw new Error('random should not be needed');
    };
    expect(choosePow2(rs, 4, random)).toBe(rs[1]);
  });

  it('takes the less loaded of the two sampled replicas', () => {
    const rs = replicas(5, 1, 3, 0);
    // i = floor(0 * 4) = 0 (load 5); j = floor(0.5 * 3) = 1, shifted past i to 2 (load 3).
    expect(choosePow2(rs, 10, sequence(0, 0.5))).toBe(rs[2]);
    // i = floor(0.9 * 4) = 3 (load 0); j = floor(0 * 3) = 0 (load 5).
    expect(choosePow2(rs, 10, sequence(0.9, 0))).toBe(rs[3]);
    // i = 1 (load 1); j = floor(0.4 * 3) = 1, shifted to 2 (load 3).
    expect(choosePow2(rs, 10, sequence(0.25, 0.4))).toBe(rs[1]);
  });

  it('samples only replicas with room', () => {
    const rs = replicas(0, 8, 2, 8);
    // The open replicas are r0 and r2; the full ones are never considered whatever random says.
    for (const r of [0, 0.3, 0.6, ALMOST_ONE]) {
      expect(choosePow2(rs, 8, sequence(r, r))).toBe(rs[0]);
    }
  });

  it('keeps the first sampled replica on a tie', () => {
    const rs = replicas(2, 2);
    expect(choosePow2(rs, 4, sequence(0, 0))).toBe(rs[0]);
    expect(choosePow2(rs, 4, sequence(ALMOST_ONE, 0))).toBe(rs[1]);
  });

  it('handles random() values at the edges of [0, 1)', () => {
    const rs = replicas(1, 2, 3);
    expect(choosePow2(rs, 4, sequence(ALMOST_ONE, ALMOST_ONE))).toBe(rs[1]); // i = 2, j = 1
    expect(choosePow2(rs, 4, sequence(0, 0))).toBe(rs[0]); // i = 0, j = 1
  });

  describe('properties', () => {
    const loads = fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 12 });
    const maxOngoing = fc.integer({ min: 1, max: 10 });
    const randoms = fc.array(fc.double({ min: 0, max: ALMOST_ONE, noNaN: true }), { minLength: 2, maxLength: 2 });

    it('picks a replica with room, or undefined exactly when none has room', () => {
      fc.assert(
        fc.property(loads, maxOngoing, randoms, (ls, max, rnd) => {
          const rs = replicas(...ls);
          const chosen = choosePow2(rs, max, sequence(...rnd));
          if (rs.every((r) => r.ongoing >= max)) expect(chosen).toBeUndefined();
          else {
            expect(rs).toContain(chosen);
            expect(chosen!.ongoing).toBeLessThan(max);
          }
        }),
      );
    });

    it('never picks the single most loaded replica with room when another has room', () => {
      fc.assert(
        fc.property(loads, maxOngoing, randoms, (ls, max, rnd) => {
          const open = replicas(...ls).filter((r) => r.ongoing < max);
          fc.pre(open.length >= 2);
          const top = Math.max(...open.map((r) => r.ongoing));
          fc.pre(open.filter((r) => r.ongoing === top).length === 1);
          const chosen = choosePow2(replicas(...ls), max, sequence(...rnd))!;
          expect(chosen.ongoing).toBeLessThan(top);
        }),
      );
    });

    it('with exactly two replicas with room, always picks the less loaded one', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }), randoms, (a, b, rnd) => {
          const rs = replicas(a, 10, b);
          const chosen = choosePow2(rs, 10, sequence(...rnd))!;
          expect(chosen.ongoing).toBe(Math.min(a, b));
        }),
      );
    });
  });
});

describe('chooseNearest (direct ingress)', () => {
  const place = (...rs: Partial<Placeable & { id: string }>[]) => rs.map((r, i) => ({ id: `r${i}`, ongoing: 0, ...r }));

  it('takes the replica in this process while it has room, however loaded the others are', () => {
    const rs = place({ ongoing: 3, local: true }, { ongoing: 0, idle: true }, { ongoing: 0, idle: true });
    expect(chooseNearest(rs, 4)!.id).toBe('r0');
  });

  it('when its own replica is full, hops only to an idle one', () => {
    const full = place({ ongoing: 4, local: true }, { ongoing: 0, idle: false }, { ongoing: 1, idle: true });
    expect(chooseNearest(full, 4)!.id).toBe('r2');
    const saidFull = place({ ongoing: 1, local: true, saturated: true }, { idle: true });
    expect(chooseNearest(saidFull, 4)!.id).toBe('r1');
  });

  it('queues (undefined) rather than hop to a busy replica when its own is full', () => {
    const rs = place({ ongoing: 4, local: true }, { ongoing: 0, idle: false }, { ongoing: 2, idle: false });
    expect(chooseNearest(rs, 4)).toBeUndefined();
  });

  it('without a replica in this process, is power of two choices', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 6 }),
        fc.double({ min: 0, max: ALMOST_ONE, noNaN: true }),
        (ls, r) => {
          const rs = replicas(...ls);
          expect(chooseNearest(rs, 4, sequence(r, r / 2))).toBe(choosePow2(rs, 4, sequence(r, r / 2)));
        },
      ),
    );
  });
});
