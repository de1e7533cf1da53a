import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns.ts';

/**
 * Good and total event counts of one SLO, per version and node, per time bucket. Nodes add
 * their counts with an upsert (see db/queries/sli-buckets.ts), so a bucket is one row however
 * many flushes it took.
 */
export const sliBuckets = pgTable(
  'sli_buckets',
  {
    sloId: text('slo_id').notNull(),
    deployment: text('deployment').notNull(),
    version: text('version').notNull(),
    /** The vigil node that counted; '' on a single node (a primary key column cannot be null). */
    node: text('node').notNull().default(''),
    bucketStart: timestamptz('bucket_start').notNull(),
    bucketSeconds: integer('bucket_seconds').notNull(),
    // bigint because a busy SLO passes 2^31 events in a long window; mode 'number' is exact up
    // to 2^53, far beyond any one bucket.
    good: bigint('good', { mode: 'number' }).notNull(),
    total: bigint('total', { mode: 'number' }).notNull(),
    /** Set on every upsert: other nodes read the rows that changed since their last read. */
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    // The upsert's conflict target: one row per (SLO, version, node, bucket).
    primaryKey({ columns: [t.sloId, t.version, t.node, t.bucketStart] }),
    // Burn-rate windows scan one SLO over a time range across all versions and nodes; the
    // primary key puts version before bucket_start, so it cannot serve that range scan.
    index('sli_buckets_slo_start_idx').on(t.sloId, t.bucketStart),
    index('sli_buckets_updated_idx').on(t.updatedAt),
    check('sli_buckets_counts_check', sql`${t.good} >= 0 and ${t.total} >= ${t.good}`),
  ],
);

export type SliBucket = typeof sliBuckets.$inferSelect;
export type NewSliBucket = typeof sliBuckets.$inferInsert;
