import { describe, expect, it } from 'vitest';
import { CLEAR_RATIO, nextDriftAlert } from '../../serving/drift/drift-alert-policy.ts';
import { compare } from '../../serving/drift/psi.ts';
import { signalsOf } from '../../serving/drift/signals.ts';
import {
  add,
  addValue,
  bucketOf,
  emptySketch,
  MAX_KEYS,
  merge,
  toJson,
  bucketValue,
} from '../../serving/drift/sketch.ts';

/** A deterministic stream of normal-ish values (Irwin-Hall of 4 uniforms). */
function values(n: number, mean: number, spread: number, seed = 1): number[] {
  let x = seed;
  const u = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, () => mean + spread * (u() + u() + u() + u() - 2));
}

function sketchOf(xs: number[]) {
  const s = emptySketch('values');
  for (const v of xs) addValue(s, v);
  return s;
}

describe('drift sketches', () => {
  it('keep values in order within 2%, and stay bounded whatever the traffic', () => {
    const xs = [-5, -0.001, 0, 1e-12, 0.001, 0.5, 0.51, 3, 1e6];
    const keys = xs.map(bucketOf);
    expect([...keys].sort((a, b) => a - b)).toEqual(keys);
    for (const v of [0.5, 3, 1e6, -5]) expect(Math.abs(bucketValue(bucketOf(v)) - v) / Math.abs(v)).toBeLessThan(0.02);
    const wide = sketchOf(values(100_000, 0, 1e6));
    expect(wide.counts.size).toBeLessThanOrEqual(MAX_KEYS);
    expect(wide.total).toBe(100_000);
    const classes = emptySketch('classes');
    for (let c = 0; c < 2000; c++) add(classes, c, c < 10 ? 100 : 1);
    expect(classes.counts.size).toBeLessThanOrEqual(MAX_KEYS);
    expect(classes.counts.get(0)).toBe(100);
    expect(classes.total).toBe(2000 - 10 + 1000);
  });

  it('merge by adding counts, also from their JSON form', () => {
    const a = sketchOf(values(500, 1, 0.2, 1));
    const b = sketchOf(values(700, 1, 0.2, 2));
    const both = emptySketch('values');
    merge(both, a);
    merge(both, toJson(b));
    expect(both.total).toBe(1200);
  });
});

describe('PSI', () => {
  it('stays near 0 on the same population and passes 0.25 on a shifted one', () => {
    const baseline = sketchOf(values(5000, 0.2, 0.1, 1));
    expect(compare(baseline, sketchOf(values(5000, 0.2, 0.1, 7))).psi).toBeLessThan(0.05);
    expect(compare(baseline, sketchOf(values(5000, 0.35, 0.1, 7))).psi).toBeGreaterThan(0.25);
    // Wider, same centre: still drift.
    expect(compare(baseline, sketchOf(values(5000, 0.2, 0.3, 7))).psi).toBeGreaterThan(0.25);
    const bins = compare(baseline, sketchOf(values(5000, 0.2, 0.1, 7))).bins;
    expect(bins.length).toBe(10);
    expect(bins.reduce((s, b) => s + b.baseline, 0)).toBeCloseTo(1, 6);
  });

  it('compares classes as categories, a class absent on one side included', () => {
    const base = emptySketch('classes');
    add(base, 0, 900);
    add(base, 1, 100);
    const same = emptySketch('classes');
    add(same, 0, 450);
    add(same, 1, 50);
    expect(compare(base, same).psi).toBeCloseTo(0, 10);
    const flipped = emptySketch('classes');
    add(flipped, 0, 100);
    add(flipped, 1, 900);
    expect(compare(base, flipped).psi).toBeGreaterThan(1);
    const newClass = emptySketch('classes');
    add(newClass, 0, 900);
    add(newClass, 2, 100);
    const c = compare(base, newClass);
    expect(c.bins.map((b) => b.label)).toEqual(['class 0', 'class 1', 'class 2']);
    expect(Number.isFinite(c.psi)).toBe(true);
    expect(c.psi).toBeGreaterThan(0.25);
  });
});

describe('drift signals', () => {
  it('take each row’s input mean and RMS, and a classifier’s top-1 class per row', () => {
    const s = signalsOf(
      [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: new Float32Array([1, 3, -2, 2]) }],
      [
        { name: 'p', datatype: 'FP32', shape: [2, 2], data: new Float32Array([0.9, 0.1, 0.2, 0.8]) },
        { name: 'e', datatype: 'FP32', shape: [2, 1, 2], data: new Float32Array([1, 2, 3, 4]) },
      ],
    );
    expect(s).toEqual([
      { signal: 'input.x.mean', kind: 'values', value: 2 },
      { signal: 'input.x.rms', kind: 'values', value: Math.sqrt(5) },
      { signal: 'input.x.mean', kind: 'values', value: 0 },
      { signal: 'input.x.rms', kind: 'values', value: 2 },
      { signal: 'output.p.class', kind: 'classes', value: 0 },
      { signal: 'output.p.class', kind: 'classes', value: 1 },
      { signal: 'output.e.mean', kind: 'values', value: 1.5 },
      { signal: 'output.e.mean', kind: 'values', value: 3.5 },
    ]);
    expect(signalsOf([{ name: 's', datatype: 'BYTES', shape: [1], data: ['a'] }], [])).toEqual([]);
  });
});

describe('the drift alert policy', () => {
  const FOR = 600_000;
  it('fires only after drift stays high for the whole period', () => {
    let s = { firing: false, since: undefined as number | undefined };
    let r = nextDriftAlert(s, 0.4, 0, 0.25, FOR);
    expect(r.change).toBeUndefined();
    s = r.state;
    r = nextDriftAlert(s, 0.1, 300_000, 0.25, FOR); // a dip starts the clock again
    s = r.state;
    r = nextDriftAlert(s, 0.4, 400_000, 0.25, FOR);
    s = r.state;
    expect(nextDriftAlert(s, 0.4, 400_000 + FOR - 1, 0.25, FOR).change).toBeUndefined();
    r = nextDriftAlert(s, 0.4, 400_000 + FOR, 0.25, FOR);
    expect(r.change).toBe('fire');
    expect(r.state.firing).toBe(true);
  });

  it('clears with hysteresis, and when there is too little traffic to tell', () => {
    const firing = { firing: true, since: undefined };
    // Just under the threshold but above its clearing level: still firing.
    expect(nextDriftAlert(firing, 0.25 * CLEAR_RATIO + 0.01, 0, 0.25, 1000).state).toEqual(firing);
    let r = nextDriftAlert(firing, 0.1, 0, 0.25, 1000);
    expect(r.change).toBeUndefined();
    r = nextDriftAlert(r.state, 0.1, 1000, 0.25, 1000);
    expect(r.change).toBe('resolve');
    r = nextDriftAlert(firing, null, 0, 0.25, 1000);
    expect(nextDriftAlert(r.state, null, 1000, 0.25, 1000).change).toBe('resolve');
  });
});
