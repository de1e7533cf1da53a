import type { VigilConfig } from '../config/schema.ts';
import type { DemandMessage, IngressReport } from './ingress-report.ts';
import type { RoutingSnapshot } from './routing-snapshot.ts';

/**
 * The messages between the primary and its ingress processes, over node:cluster IPC. Requests
 * never cross here: only the routing state (down) and what the requests measured (up).
 */

/** Sent once, in the worker's environment (VIGIL_INGRESS_SPEC). */
export interface IngressSpec {
  config: VigilConfig;
  host: string;
  port: number;
  /** The primary's control server (/api/v1, /metrics). */
  controlSocket: string;
  recordMetrics: boolean;
  /** The node's probe secret (serving/probes/probe-headers.ts). */
  probeToken: string;
}

export type PrimaryToIngress =
  | { type: 'vigil:snapshot'; snapshot: RoutingSnapshot }
  /** Stop taking connections, finish what was accepted within `timeoutMs`, then say drained. */
  | { type: 'vigil:drain'; timeoutMs: number }
  /** Send what has been measured now, then say flushed (a scrape or API read waits for it). */
  | { type: 'vigil:flush'; id: number }
  /**
   * To a dedicated ingress process under direct ingress: stand by (take no new connections) while
   * replicas serve the port, or take them again (docs/decisions/0012-direct-ingress.md).
   */
  | { type: 'vigil:standby'; standby: boolean };

export type IngressToPrimary =
  /** Its message handler is in place: the first snapshot may come (one sent earlier would be lost). */
  | { type: 'vigil:ingress-hello' }
  | { type: 'vigil:ingress-listening'; address: string; port: number; family: string }
  /** A replica's ingress stopped taking connections (its replica left rotation). */
  | { type: 'vigil:ingress-closed' }
  | { type: 'vigil:ingress-drained'; abandoned: number }
  | { type: 'vigil:flushed'; id: number }
  | IngressReport
  | DemandMessage;
