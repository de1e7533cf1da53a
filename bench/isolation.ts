/**
 * `npm run bench:isolation`: does work that is not inference delay inference? vigil (default
 * config, the bundled classifier, 2 replicas) takes paced inference at BENCH_RATE (200) req/s
 * over 4 connections for BENCH_LATENCY_SECONDS (10) in three conditions, one after another:
 *   - quiet;
 *   - console: ten clients loop on /api/v1/console/summary and /api/v1/console/series?range=24h
 *     on the control listener, which is where the web console sends its reads
 *     (docs/decisions/0014-control-listener.md);
 *   - console-via-port: the same ten clients on the main port, which a replica passes on to the
 *     primary (for clients that were not pointed at the control listener);
 *   - console-static (a reference, not a target): the same ten clients against a plain server in
 *     its own process that answers vigil's recorded bytes and does nothing else. On a machine
 *     this small the clients share the cores with the load generator and vigil, so this is what
 *     the clients alone cost inference; a console row can only be as good as this one;
 *   - nested: a 3 MiB deeply nested JSON body arrives once a second.
 * Throughout, /v2/health/live is probed every 50 ms and its slowest answer kept. The targets
 * (issue 16): inference p99 within 1.2x of quiet in both disturbed conditions, and no liveness
 * answer slower than 100 ms. The load generator is its own process (bench/load.ts); the probes
 * and disturbances run here.
 */
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadResult } from './load.ts';
import { MODEL } from './payload.ts';
import { freePort, get, type RunningServer, runScript, startServer, TSX } from './proc.ts';

const seconds = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
const rate = Number(process.env.BENCH_RATE ?? 200);
const log = (m: string) => process.stderr.write(`[isolation] ${m}\n`);

type Condition = 'quiet' | 'console' | 'console-via-port' | 'console-static' | 'nested';

/** Starts a disturbance; stop() resolves, once its loops have ended, with the console reads answered. */
function disturb(port: number, ports: { control: number; static: number }, kind: Condition): () => Promise<number> {
  let running = true;
  let reads = 0;
  const loops: Promise<void>[] = [];
  if (kind.startsWith('console')) {
    const target = kind === 'console' ? ports.control : kind === 'console-static' ? ports.static : port;
    for (let i = 0; i < 10; i++)
      loops.push(
        (async () => {
          while (running) {
            for (const path of ['/api/v1/console/summary', '/api/v1/console/series?range=24h'])
              if ((await get(target, path).catch(() => undefined))?.status === 200) reads++;
          }
        })(),
      );
  } else if (kind === 'nested') {
    const size = 3 * 1024 * 1024;
    const body = Buffer.alloc(size, '[');
    loops.push(
      (async () => {
        while (running) {
          const socket = connect(port, '127.0.0.1');
          socket.on('error', () => {});
          socket.write(
            `POST /v2/models/cls/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${size}\r\n\r\n`,
          );
          socket.end(body);
          await new Promise((r) => setTimeout(r, 1000));
          socket.destroy();
        }
      })(),
    );
  }
  return async () => {
    running = false;
    await Promise.all(loops);
    return reads;
  };
}

/** Probes /v2/health/live every 50 ms; stop() gives the slowest answer in ms. */
function probeLiveness(port: number): () => Promise<number> {
  let running = true;
  let worst = 0;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      await get(port, '/v2/health/live').catch(() => undefined);
      worst = Math.max(worst, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return worst;
  };
}

/** Records vigil's two console answers and starts the static reference server with them. */
async function startStaticAnswers(dir: string, controlPort: number): Promise<{ server: RunningServer; port: number }> {
  const files = { summary: join(dir, 'summary.json'), series: join(dir, 'series.json') };
  writeFileSync(files.summary, (await get(controlPort, '/api/v1/console/summary')).body);
  writeFileSync(files.series, (await get(controlPort, '/api/v1/console/series?range=24h')).body);
  const port = await freePort();
  const server = startServer({
    name: 'static-answer',
    args: [
      ...TSX,
      'bench/static-answer-server.ts',
      '--port',
      String(port),
      '--summary',
      files.summary,
      '--series',
      files.series,
    ],
    port,
    ready: async (p) => (await get(p, '/')).status === 200,
  });
  await server.waitReady();
  return { server, port };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-isolation-'));
  const file = join(dir, 'vigil.yaml');
  writeFileSync(
    file,
    [
      'deployments:',
      '  - name: cls',
      `    model: ${JSON.stringify(MODEL)}`,
      '    num_replicas: 2',
      '    execution_provider: cpu',
      '    intra_op_threads: 1',
      '    warmup: { requests: 2, shapes: { x: [1, 3, 48, 192] } }',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const server = startServer({
    name: 'vigil',
    args: ['bin/vigil.mjs', 'start', '-c', file, '--port', String(port)],
    port,
    env: { VIGIL_LOG_LEVEL: 'info', VIGIL_DATA_DIR: join(dir, 'data') },
    ready: async (p) => (await get(p, '/v2/health/ready')).status === 200,
  });
  let staticServer: { server: RunningServer; port: number } | undefined;
  const rows: { condition: Condition; load: LoadResult; liveMaxMs: number; reads: number }[] = [];
  try {
    await server.waitReady();
    // The node record names the control listener's port (0 in the config: chosen at start).
    const record = JSON.parse(readFileSync(join(dir, 'data', 'node.json'), 'utf8')) as { control_url: string };
    const controlPort = Number(new URL(record.control_url).port);
    staticServer = await startStaticAnswers(dir, controlPort);
    const ports = { control: controlPort, static: staticServer.port };
    for (const condition of ['quiet', 'console', 'console-via-port', 'console-static', 'nested'] as const) {
      const stopDisturbing = disturb(port, ports, condition);
      const stopProbing = probeLiveness(port);
      const load = await runScript<LoadResult>('bench/load.ts', [
        JSON.stringify({ mode: 'paced', port, payload: 'oip', connections: 4, rate, seconds, warmupSeconds: 1 }),
      ]);
      const liveMaxMs = await stopProbing();
      const reads = await stopDisturbing();
      log(`${condition}: p50 ${load.latencyMs.p50.toFixed(2)} ms, p99 ${load.latencyMs.p99.toFixed(2)} ms`);
      rows.push({ condition, load, liveMaxMs, reads });
    }
  } finally {
    await staticServer?.server.stop(5_000);
    await server.stop(15_000);
    rmSync(dir, { recursive: true, force: true });
  }
  const quiet = rows[0]!.load.latencyMs.p99;
  const out = [
    `## Isolation (${rate} req/s of OIP binary inference, ${seconds} s per condition)`,
    '',
    '| condition | inference p50 / p99 ms | p99 vs quiet | non-2xx / errors | slowest /v2/health/live ms | console reads |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const l = r.load;
    const cells = [
      r.condition,
      `${l.latencyMs.p50.toFixed(2)} / ${l.latencyMs.p99.toFixed(2)}`,
      `${(l.latencyMs.p99 / quiet).toFixed(2)}x`,
      `${l.non2xx} / ${l.errors + l.timeouts}`,
      r.liveMaxMs.toFixed(1),
      String(r.reads),
    ];
    out.push(`| ${cells.join(' | ')} |`);
  }
  out.push('');
  for (const r of rows.slice(1)) {
    if (r.condition === 'console-static') {
      out.push(`- reference console-static: ${(r.load.latencyMs.p99 / quiet).toFixed(2)}x quiet (the pollers alone)`);
      continue;
    }
    const ratio = r.load.latencyMs.p99 / quiet;
    out.push(
      `- ${ratio <= 1.2 ? 'PASS' : 'MISS'} ${r.condition}: inference p99 ${ratio.toFixed(2)}x quiet (target <= 1.20x)`,
    );
  }
  const worst = Math.max(...rows.map((r) => r.liveMaxMs));
  out.push(`- ${worst <= 100 ? 'PASS' : 'MISS'} slowest /v2/health/live ${worst.toFixed(1)} ms (target <= 100 ms)`);
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
