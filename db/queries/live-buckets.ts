// Per-second request counts of every node, for the leader's canary analysis (db/schema/cluster.ts).
import { and, gt, lt, ne, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { liveBuckets } from '../schema/index.ts';
import type { SecondCounts } from '../../serving/rollout/live-window.ts';

/** One second of one deployment version on one node. */
export type LiveRow = SecondCounts;

// 7 parameters a row; Postgres allows 65,535 bound parameters in one statement.
const ROWS_PER_STATEMENT = 2000;

/** Writes the absolute counts of these seconds for `node` (replacing what was there). */
export async function writeLiveBuckets(db: Db, node: string, rows: readonly LiveRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    await db
      .insert(liveBuckets)
      .values(rows.slice(i, i + ROWS_PER_STATEMENT).map((r) => ({ node, ...r })))
      .onConflictDoUpdate({
        target: [liveBuckets.node, liveBuckets.deployment, liveBuckets.version, liveBuckets.second],
        set: {
          requests: sql`excluded.requests`,
          errors: sql`excluded.errors`,
          latencyCounts: sql`excluded.latency_counts`,
          updatedAt: sql`now()`,
        },
      });
  }
}

/** Other nodes' rows changed after `since` (all of them when undefined), from `fromSecond` on. */
export async function liveBucketsChanged(
  db: Db,
  params: { excludeNode: string; since?: Date; fromSecond: number },
): Promise<Array<LiveRow & { node: string; updatedAt: Date }>> {
  return db
    .select({
      node: liveBuckets.node,
      deployment: liveBuckets.deployment,
      version: liveBuckets.version,
      second: liveBuckets.second,
      requests: liveBuckets.requests,
      errors: liveBuckets.errors,
      latencyCounts: liveBuckets.latencyCounts,
      updatedAt: liveBuckets.updatedAt,
    })
    .from(liveBuckets)
    .where(
      and(
        ne(liveBuckets.node, params.excludeNode),
        params.since ? gt(liveBuckets.updatedAt, params.since) : undefined,
        sql`${liveBuckets.second} >= ${params.fromSecond}`,
      ),
    );
}

export async function pruneLiveBuckets(db: Db, beforeSecond: number): Promise<void> {
  await db.delete(liveBuckets).where(lt(liveBuckets.second, beforeSecond));
}
