/**
 * The ceiling's baseline: node:cluster with N workers, each a plain node:http server on the shared
 * port answering every request with the same small JSON document, as vigil's constant handler
 * does. What a hand-written server costs per request when the model costs nothing.
 *
 *   node --import tsx bench/naive-constant-server.ts --port 8100 [--workers 1]
 *
 * Prints one JSON line "naive-constant listening on ..." once every worker listens.
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8100' },
    host: { type: 'string', default: '127.0.0.1' },
    workers: { type: 'string', default: '1' },
  },
});
const port = Number(values.port);
const host = values.host!;
const workers = Number(values.workers);

if (cluster.isPrimary) {
  // The same scheduling as vigil's ingress processes: the kernel hands out connections.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === workers)
      console.log(JSON.stringify({ msg: `naive-constant listening on http://${host}:${port}`, port, workers }));
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else {
  const body = JSON.stringify({ ok: 1 });
  createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  }).listen(port, host);
}
