// The node table: each node's heartbeat and report (db/schema/cluster.ts).
import { desc, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { clusterNodes, type ClusterNode } from '../schema/index.ts';

export interface NodeBeat {
  instance: string;
  name: string;
  url: string;
  report: Record<string, unknown>;
}

/** Writes this node's heartbeat (the database's clock) and report. */
export async function beat(db: Db, b: NodeBeat): Promise<void> {
  await db
    .insert(clusterNodes)
    .values({ instance: b.instance, name: b.name, url: b.url, report: b.report })
    .onConflictDoUpdate({
      target: clusterNodes.instance,
      set: { url: b.url, report: b.report, heartbeatAt: sql`now()`, stoppedAt: null },
    });
}

export async function markStopped(db: Db, instance: string): Promise<void> {
  await db.update(clusterNodes).set({ stoppedAt: sql`now()` }).where(eq(clusterNodes.instance, instance));
}

export type NodeRow = ClusterNode & { ageSeconds: number };

/** Nodes heard from within `withinSeconds` (and stopped ones, until then), newest first; ages by the database's clock. */
export async function listNodes(db: Db, withinSeconds: number): Promise<NodeRow[]> {
  const rows = await db
    .select({
      node: clusterNodes,
      ageSeconds: sql<number>`extract(epoch from (now() - ${clusterNodes.heartbeatAt}))`.mapWith(Number),
    })
    .from(clusterNodes)
    .where(sql`${clusterNodes.heartbeatAt} > now() - make_interval(secs => ${withinSeconds})`)
    .orderBy(desc(clusterNodes.startedAt));
  return rows.map((r) => ({ ...r.node, ageSeconds: r.ageSeconds }));
}

/** Forgets nodes not heard from for `olderThanSeconds`. */
export async function pruneNodes(db: Db, olderThanSeconds: number): Promise<void> {
  await db
    .delete(clusterNodes)
    .where(lt(clusterNodes.heartbeatAt, sql`now() - make_interval(secs => ${olderThanSeconds})`));
}
