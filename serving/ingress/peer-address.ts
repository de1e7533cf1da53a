import type { IncomingMessage } from 'node:http';

/**
 * The ingress processes take every connection and pass control requests (/api/v1, /metrics) to
 * the primary over its Unix socket, where the socket's own address says nothing about the
 * client. The ingress puts the client's address in this header, replacing any a client sent,
 * and only the primary's control server, reachable only through that socket, believes it.
 */
export const PEER_ADDRESS_HEADER = 'x-vigil-peer-address';

const peers = new WeakMap<IncomingMessage, string>();

/** Called by the control server for each request that came through an ingress process. */
export function adoptForwardedPeer(req: IncomingMessage): void {
  const value = req.headers[PEER_ADDRESS_HEADER];
  peers.set(req, typeof value === 'string' ? value : '');
}

/** The address of the client that made this request. */
export function peerAddress(req: IncomingMessage): string | undefined {
  return peers.get(req) ?? req.socket.remoteAddress;
}
