import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame, FrameDecoder } from './frame-codec.ts';

/**
 * The sockets between ingress processes and replicas: each replica listens on its own Unix socket,
 * and each ingress process of the node holds one connection to every replica it routes to.
 */

/** A decoded frame: one of the typed messages in messages.ts, tensors as typed-array views. */
export type FrameMessage = Record<string, unknown> & { type: string };

/**
 * Writes one message as a frame; tensor memory goes to the socket without a copy in JS. Frames
 * written during one turn of the event loop leave in one `writev`: the socket is corked at the
 * first and uncorked in the check phase (setImmediate), after every connection that was readable
 * in this turn has had its callback. Uncorking on the next tick instead flushed after each
 * request's callback, one system call per frame (a quarter of the primary's time, issue 16).
 */
export function writeFrame(socket: Socket, msg: FrameMessage): void {
  const parts = encodeFrame(msg);
  if (!corked.has(socket)) {
    corked.add(socket);
    socket.cork();
    if (corked.size === 1) setImmediate(uncorkAll);
  }
  for (const p of parts) socket.write(p);
}

const corked = new Set<Socket>();

function uncorkAll(): void {
  for (const socket of corked) socket.uncork();
  corked.clear();
}

/** One end of a replica socket connection: frames out, frames in, one close notice. */
export interface ReplicaLink {
  send(msg: FrameMessage): void;
  onMessage(handler: (msg: FrameMessage) => void): void;
  /** Called once if the socket closes or breaks. */
  onClose(handler: () => void): void;
  close(): void;
  readonly closed: boolean;
  /**
   * Only on a link to a replica in this process: whether it can take one more request now. Its
   * router asks this instead of waiting for capacity messages, so it refills a freed slot at
   * once, and the replica stays full rather than draining to the hysteresis mark (fill-level.ts)
   * and announcing each swing to every other connection.
   */
  hasRoom?(): boolean;
}

function linkOver(socket: Socket): ReplicaLink {
  socket.setNoDelay(true);
  const decoder = new FrameDecoder();
  let handler: (msg: FrameMessage) => void = () => {};
  let closeHandler: () => void = () => {};
  let closed = false;
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    closed = true;
    closeHandler();
  });
  socket.on('data', (chunk: Buffer) => {
    for (const msg of decoder.push(chunk)) handler(msg);
  });
  return {
    send: (m) => {
      if (!closed) writeFrame(socket, m);
    },
    onMessage: (h) => {
      handler = h;
    },
    onClose: (h) => {
      closeHandler = h;
    },
    close: () => socket.destroy(),
    get closed() {
      return closed;
    },
  };
}

/**
 * A path for a replica's own socket: short and unique, since Unix socket paths are limited to
 * about 100 bytes. The replica listens on it; every ingress process of the node connects to it.
 */
export function replicaSocketPath(dir = tmpdir()): string {
  return join(dir, `vigil-${process.pid}-${randomBytes(5).toString('hex')}.sock`);
}

/**
 * The replica's end: listens on its socket and hands each ingress connection to `onLink`. The
 * socket file is made before the model loads, so an ingress can connect as soon as the replica
 * is reported RUNNING; it is removed when the process exits.
 */
export function listenForIngress(path: string, onLink: (link: ReplicaLink) => void): Promise<Server> {
  rmSync(path, { force: true });
  const server = createServer((socket) => onLink(linkOver(socket)));
  process.on('exit', () => rmSync(path, { force: true }));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * A replica that takes HTTP itself (direct ingress) registers its socket path here: its own
 * router then reaches it by a function call instead of through the socket (a frame out, a frame
 * in and two system calls per request saved on the commonest path).
 */
const localReplicas = new Map<string, { onLink: (link: ReplicaLink) => void; hasRoom: () => boolean }>();

export function registerLocalReplica(path: string, onLink: (link: ReplicaLink) => void, hasRoom: () => boolean): void {
  localReplicas.set(path, { onLink, hasRoom });
}

export function isLocalReplica(path: string): boolean {
  return localReplicas.has(path);
}

/**
 * Two ends that pass messages as objects, in order, each in a microtask of its own: the same
 * contract as a socket link (never re-entering the sender), without the encoding.
 */
function loopbackPair(hasRoom: () => boolean): [ReplicaLink, ReplicaLink] {
  const make = () => ({
    handler: (_msg: FrameMessage): void => {},
    closeHandler: (): void => {},
  });
  const a = make();
  const b = make();
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    queueMicrotask(() => {
      a.closeHandler();
      b.closeHandler();
    });
  };
  const end = (self: typeof a, peer: typeof a, room?: () => boolean): ReplicaLink => ({
    send: (m) => {
      if (!closed) queueMicrotask(() => peer.handler(m));
    },
    onMessage: (h) => {
      self.handler = h;
    },
    onClose: (h) => {
      self.closeHandler = h;
    },
    close,
    get closed() {
      return closed;
    },
    hasRoom: room,
  });
  // The first end is the router's: it may ask the replica; the replica's end has nobody to ask.
  return [end(a, b, hasRoom), end(b, a)];
}

/** An ingress's connection to one replica: in-process when the replica is this process. */
export function connectToReplica(path: string): Promise<ReplicaLink> {
  const local = localReplicas.get(path);
  if (local) {
    const [ingressEnd, replicaEnd] = loopbackPair(local.hasRoom);
    local.onLink(replicaEnd);
    return Promise.resolve(ingressEnd);
  }
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(linkOver(socket));
    });
  });
}
