/**
 * How long a [1, 3, 48, 192] FP32 tensor (110,592 bytes, 27,648 floats) takes to go from a
 * node:cluster primary to a worker process and back, one message in flight at a time, and how much
 * CPU (both processes) each round trip costs. Backs docs/decisions/0001-replica-transport.md.
 *
 *   node --import tsx bench/transport.ts [--rounds 500]
 *
 * Cases (each in a fresh worker):
 *  - json-array:       cluster IPC, default ('json') serialization, the tensor as a plain number
 *                      array both ways; the Float32Array <-> number[] conversions at both ends are
 *                      included, since a replica needs a typed array for ONNX Runtime.
 *  - json-array-raw:   the same without the conversions: a number array made once, echoed as is.
 *  - advanced:         cluster IPC, serialization 'advanced' (structured clone), the Float32Array
 *                      itself both ways.
 *  - advanced-reply:   'advanced', tensor out and a small result back: one vigil request over IPC.
 *  - advanced-empty:   'advanced', a small message both ways: the per-message floor.
 *  - unix-frame:       a Unix domain socket between the same two processes, binary frames
 *                      (u32 length | u32 header length | JSON header | raw tensor bytes, the
 *                      receiver viewing the bytes as a Float32Array), tensor both ways.
 *  - unix-frame-reply: the same, tensor out and a small result back.
 * The frame format mirrors the one vigil adopted in serving/transport/frame-codec.ts but is
 * written here independently, so this measures the transport, not vigil's code.
 * Prints a table and one BENCH_RESULT line.
 */
import cluster from 'node:cluster';
import { rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeTensor } from './payload.ts';
import { emitResult, percentile } from './proc.ts';

type Case =
  | 'json-array'
  | 'json-array-raw'
  | 'advanced'
  | 'advanced-reply'
  | 'advanced-empty'
  | 'unix-frame'
  | 'unix-frame-reply';
const CASES: { name: Case; serialization: 'json' | 'advanced'; channel: 'ipc' | 'unix' }[] = [
  { name: 'json-array', serialization: 'json', channel: 'ipc' },
  { name: 'json-array-raw', serialization: 'json', channel: 'ipc' },
  { name: 'advanced', serialization: 'advanced', channel: 'ipc' },
  { name: 'advanced-reply', serialization: 'advanced', channel: 'ipc' },
  { name: 'advanced-empty', serialization: 'advanced', channel: 'ipc' },
  { name: 'unix-frame', serialization: 'advanced', channel: 'unix' },
  { name: 'unix-frame-reply', serialization: 'advanced', channel: 'unix' },
];

interface Msg {
  id: number;
  data?: number[] | Float32Array;
  reply?: number[];
}

export interface TransportRow {
  name: Case;
  /** cluster IPC serialization, or "unix socket". */
  serialization: string;
  rounds: number;
  medianUs: number;
  p99Us: number;
  meanUs: number;
  /** User + system CPU of both processes per round trip. */
  cpuUsPerRoundTrip: number;
}

// ---------------------------------------------------------------- binary frames over a socket

/** Writes { id, reply?, data? } as one frame; the tensor's memory goes to the socket as is. */
function writeFrame(socket: Socket, msg: Msg): void {
  const data = msg.data as Float32Array | undefined;
  const header = Buffer.from(JSON.stringify({ id: msg.id, reply: msg.reply, bytes: data ? data.byteLength : 0 }));
  const headerLen = (header.length + 7) & ~7; // pad so the tensor bytes start 8-aligned
  const prefix = Buffer.alloc(8 + headerLen, 0x20);
  const total = 4 + headerLen + (data ? data.byteLength : 0);
  prefix.writeUInt32LE(total, 0);
  prefix.writeUInt32LE(header.length, 4);
  header.copy(prefix, 8);
  socket.cork();
  socket.write(prefix);
  if (data) socket.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  process.nextTick(() => socket.uncork());
}

/** Reassembles frames from socket chunks; the tensor is a view on the frame's bytes. */
function readFrames(socket: Socket, onMsg: (m: Msg) => void): void {
  let chunks: Buffer[] = [];
  let have = 0;
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    have += chunk.length;
    for (;;) {
      if (have < 4) return;
      const head = chunks[0]!.length >= 4 ? chunks[0]! : Buffer.concat(chunks);
      const total = head.readUInt32LE(0);
      if (have < 4 + total) return;
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
      const headerLen = all.readUInt32LE(4);
      const header = JSON.parse(all.toString('utf8', 8, 8 + headerLen)) as {
        id: number;
        reply?: number[];
        bytes: number;
      };
      const dataStart = 8 + ((headerLen + 7) & ~7);
      let data: Float32Array | undefined;
      if (header.bytes > 0) {
        const off = all.byteOffset + dataStart;
        // A view when the bytes are aligned in the chunk (the usual case), else one copy.
        data =
          off % 4 === 0
            ? new Float32Array(all.buffer, off, header.bytes / 4)
            : new Float32Array(all.buffer.slice(off, off + header.bytes));
      }
      const rest = all.subarray(4 + total);
      chunks = rest.length ? [rest] : [];
      have = rest.length;
      onMsg({ id: header.id, reply: header.reply, data });
    }
  });
}

// ---------------------------------------------------------------- worker

if (cluster.isWorker) {
  const mode = process.env.BENCH_TRANSPORT_CASE as Case;
  const answer = (msg: Msg): Msg => {
    if (mode === 'json-array') return { id: msg.id, data: Array.from(Float32Array.from(msg.data as number[])) };
    if (mode === 'advanced' || mode === 'json-array-raw' || mode === 'unix-frame')
      return { id: msg.id, data: msg.data };
    return { id: msg.id, reply: [0.25, 0.75] };
  };
  process.on('message', (msg: Msg) => {
    if (msg.id === -2) {
      const u = process.cpuUsage();
      process.send!({ id: -2, reply: [u.user + u.system] });
    } else process.send!(answer(msg));
  });
  process.on('disconnect', () => process.exit(0));
  if (process.env.BENCH_TRANSPORT_SOCKET) {
    const socket = createConnection(process.env.BENCH_TRANSPORT_SOCKET, () => process.send!({ id: -1 }));
    socket.setNoDelay?.(true);
    readFrames(socket, (msg) => writeFrame(socket, answer(msg)));
  } else {
    // The module loads asynchronously (tsx); say when the listener is there, or the first message is lost.
    process.send!({ id: -1 });
  }
} else {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: process.env.BENCH_TRANSPORT_ROUNDS ?? '500' } },
  });
  const rounds = Number(values.rounds);
  const warmup = Math.min(50, Math.ceil(rounds / 10));
  const tensor = makeTensor();
  const asNumbers = Array.from(tensor);
  const rows: TransportRow[] = [];

  for (const c of CASES) {
    cluster.setupPrimary({ exec: process.argv[1], execArgv: process.execArgv, serialization: c.serialization });
    let send: (m: Msg) => void;
    let onReply: ((m: Msg) => void) | undefined;
    let cleanup = () => {};
    let worker;
    if (c.channel === 'unix') {
      const path = join(tmpdir(), `vigil-bench-${process.pid}-${c.name}.sock`);
      rmSync(path, { force: true });
      let sock: Socket | undefined;
      const server = createServer((s) => {
        sock = s;
        readFrames(s, (m) => onReply?.(m));
      });
      await new Promise<void>((resolve) => server.listen(path, () => resolve()));
      worker = cluster.fork({ BENCH_TRANSPORT_CASE: c.name, BENCH_TRANSPORT_SOCKET: path });
      await new Promise<void>((resolve) => worker!.once('message', () => resolve()));
      send = (m) => writeFrame(sock!, m);
      cleanup = () => {
        sock?.destroy();
        server.close();
        rmSync(path, { force: true });
      };
    } else {
      worker = cluster.fork({ BENCH_TRANSPORT_CASE: c.name });
      await new Promise<void>((resolve) => worker!.once('message', () => resolve()));
      const w = worker;
      send = (m) => w.send(m);
      w.on('message', (m: Msg) => {
        if (m.id >= 0) onReply?.(m);
      });
    }
    const w = worker;

    const roundTrip = (id: number) =>
      new Promise<number>((resolve, reject) => {
        const t0 = performance.now();
        onReply = (m: Msg) => {
          onReply = undefined;
          if (m.id !== id) return reject(new Error(`out of order: ${m.id} != ${id}`));
          // The caller ends up with a typed array again (or the small reply).
          if (m.data) {
            const back =
              m.data instanceof Float32Array || c.name === 'json-array-raw' ? m.data : Float32Array.from(m.data);
            if (back.length !== tensor.length || back[7] !== tensor[7])
              return reject(new Error('tensor came back wrong'));
          }
          resolve((performance.now() - t0) * 1000);
        };
        const msg: Msg =
          c.name === 'json-array'
            ? { id, data: Array.from(tensor) }
            : c.name === 'json-array-raw'
              ? { id, data: asNumbers }
              : c.name === 'advanced-empty'
                ? { id, reply: [1, 2, 3, 4] }
                : { id, data: tensor };
        send(msg);
      });
    const workerCpu = () =>
      new Promise<number>((resolve) => {
        const on = (m: Msg) => {
          if (m.id !== -2) return;
          w.off('message', on);
          resolve(m.reply![0]!);
        };
        w.on('message', on);
        w.send({ id: -2 });
      });

    for (let i = 0; i < warmup; i++) await roundTrip(i);
    const times: number[] = [];
    const w0 = await workerCpu();
    const p0 = process.cpuUsage();
    for (let i = 0; i < rounds; i++) times.push(await roundTrip(warmup + i));
    const p1 = process.cpuUsage(p0);
    const w1 = await workerCpu();
    cleanup();
    w.disconnect();
    await new Promise<void>((resolve) => w.once('exit', () => resolve()));
    const sorted = Float64Array.from(times).sort();
    rows.push({
      name: c.name,
      serialization: c.channel === 'unix' ? 'unix socket' : c.serialization,
      rounds,
      medianUs: percentile(sorted, 50),
      p99Us: percentile(sorted, 99),
      meanUs: times.reduce((a, b) => a + b, 0) / times.length,
      cpuUsPerRoundTrip: (p1.user + p1.system + (w1 - w0)) / rounds,
    });
  }

  console.log('| case | transport | round trips | median µs | p99 µs | mean µs | CPU µs / round trip |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(
      `| ${r.name} | ${r.serialization} | ${r.rounds} | ${r.medianUs.toFixed(0)} | ${r.p99Us.toFixed(0)} | ${r.meanUs.toFixed(0)} | ${r.cpuUsPerRoundTrip.toFixed(0)} |`,
    );
  emitResult(rows);
}
