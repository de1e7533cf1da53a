// Per-minute request counts for the console (see db/schema/request-rollups.ts).
import { and, gt, gte, ne, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { requestRollups } from '../schema/index.ts';
import type { HistoryRow } from '../../serving/telemetry/request-history.ts';

// 10 parameters a row; Postgres allows 65,535 bound parameters in one statement.
const ROWS_PER_STATEMENT = 1000;

/**
 * Adds counts to their minute rows: new rows are inserted, existing ones have every count (and
 * each latency bucket, element by element) increased, so flushes and nodes add up.
 */
export async function addRequestRollups(db: Db, rows: readonly HistoryRow[], node = ''): Promise<void> {
  const values = rows.map((r) => ({
    deployment: r.deployment,
    version: r.version,
    node,
    bucketStart: new Date(r.bucketStart),
    bucketSeconds: r.bucketSeconds,
    total: r.total,
    errors: r.errors,
    latencyCounts: r.latencyCounts,
    latencySumSeconds: r.latencySumSeconds,
    cpuSeconds: r.cpuSeconds,
  }));
  for (let i = 0; i < values.length; i += ROWS_PER_STATEMENT) {
    await db
      .insert(requestRollups)
      .values(values.slice(i, i + ROWS_PER_STATEMENT))
      .onConflictDoUpdate({
        target: [requestRollups.deployment, requestRollups.version, requestRollups.node, requestRollups.bucketStart],
        set: {
          total: sql`${requestRollups.total} + excluded.total`,
          errors: sql`${requestRollups.errors} + excluded.errors`,
          latencyCounts: sql`array(select coalesce(a, 0) + coalesce(b, 0) from unnest(${requestRollups.latencyCounts}, excluded.latency_counts) as t(a, b))`,
          latencySumSeconds: sql`${requestRollups.latencySumSeconds} + excluded.latency_sum_seconds`,
          cpuSeconds: sql`${requestRollups.cpuSeconds} + excluded.cpu_seconds`,
          updatedAt: sql`now()`,
        },
      });
  }
}

/** Every node's rows since `since`, summed per deployment, version and minute. */
export async function loadRequestRollups(db: Db, since: Date): Promise<HistoryRow[]> {
  const rows = await db.select().from(requestRollups).where(gte(requestRollups.bucketStart, since));
  return rows.map((r) => ({
    deployment: r.deployment,
    version: r.version,
    bucketStart: r.bucketStart.getTime(),
    bucketSeconds: r.bucketSeconds,
    total: r.total,
    errors: r.errors,
    latencyCounts: r.latencyCounts.map(Number),
    latencySumSeconds: r.latencySumSeconds,
    cpuSeconds: r.cpuSeconds,
  }));
}

/** Other nodes' minute rows (absolute counts) changed after `since`, or all since `fromStart` when `since` is undefined. */
export async function requestRollupsChanged(
  db: Db,
  params: { excludeNode: string; since?: Date; fromStart: Date },
): Promise<Array<HistoryRow & { node: string; updatedAt: Date }>> {
  const rows = await db
    .select()
    .from(requestRollups)
    .where(
      and(
        ne(requestRollups.node, params.excludeNode),
        params.since ? gt(requestRollups.updatedAt, params.since) : undefined,
        gte(requestRollups.bucketStart, params.fromStart),
      ),
    );
  return rows.map((r) => ({
    node: r.node,
    updatedAt: r.updatedAt,
    deployment: r.deployment,
    version: r.version,
    bucketStart: r.bucketStart.getTime(),
    bucketSeconds: r.bucketSeconds,
    total: r.total,
    errors: r.errors,
    latencyCounts: r.latencyCounts.map(Number),
    latencySumSeconds: r.latencySumSeconds,
    cpuSeconds: r.cpuSeconds,
  }));
}
