import { sql } from 'drizzle-orm';
import { bigint, check, doublePrecision, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns.ts';

/**
 * Every inference request, counted per deployment, version, node and minute: totals, server
 * errors, a latency histogram (the same bounds as vigil_request_duration_seconds) and the replica
 * CPU time spent. The console's executive numbers (1h, 24h, 7d) and charts come from these, so
 * they count every request, not only those an SLO covers. Nodes add with an upsert, like
 * sli_buckets.
 */
export const requestRollups = pgTable(
  'request_rollups',
  {
    deployment: text('deployment').notNull(),
    version: text('version').notNull(),
    node: text('node').notNull().default(''),
    bucketStart: timestamptz('bucket_start').notNull(),
    bucketSeconds: integer('bucket_seconds').notNull(),
    total: bigint('total', { mode: 'number' }).notNull(),
    errors: bigint('errors', { mode: 'number' }).notNull(),
    /** Count per latency bucket (non-cumulative), index i = bound i of DURATION_BUCKETS, last = above all. */
    latencyCounts: bigint('latency_counts', { mode: 'number' }).array().notNull(),
    latencySumSeconds: doublePrecision('latency_sum_seconds').notNull().default(0),
    cpuSeconds: doublePrecision('cpu_seconds').notNull().default(0),
    /** Set on every upsert: other nodes read the rows that changed since their last read. */
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.deployment, t.version, t.node, t.bucketStart] }),
    // Loading the last 7 days at start, and pruning, scan by time.
    index('request_rollups_start_idx').on(t.bucketStart),
    index('request_rollups_updated_idx').on(t.updatedAt),
    check('request_rollups_counts_check', sql`${t.errors} >= 0 and ${t.total} >= ${t.errors}`),
  ],
);

export type RequestRollup = typeof requestRollups.$inferSelect;
