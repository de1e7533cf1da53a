import { createServer } from 'node:net';

/**
 * Whether `host:port` can be listened on now: null when it can, else the system's error code
 * (EADDRINUSE, EACCES, EADDRNOTAVAIL). `vigil start` asks before it opens the database or spawns
 * a replica, so that a busy port costs one line and a second, not a stack trace after the
 * replicas have loaded. It is a probe, not a reservation: the ingress processes bind later, and a
 * port taken in between still fails there. The console process asks the same of its own port.
 */
export function portUnavailable(host: string, port: number): Promise<string | null> {
  if (port === 0) return Promise.resolve(null);
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(null)));
  });
}
