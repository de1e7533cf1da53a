/**
 * `npm run bench:observability`: what vigil's instrumentation costs, measured in one run.
 *
 * 1. Throughput at saturation with instrumentation off (VIGIL_METRICS=off, no OTLP endpoint,
 *    request logs off) against full instrumentation (metrics, tracing at ratio 1.0 to a local
 *    OTLP/HTTP receiver, a log line for every request), interleaved over several rounds.
 * 2. The cost of one /metrics scrape with 8 replicas across 4 deployments, in both formats.
 *
 * Writes bench/results/observability.md and prints the table.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadResult } from './load.ts';
import { MODEL, oipRequest } from './payload.ts';
import { freePort, get, ROOT, runScript, startServer, TSX } from './proc.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 4 : 10));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));

function config(deployments: number, replicas: number, sampleRate: number, drift = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-obs-'));
  const list = Array.from({ length: deployments }, (_, i) =>
    [
      `  - name: cls${i === 0 ? '' : i}`,
      `    model: ${MODEL}`,
      `    num_replicas: ${replicas}`,
      '    execution_provider: cpu',
      '    max_ongoing_requests: 16',
      '    batching: { max_batch_size: 1, batch_wait_timeout_ms: 0 }',
      '    slos:',
      '      - { kind: availability, objective: 0.999 }',
      '      - { kind: latency, threshold_ms: 200, objective: 0.99 }',
    ].join('\n'),
  );
  const file = join(dir, 'vigil.yaml');
  writeFileSync(
    file,
    `logging: { request_sample_rate: ${sampleRate} }\ndrift: { enabled: ${drift} }\ndeployments:\n${list.join('\n')}\n`,
  );
  return file;
}

async function startVigil(file: string, env: NodeJS.ProcessEnv) {
  const port = await freePort();
  const server = startServer({
    name: 'vigil',
    args: [...TSX, join(ROOT, 'cli/vigil.ts'), 'start', '-c', file, '--port', String(port)],
    port,
    env: { VIGIL_DATA_DIR: mkdtempSync(join(tmpdir(), 'vigil-obs-data-')), ...env },
    ready: async (p) => (await get(p, '/v2/health/ready')).status === 200,
  });
  await server.waitReady();
  return server;
}

/**
 * A real OTLP/HTTP receiver that accepts and discards exports. It does not decode them: on a
 * 2-core machine a decoding receiver would compete with vigil for the same cores, and its cost
 * is the collector's, not vigil's. It counts exports and bytes.
 */
async function otlpSink(): Promise<{ url: string; spans: () => string; close: () => void }> {
  let exports = 0;
  let bytes = 0;
  const srv = createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      exports++;
      res.writeHead(200).end('{}');
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => `${exports} exports, ${(bytes / 1e6).toFixed(1)} MB`,
    close: () => srv.close(),
  };
}

async function saturate(port: number): Promise<LoadResult> {
  return runScript<LoadResult>('bench/load.ts', [
    JSON.stringify({
      mode: 'saturate',
      port,
      payload: 'oip',
      connections: 32,
      seconds: SECONDS,
      warmupSeconds: QUICK ? 1 : 2,
    }),
  ]);
}

async function main(): Promise<void> {
  const lines: string[] = [];
  const out = (s = '') => {
    console.log(s);
    lines.push(s);
  };
  out(`# vigil observability benchmark${QUICK ? ' (quick)' : ''}`);
  out();
  out(`- date: ${new Date().toISOString()}; ${cpus()[0]?.model}, ${cpus().length} cores; node ${process.version}`);
  out(
    `- command: \`${QUICK ? 'BENCH_QUICK=1 ' : ''}npm run bench:observability\`; ${ROUNDS} interleaved round(s) of ${SECONDS} s at 32 connections, OIP binary requests, 2 replicas, batching off`,
  );
  out();

  const sink = await otlpSink();
  const variants = [
    {
      name: 'instrumentation off (VIGIL_METRICS=off, no tracing, no request logs, no prediction drift)',
      file: config(1, 2, 0, false),
      env: { VIGIL_METRICS: 'off' },
    },
    {
      name: 'metrics on, prediction drift off, tracing off, no request logs',
      file: config(1, 2, 0, false),
      env: {},
    },
    {
      name: 'metrics and prediction drift on, tracing off, no request logs (the default minus 1% logs)',
      file: config(1, 2, 0),
      env: {},
    },
    {
      name: 'metrics + tracing at the default ratio (parent-based 0.1) to a local OTLP receiver, no request logs',
      file: config(1, 2, 0),
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url },
    },
    {
      name: 'metrics + tracing at ratio 1.0 to a local OTLP receiver, no request logs',
      file: config(1, 2, 0),
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER: 'always_on' },
    },
    {
      name: 'metrics + tracing at ratio 1.0 + a log line per request (full)',
      file: config(1, 2, 1),
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER: 'always_on' },
    },
  ];
  const results = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of variants) {
      const server = await startVigil(v.file, v.env);
      const r = await saturate(server.spec.port);
      await server.stop();
      results.set(v.name, [...(results.get(v.name) ?? []), r.rps]);
      console.error(`round ${round + 1}: ${v.name}: ${r.rps.toFixed(0)} req/s (${r.non2xx} non-2xx)`);
    }
  }
  const best = (name: string) => Math.max(...results.get(name)!);
  const baseline = best(variants[0]!.name);
  out('## Instrumentation overhead (saturated throughput, best of the rounds)');
  out();
  out('| variant | req/s (all rounds) | vs off |');
  out('|---|---:|---:|');
  for (const v of variants)
    out(
      `| ${v.name} | ${best(v.name).toFixed(0)} (${results
        .get(v.name)!
        .map((x) => x.toFixed(0))
        .join(', ')}) | ${(best(v.name) / baseline).toFixed(3)}x |`,
    );
  out();
  out(`The OTLP receiver took ${sink.spans()}. Target: metrics and tracing on >= 0.95x of off.`);
  sink.close();
  out();

  // Scrape cost: 4 deployments x 2 replicas, some traffic on each so every family has series.
  const server = await startVigil(config(4, 2, 0), {});
  const port = server.spec.port;
  const req = oipRequest();
  for (let d = 0; d < 4; d++) {
    const name = d === 0 ? 'cls' : `cls${d}`;
    await Promise.all(
      Array.from({ length: 50 }, () =>
        fetch(`http://127.0.0.1:${port}/v2/models/${name}/infer`, {
          method: 'POST',
          headers: req.headers,
          body: new Uint8Array(req.body),
        }).then((r) => r.arrayBuffer()),
      ),
    );
  }
  await new Promise((r) => setTimeout(r, 2500)); // one stats ping from every replica
  out('## /metrics scrape cost, 8 replicas across 4 deployments');
  out();
  out('| format | scrapes | median ms | p99 ms | bytes | samples |');
  out('|---|---:|---:|---:|---:|---:|');
  for (const [format, accept] of [
    ['Prometheus text', 'text/plain'],
    ['OpenMetrics', 'application/openmetrics-text'],
  ] as const) {
    const times: number[] = [];
    let body = '';
    const n = QUICK ? 50 : 300;
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { accept } });
      body = await res.text();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const samples = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
    out(
      `| ${format} | ${n} | ${times[Math.floor(n / 2)]!.toFixed(2)} | ${times[Math.floor(n * 0.99)]!.toFixed(2)} | ${Buffer.byteLength(body)} | ${samples} |`,
    );
  }
  await server.stop();
  out();
  out('Scrape time is measured by the client, sequentially, on loopback (it includes HTTP).');
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/observability.md'), `${lines.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
