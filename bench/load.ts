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
import { emitResult, percentile } from './proc.ts';

export interface LoadSpec {
  mode: 'saturate' | 'paced' | 'autocannon-rate';
  port: number;
  path: string;
  headers: Record<string, string>;
  /** Base64 of the request body. */
  bodyBase64: string;
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
  return { p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s.length ? s[s.length - 1]! : NaN, mean, count: s.length };
}

async function runAutocannon(spec: LoadSpec, body: Buffer, seconds: number, rate?: number): Promise<{ result: import('autocannon').Result; latencies: number[] }> {
  const latencies: number[] = [];
  const instance = autocannon({
    url: `http://127.0.0.1:${spec.port}${spec.path}`,
    method: 'POST',
    headers: spec.headers,
    body,
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

async function saturate(spec: LoadSpec, body: Buffer, rate?: number): Promise<LoadResult> {
  if (spec.warmupSeconds > 0) await runAutocannon(spec, body, spec.warmupSeconds, rate);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { result, latencies } = await runAutocannon(spec, body, spec.seconds, rate);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
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
  private buf: Buffer | undefined;
  private need = -1;
  private status = 0;
  private sentAt = 0;
  private onDone: ((status: number, ms: number) => void) | undefined;

  constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
  }

  send(request: Buffer, onDone: (status: number, ms: number) => void): void {
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
      if (!m) throw new Error(`response without content-length:\n${head}`);
      this.need = end + 4 + Number(m[1]);
    }
    if (this.buf.length >= this.need) {
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

async function paced(spec: LoadSpec, body: Buffer): Promise<LoadResult> {
  const rate = spec.rate!;
  const head = [`POST ${spec.path} HTTP/1.1`, `host: 127.0.0.1:${spec.port}`, 'connection: keep-alive', `content-length: ${body.length}`];
  for (const [k, v] of Object.entries(spec.headers)) head.push(`${k}: ${v}`);
  const request = Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]);

  const conns = await Promise.all(
    Array.from({ length: spec.connections }, () => new Promise<Conn>((resolve, reject) => {
      const s = connect(spec.port, '127.0.0.1', () => resolve(new Conn(s)));
      s.once('error', reject);
    })),
  );

  const phase = (seconds: number) =>
    new Promise<{ lat: number[]; ok: number; non2xx: number; backlogged: number; wall: number }>((resolve) => {
      const interval = 1000 / rate;
      const total = Math.max(1, Math.round(seconds * rate));
      const lat: number[] = [];
      let ok = 0;
      let non2xx = 0;
      let backlogged = 0;
      let sent = 0;
      let done = 0;
      const waiting: number[] = [];
      const t0 = performance.now();
      const fire = (conn: Conn) => {
        sent++;
        conn.send(request, (status, ms) => {
          if (status >= 200 && status < 300) {
            ok++;
            lat.push(ms);
          } else non2xx++;
          if (++done === total) return resolve({ lat, ok, non2xx, backlogged, wall: (performance.now() - t0) / 1000 });
          if (waiting.length) {
            waiting.shift();
            fire(conn);
          }
        });
      };
      let next = 0;
      const tick = () => {
        const now = performance.now();
        while (next < total && t0 + next * interval <= now) {
          next++;
          const idle = conns.find((c) => !c.busy);
          if (idle) fire(idle);
          else {
            backlogged++;
            waiting.push(next);
          }
        }
        if (next < total) setTimeout(tick, Math.max(0, t0 + next * interval - performance.now()));
      };
      tick();
    });

  if (spec.warmupSeconds > 0) await phase(spec.warmupSeconds);
  const cpu0 = process.cpuUsage();
  const r = await phase(spec.seconds);
  const cpu = process.cpuUsage(cpu0);
  for (const c of conns) c.socket.destroy();
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    mode: 'paced',
    connections: spec.connections,
    targetRate: rate,
    seconds: r.wall,
    ok: r.ok,
    non2xx: r.non2xx,
    errors: 0,
    timeouts: 0,
    rps: r.ok / r.wall,
    latencyMs: summarize(r.lat),
    backlogged: r.backlogged,
    clientCpuSeconds: cpuSeconds,
    clientCpuPercent: (100 * cpuSeconds) / r.wall,
  };
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const body = Buffer.from(spec.bodyBase64, 'base64');
const result = spec.mode === 'paced' ? await paced(spec, body) : await saturate(spec, body, spec.mode === 'autocannon-rate' ? spec.rate : undefined);
emitResult(result);
process.exit(0);
