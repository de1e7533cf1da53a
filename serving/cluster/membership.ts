import type { NodeReport } from '../../contract/control/node.ts';
import type { Db } from '../../db/client.ts';
import { beat, listNodes, markStopped, pruneNodes, type NodeRow } from '../../db/queries/cluster-nodes.ts';
import { pruneLiveBuckets } from '../../db/queries/live-buckets.ts';
import type { StateNotice } from '../../db/queries/state-notify.ts';
import type { ClusterConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { MirrorTotals } from '../router/mirror.ts';
import type { ClusterWindow } from './cluster-window.ts';
import type { Leadership } from './leadership.ts';
import type { NodeIdentity } from './node-identity.ts';
import { StateListener } from './state-listener.ts';

/** What a node tells the others about itself every heartbeat (cluster_nodes.report). */
export type { NodeReport };

export interface MembershipOptions {
  db: Db;
  /** Postgres URL when nodes share a database; undefined on the embedded one (a single node). */
  url: string | undefined;
  identity: NodeIdentity;
  config: ClusterConfig;
  log: Logger;
  leadership: Leadership;
  window: ClusterWindow;
  /** This node's URL as others should use it. */
  advertisedUrl: () => string;
  report: () => NodeReport;
  onNotice(notice: StateNotice): void;
  resync(): Promise<void>;
}

/** How long per-second counts are kept: the analysis looks back 10 minutes at most. */
const LIVE_KEEP_S = 15 * 60;
const NODE_ROWS_KEEP_S = 86_400;

/**
 * This node's part in a cluster of nodes sharing one Postgres: it beats (heartbeat plus a
 * report of its replicas) and shares its per-second request counts every
 * heartbeat_interval_s, receives the other nodes' state changes, and reads the others'
 * reports. The leader also prunes old per-second counts and forgotten nodes. On the embedded
 * database the node still beats (the console lists it) but has nobody to listen to.
 */
export class Membership {
  private timer: NodeJS.Timeout | undefined;
  private beating = false;
  private listener: StateListener | undefined;
  private others: NodeRow[] = [];
  private lastPrune = 0;
  /** Since when heartbeats fail (one warning per outage, not one a second). */
  private failingSince: number | undefined;

  constructor(private readonly o: MembershipOptions) {}

  get shared(): boolean {
    return this.o.url !== undefined;
  }

  /** False while this node may have missed state changes (its subscription was lost). */
  get inSync(): boolean {
    return this.listener?.inSync ?? true;
  }

  get resyncs(): number {
    return this.listener?.resyncs ?? 0;
  }

  async start(): Promise<void> {
    if (this.o.url) {
      this.listener = new StateListener({
        url: this.o.url,
        log: this.o.log,
        applicationName: `vigil-listen/${this.o.identity.name}`,
        onNotice: (n) => this.o.onNotice(n),
        resync: () => this.o.resync(),
      });
      await this.listener.start();
      // The node read the state before it subscribed: what changed in between is read now.
      await this.o.resync();
    }
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.o.config.heartbeat_interval_s * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.o.window
      .flush()
      .catch((err) => this.o.log.warn({ err }, 'could not share the last per-second request counts'));
    await markStopped(this.o.db, this.o.identity.instance).catch((err) =>
      this.o.log.warn({ err }, 'could not mark this node stopped'),
    );
    await this.listener?.stop();
  }

  /** Every node heard from lately, this one included, with its report and age. */
  async nodes(): Promise<NodeRow[]> {
    return listNodes(this.o.db, Math.max(60, this.o.config.node_timeout_s * 4));
  }

  /** Other nodes alive now (from the last heartbeat's read). */
  liveOthers(): NodeRow[] {
    return this.others.filter((n) => n.stoppedAt === null && n.ageSeconds <= this.o.config.node_timeout_s);
  }

  /** Whether another live node reports a RUNNING replica of this version. */
  runsElsewhere(deployment: string, version: string): boolean {
    return this.liveOthers().some((n) =>
      (n.report as unknown as NodeReport).deployments
        ?.find((d) => d.name === deployment)
        ?.versions.find((v) => v.version === version && v.running > 0),
    );
  }

  /** The other live nodes' load of one version, from their last heartbeats. */
  othersLoad(deployment: string, version: string): Array<{ ongoing: number; queued: number; live: number }> {
    const out = [];
    for (const n of this.liveOthers()) {
      const v = (n.report as unknown as NodeReport).deployments
        ?.find((d) => d.name === deployment)
        ?.versions.find((x) => x.version === version);
      if (v) out.push({ ongoing: v.ongoing, queued: v.queued, live: v.running + v.starting });
    }
    return out;
  }

  /** The other live nodes' shadow comparisons of this candidate, added to `local`. */
  mirrorTotals(deployment: string, version: string, local: MirrorTotals): MirrorTotals {
    const out = { ...local };
    for (const n of this.liveOthers()) {
      const m = (n.report as unknown as NodeReport).deployments
        ?.find((d) => d.name === deployment)
        ?.versions.find((v) => v.version === version)?.mirror;
      if (!m) continue;
      out.compared += m.compared;
      out.agreed += m.agreed;
    }
    return out;
  }

  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      await this.o.window.flush();
      await beat(this.o.db, {
        instance: this.o.identity.instance,
        name: this.o.identity.name,
        url: this.o.advertisedUrl(),
        report: this.o.report() as unknown as Record<string, unknown>,
      });
      if (this.shared)
        this.others = (await listNodes(this.o.db, this.o.config.node_timeout_s * 4)).filter(
          (n) => n.instance !== this.o.identity.instance,
        );
      if (this.o.leadership.isLeader && Date.now() - this.lastPrune > 60_000) {
        this.lastPrune = Date.now();
        await pruneLiveBuckets(this.o.db, Math.floor(Date.now() / 1000) - LIVE_KEEP_S);
        await pruneNodes(this.o.db, NODE_ROWS_KEEP_S);
      }
      if (this.failingSince !== undefined)
        this.o.log.info(
          { failed_for_s: Math.round((Date.now() - this.failingSince) / 1000) },
          'heartbeats reach the database again',
        );
      this.failingSince = undefined;
    } catch (err) {
      if (this.failingSince === undefined)
        this.o.log.warn(
          { err },
          'could not write this node’s heartbeat or per-second counts; retrying every heartbeat (counts are kept meanwhile)',
        );
      this.failingSince ??= Date.now();
    } finally {
      this.beating = false;
    }
  }
}
