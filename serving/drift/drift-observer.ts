import type { Tensor } from '../protocol/datatypes.ts';
import { signalsOf, type SignalValue } from './signals.ts';
import { add, addValue, emptySketch, type Sketch, type SketchJson, toJson } from './sketch.ts';

/** One version's sketch of one signal over a report period, as an ingress process sends it. */
export interface DriftObservation {
  deployment: string;
  version: string;
  signal: string;
  sketch: SketchJson;
}

/**
 * Inferences per version per second that one ingress process folds into its sketches. A
 * distribution needs samples, not every request: at 100 a second a window of an hour still holds
 * 360,000 per process, and at saturation the work stays a small share of the request path
 * (bench:observability measures it).
 */
export const SAMPLES_PER_SECOND = 100;

/**
 * The ingress side of prediction drift: folds answered inferences (up to SAMPLES_PER_SECOND per
 * version) into per-version sketches, bounded whatever the traffic, and hands them over once a
 * second with the report.
 */
export class DriftObserver {
  private sketches = new Map<string, { deployment: string; version: string; signal: string; sketch: Sketch }>();
  private readonly scratch: SignalValue[] = [];
  /** Inferences folded in this second, per version. */
  private taken = new Map<string, number>();

  observe(deployment: string, version: string, inputs: readonly Tensor[], outputs: readonly Tensor[]): void {
    const budgetKey = `${deployment}\u0000${version}`;
    const taken = this.taken.get(budgetKey) ?? 0;
    if (taken >= SAMPLES_PER_SECOND) return;
    this.taken.set(budgetKey, taken + 1);
    this.scratch.length = 0;
    for (const s of signalsOf(inputs, outputs, this.scratch)) {
      const key = `${deployment}\u0000${version}\u0000${s.signal}`;
      let entry = this.sketches.get(key);
      if (!entry) {
        entry = { deployment, version, signal: s.signal, sketch: emptySketch(s.kind) };
        this.sketches.set(key, entry);
      }
      if (s.kind === 'classes') add(entry.sketch, s.value);
      else addValue(entry.sketch, s.value);
    }
  }

  take(): DriftObservation[] {
    const out = [...this.sketches.values()].map((e) => ({
      deployment: e.deployment,
      version: e.version,
      signal: e.signal,
      sketch: toJson(e.sketch),
    }));
    this.sketches = new Map();
    this.taken = new Map();
    return out;
  }
}
