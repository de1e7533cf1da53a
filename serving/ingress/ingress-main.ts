/**
 * Entry point of an ingress process (a node:cluster worker). Several of them share the node's
 * HTTP port; each parses, validates, admits and routes inference requests on its own event loop,
 * straight to the replicas' sockets, from routing snapshots the primary sends. Control requests
 * are passed to the primary. If the primary goes away, the process exits.
 */
import { DriftObserver } from '../drift/drift-observer.ts';
import { readEnv } from '../config/env.ts';
import { routeCall } from '../composition/call-router.ts';
import { createLogger } from '../logger.ts';
import { DeploymentRouter } from '../router/deployment-router.ts';
import type { IngressPool } from '../router/ingress-types.ts';
import type { ReplicaChannel } from '../router/replica-channel.ts';
import { startTracing } from '../telemetry/tracing.ts';
import { ControlProxy } from './control-proxy.ts';
import { createIngress } from './http-server.ts';
import type { IngressSpec, IngressToPrimary, PrimaryToIngress } from './ingress-messages.ts';
import { ReportSender } from './ingress-report.ts';
import { applySnapshot, type RoutingSnapshot } from './routing-snapshot.ts';

const env = readEnv();
const spec = JSON.parse(env.VIGIL_INGRESS_SPEC ?? '{}') as IngressSpec;
const log = createLogger({ role: 'ingress' });
const tracing = startTracing(env, 'ingress');

function toPrimary(msg: IngressToPrimary): void {
  if (process.connected) process.send!(msg);
}

const router = new DeploymentRouter<ReplicaChannel>(spec.config.deployments);
const reports = new ReportSender(router, toPrimary);
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
      observe: (deployment, version, status, durationSeconds) => {
        if (spec.recordMetrics) reports.observeRequest({ deployment, version, status, durationSeconds });
        reports.recordSli(deployment, version, status, durationSeconds);
      },
    }).then((result) => channel.replyCall(result));
  });
}

let snapshot: RoutingSnapshot | undefined;
let draining = false;
let accepted = 0;
/** The port bound (spec.port may be 0, which every ingress process shares as one port). */
let listeningPort = spec.port;
// Prediction drift: sketches of what each version is asked and answers, sent once a second.
const drift = new DriftObserver();
setInterval(() => {
  const list = drift.take();
  if (list.length > 0) reports.observeDrift(list);
}, 1000).unref();
const proxy = new ControlProxy(spec.controlSocket);
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
    recordSli: (deployment, version, status, seconds, traceId) =>
      reports.recordSli(deployment, version, status, seconds, traceId),
    port: () => listeningPort,
  },
  isReady: () => (snapshot?.ready ?? false) && !draining,
  isDraining: () => draining || (snapshot?.draining ?? false),
  trackInference: (delta) => {
    accepted += delta;
  },
  forward: (req, res) => proxy.forward(req, res),
});

process.on('message', (msg: PrimaryToIngress) => {
  if (msg?.type === 'vigil:snapshot') {
    const first = snapshot === undefined;
    snapshot = msg.snapshot;
    applySnapshot(router, msg.snapshot, serveCalls);
    if (first) listen();
  } else if (msg?.type === 'vigil:flush') {
    reports.flush();
    toPrimary({ type: 'vigil:flushed', id: msg.id });
  } else if (msg?.type === 'vigil:drain') {
    void drain(msg.timeoutMs);
  }
});

function listen(): void {
  server.once('error', (err) => {
    log.fatal({ err }, 'the ingress could not listen');
    process.exit(1);
  });
  // Port 0 in every ingress process is one shared port: node:cluster keys the handle by address.
  server.listen(spec.port, spec.host, () => {
    const a = server.address();
    if (a && typeof a === 'object') listeningPort = a.port;
    if (a && typeof a === 'object') toPrimary({ type: 'vigil:ingress-listening', ...a });
  });
}

/** Stops taking connections and waits for the inference requests accepted here, within `timeoutMs`. */
async function drain(timeoutMs: number): Promise<void> {
  draining = true;
  server.close();
  server.closeIdleConnections();
  const until = performance.now() + timeoutMs;
  while (accepted > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
  for (const pool of router.pools()) pool.close();
  reports.flush();
  toPrimary({ type: 'vigil:ingress-drained', abandoned: accepted });
}

toPrimary({ type: 'vigil:ingress-hello' });

process.on('disconnect', () => {
  server.closeAllConnections();
  proxy.close();
  const flushed = Promise.race([tracing.shutdown(), new Promise((r) => setTimeout(r, 1000))]);
  void flushed.finally(() => process.exit(0));
});
// SIGTERM/SIGINT are the primary's to handle: a Ctrl-C reaches the whole process group, and an
// ingress that died first would turn a graceful drain into refused connections.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
