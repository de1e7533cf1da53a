/**
 * The ceiling's baseline: node:cluster with N workers, each a plain node:http server on the shared
 * port answering every request with the same small JSON document, as vigil's constant handler
 * does. What a hand-written server costs per request when the model costs nothing.
 *
 * With `--model <identity.onnx>`, a second reference: each worker parses the OIP JSON body, runs
 * it through its own ONNX Runtime session of that model (CPU, one thread) and answers the output
 * as OIP JSON. What a hand-written server costs per request when it runs the same model as vigil,
 * with none of vigil's checks, accounting or routing.
 *
 *   node --import tsx bench/naive-constant-server.ts --port 8100 [--workers 1] [--model file]
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
    model: { type: 'string' },
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
} else if (values.model) {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(values.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
  });
  createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          inputs: { name: string; shape: number[]; data: number[] }[];
        };
        const input = doc.inputs[0]!;
        const out = await session.run({
          [input.name]: new ort.Tensor('float32', Float32Array.from(input.data), input.shape),
        });
        const y = out.y!;
        const body = JSON.stringify({
          model_name: 'identity',
          outputs: [{ name: 'y', datatype: 'FP32', shape: y.dims, data: Array.from(y.data as Float32Array) }],
        });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: String(err) }));
      }
    });
  }).listen(port, host);
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
