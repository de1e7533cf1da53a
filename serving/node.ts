import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { VigilConfig } from './config/schema.ts';
import { Controller } from './controller/controller.ts';
import { closeReplicaSockets, replicaSockets, spawnReplica } from './controller/spawn-replica.ts';
import { createIngress } from './ingress/http-server.ts';
import type { Logger } from './logger.ts';
import { DeploymentRouter } from './router/deployment-router.ts';
import { VigilMetrics } from './telemetry/metrics.ts';
import type { Tracing } from './telemetry/tracing.ts';
import type { ControlPlane } from './control-plane.ts';

export interface NodeOptions {
  config: VigilConfig;
  host: string;
  port: number;
  log: Logger;
  tracing: Tracing;
  plane: ControlPlane;
  recordMetrics?: boolean;
}

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
  private server: Server | undefined;
  private draining = false;
  /** Inference requests accepted by the ingress and not yet answered (bodies still arriving included). */
  private acceptedInferences = 0;
  private shutdownPromise: Promise<void> | undefined;
  private readonly startedAt = Date.now();
  /** Called when POST /api/v1/shutdown asks this node to stop. */
  onShutdownRequested: () => void = () => {};

  constructor(private readonly options: NodeOptions) {
    this.router = new DeploymentRouter(options.config.deployments);
    this.metrics = new VigilMetrics(() => this.router.pools());
    this.controller = new Controller(this.router.pools(), options.log, spawnReplica, replicaSockets(), {
      onReplicaReady: (pool, replica) => this.metrics.observeReplicaReady(pool.name, pool.version, replica.loadSeconds ?? 0),
      onReplicaStopped: (pool, _replica, reason) => this.metrics.observeReplicaRestart(pool.name, reason),
    });
  }

  async start(): Promise<AddressInfo> {
    this.controller.start();
    const plane = this.options.plane;
    this.server = createIngress({
      router: this.router,
      api: { plane, router: this.router, status: () => this.status(), requestShutdown: () => this.onShutdownRequested() },
      log: this.options.log,
      telemetry: {
        metrics: this.metrics,
        tracing: this.options.tracing,
        log: this.options.log,
        requestLogSampleRate: this.options.config.logging.request_sample_rate,
        recordMetrics: this.options.recordMetrics ?? true,
        recordSli: (deployment, version, status, seconds) => plane.recordInference(deployment, version, status, seconds),
        port: () => (this.server?.address() as AddressInfo | null)?.port ?? 0,
      },
      isReady: () => this.isReady(),
      isDraining: () => this.draining,
      trackInference: (delta) => {
        this.acceptedInferences += delta;
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.port, this.options.host, () => resolve());
    });
    return this.server.address() as AddressInfo;
  }

  /** Ready when every deployment version has at least one RUNNING replica. */
  isReady(): boolean {
    return !this.draining && this.router.pools().every((p) => p.running().length > 0);
  }

  status() {
    return {
      ready: this.isReady(),
      draining: this.draining,
      uptime_seconds: Math.round((Date.now() - this.startedAt) / 1000),
      deployments: [...this.router.deployments.values()].map((d) => ({
        name: d.name,
        versions: [...d.pools.values()].map((p) => ({
          version: p.version,
          target_replicas: p.deployment.num_replicas,
          queued: p.queue.length,
          dispatched: p.dispatched,
          provider: p.provider ?? null,
          fault_injection: { error_rate: p.fault.errorRate, added_latency_ms: p.fault.addedLatencyMs },
          ...this.controller.describe(p),
          replicas: p.replicas.map((r) => ({
            id: r.id,
            slot: r.slot,
            state: r.state,
            pid: r.pid ?? null,
            ongoing: r.ongoing,
            sent: r.sent,
            succeeded: r.succeeded,
            provider: r.provider,
            rss_bytes: r.stats?.rssBytes ?? null,
            load_seconds: r.loadSeconds ?? null,
          })),
        })),
      })),
    };
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.drainAndStop();
    return this.shutdownPromise;
  }

  private async drainAndStop(): Promise<void> {
    this.draining = true;
    const log = this.options.log;
    log.info('draining: no new requests are accepted');
    const closed = new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeIdleConnections();
    const pools = this.router.pools();
    const timeoutMs = Math.max(0, ...pools.map((p) => p.deployment.graceful_shutdown_timeout_s * 1000));
    const until = performance.now() + timeoutMs;
    const busy = () => this.acceptedInferences > 0 || pools.some((p) => p.inFlight > 0);
    while (busy() && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
    const left = Math.max(this.acceptedInferences, pools.reduce((n, p) => n + p.inFlight, 0));
    if (left > 0) log.warn({ abandoned: left }, 'graceful shutdown timeout passed with requests in flight');
    for (const p of pools) p.close();
    await this.controller.stop(true);
    closeReplicaSockets();
    this.server?.closeAllConnections();
    await closed;
    // Flushes the last SLI buckets and closes the database: PGlite must be closed on exit.
    await this.options.plane.close().catch((err) => log.error({ err }, 'could not close the control plane cleanly'));
    await this.options.tracing.shutdown().catch((err) => log.warn({ err }, 'could not flush traces'));
    this.metrics.stop();
    log.info('stopped');
  }
}
