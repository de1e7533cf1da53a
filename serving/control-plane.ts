import { join } from 'node:path';
import { openDatabase, type VigilDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { listSlos, upsertSlo } from '../db/queries/slos.ts';
import { listApiTokens } from '../db/queries/tokens.ts';
import type { Slo } from '../db/schema/slos.ts';
import { slosFromConfig, type SloDefinition } from '../slo/definition.ts';
import { SloEngine } from '../slo/engine.ts';
import { policyFromConfig } from '../slo/burn-rate.ts';
import { parseDuration } from '../slo/duration.ts';
import { DbSloStore } from '../slo/db-slo-store.ts';
import { SliCollector } from '../slo/sli-collector.ts';
import { SliWindow } from '../slo/sli-window.ts';
import { WebhookSender } from '../slo/webhook-sender.ts';
import { secretFromEnv, type VigilEnv } from './config/env.ts';
import type { VigilConfig } from './config/schema.ts';
import type { Logger } from './logger.ts';
import { seedRunbooks } from './runbooks/seed-runbooks.ts';
import { RequestHistory } from './telemetry/request-history.ts';
import { RecentTraces } from './telemetry/recent-traces.ts';
import { addRequestRollups, loadRequestRollups } from '../db/queries/request-rollups.ts';

const engineCfg = (o: ControlPlaneOptions) => o.config.slo_engine;

export interface ControlPlaneOptions {
  config: VigilConfig;
  env: VigilEnv;
  log: Logger;
  externalUrl: string;
}

export function sloFromRow(r: Slo): SloDefinition {
  return { id: r.id, deployment: r.deployment, version: r.version, kind: r.kind, objective: r.objective, windowSeconds: r.windowSeconds, latencyThresholdSeconds: r.latencyThresholdSeconds, description: r.description };
}

export function sloToRow(s: SloDefinition) {
  return { id: s.id, deployment: s.deployment, version: s.version, kind: s.kind, objective: s.objective, windowSeconds: s.windowSeconds, latencyThresholdSeconds: s.latencyThresholdSeconds, description: s.description ?? null };
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
  private tokensExist = false;

  private constructor(
    readonly database: VigilDatabase,
    private readonly o: ControlPlaneOptions,
    configSlos: SloDefinition[],
    stored: SloDefinition[],
  ) {
    this.configSloIds = new Set(configSlos.map((s) => s.id));
    for (const s of stored) this.slos.set(s.id, s);
    this.collector = new SliCollector(new SliWindow(10_000), [...this.slos.values()]);
    const engineCfg = o.config.slo_engine;
    this.engine = new SloEngine({
      store: new DbSloStore(database.db),
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
      secrets: Object.fromEntries(o.config.alerting.webhooks.map((w) => [w.name, w.secret_env ? secretFromEnv(w.secret_env) : undefined])),
    });
  }

  static async open(o: ControlPlaneOptions): Promise<ControlPlane> {
    const database = await openDatabase(o.env.DATABASE_URL ? { url: o.env.DATABASE_URL } : { dataDir: join(o.env.VIGIL_DATA_DIR, 'pglite') });
    try {
      await migrateDatabase(database);
      await seedRunbooks(database.db);
      const configSlos = o.config.deployments.flatMap(slosFromConfig);
      for (const s of configSlos) await upsertSlo(database.db, sloToRow(s));
      const stored = (await listSlos(database.db)).map(sloFromRow);
      const plane = new ControlPlane(database, o, configSlos, stored);
      await plane.refreshTokenPresence();
      plane.history.load(await loadRequestRollups(database.db, new Date(Date.now() - 7 * 86_400_000)));
      plane.historyTimer = setInterval(() => void plane.flushHistory(), engineCfg(o).flush_interval_s * 1000);
      await plane.engine.start();
      plane.sender.start();
      o.log.info({ driver: database.driver, slos: stored.map((s) => s.id), webhooks: o.config.alerting.webhooks.map((w) => w.name) }, 'control plane ready');
      return plane;
    } catch (err) {
      await database.close();
      throw err;
    }
  }

  /** How vigil is reached from outside (webhook links). */
  get externalUrl(): string {
    return this.o.externalUrl;
  }

  /** The strictest availability objective that covers this version, if any SLO does. */
  availabilityObjective(deployment: string, version: string): number | undefined {
    const objectives = [...this.slos.values()].filter((s) => s.deployment === deployment && s.kind === 'availability' && (s.version === null || s.version === version)).map((s) => s.objective);
    return objectives.length ? Math.max(...objectives) : undefined;
  }

  /** Whether any API token exists; without one the API answers loopback callers only. */
  get hasTokens(): boolean {
    return this.tokensExist;
  }

  async refreshTokenPresence(): Promise<void> {
    this.tokensExist = (await listApiTokens(this.database.db)).some((t) => t.revokedAt === null);
  }

  /** Replaces the SLO set used by the collector and the engine. */
  setSlo(slo: SloDefinition | { id: string; deleted: true }): void {
    if ('deleted' in slo) this.slos.delete(slo.id);
    else this.slos.set(slo.id, slo);
    this.collector.setSlos([...this.slos.values()]);
  }

  /** Called by the ingress for every finished inference request of a known deployment. */
  recordInference(deployment: string, version: string, status: number, durationSeconds: number, traceId?: string): void {
    this.collector.record(deployment, version, status, durationSeconds);
    const now = Date.now();
    this.history.record(deployment, version, status, durationSeconds, now);
    if (traceId) this.traces.add({ traceId, at: now, deployment, version, status, durationMs: durationSeconds * 1000 });
  }

  /** Writes the request counts gathered since the last flush; on failure they are retried. */
  async flushHistory(): Promise<void> {
    const rows = this.history.drain();
    const now = Date.now();
    this.history.prune(now);
    if (rows.length === 0) return;
    try {
      await addRequestRollups(this.database.db, rows);
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
      await this.engine.stop();
      await this.flushHistory();
    } finally {
      await this.database.close();
    }
  }
}
