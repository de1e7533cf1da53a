// SLI counts: the SLO engine adds what each node counted, burn-rate windows read sums back.
import { and, asc, eq, gt, gte, lt, ne, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { sliBuckets, type SliBucket } from '../schema/index.ts';

export interface SliCounts {
  sloId: string;
  deployment: string;
  version: string;
  /** The node that counted; '' (the default) on a single node. */
  node?: string;
  bucketStart: Date;
  bucketSeconds: number;
  good: number;
  total: number;
}

// 8 parameters a row; Postgres allows 65,535 bound parameters in one statement.
const ROWS_PER_STATEMENT = 1000;

/**
 * Adds counts to their buckets: a new bucket is inserted, an existing one has `good` and
 * `total` increased. Rows for the same bucket within `rows` are summed first, because one
 * INSERT ... ON CONFLICT DO UPDATE may not touch a row twice.
 */
export async function addSliCounts(db: Db, rows: readonly SliCounts[]): Promise<void> {
  const merged = new Map<string, SliCounts & { node: string }>();
  for (const row of rows) {
    const node = row.node ?? '';
    const key = JSON.stringify([row.sloId, row.version, node, row.bucketStart.getTime()]);
    const seen = merged.get(key);
    if (seen) {
      seen.good += row.good;
      seen.total += row.total;
    } else {
      merged.set(key, { ...row, node });
    }
  }
  const values = [...merged.values()];
  for (let i = 0; i < values.length; i += ROWS_PER_STATEMENT) {
    await db
      .insert(sliBuckets)
      .values(values.slice(i, i + ROWS_PER_STATEMENT))
      .onConflictDoUpdate({
        target: [sliBuckets.sloId, sliBuckets.version, sliBuckets.node, sliBuckets.bucketStart],
        set: {
          good: sql`${sliBuckets.good} + excluded.good`,
          total: sql`${sliBuckets.total} + excluded.total`,
          updatedAt: sql`now()`,
        },
      });
  }
}

export interface SliTotals {
  good: number;
  total: number;
}

/**
 * Sums good and total over the buckets starting at or after `since`, across nodes and all
 * versions, or one version when `version` is given.
 */
export async function sliTotalsSince(
  db: Db,
  params: { sloId: string; version?: string; since: Date },
): Promise<SliTotals> {
  const [row] = await db
    .select({
      // sum(bigint) is numeric, which drivers return as a string.
      good: sql<number>`coalesce(sum(${sliBuckets.good}), 0)`.mapWith(Number),
      total: sql<number>`coalesce(sum(${sliBuckets.total}), 0)`.mapWith(Number),
    })
    .from(sliBuckets)
    .where(
      and(
        eq(sliBuckets.sloId, params.sloId),
        gte(sliBuckets.bucketStart, params.since),
        params.version === undefined ? undefined : eq(sliBuckets.version, params.version),
      ),
    );
  return { good: row?.good ?? 0, total: row?.total ?? 0 };
}

/** The buckets of one SLO starting in [from, to), oldest first. */
export function sliBucketsBetween(db: Db, params: { sloId: string; from: Date; to: Date }): Promise<SliBucket[]> {
  return db
    .select()
    .from(sliBuckets)
    .where(
      and(
        eq(sliBuckets.sloId, params.sloId),
        gte(sliBuckets.bucketStart, params.from),
        lt(sliBuckets.bucketStart, params.to),
      ),
    )
    .orderBy(asc(sliBuckets.bucketStart), asc(sliBuckets.version), asc(sliBuckets.node));
}

/**
 * Other nodes' buckets (absolute counts) that changed after `since`, or all of them starting
 * at or after `fromStart` when `since` is undefined: how a node sees the counts of the others.
 */
export function sliBucketsChanged(
  db: Db,
  params: { excludeNode: string; since?: Date; fromStart: Date },
): Promise<SliBucket[]> {
  return db
    .select()
    .from(sliBuckets)
    .where(
      and(
        ne(sliBuckets.node, params.excludeNode),
        params.since ? gt(sliBuckets.updatedAt, params.since) : undefined,
        gte(sliBuckets.bucketStart, params.fromStart),
      ),
    );
}
