import { describe, expect, it } from 'vitest';
import { BodyPool, MAX_POOLED, MIN_POOLED } from '../../serving/ingress/body-pool.ts';

describe('BodyPool', () => {
  it('lends a buffer of the asked size and reuses its memory once given back', () => {
    const pool = new BodyPool();
    const a = pool.take(110_700);
    expect(a.length).toBe(110_700);
    expect(a.buffer.byteLength).toBe(131_072);
    pool.give(a.subarray(4, 100));
    expect(pool.idleBytes).toBe(131_072);
    const b = pool.take(120_000);
    expect(b.buffer).toBe(a.buffer);
    expect(pool.idleBytes).toBe(0);
  });

  it('never lends the same memory to two holders', () => {
    const pool = new BodyPool();
    const a = pool.take(50_000);
    pool.give(a);
    pool.give(a); // a second give of the same body is ignored
    const b = pool.take(50_000);
    const c = pool.take(50_000);
    expect(b.buffer).toBe(a.buffer);
    expect(c.buffer).not.toBe(b.buffer);
  });

  it('ignores memory it did not lend, and sizes outside its range', () => {
    const pool = new BodyPool();
    pool.give(Buffer.allocUnsafeSlow(65_536));
    expect(pool.idleBytes).toBe(0);
    const small = pool.take(MIN_POOLED - 1);
    const large = pool.take(MAX_POOLED + 1);
    pool.give(small);
    pool.give(large);
    expect(pool.idleBytes).toBe(0);
  });

  it('holds at most its limit idle', () => {
    const pool = new BodyPool(300_000);
    const bodies = [pool.take(100_000), pool.take(100_000), pool.take(100_000)];
    for (const b of bodies) pool.give(b);
    expect(pool.idleBytes).toBe(262_144);
  });

  it('lets its idle memory go once a whole interval passed without a take', () => {
    const pool = new BodyPool();
    pool.give(pool.take(100_000));
    pool.trimIfIdle(); // a take happened in this interval: kept
    expect(pool.idleBytes).toBe(131_072);
    pool.trimIfIdle(); // none since: released
    expect(pool.idleBytes).toBe(0);
    const again = pool.take(100_000);
    expect(again.length).toBe(100_000);
  });
});
