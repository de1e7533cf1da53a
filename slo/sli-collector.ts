import type { SloDefinition } from './definition.ts';
import { isGoodEvent } from './definition.ts';
import { sliKey } from './evaluate-slo.ts';
import type { SliWindow } from './sli-window.ts';

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

  /** Records one finished inference request. Unknown deployments are ignored by construction. */
  record(deployment: string, version: string, status: number, durationSeconds: number): void {
    this.count(deployment, version, (slo) =>
      slo.kind === 'correctness' ? undefined : isGoodEvent(slo, status, durationSeconds),
    );
  }

  /** Records one probe run: an event of the deployment's correctness SLOs only. */
  recordProbe(deployment: string, version: string, passed: boolean): void {
    this.count(deployment, version, (slo) => (slo.kind === 'correctness' ? passed : undefined));
  }

  /** `goodFor` says whether the event is good for an SLO, or undefined when it is not its event. */
  private count(deployment: string, version: string, goodFor: (slo: SloDefinition) => boolean | undefined): void {
    const slos = this.byDeployment.get(deployment);
    if (!slos) return;
    const at = this.now();
    const bucketStart = this.window.bucketStart(at);
    for (const slo of slos) {
      if (slo.version !== null && slo.version !== version) continue;
      const isGood = goodFor(slo);
      if (isGood === undefined) continue;
      const good = isGood ? 1 : 0;
      this.window.add(sliKey(slo.id, version), at, good, 1);
      const key = `${slo.id}|${version}|${bucketStart}`;
      const row = this.pending.get(key);
      if (row) {
        row.good += good;
        row.total += 1;
      } else {
        this.pending.set(key, {
          sloId: slo.id,
          deployment,
          version,
          bucketStart: new Date(bucketStart),
          bucketSeconds: this.window.bucketMs / 1000,
          good,
          total: 1,
        });
      }
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
