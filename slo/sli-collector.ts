import type { SloDefinition } from './definition.ts';
import { isGoodEvent } from './definition.ts';
import { sliKey } from './evaluate-slo.ts';
import type { SliWindow } from './sli-window.ts';
import { COUNTS_AS_SLI, type FinishedRequests } from '../serving/telemetry/finished-requests.ts';

/** One row of counts waiting to be written to sli_buckets. */
export interface PendingSliRow {
  sloId: string;
  deployment: string;
  version: string;
  bucketStart: Date;
  bucketSeconds: number;
  good: number;
  total: number;
}

/**
 * Counts good and total events per SLO, version and time bucket as the router finishes each
 * request: into the in-memory SliWindow the engine reads, and into a pending set that is flushed
 * to the database in batches. A crash loses at most the pending set, i.e. one flush interval.
 */
export class SliCollector {
  private byDeployment = new Map<string, SloDefinition[]>();
  private pending = new Map<string, PendingSliRow>();

  constructor(
    readonly window: SliWindow,
    slos: readonly SloDefinition[],
    private readonly now: () => number = Date.now,
  ) {
    this.setSlos(slos);
  }

  /** Replaces the SLO set (after an API change). */
  setSlos(slos: readonly SloDefinition[]): void {
    const map = new Map<string, SloDefinition[]>();
    for (const s of slos) map.set(s.deployment, [...(map.get(s.deployment) ?? []), s]);
    this.byDeployment = map;
  }

  /**
   * Records the SLI events (COUNTS_AS_SLI rows) of one block of finished requests: each SLO of
   * the deployment counts its good rows in one pass, then adds them once.
   */
  recordFinished(f: FinishedRequests): void {
    const slos = this.byDeployment.get(f.deployment);
    if (!slos) return;
    for (const slo of slos) {
      if (slo.kind === 'correctness' || (slo.version !== null && slo.version !== f.version)) continue;
      let good = 0;
      let total = 0;
      for (let i = 0; i < f.length; i++) {
        if (!(f.counts[i]! & COUNTS_AS_SLI)) continue;
        total++;
        if (isGoodEvent(slo, f.status[i]!, f.durationSeconds[i]!)) good++;
      }
      if (total > 0) this.add(slo, f.deployment, f.version, good, total);
    }
  }

  /** Records one probe run: an event of the deployment's correctness SLOs only. */
  recordProbe(deployment: string, version: string, passed: boolean): void {
    for (const slo of this.byDeployment.get(deployment) ?? []) {
      if (slo.kind !== 'correctness' || (slo.version !== null && slo.version !== version)) continue;
      this.add(slo, deployment, version, passed ? 1 : 0, 1);
    }
  }

  /** Adds `good` of `total` events of one SLO and version, in the bucket that now falls in. */
  private add(slo: SloDefinition, deployment: string, version: string, good: number, total: number): void {
    const at = this.now();
    const bucketStart = this.window.bucketStart(at);
    this.window.add(sliKey(slo.id, version), at, good, total);
    const key = `${slo.id}|${version}|${bucketStart}`;
    const row = this.pending.get(key);
    if (row) {
      row.good += good;
      row.total += total;
    } else {
      this.pending.set(key, {
        sloId: slo.id,
        deployment,
        version,
        bucketStart: new Date(bucketStart),
        bucketSeconds: this.window.bucketMs / 1000,
        good,
        total,
      });
    }
  }

  /** Takes the pending rows; give them back with `restore` if writing them failed. */
  drain(): PendingSliRow[] {
    const rows = [...this.pending.values()];
    this.pending = new Map();
    return rows;
  }

  restore(rows: PendingSliRow[]): void {
    for (const r of rows) {
      const key = `${r.sloId}|${r.version}|${r.bucketStart.getTime()}`;
      const row = this.pending.get(key);
      if (row) {
        row.good += r.good;
        row.total += r.total;
      } else {
        this.pending.set(key, { ...r });
      }
    }
  }
}
