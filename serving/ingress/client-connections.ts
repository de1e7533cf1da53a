/**
 * The client connections an ingress holds, and how a replica leaving rotation lets them go without
 * cutting a request.
 *
 * HTTP/1.1 cannot announce that an idle keep-alive connection is about to close: a server that
 * closes one while the client's next request is already on the wire (written, not yet read by the
 * server's event loop) loses that request, and clients do not resend a POST ("other side closed").
 * The connections most at risk are the busy ones: a client under load writes its next request on
 * the connection the moment the previous answer arrives, so closing every idle connection at once
 * (`http.Server#closeIdleConnections`) cut one of them now and then on a loaded machine.
 *
 * So a connection in use is closed by answering its next request with `connection: close`, and
 * only one that has stayed quiet (nothing read, no answer pending) for a while is closed by the
 * server: a client that left a connection unused that long is unlikely to pick it in the next
 * instant, and none that is busy is ever cut.
 */
import type { Socket } from 'node:net';

interface Watched {
  bytesRead: number;
  quietSince: number;
}

/** `_httpMessage` is the response node:http has pending on a socket (null between requests). */
type HttpSocket = Socket & { _httpMessage?: unknown };

export class ClientConnections {
  private readonly sockets = new Set<HttpSocket>();
  private sweep: NodeJS.Timeout | undefined;
  private leaving: { quietMs: number; watched: WeakMap<Socket, Watched> } | undefined;

  constructor(
    private readonly onClose: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.sockets.size;
  }

  add(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.onClose();
    });
  }

  /**
   * From now on closes each connection once it has been quiet for `quietMs`, checked every
   * `everyMs`; the others close after their next answer (the server sends `connection: close`).
   */
  closeWhenQuiet(quietMs: number, everyMs = Math.max(50, quietMs / 4)): void {
    if (this.leaving) return;
    this.leaving = { quietMs, watched: new WeakMap() };
    this.closeQuiet();
    this.sweep = setInterval(() => this.closeQuiet(), everyMs);
    this.sweep.unref();
  }

  /** One pass of the sweep closeWhenQuiet started (called by its timer; tests call it directly). */
  closeQuiet(t = this.now()): void {
    if (!this.leaving) return;
    const { quietMs, watched } = this.leaving;
    for (const socket of this.sockets) {
      const seen = watched.get(socket);
      const busy = socket._httpMessage != null;
      if (!seen || busy || seen.bytesRead !== socket.bytesRead) {
        watched.set(socket, { bytesRead: socket.bytesRead, quietSince: t });
      } else if (t - seen.quietSince >= quietMs) {
        socket.destroy();
      }
    }
  }

  /** Closes every connection now (the process is going). */
  destroyAll(): void {
    if (this.sweep) clearInterval(this.sweep);
    for (const socket of this.sockets) socket.destroy();
  }
}
