import type { ClusterStatus, NodeReport } from '../../contract/control/node.ts';
import type { VigilDatabase } from '../../db/client.ts';
import { readLeadership } from '../../db/queries/leadership.ts';
import type { ClusterConfig } from '../config/schema.ts';
import type { Leadership } from './leadership.ts';
import type { Membership } from './membership.ts';
import type { NodeIdentity } from './node-identity.ts';

export type { ClusterStatus };

export async function clusterStatus(o: {
  database: VigilDatabase;
  identity: NodeIdentity;
  leadership: Leadership;
  membership: Membership | undefined;
  config: ClusterConfig;
}): Promise<ClusterStatus> {
  const lead = await readLeadership(o.database.db);
  const nodes = (await o.membership?.nodes()) ?? [];
  return {
    mode: o.database.driver === 'postgres' ? 'shared' : 'embedded',
    node: {
      name: o.identity.name,
      instance: o.identity.instance,
      leader: o.leadership.isLeader,
      epoch: o.leadership.epoch,
      in_sync: o.membership?.inSync ?? true,
    },
    leader: lead
      ? {
          instance: lead.holder,
          epoch: lead.epoch,
          acquired_at: lead.acquiredAt?.toISOString() ?? null,
          renewed_at: lead.renewedAt?.toISOString() ?? null,
        }
      : null,
    nodes: nodes.map((n) => ({
      name: n.name,
      instance: n.instance,
      url: n.url,
      started_at: n.startedAt.toISOString(),
      heartbeat_age_seconds: Math.round(n.ageSeconds * 10) / 10,
      healthy: n.stoppedAt === null && n.ageSeconds <= o.config.node_timeout_s,
      stopped: n.stoppedAt !== null,
      leader: lead?.holder === n.instance && n.stoppedAt === null,
      report: Object.keys(n.report).length ? (n.report as unknown as NodeReport) : null,
    })),
  };
}
