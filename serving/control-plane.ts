import { join } from 'node:path';
import { driverHandle, openDatabase, type Db, type VigilDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { listSlos, upsertSlo } from '../db/queries/slos.ts';
import { anyActiveToken } from '../db/queries/tokens.ts';
import type { Slo } from '../db/schema/slos.ts';
import { slosFromConfig, type SloDefinition } from '../slo/definition.ts';
import { SloEngine } from '../slo/engine.ts';
import { policyFromConfig } from '../slo/burn-rate.ts';
import { parseDuration } from '../slo/duration.ts';
import { DbSloStore } from '../slo/db-slo-store.ts';
import { SliCollector } from '../slo/sli-collector.ts';
import { SliWindow } from '../slo/sli-window.ts';
import { WebhookSender } from '../slo/webhook-sender.ts';
import { secretFromEnv } from './config/env.ts';
import type { NodeEnv } from './config/data-dir.ts';
import type { VigilConfig } from './config/schema.ts';
import type { Logger } from './logger.ts';
import { seedRunbooks } from './runbooks/seed-runbooks.ts';
import { RequestHistory } from './telemetry/request-history.ts';
import { RecentTraces } from './telemetry/recent-traces.ts';
import { COUNTS_AS_SLI, type FinishedRequests } from './telemetry/finished-requests.ts';
import { RetentionJob } from './retention/retention-job.ts';
import { addRequestRollups, requestRollupsChanged } from '../db/queries/request-rollups.ts';
import { ensureLeadershipRow } from '../db/queries/leadership.ts';
import { PostgresLeaderElection, SoleLeadership, type Leadership } from './cluster/leadership.ts';
import type { NodeIdentity } from './cluster/node-identity.ts';
import { RemoteRows } from './cluster/remote-rows.ts';
import type { HistoryRow } from './telemetry/request-history.ts';

const engineCfg = (o: ControlPlaneOptions) => o.config.slo_engine;

export interface ControlPlaneOptions {
  config: VigilConfig;
  env: NodeEnv;
  log: Logger;
  externalUrl: string;
  identity: NodeIdentity;
}

const HISTORY_MS = 7 * 86_400_000;

export function sloFromRow(r: Slo): SloDefinition {
  return {
    id: r.id,
    deployment: r.deployment,
    version: r.version,
    kind: r.kind,
    objective: r.objective,
    windowSeconds: r.windowSeconds,
    latencyThresholdSeconds: r.latencyThresholdSeconds,
    description: r.description,
  };
}

export function sloToRow(s: SloDefinition) {
  return {
    id: s.id,
    deployment: s.deployment,
    version: s.version,
    kind: s.kind,
    objective: s.objective,
    windowSeconds: s.windowSeconds,
    latencyThresholdSeconds: s.latencyThresholdSeconds,
    description: s.description ?? null,
  };
}

/**
 * The stateful half of a node: the database (Postgres, or PGlite under .vigil/), the SLI
 * collector the router feeds, the SLO engine, and the webhook outbox sender. SLOs declared in
 * vigil.yaml are written to the database at every start (the file wins for the SLOs it names);
 * SLOs created through the API live in the database only.
 */
export class ControlPlane {
  readonly slos = new Map<string, SloDefinition>();
  /** SLO ids that vigil.yaml declares; the API may not delete these. */
  readonly configSloIds: ReadonlySet<string>;
  readonly collector: SliCollector;
  readonly engine: SloEngine;
  readonly sender: WebhookSender;
  /** Every request per minute, 7 days: the console's executive numbers and charts. */
  readonly history = new RequestHistory();
  readonly traces = new RecentTraces();
  private historyTimer: NodeJS.Timeout | undefined;
  private tokensSeen = false;
  /** Other nodes' request rollups as last read (the console's numbers cover every node). */
  private readonly otherHistory = new RemoteRows<HistoryRow & { node: string }>(
    (r) => `${r.node}\u0000${r.deployment}\u0000${r.version}\u0000${r.bucketStart}`,
    (now, before) =>
      now.total === (before?.total ?? 0) && now.cpuSeconds === (before?.cpuSeconds ?? 0)
        ? undefined
        : {
            ...now,
            total: now.total - (before?.total ?? 0),
            errors: now.errors - (before?.errors ?? 0),
            latencyCounts: now.latencyCounts.map((c, i) => c - (before?.latencyCounts[i] ?? 0)),
            latencySumSeconds: now.latencySumSeconds - (before?.latencySumSeconds ?? 0),
            cpuSeconds: now.cpuSeconds - (before?.cpuSeconds ?? 0),
          },
    10_000,
    // As for SLI buckets: a minute row written an hour later means its node could not write meanwhile.
    (r) => r.bucketStart < Date.now() - 3_600_000,
  );
  /** Who runs the singletons: this node always on the embedded database; the lock holder on Postgres. */
  readonly leadership: Leadership;
  /** Deletes rows past their retention while this node leads. */
  readonly retention: RetentionJob;

  private constructor(
    readonly database: VigilDatabase,
    private readonly o: ControlPlaneOptions,
    configSlos: SloDefinition[],
    stored: SloDefinition[],
  ) {
    const handle = driverHandle(database);
    this.leadership =
      handle.driver === 'postgres'
        ? new PostgresLeaderElection({
            url: handle.url,
            db: database.db,
            instance: o.identity.instance,
            log: o.log,
            renewIntervalMs: o.config.cluster.heartbeat_interval_s * 1000,
            leaseMs: o.config.cluster.leader_lease_s * 1000,
            applicationName: `vigil-leader/${o.identity.name}`,
          })
        : new SoleLeadership(database.db, o.identity.instance, o.log);
    const fence = (tx: Db) => this.leadership.fence(tx);
    const isLeader = () => this.leadership.isLeader;
    this.configSloIds = new Set(configSlos.map((s) => s.id));
    for (const s of stored) this.slos.set(s.id, s);
    this.collector = new SliCollector(new SliWindow(10_000), [...this.slos.values()]);
    const engineCfg = o.config.slo_engine;
    this.engine = new SloEngine({
      store: new DbSloStore(database.db, o.identity.instance, fence),
      isLeader,
      collector: this.collector,
      slos: () => [...this.slos.values()],
      log: o.log,
      receivers: o.config.alerting.webhooks.map((w) => ({ name: w.name, url: w.url })),
      externalUrl: o.externalUrl,
      forSeconds: { page: engineCfg.page_for_s, ticket: engineCfg.ticket_for_s },
      policy: policyFromConfig(engineCfg.burn_windows, parseDuration),
      evaluationIntervalMs: engineCfg.evaluation_interval_s * 1000,
      flushIntervalMs: engineCfg.flush_interval_s * 1000,
    });
    this.sender = new WebhookSender({
      db: database.db,
      log: o.log,
      secrets: Object.fromEntries(
        o.config.alerting.webhooks.map((w) => [w.name, w.secret_env ? secretFromEnv(w.secret_env) : undefined]),
      ),
      isLeader,
      fence,
    });
    this.retention = new RetentionJob({
      db: database.db,
      config: o.config.retention,
      log: o.log,
      isLeader,
      longestSloWindowSeconds: () => Math.max(0, ...[...this.slos.values()].map((s) => s.windowSeconds)),
    });
  }

  static async open(o: ControlPlaneOptions): Promise<ControlPlane> {
    const database = await openDatabase(
      o.env.DATABASE_URL
        ? { url: o.env.DATABASE_URL, applicationName: `vigil/${o.identity.name}` }
        : { dataDir: join(o.env.VIGIL_DATA_DIR, 'pglite') },
    );
    try {
      await migrateDatabase(database);
      await ensureLeadershipRow(database.db);
      await seedRunbooks(database.db);
      const configSlos = o.config.deployments.flatMap(slosFromConfig);
      for (const s of configSlos) await upsertSlo(database.db, sloToRow(s));
      const stored = (await listSlos(database.db)).map(sloFromRow);
      const plane = new ControlPlane(database, o, configSlos, stored);
      await plane.refreshTokenPresence();
      await plane.followOtherHistory();
      plane.historyTimer = setInterval(
        () => void plane.flushHistory().then(() => plane.followOtherHistory()),
        engineCfg(o).flush_interval_s * 1000,
      );
      // Elected before the loops start, so the first evaluation already knows whether it decides.
      await plane.leadership.start();
      await plane.engine.start();
      plane.sender.start();
      plane.retention.start();
      o.log.info(
        {
          driver: database.driver,
          node: o.identity.name,
          instance: o.identity.instance,
          leader: plane.leadership.isLeader,
          epoch: plane.leadership.epoch,
          slos: stored.map((s) => s.id),
          webhooks: o.config.alerting.webhooks.map((w) => w.name),
        },
        'control plane ready',
      );
      return plane;
    } catch (err) {
      await database.close();
      throw err;
    }
  }

  /** The Postgres URL when nodes share a database; undefined on the embedded one. */
  get postgresUrl(): string | undefined {
    const h = driverHandle(this.database);
    return h.driver === 'postgres' ? h.url : undefined;
  }

  /** This node's name and instance. */
  get identity(): NodeIdentity {
    return this.o.identity;
  }

  /** Replaces the SLO set with what the database holds (another node created or deleted one). */
  async reloadSlos(): Promise<void> {
    const stored = (await listSlos(this.database.db)).map(sloFromRow);
    this.slos.clear();
    for (const s of stored) this.slos.set(s.id, s);
    this.collector.setSlos([...this.slos.values()]);
  }

  /** Adds what other nodes (and this node before a restart) counted since the last read to the history. */
  async followOtherHistory(): Promise<void> {
    const fromStart = new Date(Date.now() - HISTORY_MS);
    try {
      const rows = await requestRollupsChanged(this.database.db, {
        excludeNode: this.o.identity.instance,
        since: this.otherHistory.since(),
        fromStart,
      });
      this.history.load(this.otherHistory.absorb(rows));
      this.otherHistory.forget();
    } catch (err) {
      this.o.log.warn({ err }, "could not read the other nodes' request counts; the console shows what this node has");
    }
  }

  /** How vigil is reached from outside (webhook links). */
  get externalUrl(): string {
    return this.o.externalUrl;
  }

  /** The strictest availability objective that covers this version, if any SLO does. */
  availabilityObjective(deployment: string, version: string): number | undefined {
    const objectives = [...this.slos.values()]
      .filter(
        (s) =>
          s.deployment === deployment && s.kind === 'availability' && (s.version === null || s.version === version),
      )
      .map((s) => s.objective);
    return objectives.length ? Math.max(...objectives) : undefined;
  }

  /**
   * Whether any API token exists; without one the API answers loopback callers only. A token made
   * through another node sharing the database counts at once: until this node has seen one, it
   * asks the database on every such call (only token-less loopback calls ask, and only until
   * the first token). Once seen, it stays seen until a revocation here finds none left. While the
   * database cannot answer, the last answer stands: a node cut off from Postgres keeps serving
   * reads, and it can make no change then anyway, since every change is written there first.
   *
   * On the embedded database this node is the only process that can write a token (PGlite takes
   * one process per directory, and `vigil token create` goes through this node's API, which
   * refreshes the answer), so what it last saw is exact and the database is not asked. That query
   * ran on the primary's event loop for every console read on a fresh install: 10 pollers cost
   * the primary 1.33 ms of CPU per read with it and 0.28 ms without (docs/benchmarks.md).
   */
  async tokensExist(): Promise<boolean> {
    if (this.tokensSeen || this.database.driver === 'pglite') return this.tokensSeen;
    try {
      this.tokensSeen = await anyActiveToken(this.database.db);
    } catch (err) {
      this.o.log.warn({ err }, 'cannot ask the database whether API tokens exist; going by what this node last saw');
    }
    return this.tokensSeen;
  }

  async refreshTokenPresence(): Promise<void> {
    this.tokensSeen = await anyActiveToken(this.database.db);
  }

  /** Replaces the SLO set used by the collector and the engine. */
  setSlo(slo: SloDefinition | { id: string; deleted: true }): void {
    if ('deleted' in slo) this.slos.delete(slo.id);
    else this.slos.set(slo.id, slo);
    this.collector.setSlos([...this.slos.values()]);
  }

  /** One probe run: the correctness SLOs' event (never a request SLI's). */
  recordProbe(deployment: string, version: string, passed: boolean): void {
    this.collector.recordProbe(deployment, version, passed);
  }

  /**
   * What an ingress process reported finished for one deployment version: the rows that are SLI
   * events (finished inferences of a known version) feed the SLIs, the console's history and its
   * recent traces.
   */
  recordInferences(f: FinishedRequests): void {
    this.collector.recordFinished(f);
    const now = Date.now();
    this.history.recordFinished(f, now);
    for (const { row, traceId } of f.traces) {
      if (!(f.counts[row]! & COUNTS_AS_SLI)) continue;
      const status = f.status[row]!;
      const durationMs = f.durationSeconds[row]! * 1000;
      this.traces.add({ traceId, at: now, deployment: f.deployment, version: f.version, status, durationMs });
    }
  }

  /** Writes the request counts gathered since the last flush; on failure they are retried. */
  async flushHistory(): Promise<void> {
    const rows = this.history.drain();
    const now = Date.now();
    this.history.prune(now);
    if (rows.length === 0) return;
    try {
      await addRequestRollups(this.database.db, rows, this.o.identity.instance);
    } catch (err) {
      this.history.restore(rows);
      this.o.log.error({ err, rows: rows.length }, 'could not flush request rollups; will retry');
    }
  }

  /** Stops the loops, flushes the SLI buckets, and closes the database (PGlite needs it). */
  async close(): Promise<void> {
    try {
      clearInterval(this.historyTimer);
      await this.sender.stop();
      await this.retention.stop();
      await this.engine.stop();
      await this.flushHistory();
      // Gives the lock back at once, so another node takes over without waiting for the lease.
      await this.leadership
        .stop()
        .catch((err) => this.o.log.warn({ err }, 'could not give the leadership back cleanly'));
    } finally {
      await this.database.close();
    }
  }
}
