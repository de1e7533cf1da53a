/**
 * The baseline a user writes by hand: node:cluster with N workers (default 2), each with one plain
 * node:http server on the shared port and its own ONNX Runtime session (intraOpNumThreads 1). It
 * takes the raw float32 tensor as the body (application/octet-stream, 110,592 bytes) and answers
 * the output as JSON. No queue, no deadlines, no batching, no validation beyond the body length.
 *
 *   node --import tsx bench/naive-server.ts --port 8100 [--workers 2]
 *
 * The primary prints one JSON line with msg "naive listening on ..." and "port" once every worker
 * has loaded its model, warmed up and is listening. SIGTERM stops the workers and then the primary.
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { INPUT_NAME, MODEL, SHAPE, TENSOR_BYTES } from './payload.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8100' },
    host: { type: 'string', default: '127.0.0.1' },
    workers: { type: 'string', default: '2' },
  },
});
const port = Number(values.port);
const host = values.host!;
const workers = Number(values.workers);

if (cluster.isPrimary) {
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === workers)
      console.log(
        JSON.stringify({ msg: `naive listening on http://${host}:${port}`, port, pid: process.pid, workers }),
      );
  });
  let stopping = false;
  cluster.on('exit', (worker, code) => {
    if (!stopping) {
      console.error(JSON.stringify({ msg: 'naive worker died', pid: worker.process.pid, code }));
      process.exit(1);
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.disconnect();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  const session = await ort.InferenceSession.create(MODEL, { intraOpNumThreads: 1, executionProviders: ['cpu'] });
  const warm = new ort.Tensor('float32', new Float32Array(TENSOR_BYTES / 4), [...SHAPE]);
  for (let i = 0; i < 2; i++) await session.run({ [INPUT_NAME]: warm });

  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/infer') {
      res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(req.url === '/health' ? '{"ready":true}' : '{"error":"not found"}');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      size += c.length;
    });
    req.on('end', async () => {
      if (size !== TENSOR_BYTES) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `expected ${TENSOR_BYTES} bytes, got ${size}` }));
        return;
      }
      const body = Buffer.concat(chunks, size);
      // Copy into a fresh (aligned) Float32Array, as anyone would.
      const data = new Float32Array(size / 4);
      new Uint8Array(data.buffer).set(body);
      try {
        const out = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', data, [...SHAPE]) });
        const outputs = Object.entries(out).map(([name, t]) => ({
          name,
          datatype: 'FP32',
          shape: t.dims,
          data: Array.from(t.data as Float32Array),
        }));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ model_name: 'cls', outputs }));
      } catch (err) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: String(err) }));
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, host);
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});
}
