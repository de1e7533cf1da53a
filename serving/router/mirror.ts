import type { MirrorConfig } from '../config/schema.ts';
import { admit } from './admit.ts';
import type { ResultMessage } from '../transport/messages.ts';
import { compareOutputs, type OutputComparison } from './output-agreement.ts';
import type { InferCall } from './version-pool.ts';
import type { IngressPool } from './ingress-types.ts';

export type MirrorResult = 'agree' | 'disagree' | 'incomparable' | 'error';

/** Running totals of one deployment's shadow comparisons, by candidate version. */
export interface MirrorTotals {
  /** Mirrored requests whose two answers were compared. */
  compared: number;
  agreed: number;
  /** Rows (items) compared, and rows whose top-1 class (or values within tolerance) agreed. */
  rows: number;
  rowsAgreeing: number;
  /** Mirrored requests that failed on the candidate (never seen by the client). */
  errors: number;
  maxAbsDiff: number;
}

const emptyTotals = (): MirrorTotals => ({
  compared: 0,
  agreed: 0,
  rows: 0,
  rowsAgreeing: 0,
  errors: 0,
  maxAbsDiff: 0,
});

/**
 * Shadow traffic: for a share of requests served by another version, the same inputs also run on
 * the mirror version, and the two answers are compared. The client only ever gets the primary
 * answer, and the shadow call cannot delay or fail it: it runs beside the primary, its errors
 * are counted and swallowed, and it gives up at the primary's deadline.
 */
export class MirrorStats {
  private readonly totals = new Map<string, MirrorTotals>();
  /**
   * Called for each comparison: in the primary it feeds vigil_mirror_requests_total; in an
   * ingress process, where the comparisons are made, it reports them to the primary.
   */
  onResult: ((version: string, result: MirrorResult, comparison?: OutputComparison) => void) | undefined;

  get(version: string): MirrorTotals {
    return { ...(this.totals.get(version) ?? emptyTotals()) };
  }

  record(version: string, result: MirrorResult, comparison?: OutputComparison): void {
    let t = this.totals.get(version);
    if (!t) this.totals.set(version, (t = emptyTotals()));
    if (result === 'error') t.errors++;
    else {
      t.compared++;
      if (result === 'agree') t.agreed++;
      if (comparison) {
        t.rows += comparison.rows;
        t.rowsAgreeing += comparison.rowsAgreeing;
        if (comparison.maxAbsDiff !== null && comparison.maxAbsDiff > t.maxAbsDiff)
          t.maxAbsDiff = comparison.maxAbsDiff;
      }
    }
    this.onResult?.(version, result, comparison);
  }
}

/** Whether this request should also run on the mirror version. */
export function shouldMirror(
  mirror: MirrorConfig | undefined,
  primary: IngressPool,
  pinned: boolean,
  random: () => number = Math.random,
): mirror is MirrorConfig {
  return (
    mirror !== undefined &&
    !pinned &&
    mirror.version !== primary.version &&
    mirror.percent > 0 &&
    random() * 100 < mirror.percent
  );
}

/** Sends the shadow call and records the comparison once both answers are in. */
export function runShadow(
  shadow: IngressPool,
  call: InferCall,
  primary: Promise<{ result: ResultMessage }>,
  mirror: MirrorConfig,
  stats: MirrorStats,
  random: () => number = Math.random,
): void {
  // The candidate's fault injection applies to shadow calls too, so a game day can show what a
  // failing or slow candidate does to the agreement figure (nothing reaches the client either way).
  // No trace context: the shadow call is not part of the client's request.
  const shadowCall = admit(shadow, { inputs: call.inputs, outputs: call.outputs, deadline: call.deadline }, { random });
  Promise.allSettled([primary, shadowCall]).then(([p, s]) => {
    // A failed primary leaves nothing to compare with; the client saw that failure already.
    if (p.status === 'rejected') return;
    if (s.status === 'rejected') return stats.record(mirror.version, 'error');
    const comparison = compareOutputs(p.value.result.outputs, s.value.result.outputs, mirror.tolerance);
    const result: MirrorResult =
      comparison.kind === 'incomparable' ? 'incomparable' : comparison.agree ? 'agree' : 'disagree';
    stats.record(mirror.version, result, comparison);
  });
}
