import { DURATION_BUCKETS } from '../telemetry/buckets.ts';
import { COUNTS_AS_SLI, type FinishedRequests } from '../telemetry/finished-requests.ts';

/** Request totals over a span of seconds, for one deployment version. */
export interface WindowSummary {
  requests: number;
  errors: number;
  /** counts per DURATION_BUCKETS bound (non-cumulative), plus one last slot for > the largest bound */
  latencyCounts: number[];
}

/** One slot per DURATION_BUCKETS bound, plus the overflow slot. */
const LATENCY_SLOTS = DURATION_BUCKETS.length + 1;

/** A summary with no requests, with a latency slot for every bound. */
export function emptySummary(): WindowSummary {
  return { requests: 0, errors: 0, latencyCounts: new Array<number>(LATENCY_SLOTS).fill(0) };
}

/** Same rule as the availability SLI (slo/definition.ts isGoodEvent): only server errors count. */
function isError(status: number): boolean {
  return status >= 500;
}

/** The slot a duration falls in: the first bound it does not exceed (Prometheus `le`), else overflow. */
function latencySlot(durationSeconds: number): number {
  for (let i = 0; i < DURATION_BUCKETS.length; i++) if (durationSeconds <= DURATION_BUCKETS[i]!) return i;
  return DURATION_BUCKETS.length;
}

/**
 * The last `retentionSeconds` of one key, one slot per second. Slot `s % retention` holds second
 * `s` only while `seconds[slot] === s`; a slot still holding an older second is stale and is
 * reset on the next write, so memory stays fixed at `retention` slots however long vigil runs.
 */
class SecondRing {
  private readonly seconds: Float64Array;
  private readonly requests: Float64Array;
  private readonly errors: Float64Array;
  private readonly latency: Float64Array;

  constructor(private readonly retention: number) {
    this.seconds = new Float64Array(retention).fill(-1);
    this.requests = new Float64Array(retention);
    this.errors = new Float64Array(retention);
    this.latency = new Float64Array(retention * LATENCY_SLOTS);
  }

  add(second: number, error: boolean, slot: number): void {
    const i = second % this.retention;
    const held = this.seconds[i]!;
    // The slot already holds a later second: this one is more than a retention behind it, and
    // counting it would mix it into a second it does not belong to.
    if (held > second) return;
    if (held < second) this.reset(i, second);
    this.requests[i]!++;
    if (error) this.errors[i]!++;
    this.latency[i * LATENCY_SLOTS + slot]!++;
  }

  /** Adds counts that were measured elsewhere (another node) to one second. */
  addCounts(second: number, requests: number, errors: number, latency: readonly number[]): void {
    const i = second % this.retention;
    const held = this.seconds[i]!;
    if (held > second) return;
    if (held < second) this.reset(i, second);
    this.requests[i]! += requests;
    this.errors[i]! += errors;
    for (let b = 0; b < LATENCY_SLOTS; b++) this.latency[i * LATENCY_SLOTS + b]! += latency[b] ?? 0;
  }

  /** The counts of one second (zeros when the ring no longer holds it). */
  second(second: number): WindowSummary {
    const out = emptySummary();
    this.sumInto(out, second, second);
    return out;
  }

  /** Adds seconds [fromSecond, toSecond] into `out`; the caller keeps the range within retention. */
  sumInto(out: WindowSummary, fromSecond: number, toSecond: number): void {
    for (let s = fromSecond; s <= toSecond; s++) {
      const i = s % this.retention;
      if (this.seconds[i] !== s) continue;
      out.requests += this.requests[i]!;
      out.errors += this.errors[i]!;
      for (let b = 0; b < LATENCY_SLOTS; b++) out.latencyCounts[b]! += this.latency[i * LATENCY_SLOTS + b]!;
    }
  }

  private reset(i: number, second: number): void {
    this.seconds[i] = second;
    this.requests[i] = 0;
    this.errors[i] = 0;
    this.latency.fill(0, i * LATENCY_SLOTS, (i + 1) * LATENCY_SLOTS);
  }
}

export interface LiveWindowOptions {
  /** How far back `summary` can look, in seconds (default 600). */
  retentionSeconds?: number;
  /** Remember which seconds changed, for `takeChanged` (a node that shares its counts). */
  trackChanges?: boolean;
}

/** One second of one deployment version, as shared with other nodes. */
export interface SecondCounts {
  deployment: string;
  version: string;
  second: number;
  requests: number;
  errors: number;
  latencyCounts: number[];
}

/** What the canary analysis reads: one node's window, or every node's (serving/cluster/cluster-window.ts). */
export interface RequestWindow {
  /** Counts the SLI events (COUNTS_AS_SLI rows) of one block of finished requests at `nowMs`. */
  recordFinished(f: FinishedRequests, nowMs: number): void;
  summary(deployment: string, version: string, sinceMs: number, nowMs: number): WindowSummary;
}

/**
 * Per-second request counts, errors and latency histograms per (deployment, version), kept in
 * memory for the canary analysis. The SLO engine's SliWindow uses 10 s buckets flushed to the
 * database; a rollout decides every ~2 s on the last few tens of seconds, so it needs finer
 * buckets and no persistence. Times are epoch milliseconds from an injected clock.
 */
export class LiveWindow implements RequestWindow {
  readonly retentionSeconds: number;
  /** deployment → version → ring; nested maps so no separator can make two keys collide. */
  private readonly rings = new Map<string, Map<string, SecondRing>>();
  /** Seconds changed since the last takeChanged, per ring (only with trackChanges). */
  private changed: Map<SecondRing, { deployment: string; version: string; seconds: Set<number> }> | undefined;

  constructor(options: LiveWindowOptions = {}) {
    const retention = options.retentionSeconds ?? 600;
    if (!Number.isInteger(retention) || retention < 1)
      throw new RangeError(`retentionSeconds must be a positive integer, got ${retention}`);
    this.retentionSeconds = retention;
    if (options.trackChanges) this.changed = new Map();
  }

  private ring(deployment: string, version: string): SecondRing {
    let versions = this.rings.get(deployment);
    if (!versions) this.rings.set(deployment, (versions = new Map()));
    let ring = versions.get(version);
    if (!ring) versions.set(version, (ring = new SecondRing(this.retentionSeconds)));
    return ring;
  }

  /** Counts one finished request in the second that `nowMs` falls in. */
  record(deployment: string, version: string, status: number, durationSeconds: number, nowMs: number): void {
    const ring = this.ring(deployment, version);
    const second = Math.floor(nowMs / 1000);
    ring.add(second, isError(status), latencySlot(durationSeconds));
    this.changedSecond(ring, deployment, version, second);
  }

  private changedSecond(ring: SecondRing, deployment: string, version: string, second: number): void {
    if (!this.changed) return;
    let c = this.changed.get(ring);
    if (!c) this.changed.set(ring, (c = { deployment, version, seconds: new Set() }));
    c.seconds.add(second);
  }

  recordFinished(f: FinishedRequests, nowMs: number): void {
    let first = -1;
    for (let row = 0; row < f.length && first < 0; row++) if (f.counts[row]! & COUNTS_AS_SLI) first = row;
    if (first < 0) return;
    const ring = this.ring(f.deployment, f.version);
    const second = Math.floor(nowMs / 1000);
    for (let row = first; row < f.length; row++) {
      if (f.counts[row]! & COUNTS_AS_SLI)
        ring.add(second, isError(f.status[row]!), latencySlot(f.durationSeconds[row]!));
    }
    this.changedSecond(ring, f.deployment, f.version, second);
  }

  /** Adds another node's counts of one second. */
  addCounts(c: SecondCounts): void {
    this.ring(c.deployment, c.version).addCounts(c.second, c.requests, c.errors, c.latencyCounts);
  }

  /** The full counts of every second that changed since the last call (only with trackChanges). */
  takeChanged(): SecondCounts[] {
    if (!this.changed) return [];
    const out: SecondCounts[] = [];
    for (const [ring, c] of this.changed) {
      for (const second of c.seconds) {
        const s = ring.second(second);
        if (s.requests > 0)
          out.push({
            deployment: c.deployment,
            version: c.version,
            second,
            requests: s.requests,
            errors: s.errors,
            latencyCounts: s.latencyCounts,
          });
      }
    }
    this.changed = new Map();
    return out;
  }

  /** Marks seconds as changed again, after writing them failed. */
  restoreChanged(rows: readonly SecondCounts[]): void {
    if (!this.changed) return;
    for (const r of rows) {
      const ring = this.ring(r.deployment, r.version);
      let c = this.changed.get(ring);
      if (!c) this.changed.set(ring, (c = { deployment: r.deployment, version: r.version, seconds: new Set() }));
      c.seconds.add(r.second);
    }
  }

  /**
   * Totals of the seconds from floor(sinceMs / 1000) to floor(nowMs / 1000), both included, and
   * no further back than the retention. An unknown key or an empty span gives emptySummary().
   */
  summary(deployment: string, version: string, sinceMs: number, nowMs: number): WindowSummary {
    const out = emptySummary();
    const ring = this.rings.get(deployment)?.get(version);
    if (!ring) return out;
    const nowSecond = Math.floor(nowMs / 1000);
    const fromSecond = Math.max(Math.floor(sinceMs / 1000), nowSecond - this.retentionSeconds + 1);
    if (fromSecond > nowSecond) return out;
    ring.sumInto(out, fromSecond, nowSecond);
    return out;
  }

  /** Drops a version's counts, e.g. after its rollout ends. */
  forget(deployment: string, version: string): void {
    const versions = this.rings.get(deployment);
    if (!versions) return;
    versions.delete(version);
    if (versions.size === 0) this.rings.delete(deployment);
  }

  /** How many (deployment, version) keys are held; memory is this times the retention. */
  get size(): number {
    let n = 0;
    for (const versions of this.rings.values()) n += versions.size;
    return n;
  }
}
