import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame, FrameDecoder } from './frame-codec.ts';

/** A decoded frame: one of the typed messages in messages.ts, tensors as typed-array views. */
export type FrameMessage = Record<string, unknown> & { type: string };

/** Writes one message as a frame; tensor memory goes to the socket without a copy in JS. */
export function writeFrame(socket: Socket, msg: FrameMessage): void {
  const parts = encodeFrame(msg);
  socket.cork();
  for (const p of parts) socket.write(p);
  process.nextTick(() => socket.uncork());
}

interface Expected {
  onConnect(link: ReplicaLink): void;
}

/** The primary's end of one replica's socket. */
export interface ReplicaLink {
  send(msg: FrameMessage): void;
  onMessage(handler: (msg: FrameMessage) => void): void;
  /** Called once if the socket closes or breaks. */
  onClose(handler: () => void): void;
  close(): void;
}

/**
 * The primary's Unix socket that every replica of this node connects to. A replica introduces
 * itself with a `vigil:hello` frame naming its id; after that its socket carries vigil:infer
 * and vigil:result frames, while control messages (ready, ping, pong) stay on cluster IPC.
 */
export class ReplicaSocketServer {
  readonly path: string;
  private readonly server: Server;
  private readonly expected = new Map<string, Expected>();

  constructor(dir = tmpdir()) {
    // Short and unique: Unix socket paths are limited to about 100 bytes.
    this.path = join(dir, `vigil-${process.pid}-${randomBytes(4).toString('hex')}.sock`);
    this.server = createServer((socket) => this.accept(socket));
    this.server.listen(this.path);
    this.server.unref();
  }

  /** Registers a replica that is about to connect. */
  expect(replicaId: string, onConnect: (link: ReplicaLink) => void): void {
    this.expected.set(replicaId, { onConnect });
  }

  forget(replicaId: string): void {
    this.expected.delete(replicaId);
  }

  close(): void {
    this.server.close();
    rmSync(this.path, { force: true });
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const decoder = new FrameDecoder();
    let handler: ((msg: FrameMessage) => void) | undefined;
    let closeHandler: (() => void) | undefined;
    socket.on('error', () => socket.destroy());
    socket.on('close', () => closeHandler?.());
    socket.on('data', (chunk: Buffer) => {
      for (const msg of decoder.push(chunk)) {
        if (handler) {
          handler(msg);
          continue;
        }
        const expected = msg.type === 'vigil:hello' ? this.expected.get(String(msg.replicaId)) : undefined;
        if (!expected) {
          socket.destroy();
          return;
        }
        this.expected.delete(String(msg.replicaId));
        expected.onConnect({
          send: (m) => writeFrame(socket, m),
          onMessage: (h) => {
            handler = h;
          },
          onClose: (h) => {
            closeHandler = h;
          },
          close: () => socket.destroy(),
        });
      }
    });
  }
}

/** The replica's end: connects, says hello, and hands frames to `onMessage`. */
export function connectToPrimary(
  path: string,
  replicaId: string,
  onMessage: (msg: FrameMessage) => void,
): Promise<(msg: FrameMessage) => void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.setNoDelay(true);
    const decoder = new FrameDecoder();
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      for (const msg of decoder.push(chunk)) onMessage(msg);
    });
    socket.once('connect', () => {
      socket.off('error', reject);
      // A broken link means the primary is gone; the IPC 'disconnect' handler ends the process.
      socket.on('error', () => {});
      writeFrame(socket, { type: 'vigil:hello', replicaId });
      resolve((msg) => writeFrame(socket, msg));
    });
  });
}
