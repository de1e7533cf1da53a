import { Agent, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { VigilError } from '../errors.ts';
import { sendError } from './error-response.ts';
import { PEER_ADDRESS_HEADER } from './peer-address.ts';

/** Headers about one hop's connection, which a proxy must not pass on. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection'];

/**
 * Passes a control request (/api/v1, /metrics, anything that is not inference) from an ingress
 * process to the primary's control server on its Unix socket, streaming both bodies. The ingress
 * does no work for these beyond the bytes, so a slow database query or console poll costs
 * inference nothing but a little copying.
 */
export class ControlProxy {
  private readonly agent = new Agent({ keepAlive: true, maxFreeSockets: 16 });

  constructor(private readonly socketPath: string) {}

  forward(req: IncomingMessage, res: ServerResponse): void {
    const headers: Record<string, string | string[] | undefined> = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    headers[PEER_ADDRESS_HEADER] = req.socket.remoteAddress ?? '';
    const upstream = request(
      { socketPath: this.socketPath, path: req.url, method: req.method, headers, agent: this.agent },
      (answer) => {
        const out: Record<string, string | string[] | undefined> = { ...answer.headers };
        for (const h of HOP_BY_HOP) delete out[h];
        // The primary ends a connection whose body it refused (too large, too slow); the client's
        // connection ends with it, or the rest of that body would be read as the next request.
        if (answer.headers.connection === 'close' || !req.complete) out.connection = 'close';
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) sendError(res, new VigilError('VIGIL_ERR_CONTROL_UNAVAILABLE'), { connection: 'close' });
      else res.destroy();
    });
    // The client left: stop the primary's work on its behalf.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  close(): void {
    this.agent.destroy();
  }
}
