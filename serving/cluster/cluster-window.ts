import type { Db } from '../../db/client.ts';
import { liveBucketsChanged, writeLiveBuckets } from '../../db/queries/live-buckets.ts';
import {
  emptySummary,
  LiveWindow,
  type RequestWindow,
  type SecondCounts,
  type WindowSummary,
} from '../rollout/live-window.ts';
import type { FinishedRequests } from '../telemetry/finished-requests.ts';
import { RemoteRows } from './remote-rows.ts';

function addSummary(into: WindowSummary, s: WindowSummary): WindowSummary {
  into.requests += s.requests;
  into.errors += s.errors;
  for (let i = 0; i < into.latencyCounts.length; i++) into.latencyCounts[i]! += s.latencyCounts[i] ?? 0;
  return into;
}

/**
 * The per-second request window of the whole cluster, for canary analysis: this node's own
 * counts, live, plus every other node's as written to `live_buckets`. Every node writes its
 * changed seconds about once a second (`flush`); the leader, which judges canaries, reads the
 * others' changes before each analysis (`refresh`). On the embedded database there is one node
 * and nothing to share, so both are no-ops.
 */
export class ClusterWindow implements RequestWindow {
  readonly local: LiveWindow;
  private readonly others: LiveWindow;
  private readonly remote = new RemoteRows<SecondCounts & { node: string }>(
    (r) => `${r.node}\u0000${r.deployment}\u0000${r.version}\u0000${r.second}`,
    (now, before) => {
      const requests = now.requests - (before?.requests ?? 0);
      if (requests <= 0) return undefined;
      return {
        ...now,
        requests,
        errors: now.errors - (before?.errors ?? 0),
        latencyCounts: now.latencyCounts.map((c, i) => c - (before?.latencyCounts[i] ?? 0)),
      };
    },
  );

  constructor(private readonly o: { db: Db; instance: string; shared: boolean; retentionSeconds?: number }) {
    this.local = new LiveWindow({ retentionSeconds: o.retentionSeconds, trackChanges: o.shared });
    this.others = new LiveWindow({ retentionSeconds: o.retentionSeconds });
  }

  recordFinished(f: FinishedRequests, nowMs: number): void {
    this.local.recordFinished(f, nowMs);
  }

  summary(deployment: string, version: string, sinceMs: number, nowMs: number): WindowSummary {
    const out = addSummary(emptySummary(), this.local.summary(deployment, version, sinceMs, nowMs));
    return this.o.shared ? addSummary(out, this.others.summary(deployment, version, sinceMs, nowMs)) : out;
  }

  /** Writes this node's seconds that changed since the last flush; on failure they are kept for the next one, and the error thrown. */
  async flush(): Promise<void> {
    if (!this.o.shared) return;
    const rows = this.local.takeChanged();
    if (rows.length === 0) return;
    try {
      await writeLiveBuckets(this.o.db, this.o.instance, rows);
    } catch (err) {
      this.local.restoreChanged(rows);
      throw err;
    }
  }

  /** Reads the other nodes' changes (the leader, before it judges canaries). */
  async refresh(nowMs: number): Promise<void> {
    if (!this.o.shared) return;
    const fromSecond = Math.floor(nowMs / 1000) - this.local.retentionSeconds;
    const rows = await liveBucketsChanged(this.o.db, {
      excludeNode: this.o.instance,
      since: this.remote.since(),
      fromSecond,
    });
    for (const inc of this.remote.absorb(rows.map((r) => ({ ...r, second: Number(r.second) }))))
      this.others.addCounts(inc);
    this.remote.forget((r) => r.second < fromSecond);
  }
}
