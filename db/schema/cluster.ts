import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns.ts';

/**
 * One running vigil process ("node instance"). Every node upserts its row each heartbeat with a
 * report of its replicas; the console's node list, the leader's view of canary readiness, and
 * "is that node alive" all read this table. `instance` is unique per process (the node's name
 * plus a random suffix), so a restarted node is a new row and its counters never mix with the
 * old process's.
 */
export const clusterNodes = pgTable(
  'cluster_nodes',
  {
    instance: text('instance').primaryKey(),
    /** VIGIL_NODE_NAME, else the host name (the pod name on Kubernetes). */
    name: text('name').notNull(),
    /** Where the node's HTTP API answers (VIGIL_ADVERTISE_URL, else its listen address). */
    url: text('url').notNull(),
    startedAt: timestamptz('started_at').notNull().defaultNow(),
    heartbeatAt: timestamptz('heartbeat_at').notNull().defaultNow(),
    /** Set by a clean shutdown; a node that died keeps null and simply stops beating. */
    stoppedAt: timestamptz('stopped_at'),
    report: jsonb('report').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('cluster_nodes_heartbeat_idx').on(t.heartbeatAt)],
);

/**
 * The one leadership row (id 1). Whoever holds the session advisory lock bumps `epoch` when it
 * takes over; every leader action compares its epoch with this row inside its own transaction,
 * so a leader that lost the lock while paused cannot write (fencing).
 */
export const leadership = pgTable(
  'leadership',
  {
    id: integer('id').primaryKey(),
    epoch: bigint('epoch', { mode: 'number' }).notNull().default(0),
    /** The instance that holds `epoch`. */
    holder: text('holder'),
    acquiredAt: timestamptz('acquired_at'),
    renewedAt: timestamptz('renewed_at'),
  },
  (t) => [check('leadership_single_row_check', sql`${t.id} = 1`)],
);

/**
 * Each node's per-second request counts per deployment version, for canary analysis on the
 * leader: requests, server errors and the latency histogram (DURATION_BUCKETS bounds plus one
 * overflow slot). A node writes the absolute counts of each second it served (an upsert that
 * replaces), so a row read twice is counted once. Kept for minutes, not days.
 */
export const liveBuckets = pgTable(
  'live_buckets',
  {
    node: text('node').notNull(),
    deployment: text('deployment').notNull(),
    version: text('version').notNull(),
    /** Epoch seconds. */
    second: bigint('second', { mode: 'number' }).notNull(),
    requests: integer('requests').notNull(),
    errors: integer('errors').notNull(),
    latencyCounts: integer('latency_counts').array().notNull(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.node, t.deployment, t.version, t.second] }),
    // The leader reads what changed since its last read, and prunes by age.
    index('live_buckets_updated_idx').on(t.updatedAt),
    index('live_buckets_second_idx').on(t.second),
    check('live_buckets_counts_check', sql`${t.errors} >= 0 and ${t.requests} >= ${t.errors}`),
  ],
);

export type ClusterNode = typeof clusterNodes.$inferSelect;
export type LiveBucket = typeof liveBuckets.$inferSelect;
