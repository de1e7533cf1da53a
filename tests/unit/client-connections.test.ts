import { createServer, type Server, type ServerResponse } from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientConnections } from '../../serving/ingress/client-connections.ts';
import { waitFor } from '../helpers/vigil-process.ts';

/** A real HTTP server whose connections a ClientConnections tracks, on a clock the test moves. */
async function serve() {
  let t = 0;
  const held: ServerResponse[] = [];
  const tracked = new ClientConnections(
    () => {},
    () => t,
  );
  const server: Server = createServer((req, res) => {
    if (req.url === '/hold') held.push(res);
    else res.end('ok');
  });
  server.on('connection', (socket) => tracked.add(socket));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const connect = async () => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => {
      received += d;
    });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    return {
      socket,
      closed,
      received: () => received,
      get(path: string) {
        socket.write(`GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`);
      },
    };
  };
  return {
    tracked,
    server,
    held,
    connect,
    setTime: (ms: number) => {
      t = ms;
    },
  };
}

let open: Server | undefined;
afterEach(() => {
  open?.closeAllConnections();
  open?.close();
});

describe('ClientConnections', () => {
  it('closes a connection left quiet, never one with an answer pending or one a client just used', async () => {
    const s = await serve();
    open = s.server;
    const quiet = await s.connect();
    const used = await s.connect();
    const waiting = await s.connect();
    await waitFor(() => s.tracked.size === 3, 5000, 'three connections');
    waiting.get('/hold');
    await waitFor(() => s.held.length === 1, 5000, 'the held request');

    s.tracked.closeWhenQuiet(1000, 60_000);
    s.setTime(900);
    used.get('/');
    await waitFor(() => used.received().includes('ok'), 5000, 'an answer on the used connection');
    s.tracked.closeQuiet();
    s.setTime(1000);
    s.tracked.closeQuiet();
    await quiet.closed;
    expect(used.socket.destroyed).toBe(false);
    expect(waiting.socket.destroyed).toBe(false);

    // Quiet for a second since it was last used, it goes too; one still waiting for its answer never.
    s.setTime(1900);
    s.tracked.closeQuiet();
    await used.closed;
    s.setTime(60_000);
    s.tracked.closeQuiet();
    expect(waiting.socket.destroyed).toBe(false);
    s.held[0]!.end('late');
    await waitFor(() => waiting.received().includes('late'), 5000, 'the held answer');
    expect(s.tracked.size).toBe(1);
  });

  it('counts connections as they open and close, and destroyAll closes them all', async () => {
    const s = await serve();
    open = s.server;
    const a = await s.connect();
    const b = await s.connect();
    await waitFor(() => s.tracked.size === 2, 5000, 'two connections');
    a.socket.destroy();
    await waitFor(() => s.tracked.size === 1, 5000, 'one connection');
    s.tracked.destroyAll();
    await b.closed;
    await waitFor(() => s.tracked.size === 0, 5000, 'no connection');
  });
});
