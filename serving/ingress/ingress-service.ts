/**
 * The data plane of one process: an HTTP server on the node's shared port that parses, validates,
 * admits and routes inference requests on this process's event loop, straight to the replicas'
 * sockets, from routing snapshots the primary sends. Control requests are passed to the primary.
 *
 * Two kinds of process run it (docs/decisions/0012-direct-ingress.md): a dedicated ingress
 * process (ingress-main.ts), and, with `ingress.direct`, every replica, which then reaches its own
 * model by a function call and forwards only what belongs to another replica.
 */
import net from 'node:net';
import { routeCall } from '../composition/call-router.ts';
import { DriftObserver } from '../drift/drift-observer.ts';
import type { Logger } from '../logger.ts';
import { DeploymentRouter } from '../router/deployment-router.ts';
import type { IngressPool } from '../router/ingress-types.ts';
import type { ReplicaChannel } from '../router/replica-channel.ts';
import { COUNTS_AS_SLI, COUNTS_IN_METRICS } from '../telemetry/finished-requests.ts';
import type { Tracing } from '../telemetry/tracing.ts';
import { ClientConnections } from './client-connections.ts';
import { ControlProxy } from './control-proxy.ts';
import { createIngress } from './http-server.ts';
import type { IngressSpec, IngressToPrimary, PrimaryToIngress } from './ingress-messages.ts';
import { ReportSender } from './ingress-report.ts';
import { applySnapshot, type RoutingSnapshot } from './routing-snapshot.ts';
import { BodyPool } from './body-pool.ts';

/** A body pool that lent nothing for this long gives its idle memory back to the collector. */
const BODY_POOL_TRIM_MS = 30_000;

export interface IngressServiceOptions {
  spec: IngressSpec;
  log: Logger;
  tracing: Tracing;
  toPrimary(msg: IngressToPrimary): void;
  /** A replica's ingress opens only once its model is loaded: a load blocks the event loop. */
  listenAfter?: Promise<void>;
  /**
   * The replica this ingress runs in, if any. Once the controller takes it out of rotation, the
   * ingress stops taking connections and closes the ones it has, so clients move to a replica
   * that stays, while it still routes what arrives meanwhile elsewhere.
   */
  hostReplica?: string;
}

export interface IngressService {
  /** Applies a message from the primary; false if it is not one of the ingress's. */
  onMessage(msg: PrimaryToIngress): boolean;
  /** Stops taking connections and waits for the inference requests accepted here, within `timeoutMs`. */
  drain(timeoutMs: number): Promise<number>;
  /**
   * The host replica is being stopped (scale-down, a retired version): takes no new connections
   * and waits, within `timeoutMs`, for what was accepted here, which still goes to the replicas
   * that stay (not 503: the node is not shutting down).
   */
  retire(timeoutMs: number): Promise<void>;
  /** Closes every connection at once (the process is going). */
  close(): void;
}

/** How long a client connection to a replica leaving rotation stays unused before it is closed. */
const LEAVING_QUIET_MS = 1000;

export function startIngressService(o: IngressServiceOptions): IngressService {
  const { spec, log, tracing, toPrimary } = o;
  const router = new DeploymentRouter<ReplicaChannel>(spec.config.deployments);
  const reports = new ReportSender(router, toPrimary, () => ({
    requests: accepted,
    connections: connections.size,
  }));
  // The load is also sent when idle, so the autoscaler sees a queue that no answer ends.
  setInterval(() => reports.flush(), 250).unref();
  for (const d of router.deployments.values()) {
    d.mirrorStats.onResult = (version, result, comparison) =>
      reports.observeMirror({ deployment: d.name, version, result, comparison });
    for (const pool of d.pools.values())
      pool.onDemand = () => toPrimary({ type: 'vigil:demand', deployment: pool.name, version: pool.version });
  }

  /** A handler's call to another deployment is routed here like a client request. */
  function serveCalls(pool: IngressPool, channel: ReplicaChannel): void {
    channel.on('call', (msg) => {
      void routeCall(router, pool, msg, {
        observe: (deployment, version, status, durationSeconds) =>
          reports.finished({
            deployment,
            version,
            status,
            durationSeconds,
            counts: (spec.recordMetrics ? COUNTS_IN_METRICS : 0) | COUNTS_AS_SLI,
          }),
      }).then((result) => channel.replyCall(result));
    });
  }

  let snapshot: RoutingSnapshot | undefined;
  let draining = false;
  /** The host replica left rotation: connections close after their response. */
  let leaving = false;
  /** A dedicated process while replicas serve the port: no new connections, none kept. */
  let standby = false;
  let listening = false;
  let started = false;
  let accepted = 0;
  /** The port bound (spec.port may be 0, which every process of the node shares as one port). */
  let listeningPort = spec.port;
  // Prediction drift: sketches of what each version is asked and answers, sent once a second.
  const drift = new DriftObserver();
  setInterval(() => {
    const list = drift.take();
    if (list.length > 0) reports.observeDrift(list);
  }, 1000).unref();
  const proxy = new ControlProxy(spec.controlSocket);
  const bodies = new BodyPool();
  const server = createIngress({
    router,
    log,
    telemetry: {
      metrics: reports,
      tracing,
      log,
      requestLogSampleRate: spec.config.logging.request_sample_rate,
      recordMetrics: spec.recordMetrics,
      probeToken: spec.probeToken,
      observePredictions: spec.config.drift.enabled
        ? (deployment, version, inputs, outputs) => drift.observe(deployment, version, inputs, outputs)
        : undefined,
      port: () => listeningPort,
    },
    isReady: () => (snapshot?.ready ?? false) && !draining,
    isDraining: () => draining || (snapshot?.draining ?? false),
    keepsConnections: () => !leaving && !standby,
    trackInference: (delta) => {
      accepted += delta;
      reports.loadChanged();
    },
    forward: (req, res) => proxy.forward(req, res),
    bodies,
  });
  setInterval(() => bodies.trimIfIdle(), BODY_POOL_TRIM_MS).unref();

  // Counted so that a replica leaving rotation is stopped only once its clients have moved.
  const connections = new ClientConnections(() => reports.loadChanged());
  server.on('connection', (socket) => connections.add(socket));

  function listen(): void {
    if (listening || draining || leaving || standby) return;
    listening = true;
    server.once('error', (err) => {
      log.fatal({ err }, 'the ingress could not listen');
      process.exit(1);
    });
    // Port 0 in every process is one shared port: node:cluster keys the handle by address.
    server.listen(spec.port, spec.host, () => {
      const a = server.address();
      if (a && typeof a === 'object') listeningPort = a.port;
      if (a && typeof a === 'object') toPrimary({ type: 'vigil:ingress-listening', ...a });
    });
  }

  /**
   * Takes no new connections; each open one closes after its next response. The listener only:
   * http.Server#close() would also close the idle keep-alive connections, and a client that sent
   * its next request on one at that moment would see it cut off ("other side closed"). It would
   * also stop the timer that enforces requestTimeout, which a standby that listens again needs.
   */
  function stopListening(): void {
    if (!listening) return;
    listening = false;
    net.Server.prototype.close.call(server);
  }

  /**
   * The host replica is out of rotation: clients go to the replicas that stay. A connection in use
   * closes after its next response; one left unused for a second is closed by the server while the
   * replica still serves (a client's keep-alive could otherwise hold it for a minute), never one
   * a client may be writing on (client-connections.ts). The controller stops the replica only
   * once none is left open (ReplicaHandle.idle), so none is cut at its exit.
   */
  function leave(): void {
    if (leaving) return;
    leaving = true;
    const was = listening;
    stopListening();
    connections.closeWhenQuiet(LEAVING_QUIET_MS);
    if (was) toPrimary({ type: 'vigil:ingress-closed' });
  }

  function hostState(s: RoutingSnapshot): string | undefined {
    for (const d of s.deployments)
      for (const v of d.versions) for (const r of v.replicas) if (r.id === o.hostReplica) return r.state;
    return undefined;
  }

  const ready = o.listenAfter ?? Promise.resolve();
  toPrimary({ type: 'vigil:ingress-hello' });
  return {
    onMessage(msg) {
      if (msg?.type === 'vigil:snapshot') {
        const first = snapshot === undefined;
        snapshot = msg.snapshot;
        applySnapshot(router, msg.snapshot, serveCalls);
        if (o.hostReplica !== undefined) {
          const state = hostState(msg.snapshot);
          if (state === 'DRAINING' || (state === undefined && !first && listening)) leave();
        }
        if (first)
          void ready.then(() => {
            started = true;
            listen();
          });
      } else if (msg?.type === 'vigil:standby') {
        standby = msg.standby;
        if (standby) stopListening();
        else if (started) listen();
      } else if (msg?.type === 'vigil:flush') {
        reports.flush();
        toPrimary({ type: 'vigil:flushed', id: msg.id });
      } else if (msg?.type === 'vigil:drain') {
        void this.drain(msg.timeoutMs).then((abandoned) => toPrimary({ type: 'vigil:ingress-drained', abandoned }));
      } else {
        return false;
      }
      return true;
    },
    async drain(timeoutMs) {
      draining = true;
      stopListening();
      server.closeIdleConnections();
      const until = performance.now() + timeoutMs;
      while (accepted > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
      for (const pool of router.pools()) pool.close();
      reports.flush();
      return accepted;
    },
    async retire(timeoutMs) {
      leave();
      const until = performance.now() + timeoutMs;
      while (accepted > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
      reports.flush();
    },
    close() {
      connections.destroyAll();
      server.closeAllConnections();
      proxy.close();
    },
  };
}
