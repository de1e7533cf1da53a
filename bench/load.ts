/**
 * The load generator, always run as its own child process so that it shares no event loop with
 * a server or with bench/run.ts:
 *
 *   node --import tsx bench/load.ts '<json LoadSpec>'
 *
 * Modes:
 *  - "saturate": autocannon (programmatic API), C connections, closed loop, after a warm-up run.
 *  - "paced": an open-loop client on raw sockets that sends at a fixed rate, evenly spaced, over
 *    up to C keep-alive connections. Used for the latency figures, because autocannon's rate
 *    limit (`overallRate`) sends each connection's whole per-second quota back to back at the
 *    start of every second (httpClient.js: reqsMadeThisSecond) and its latency histogram has a
 *    resolution of 1 ms; neither suits a "p50 within 0.5 ms" target.
 *  - "autocannon-rate": autocannon with overallRate, for comparison (BENCH_LATENCY_CLIENT=autocannon).
 *
 * All modes time every 2xx response with sub-microsecond resolution in this process and report
 * p50/p90/p99 of those, plus this process's own CPU time. Prints one BENCH_RESULT line.
 */
import autocannon from 'autocannon';
import { connect, type Socket } from 'node:net';
import { naiveRequest, oipRequest } from './payload.ts';
import { emitMark, emitResult, percentile } from './proc.ts';

export interface LoadSpec {
  mode: 'saturate' | 'paced' | 'autocannon-rate';
  port: number;
  /** Which request to send (bench/payload.ts builds it): the naive server's raw body, or OIP binary. */
  payload: 'naive' | 'oip';
  connections: number;
  seconds: number;
  warmupSeconds: number;
  /** Requests per second for paced and autocannon-rate. */
  rate?: number;
}

export interface LoadResult {
  mode: LoadSpec['mode'];
  connections: number;
  targetRate?: number;
  seconds: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number; count: number };
  /** Paced mode: requests that found every connection busy and waited in the client. */
  backlogged?: number;
  clientCpuSeconds: number;
  clientCpuPercent: number;
}

function summarize(lat: number[]): LoadResult['latencyMs'] {
  const s = Float64Array.from(lat).sort();
  const mean = lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : NaN;
  return {
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1]! : NaN,
    mean,
    count: s.length,
  };
}

interface Req {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

async function runAutocannon(
  spec: LoadSpec,
  req: Req,
  seconds: number,
  rate?: number,
): Promise<{ result: import('autocannon').Result; latencies: number[] }> {
  const latencies: number[] = [];
  const instance = autocannon({
    url: `http://127.0.0.1:${spec.port}${req.path}`,
    method: 'POST',
    headers: req.headers,
    body: req.body,
    connections: spec.connections,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    ...(rate ? { overallRate: rate, ignoreCoordinatedOmission: true } : {}),
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await instance;
  return { result, latencies };
}

async function saturate(spec: LoadSpec, req: Req, rate?: number): Promise<LoadResult> {
  if (spec.warmupSeconds > 0) await runAutocannon(spec, req, spec.warmupSeconds, rate);
  emitMark('start');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { result, latencies } = await runAutocannon(spec, req, spec.seconds, rate);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  emitMark('end');
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const ok = result['2xx'];
  return {
    mode: spec.mode,
    connections: spec.connections,
    targetRate: rate,
    seconds: result.duration,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    rps: ok / result.duration,
    latencyMs: summarize(latencies),
    clientCpuSeconds: cpuSeconds,
    clientCpuPercent: (100 * cpuSeconds) / wall,
  };
}

/** One keep-alive connection with at most one request outstanding. */
class Conn {
  busy = false;
  dead = false;
  private buf: Buffer | undefined;
  private need = -1;
  private status = 0;
  private sentAt = 0;
  private onDone: ((status: number, ms: number) => void) | undefined;

  constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    // A reset or a close mid-request counts as an error (status 0); the connection is not reused.
    const fail = () => {
      const done = this.onDone;
      this.onDone = undefined;
      this.dead = true;
      if (done) done(0, performance.now() - this.sentAt);
    };
    socket.on('error', fail);
    socket.on('close', fail);
  }

  send(request: Buffer, onDone: (status: number, ms: number) => void): void {
    if (this.dead) return onDone(0, 0);
    this.busy = true;
    this.onDone = onDone;
    this.buf = undefined;
    this.need = -1;
    this.sentAt = performance.now();
    this.socket.write(request);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf ? Buffer.concat([this.buf, d]) : d;
    if (this.need < 0) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.toString('latin1', 0, end);
      this.status = Number(head.slice(9, 12));
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (m) this.need = end + 4 + Number(m[1]);
      else if (/\r\ntransfer-encoding:\s*chunked/i.test(head))
        this.need = Infinity; // until the last chunk
      else throw new Error(`response with neither content-length nor chunked encoding:\n${head}`);
    }
    const complete =
      this.need === Infinity
        ? this.buf.length >= 5 && this.buf.subarray(-5).toString('latin1') === '0\r\n\r\n'
        : this.buf.length >= this.need;
    if (complete) {
      const ms = performance.now() - this.sentAt;
      this.busy = false;
      this.buf = undefined;
      this.need = -1;
      const done = this.onDone!;
      this.onDone = undefined;
      done(this.status, ms);
    }
  }
}

async function paced(spec: LoadSpec, req: Req): Promise<LoadResult> {
  const rate = spec.rate!;
  const head = [
    `POST ${req.path} HTTP/1.1`,
    `host: 127.0.0.1:${spec.port}`,
    'connection: keep-alive',
    `content-length: ${req.body.length}`,
  ];
  for (const [k, v] of Object.entries(req.headers)) head.push(`${k}: ${v}`);
  const request = Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), req.body]);

  const conns = await Promise.all(
    Array.from(
      { length: spec.connections },
      () =>
        new Promise<Conn>((resolve, reject) => {
          const s = connect(spec.port, '127.0.0.1', () => resolve(new Conn(s)));
          s.once('error', reject);
        }),
    ),
  );

  const phase = (seconds: number) =>
    new Promise<{ lat: number[]; ok: number; non2xx: number; errors: number; backlogged: number; wall: number }>(
      (resolve) => {
        const interval = 1000 / rate;
        const total = Math.max(1, Math.round(seconds * rate));
        const lat: number[] = [];
        let ok = 0;
        let non2xx = 0;
        let errors = 0;
        let backlogged = 0;
        let done = 0;
        const waiting: number[] = [];
        const t0 = performance.now();
        const fire = (conn: Conn) => {
          conn.send(request, (status, ms) => {
            if (status >= 200 && status < 300) {
              ok++;
              lat.push(ms);
            } else if (status === 0) errors++;
            else non2xx++;
            if (++done === total) {
              clearTimeout(guard);
              return resolve({ lat, ok, non2xx, errors, backlogged, wall: (performance.now() - t0) / 1000 });
            }
            if (waiting.length) {
              const next = conn.dead ? conns.find((c) => !c.busy && !c.dead) : conn;
              if (next) {
                waiting.shift();
                fire(next);
              }
            }
          });
        };
        // Never hang on a dead server: whatever has not come back 15 s after the end is a timeout.
        const guard = setTimeout(
          () => {
            resolve({
              lat,
              ok,
              non2xx,
              errors: errors + (total - done),
              backlogged,
              wall: (performance.now() - t0) / 1000,
            });
          },
          seconds * 1000 + 15_000,
        );
        let next = 0;
        const tick = () => {
          const now = performance.now();
          while (next < total && t0 + next * interval <= now) {
            next++;
            const idle = conns.find((c) => !c.busy && !c.dead);
            if (idle) fire(idle);
            else {
              backlogged++;
              waiting.push(next);
            }
          }
          if (next < total) setTimeout(tick, Math.max(0, t0 + next * interval - performance.now()));
        };
        tick();
      },
    );

  if (spec.warmupSeconds > 0) await phase(spec.warmupSeconds);
  emitMark('start');
  const cpu0 = process.cpuUsage();
  const r = await phase(spec.seconds);
  const cpu = process.cpuUsage(cpu0);
  emitMark('end');
  for (const c of conns) c.socket.destroy();
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    mode: 'paced',
    connections: spec.connections,
    targetRate: rate,
    seconds: r.wall,
    ok: r.ok,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: 0,
    rps: r.ok / r.wall,
    latencyMs: summarize(r.lat),
    backlogged: r.backlogged,
    clientCpuSeconds: cpuSeconds,
    clientCpuPercent: (100 * cpuSeconds) / r.wall,
  };
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const req = spec.payload === 'naive' ? naiveRequest() : oipRequest();
const result =
  spec.mode === 'paced'
    ? await paced(spec, req)
    : await saturate(spec, req, spec.mode === 'autocannon-rate' ? spec.rate : undefined);
emitResult(result);
process.exit(0);
