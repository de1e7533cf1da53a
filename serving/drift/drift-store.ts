import type { DriftObservation } from './drift-observer.ts';
import { type Bin, compare } from './psi.ts';
import { emptySketch, merge, type Sketch } from './sketch.ts';

const MINUTE = 60_000;

export interface DriftFinding {
  deployment: string;
  version: string;
  signal: string;
  /** Against what: the stable version over the same window, or this version's window before. */
  baseline: { kind: 'stable'; version: string } | { kind: 'previous' } | { kind: 'pinned'; pinnedAt: number };
  /** Null while either side has fewer than min_samples values. */
  psi: number | null;
  samples: { baseline: number; recent: number };
  bins: Bin[];
}

/**
 * The primary's per-minute sketches of every version's signals, kept for two windows, and their
 * comparison. Memory is bounded: (versions × signals) × 2 × window minutes × one bounded sketch.
 */
export class DriftStore {
  /** deployment → version → signal → minute → sketch */
  private readonly minutes = new Map<string, Map<string, Map<string, Map<number, Sketch>>>>();
  /** deployment\0version → a window an operator chose as the reference, per signal. */
  private readonly pinned = new Map<string, { at: number; signals: Map<string, Sketch> }>();

  constructor(
    private readonly windowMs: number,
    private readonly minSamples: number,
  ) {}

  record(list: readonly DriftObservation[], now: number): void {
    const minute = Math.floor(now / MINUTE);
    for (const o of list) {
      const byVersion = this.child(this.minutes, o.deployment, () => new Map());
      const bySignal = this.child(byVersion, o.version, () => new Map());
      const byMinute = this.child(bySignal, o.signal, () => new Map<number, Sketch>());
      const sketch = this.child(byMinute, minute, () => emptySketch(o.sketch.kind));
      merge(sketch, o.sketch);
    }
    this.prune(minute);
  }

  /**
   * Keeps a version's last window as its reference ("what it answered last week is right"), until
   * unpinned. Held in memory: a restart forgets it. Returns the signals it holds.
   */
  pin(deployment: string, version: string, now: number): string[] {
    const bySignal = this.minutes.get(deployment)?.get(version);
    const minute = Math.floor(now / MINUTE);
    const span = Math.max(1, Math.round(this.windowMs / MINUTE));
    const signals = new Map<string, Sketch>();
    for (const [signal, byMinute] of bySignal ?? []) signals.set(signal, sum(byMinute, minute - span + 1, minute));
    if (signals.size > 0) this.pinned.set(`${deployment}\u0000${version}`, { at: now, signals });
    return [...signals.keys()].sort();
  }

  unpin(deployment: string, version: string): boolean {
    return this.pinned.delete(`${deployment}\u0000${version}`);
  }

  /**
   * Each version's drift on each signal: against its pinned window when an operator pinned one,
   * else against the version taking the most traffic when it is another (a canary, or one at a
   * smaller share), else against its own previous window.
   */
  findings(
    deployment: string,
    weights: ReadonlyMap<string, number>,
    now: number,
    opts: { ignorePins?: boolean } = {},
  ): DriftFinding[] {
    const byVersion = this.minutes.get(deployment);
    if (!byVersion) return [];
    const minute = Math.floor(now / MINUTE);
    const span = Math.max(1, Math.round(this.windowMs / MINUTE));
    const stable = [...weights].sort((a, b) => b[1] - a[1])[0]?.[0];
    const out: DriftFinding[] = [];
    for (const [version, bySignal] of byVersion) {
      for (const [signal, byMinute] of bySignal) {
        const recent = sum(byMinute, minute - span + 1, minute);
        const pin = opts.ignorePins ? undefined : this.pinned.get(`${deployment}\u0000${version}`);
        const pinnedSketch = pin?.signals.get(signal);
        const against: DriftFinding['baseline'] = pinnedSketch
          ? { kind: 'pinned', pinnedAt: pin!.at }
          : stable !== undefined && stable !== version && byVersion.get(stable)?.get(signal)
            ? { kind: 'stable', version: stable }
            : { kind: 'previous' };
        const baseline =
          against.kind === 'pinned'
            ? pinnedSketch!
            : against.kind === 'stable'
              ? sum(byVersion.get(stable!)!.get(signal)!, minute - span + 1, minute)
              : sum(byMinute, minute - 2 * span + 1, minute - span);
        if (recent.total === 0 && baseline.total === 0) continue;
        const enough = recent.total >= this.minSamples && baseline.total >= this.minSamples;
        const c = enough ? compare(baseline, recent) : undefined;
        out.push({
          deployment,
          version,
          signal,
          baseline: against,
          psi: c ? c.psi : null,
          samples: { baseline: baseline.total, recent: recent.total },
          bins: c?.bins ?? [],
        });
      }
    }
    return out.sort((a, b) => a.version.localeCompare(b.version) || a.signal.localeCompare(b.signal));
  }

  private prune(minute: number): void {
    const keepFrom = minute - 2 * Math.max(1, Math.round(this.windowMs / MINUTE)) + 1;
    for (const byVersion of this.minutes.values())
      for (const bySignal of byVersion.values())
        for (const byMinute of bySignal.values()) for (const m of byMinute.keys()) if (m < keepFrom) byMinute.delete(m);
  }

  private child<K, V>(map: Map<K, V>, key: K, make: () => V): V {
    let v = map.get(key);
    if (v === undefined) map.set(key, (v = make()));
    return v;
  }
}

function sum(byMinute: Map<number, Sketch>, from: number, to: number): Sketch {
  const first = byMinute.values().next().value;
  const out = emptySketch(first?.kind ?? 'values');
  for (const [m, s] of byMinute) if (m >= from && m <= to) merge(out, s);
  return out;
}
