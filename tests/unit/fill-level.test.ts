import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FillLevel, nextFillLevel } from '../../serving/replica/fill-level.ts';

describe('nextFillLevel', () => {
  it('is full at max_ongoing_requests and idle at zero, whatever it was', () => {
    for (const was of ['idle', 'busy', 'full'] as FillLevel[]) {
      expect(nextFillLevel(was, 8, 8)).toBe('full');
      expect(nextFillLevel(was, 9, 8)).toBe('full');
      expect(nextFillLevel(was, 0, 8)).toBe('idle');
    }
  });

  it('says nothing while a replica flickers between 0 and 1 request, or between max - 1 and max', () => {
    expect(nextFillLevel('idle', 1, 8)).toBe('idle');
    expect(nextFillLevel('idle', 2, 8)).toBe('busy');
    expect(nextFillLevel('full', 7, 8)).toBe('full');
    expect(nextFillLevel('full', 6, 8)).toBe('busy');
  });

  it('with max_ongoing_requests 1, moves between idle and full only', () => {
    expect(nextFillLevel('idle', 1, 1)).toBe('full');
    expect(nextFillLevel('full', 0, 1)).toBe('idle');
  });

  it('never says full below the limit, nor idle while holding a request', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<FillLevel>('idle', 'busy', 'full'),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 32 }),
        (was, ongoing, max) => {
          const next = nextFillLevel(was, ongoing, max);
          expect(next === 'full').toBe(ongoing >= max || (was === 'full' && ongoing > Math.floor(max * 0.75)));
          if (next === 'idle') expect(ongoing === 0 || (was === 'idle' && ongoing === 1 && max > 1)).toBe(true);
        },
      ),
    );
  });
});
