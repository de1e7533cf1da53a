/**
 * Entry point of a dedicated ingress process (a node:cluster worker): the data plane of
 * ingress-service.ts, alone in its process. If the primary goes away, the process exits.
 */
import { readEnv } from '../config/env.ts';
import { createLogger } from '../logger.ts';
import { startTracing } from '../telemetry/tracing.ts';
import type { IngressSpec, IngressToPrimary, PrimaryToIngress } from './ingress-messages.ts';
import { startIngressService } from './ingress-service.ts';

const env = readEnv();
const spec = JSON.parse(env.VIGIL_INGRESS_SPEC ?? '{}') as IngressSpec;
const log = createLogger({ role: 'ingress' });
const tracing = startTracing(env, 'ingress');

function toPrimary(msg: IngressToPrimary): void {
  if (process.connected) process.send!(msg);
}

const service = startIngressService({ spec, log, tracing, toPrimary });
process.on('message', (msg: PrimaryToIngress) => service.onMessage(msg));

process.on('disconnect', () => {
  service.close();
  const flushed = Promise.race([tracing.shutdown(), new Promise((r) => setTimeout(r, 1000))]);
  void flushed.finally(() => process.exit(0));
});
// SIGTERM/SIGINT are the primary's to handle: a Ctrl-C reaches the whole process group, and an
// ingress that died first would turn a graceful drain into refused connections.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
