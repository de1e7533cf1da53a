import type { Db } from '../../db/client.ts';
import { pruneExpiredRows, type PrunedCounts } from '../../db/queries/retention.ts';
import type { RetentionConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { parseDuration } from '../../slo/duration.ts';
import { retentionCutoffs } from './retention-policy.ts';

export interface RetentionJobOptions {
  db: Db;
  config: RetentionConfig;
  log: Logger;
  /** Only the leader prunes: one node's deletes are enough, and followers never write state. */
  isLeader(): boolean;
  /** The longest window of any SLO now defined, in seconds. */
  longestSloWindowSeconds(): number;
  now?: () => Date;
}

/**
 * Deletes expired rows every `retention.interval` while this node leads. The first pass runs
 * one interval after start, so a node's start-up is not slowed by a large first delete.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PrunedCounts | null> | undefined;

  constructor(private readonly o: RetentionJobOptions) {}

  start(): void {
    const everyMs = parseDuration(this.o.config.interval) * 1000;
    this.timer = setInterval(() => void this.runOnce(), everyMs);
    this.timer.unref();
  }

  /** One pass (a no-op on a follower); returns the rows deleted per table, or null if it did not run. */
  runOnce(): Promise<PrunedCounts | null> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async pass(): Promise<PrunedCounts | null> {
    if (!this.o.isLeader()) return null;
    const now = this.o.now?.() ?? new Date();
    try {
      const cutoffs = retentionCutoffs(this.o.config, now, this.o.longestSloWindowSeconds());
      const deleted = await pruneExpiredRows(this.o.db, cutoffs);
      if (Object.values(deleted).some((n) => n > 0)) this.o.log.info({ deleted }, 'retention: deleted expired rows');
      return deleted;
    } catch (err) {
      this.o.log.warn({ err }, 'retention: pruning failed; it is tried again next interval');
      return null;
    }
  }
}
