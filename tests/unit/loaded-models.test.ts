import { describe, expect, it } from 'vitest';
import { LoadedModels } from '../../serving/router/loaded-models.ts';

describe('LoadedModels (an ingress process’s view of a multiplexed replica)', () => {
  const at = () => {
    const clock = { t: 0 };
    return { clock, models: new LoadedModels(1_000, () => clock.t) };
  };

  it('keeps a model it just sent through a report that does not show it yet', () => {
    const { clock, models } = at();
    models.add('delta');
    clock.t = 20;
    models.replaceReported([]); // a snapshot taken before the replica reported the load
    expect(models.has('delta')).toBe(true);
  });

  it('forgets a sent model the reports never show once the grace is over', () => {
    const { clock, models } = at();
    models.add('delta');
    clock.t = 999;
    expect(models.has('delta')).toBe(true);
    clock.t = 1_000;
    expect(models.has('delta')).toBe(false);
    models.replaceReported([]);
    clock.t = 0; // even a clock read that runs backwards finds nothing left
    expect(models.has('delta')).toBe(false);
  });

  it('follows the reports once they show a model: an eviction they report removes it', () => {
    const { clock, models } = at();
    models.add('delta');
    clock.t = 30;
    models.replaceReported(['delta']);
    expect(models.has('delta')).toBe(true);
    clock.t = 60;
    models.replaceReported(['alpha']); // the replica evicted delta for alpha
    expect([models.has('delta'), models.has('alpha')]).toEqual([false, true]);
  });
});
