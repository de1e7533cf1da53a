import { randomBytes } from 'node:crypto';
import { Prober } from './probes/prober.ts';
import { DriftMonitor } from './drift/drift-monitor.ts';
import { detectHardware, type Hardware } from './host/hardware.ts';
import { HeatMonitor } from './host/heat-monitor.ts';
import { HostFiles } from './host/host-files.ts';
import { chmodSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { VigilConfig } from './config/schema.ts';
import { Controller } from './controller/controller.ts';
import { spawnReplica } from './controller/spawn-replica.ts';
import { type ControlServerContext, createControlServer } from './ingress/http-server.ts';
import { IngressFleet } from './ingress/ingress-fleet.ts';
import type { IngressSpec } from './ingress/ingress-messages.ts';
import type { ReplicaSpec } from './transport/messages.ts';
import type { Worker } from 'node:cluster';
import type { IngressReport } from './ingress/ingress-report.ts';
import { controlSocketPath } from './ingress/control-socket.ts';
import type { Logger } from './logger.ts';
import { DeploymentRouter } from './router/deployment-router.ts';
import { VigilMetrics } from './telemetry/metrics.ts';
import type { Tracing } from './telemetry/tracing.ts';
import type { ControlPlane } from './control-plane.ts';
import { recordAudit } from '../db/queries/audit.ts';
import { hasRolloutOf, listActiveRollouts } from '../db/queries/rollouts.ts';
import { Autoscaler, type ClusterAutoscaling } from './autoscale/autoscaler.ts';
import { ClusterWindow } from './cluster/cluster-window.ts';
import { Membership, type NodeReport } from './cluster/membership.ts';
import { Coalescer } from './cluster/coalescer.ts';
import { clusterStatus } from './cluster/cluster-status.ts';
import type { StateNotice } from '../db/queries/state-notify.ts';
import { withTransaction } from '../db/transaction.ts';
import { sql } from 'drizzle-orm';
import { RolloutController } from './rollout/rollout-controller.ts';
import { parseDuration } from '../slo/duration.ts';
import { DeploymentState } from './traffic/deployment-state.ts';
import { replicaView } from './controller/replica-view.ts';

export interface NodeOptions {
  config: VigilConfig;
  host: string;
  port: number;
  log: Logger;
  tracing: Tracing;
  plane: ControlPlane;
  recordMetrics?: boolean;
  /** How other nodes and the console reach this node (VIGIL_ADVERTISE_URL); default: the listen address. */
  advertiseUrl?: string;
  /** Where /sys and /proc are read for heat, pressure and the hardware (VIGIL_HOST_ROOT). */
  hostRoot?: string;
}

/** Held while a node seeds the shared deployment state at start, so nodes starting at once take turns ("vgsd"). */
const SEED_LOCK_KEY = 0x76677364;

/**
 * One vigil node: the controller, the router and the HTTP ingress in the primary process, and
 * the replicas as cluster workers. `start()` listens at once (readiness says when replicas are up);
 * `shutdown()` drains: it stops accepting, lets in-flight requests finish within the longest
 * graceful_shutdown_timeout_s, then stops the replicas and flushes telemetry.
 */
export class VigilNode {
  readonly router: DeploymentRouter;
  readonly controller: Controller;
  readonly metrics: VigilMetrics;
  readonly autoscaler: Autoscaler;
  readonly traffic: DeploymentState;
  readonly rollouts: RolloutController;
  readonly window: ClusterWindow;
  readonly prober: Prober;
  readonly drift: DriftMonitor;
  readonly heat: HeatMonitor;
  /** The machine, detected once at start. */
  readonly hardware: Hardware;
  /** The secret that marks this node's probe requests as synthetic (serving/probes/probe-headers.ts). */
  private readonly probeToken = randomBytes(24).toString('base64url');
  membership: Membership | undefined;
  private readonly reloads = new Coalescer();
  /** The leadership epoch this node last took the rollouts over in. */
  private ledEpoch: number | undefined;
  /** The primary's control server (/api/v1, /metrics), on a Unix socket the ingress processes reach. */
  private server: Server | undefined;
  /** The same routes on TCP, for clients that should not pass through a replica (config `control`). */
  private controlListener: Server | undefined;
  /** Where the control listener listens, once started. */
  controlAddress: AddressInfo | undefined;
  private readonly controlSocket = controlSocketPath();
  private readonly fleet: IngressFleet;
  private listeningPort = 0;
  private listeningAddress = '127.0.0.1';
  private draining = false;
  private shutdownPromise: Promise<void> | undefined;
  private readonly startedAt = Date.now();
  /** Replica id → CPU seconds at its last stats report, to credit each version with the difference. */
  private readonly cpuSeen = new Map<string, number>();
  private readonly cpuTimer: NodeJS.Timeout;
  /** Called when POST /api/v1/shutdown asks this node to stop. */
  onShutdownRequested: () => void = () => {};

  constructor(private readonly options: NodeOptions) {
    const { config, log, plane } = options;
    this.router = new DeploymentRouter(config.deployments);
    const reconcileSoon = () => setImmediate(() => this.controller.reconcile());
    this.autoscaler = new Autoscaler({
      router: this.router,
      config: config.autoscaler,
      log,
      afterChange: reconcileSoon,
      heat: () => this.heat.cap(),
      cluster: plane.database.driver === 'postgres' ? this.clusterAutoscaling() : undefined,
      audit: (pool, d) =>
        recordAudit(plane.database.db, {
          actor: 'vigil/autoscaler',
          action: 'autoscale',
          target: `deployment/${pool.name}/${pool.version}`,
          before: { target: d.previousTarget },
          after: {
            target: d.target,
            desired: d.desired,
            reason: d.reason,
            capped_by: d.cappedBy,
            cap_detail: d.capDetail,
          },
        }).then(() => undefined),
    });
    const hostFiles = new HostFiles(options.hostRoot);
    this.hardware = detectHardware(hostFiles);
    this.heat = new HeatMonitor({
      config: config.heat,
      files: hostFiles,
      node: plane.identity.name,
      gauges: {
        sample: (s) => this.metrics.observeHost(s),
        capped: (reason) => this.metrics.observeHeatCap(reason),
      },
      db: plane.database.db,
      receivers: config.alerting.webhooks.map((w) => ({ name: w.name, url: w.url })),
      externalUrl: plane.externalUrl,
      log,
      afterChange: () => setImmediate(() => this.autoscaler.tick()),
    });
    this.traffic = new DeploymentState(this.router, log, (pool) => this.autoscaler.targetFor(pool), reconcileSoon);
    this.metrics = new VigilMetrics(() => this.router.pools(), {
      deployments: () => [...this.router.deployments.values()],
      memoryCapped: (pool) => this.autoscaler.memoryCapped(pool),
    });
    // Stats arrive with the health pings (every 2 s at most); every 5 s is enough for a cost figure.
    this.cpuTimer = setInterval(() => this.sampleCpu(), 5000).unref();
    for (const d of this.router.deployments.values())
      d.mirrorStats.onResult = (version, result) => this.metrics.observeMirror(d.name, version, result);
    this.window = new ClusterWindow({
      db: plane.database.db,
      instance: plane.identity.instance,
      shared: plane.database.driver === 'postgres',
    });
    this.prober = new Prober({
      deployments: config.deployments,
      liveVersions: (name) =>
        [...(this.router.deployments.get(name)?.pools.values() ?? [])]
          .filter((p) => !p.retired && p.running().length > 0)
          .map((p) => p.version),
      baseUrl: () => this.publicUrl(),
      token: this.probeToken,
      record: (r) => {
        this.metrics.observeProbe(r.deployment, r.version, r.probe, r.result, r.durationMs / 1000);
        plane.recordProbe(r.deployment, r.version, r.result === 'pass');
      },
      log,
    });
    this.drift = new DriftMonitor({
      config: config.drift,
      deployments: () =>
        [...this.router.deployments.values()].map((d) => ({
          name: d.name,
          weights: new Map([...d.pools.keys()].map((v) => [v, d.weightOf(v)])),
        })),
      gauge: this.metrics.predictionDrift,
      db: plane.database.db,
      isLeader: () => plane.leadership.isLeader,
      receivers: config.alerting.webhooks.map((w) => ({ name: w.name, url: w.url })),
      externalUrl: plane.externalUrl,
      log,
    });
    this.rollouts = new RolloutController({
      db: plane.database.db,
      router: this.router,
      state: this.traffic,
      window: this.window,
      leadership: plane.leadership,
      versionRunning: (d, version) =>
        (d.pools.get(version)?.running().length ?? 0) > 0 || (this.membership?.runsElsewhere(d.name, version) ?? false),
      mirrorTotals: (d, version) =>
        this.membership?.mirrorTotals(d.name, version, d.mirrorStats.get(version)) ?? d.mirrorStats.get(version),
      log,
      analysis: config.rollouts,
      objectiveFor: (deployment, canary) => plane.availabilityObjective(deployment, canary),
      receivers: config.alerting.webhooks.map((w) => ({ name: w.name, url: w.url })),
      externalUrl: plane.externalUrl,
      afterChange: reconcileSoon,
      onFinished: (deployment, status) => this.metrics.observeRolloutFinished(deployment, status),
      drift: (deployment, canary, stable) => {
        const worst = this.drift
          .findings(deployment, { ignorePins: true })
          .filter((f) => f.version === canary && f.baseline.kind === 'stable' && f.baseline.version === stable)
          .reduce<{ psi: number | null; signal: string | null }>(
            (w, f) => (f.psi !== null && (w.psi === null || f.psi > w.psi) ? { psi: f.psi, signal: f.signal } : w),
            { psi: null, signal: null },
          );
        return worst;
      },
      probes: {
        has: (deployment, version) =>
          this.prober.probesOf(deployment).some((p) => !p.versions || p.versions.includes(version)),
        runAll: (deployment, version) => this.prober.runAll(deployment, version),
        summary: (deployment, version, since) => this.prober.summary(deployment, version, since),
      },
    });
    const ingressSpec: IngressSpec = {
      config,
      host: options.host,
      port: options.port,
      controlSocket: this.controlSocket,
      recordMetrics: options.recordMetrics ?? true,
      probeToken: this.probeToken,
    };
    this.fleet = new IngressFleet({
      count: config.ingress.processes,
      heapFloorMb: config.ingress.heap_floor_mb,
      spec: ingressSpec,
      router: this.router,
      log,
      isReady: () => this.isReady(),
      isDraining: () => this.draining,
      onReport: (r) => this.record(r),
      onDemand: (deployment, version) => this.router.deployments.get(deployment)?.pools.get(version)?.onDemand?.(),
    });
    // Direct ingress: each model replica serves the port too, and joins the fleet as one of its
    // members. A handler's replica does not: it runs user code that may exit, crash or hold its
    // event loop, and a client connected to it would see its connection reset rather than the
    // 503 an ingress answers when the replica behind it dies (docs/decisions/0012).
    const spawn = (spec: ReplicaSpec): Worker => {
      const floor = config.ingress.heap_floor_mb;
      if (!config.ingress.direct || spec.handler !== undefined) return spawnReplica(spec, floor);
      const worker = spawnReplica({ ...spec, ingress: ingressSpec }, floor);
      this.fleet.attach(worker);
      return worker;
    };
    this.controller = new Controller(this.router.pools(), log, spawn, {
      onReplicaReady: (pool, replica) =>
        this.metrics.observeReplicaReady(pool.name, pool.version, replica.loadSeconds ?? 0),
      onReplicaStopped: (pool, _replica, reason) => this.metrics.observeReplicaRestart(pool.name, reason),
      onModels: (pool, replica, msg) => {
        this.metrics.observeModels(
          pool.name,
          pool.version,
          msg.loadedNow !== undefined,
          msg.evicted !== undefined,
          msg.loadSeconds,
        );
        log.info(
          {
            deployment: pool.name,
            replica: replica.id,
            loaded: msg.loadedNow,
            evicted: msg.evicted,
            models: msg.loaded,
          },
          msg.evicted ? 'multiplexed model evicted' : 'multiplexed model loaded',
        );
      },
    });
  }

  async start(): Promise<AddressInfo> {
    const plane = this.options.plane;
    const db = plane.database.db;
    // The stored state and active rollouts are applied before any replica starts, so a retired
    // version never starts and the split is never undefined. Nodes starting at once take turns.
    await withTransaction(db, async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${SEED_LOCK_KEY})`);
      await this.traffic.seed(tx, await listActiveRollouts(tx));
    });
    await this.rollouts.followActive();
    // Registered before looking, so an election won meanwhile is not missed (leading() runs once per epoch).
    plane.leadership.onChange((isLeader, epoch) => {
      if (isLeader) void this.leading(epoch);
    });
    if (plane.leadership.isLeader) await this.leading(plane.leadership.epoch);
    this.metrics.observeCluster(() => ({
      isLeader: plane.leadership.isLeader,
      epoch: plane.leadership.epoch,
      fencedWrites: plane.leadership.fencedWrites,
      inSync: this.membership?.inSync ?? true,
      resyncs: this.membership?.resyncs ?? 0,
    }));
    this.controller.start();
    this.autoscaler.start();
    this.rollouts.start();
    const telemetry = {
      // The control listeners answer no inference, so their requests never finish one.
      metrics: { finished: () => {}, observeStream: () => {} },
      tracing: this.options.tracing,
      log: this.options.log,
      requestLogSampleRate: this.options.config.logging.request_sample_rate,
      recordMetrics: this.options.recordMetrics ?? true,
      port: () => this.listeningPort,
    };
    const controlContext: ControlServerContext = {
      api: {
        plane,
        router: this.router,
        rollouts: this.rollouts,
        traffic: this.traffic,
        rolloutStatus: (name) => this.rolloutStatus(name),
        status: () => this.status(),
        requestShutdown: () => this.onShutdownRequested(),
        restartReplica: (pool, r) => this.controller.restart(pool, r),
        replicaHealth: (pool) => this.controller.describe(pool),
        metrics: this.metrics,
        consoleConfig: this.options.config.console,
        prober: this.prober,
        drift: this.drift,
        driftConfig: this.options.config.drift,
        cluster: () =>
          clusterStatus({
            database: plane.database,
            identity: plane.identity,
            leadership: plane.leadership,
            membership: this.membership,
            config: this.options.config.cluster,
          }),
      },
      log: this.options.log,
      telemetry,
      metrics: this.metrics,
      settle: () => this.fleet?.settle() ?? Promise.resolve(),
      applied: () => this.fleet?.applied() ?? Promise.resolve(),
    };
    this.server = createControlServer(controlContext, 'ingress-socket');
    await listen(this.server, { path: this.controlSocket });
    // Only this user's processes may reach it: it believes the client address they pass on.
    chmodSync(this.controlSocket, 0o600);
    const control = this.options.config.control;
    this.controlListener = createControlServer(controlContext, 'tcp');
    await listen(this.controlListener, { port: control.port, host: control.host });
    this.controlAddress = this.controlListener.address() as AddressInfo;
    const address = await this.fleet.start();
    this.listeningPort = address.port;
    this.listeningAddress = address.address;
    this.prober.start();
    this.drift.start();
    this.heat.start();
    this.metrics.observeNodeInfo(this.hardware);
    const host = address.address.includes(':') ? `[${address.address}]` : address.address;
    this.membership = new Membership({
      db,
      url: plane.database.driver === 'postgres' ? plane.postgresUrl : undefined,
      identity: plane.identity,
      config: this.options.config.cluster,
      log: this.options.log,
      leadership: plane.leadership,
      window: this.window,
      advertisedUrl: () => this.options.advertiseUrl ?? `http://${host}:${address.port}`,
      report: () => this.report(),
      onNotice: (n) => this.onStateNotice(n),
      resync: () => this.resync(),
    });
    await this.membership.start();
    return address;
  }

  /** What the ingress processes' requests measured: recorded once, here, so every count is exact. */
  private record(r: IngressReport): void {
    const plane = this.options.plane;
    for (const f of r.finished) {
      this.metrics.observeFinished(f);
      plane.recordInferences(f);
      this.rollouts.recordFinished(f);
    }
    for (const o of r.streams) this.metrics.observeStream(o);
    for (const o of r.mirror)
      this.router.deployments.get(o.deployment)?.mirrorStats.record(o.version, o.result, o.comparison);
    this.drift.record(r.drift);
  }

  /** Nodes on one Postgres: the leader decides replicas for the cluster, as shared state. */
  private clusterAutoscaling(): ClusterAutoscaling {
    const plane = this.options.plane;
    return {
      isLeader: () => plane.leadership.isLeader,
      othersLoad: (pool) => this.membership?.othersLoad(pool.name, pool.version) ?? [],
      write: async (pool, perNode, decision) => {
        const d = this.router.get(pool.name);
        const apply = await withTransaction(plane.database.db, async (tx) => {
          await plane.leadership.fence(tx);
          const apply = await this.traffic.write(tx, d, { autoscale: { [pool.version]: perNode } });
          await recordAudit(tx, {
            actor: 'vigil/autoscaler',
            action: 'autoscale',
            target: `deployment/${pool.name}/${pool.version}`,
            before: { target: decision.previousTarget },
            after: {
              target: perNode,
              per: 'node',
              desired: decision.desired,
              reason: decision.reason,
              epoch: plane.leadership.epoch,
            },
          });
          return apply;
        });
        apply();
      },
    };
  }

  /** Another node (or this one) changed shared state: reload that part; reloads of one key coalesce. */
  private onStateNotice(n: StateNotice): void {
    const db = this.options.plane.database.db;
    const log = this.options.log;
    const run = (key: string, fn: () => Promise<unknown>) =>
      this.reloads
        .run(key, fn)
        .catch((err) => log.warn({ err, notice: n }, 'could not apply a state change; the next change or resync will'));
    if (n.kind === 'deployment') void run(`deployment:${n.name}`, () => this.traffic.reload(db, n.name));
    else if (n.kind === 'slos') void run('slos', () => this.options.plane.reloadSlos());
    else void run('rollouts', () => this.rollouts.followActive());
  }

  /** Reloads every part of the shared state (after a lost subscription, nothing can be assumed). */
  private async resync(): Promise<void> {
    const db = this.options.plane.database.db;
    for (const name of this.router.deployments.keys()) await this.traffic.reload(db, name);
    await this.options.plane.reloadSlos();
    await this.rollouts.followActive();
  }

  /** What this node tells the others every heartbeat. */
  private report(): NodeReport {
    const leadership = this.options.plane.leadership;
    return {
      ready: this.isReady(),
      draining: this.draining,
      leader: leadership.isLeader,
      epoch: leadership.epoch,
      uptime_seconds: Math.round((Date.now() - this.startedAt) / 1000),
      deployments: [...this.router.deployments.values()].map((d) => ({
        name: d.name,
        versions: [...d.pools.values()].map((p) => {
          const m = d.mirrorStats.get(p.version);
          return {
            version: p.version,
            weight: d.weightOf(p.version),
            state: p.retired ? 'retired' : 'active',
            target: p.targetReplicas,
            running: p.running().length,
            starting: p.replicas.filter((r) => r.state === 'STARTING').length,
            queued: p.queued,
            ongoing: p.inFlight - p.queued,
            provider: p.provider ?? null,
            ...(m.compared > 0 ? { mirror: { compared: m.compared, agreed: m.agreed } } : {}),
          };
        }),
      })),
    };
  }

  /**
   * Ready when every version that takes unpinned traffic can serve it: it has a RUNNING replica,
   * or it scales from zero (a request then waits for the cold start). A dark or retired version
   * does not hold readiness back.
   */
  isReady(): boolean {
    if (this.draining) return false;
    for (const d of this.router.deployments.values()) {
      for (const p of d.pools.values()) {
        if (d.weightOf(p.version) === 0 || p.retired) continue;
        if (p.running().length === 0 && !p.scalesFromZero) return false;
      }
    }
    return true;
  }

  /**
   * This node became the leader (at start, or taking over from one that died): it picks up the
   * active rollouts and starts the rollouts vigil.yaml declares. Once per epoch.
   */
  private async leading(epoch: number): Promise<void> {
    if (this.ledEpoch === epoch) return;
    this.ledEpoch = epoch;
    try {
      await this.rollouts.takeOver();
      await this.startConfiguredRollouts();
    } catch (err) {
      this.options.log.error({ err, epoch }, 'could not take the rollouts over');
    }
  }

  /**
   * vigil.yaml rollouts start once per canary version, by the leader: a restart after the rollout finished (or
   * was rolled back) does not start it again. Change the canary version to roll out anew.
   */
  private async startConfiguredRollouts(): Promise<void> {
    const db = this.options.plane.database.db;
    for (const d of this.router.deployments.values()) {
      const r = d.config.rollout;
      if (!r || (await hasRolloutOf(db, d.name, r.canary))) continue;
      try {
        await this.rollouts.startRollout({
          deployment: d.name,
          version: r.canary,
          steps: r.steps,
          intervalSeconds: parseDuration(r.interval),
          actor: 'vigil.yaml',
        });
      } catch (err) {
        this.options.log.warn({ err, deployment: d.name, canary: r.canary }, 'the rollout in vigil.yaml did not start');
      }
    }
  }

  status() {
    return {
      ready: this.isReady(),
      draining: this.draining,
      uptime_seconds: Math.round((Date.now() - this.startedAt) / 1000),
      ingress: {
        processes: this.options.config.ingress.processes,
        pids: this.fleet.pids,
        direct: this.options.config.ingress.direct,
        in_flight_requests: this.fleet.acceptedRequests,
      },
      host: { hardware: this.hardware, ...this.heat.view() },
      deployments: [...this.router.deployments.values()].map((d) => ({
        name: d.name,
        split: d.split.entries.map((e) => ({ version: e.version, weight: e.weight })),
        mirror: d.mirror ? { ...d.mirror, ...d.mirrorStats.get(d.mirror.version) } : null,
        rollout: this.rolloutStatus(d.name),
        versions: [...d.pools.values()].map((p) => ({
          version: p.version,
          model: p.model ?? null,
          weight: d.weightOf(p.version),
          state: p.retired ? ('retired' as const) : ('active' as const),
          target_replicas: p.targetReplicas,
          autoscaling: this.autoscaler.describe(p) ?? null,
          queued: p.queued,
          dispatched: p.dispatched,
          refusals: p.refusals,
          provider: p.provider ?? null,
          fault_injection: { error_rate: p.fault.errorRate, added_latency_ms: p.fault.addedLatencyMs },
          ...this.controller.describe(p),
          replicas: p.replicas.map((r) => ({
            ...replicaView(r),
            ...(p.deployment.multiplex ? { models: [...r.loadedModels] } : {}),
          })),
        })),
      })),
    };
  }

  /** Where this node's own clients reach it: loopback when it listens on every address. */
  private publicUrl(): string {
    const a = this.listeningAddress;
    const host = a === '0.0.0.0' ? '127.0.0.1' : a === '::' ? '[::1]' : a.includes(':') ? `[${a}]` : a;
    return `http://${host}:${this.listeningPort}`;
  }

  /** Credits each version with the CPU its replicas used since the last sample (cost per prediction). */
  private sampleCpu(): void {
    const now = Date.now();
    const live = new Set<string>();
    for (const pool of this.router.pools()) {
      for (const r of pool.replicas) {
        if (!r.stats) continue;
        live.add(r.id);
        const total = r.stats.cpuUserSeconds + r.stats.cpuSystemSeconds;
        const prev = this.cpuSeen.get(r.id) ?? 0;
        this.cpuSeen.set(r.id, total);
        if (total > prev) this.options.plane.history.addCpu(pool.name, pool.version, total - prev, now);
      }
    }
    for (const id of this.cpuSeen.keys()) if (!live.has(id)) this.cpuSeen.delete(id);
  }

  /** The active rollout of a deployment with its live analysis, or null. */
  rolloutStatus(deployment: string) {
    const a = this.rollouts.describe(deployment);
    if (!a) return null;
    return {
      id: a.row.id,
      status: a.row.status,
      stable: a.row.stableVersion,
      canary: a.row.canaryVersion,
      steps: a.row.steps,
      step: a.row.stepIndex,
      canary_weight: a.row.canaryWeight,
      interval_seconds: a.row.intervalSeconds,
      step_elapsed_seconds: Math.round(a.stepElapsedSeconds * 10) / 10,
      decision: a.lastDecision ?? null,
      analysis: a.lastAnalysis ?? null,
    };
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.drainAndStop();
    return this.shutdownPromise;
  }

  private async drainAndStop(): Promise<void> {
    this.draining = true;
    clearInterval(this.cpuTimer);
    this.sampleCpu();
    this.autoscaler.stop();
    this.rollouts.stop();
    this.prober.stop();
    this.drift.stop();
    this.heat.stop();
    const log = this.options.log;
    log.info('draining: no new requests are accepted');
    const pools = this.router.pools();
    const timeoutMs = Math.max(0, ...pools.map((p) => p.deployment.graceful_shutdown_timeout_s * 1000));
    // The ingress processes stop taking connections and finish what they accepted (bodies still
    // arriving included); their last reports arrive before they say they are drained.
    const left = (await this.fleet?.drain(timeoutMs)) ?? 0;
    if (left > 0) log.warn({ abandoned: left }, 'graceful shutdown timeout passed with requests in flight');
    for (const p of pools) p.close();
    await this.controller.stop(true);
    await this.fleet?.stop();
    await Promise.all([this.server, this.controlListener].map(closeServer));
    await this.membership?.stop().catch((err) => log.warn({ err }, 'could not leave the cluster cleanly'));
    // Flushes the last SLI buckets and closes the database: PGlite must be closed on exit.
    await this.options.plane.close().catch((err) => log.error({ err }, 'could not close the control plane cleanly'));
    await this.options.tracing.shutdown().catch((err) => log.warn({ err }, 'could not flush traces'));
    this.metrics.stop();
    log.info('stopped');
  }
}

function listen(server: Server, where: { path: string } | { port: number; host: string }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}
