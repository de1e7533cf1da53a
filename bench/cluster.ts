/**
 * `npm run bench:cluster`: several vigil nodes on one real Postgres, on this machine's loopback.
 * The targets (from the multi-node issue): a weight change made on one node reaches the routing
 * of every node within 1 s; when the leader dies, another node leads within 10 s. And one ratio:
 * what coordination costs a node's throughput.
 *
 * 1. Propagation. Three nodes (deployment `cls`, versions v1 and v2 of the same model, one
 *    replica each). --changes times (default 40), one node picked in turn sets the weights
 *    through PUT /api/v1/deployments/cls/weights to a split no node has yet; from the moment the
 *    PUT answers, this process polls every other node's GET /api/v1/deployments/cls every 5 ms
 *    (all at once) and records when each first shows the new split. Reported: p50, p99 and max
 *    over changes of the slowest node's delay.
 * 2. Failover. --failovers rounds (default 3) of SIGKILL to the leader's process group, then
 *    polling the survivors' GET /api/v1/cluster every 20 ms until one says it leads; the killed
 *    node is started again before the next round. Then one SIGSTOP round: the leader's primary
 *    is paused until another node leads, then resumed; its vigil_leader_fenced_writes_total
 *    after it wakes is recorded. A closed-loop client (2 connections, OIP JSON requests) runs
 *    against one surviving node all along and counts non-200 answers.
 * 3. Coordination cost. One node on the embedded PGlite, then one node alone on Postgres (which
 *    runs everything a node of a cluster runs: election, listener, heartbeats, per-second counts
 *    shared), each saturated by bench/load.ts (autocannon, 8 connections, 2 s warm-up, --seconds
 *    of load, default 10), one after the other in this run. Reported as requests per second and
 *    the ratio Postgres / PGlite. The database differs too (a server vs an in-process one), which
 *    the request path does not touch; the ratio is what running on a shared database costs.
 *
 * Needs VIGIL_BENCH_DATABASE_URL or VIGIL_TEST_DATABASE_URL (a Postgres where it may create and
 * drop a database), default postgres://postgres@127.0.0.1:5432/test. Writes
 * bench/results/cluster.json and ends with `propagation_max_ms=<x>`, `failover_kill_max_s=<x>`,
 * `failover_pause_s=<x>` and `shared_db_throughput_ratio=<x>`. About 3 minutes on 2 cores. Exit 0
 * whether or not the targets are met (it is a measurement); 1 on a harness error.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { stringify } from 'yaml';
import type { LoadResult } from './load.ts';
import { MODEL } from './payload.ts';
import { freePort, get, percentile, ROOT, runScript, sleep, startServer, type RunningServer } from './proc.ts';

const { values } = parseArgs({
  options: {
    changes: { type: 'string', default: '40' },
    failovers: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
  },
});
const CHANGES = Number(values.changes);
const FAILOVERS = Number(values.failovers);
const LOAD_SECONDS = Number(values.seconds);
const ADMIN_URL =
  process.env.VIGIL_BENCH_DATABASE_URL ??
  process.env.VIGIL_TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';

const configFile = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-cluster-'));
  const file = join(dir, 'vigil.yaml');
  const base = {
    name: 'cls',
    execution_provider: 'cpu',
    num_replicas: 1,
    warmup: { requests: 1, shapes: { x: [1, 3, 48, 192] } },
  };
  writeFileSync(
    file,
    stringify({
      deployments: [
        {
          ...base,
          versions: [
            { version: 'v1', model: MODEL, weight: 100 },
            { version: 'v2', model: MODEL, weight: 0 },
          ],
        },
      ],
    }),
  );
  return file;
})();

interface Node {
  name: string;
  port: number;
  server: RunningServer;
}

async function startNode(name: string, env: Record<string, string>): Promise<Node> {
  const port = await freePort();
  const server = startServer({
    name,
    args: [join(ROOT, 'bin/vigil.mjs'), 'start', '-c', configFile, '--port', String(port), '--host', '127.0.0.1'],
    port,
    env: { VIGIL_NODE_NAME: name, ...env },
    ready: async (p) => (await get(p, '/v2/health/ready')).status === 200,
  });
  await server.waitReady(120_000);
  return { name, port, server };
}

const json = async <T>(port: number, path: string): Promise<T> => JSON.parse((await get(port, path)).body) as T;
const splitOf = async (n: Node) =>
  (await json<{ split: { version: string; weight: number }[] }>(n.port, '/api/v1/deployments/cls')).split
    .map((e) => `${e.version}=${e.weight}`)
    .join(',');
const isLeader = async (n: Node) => (await json<{ node: { leader: boolean } }>(n.port, '/api/v1/cluster')).node.leader;

async function leaderOf(nodes: Node[]): Promise<Node | undefined> {
  for (const n of nodes) if (n.server.alive && (await isLeader(n).catch(() => false))) return n;
  return undefined;
}

/** A closed-loop client that counts what it got, until stopped. */
function steadyLoad(port: number) {
  let running = true;
  const counts = { ok: 0, failed: 0 };
  const body = JSON.stringify({
    inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32', data: new Array(3 * 48 * 192).fill(0.5) }],
  });
  const worker = async () => {
    while (running) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v2/models/cls/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        if (res.status === 200) counts.ok++;
        else counts.failed++;
      } catch {
        counts.failed++;
      }
    }
  };
  const workers = [worker(), worker()];
  return {
    counts,
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return counts;
    },
  };
}

async function propagation(nodes: Node[]): Promise<number[]> {
  const delays: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const from = nodes[i % nodes.length]!;
    const v2 = (i % 9) * 10 + 10;
    const weights = { v2, v1: 100 - v2 };
    const want = `v2=${v2},v1=${100 - v2}`;
    const res = await fetch(`http://127.0.0.1:${from.port}/api/v1/deployments/cls/weights`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ weights }),
    });
    if (res.status !== 200) throw new Error(`weights on ${from.name}: ${res.status} ${await res.text()}`);
    const t0 = performance.now();
    const reached = await Promise.all(
      nodes
        .filter((n) => n !== from)
        .map(async (n) => {
          while (performance.now() - t0 < 10_000) {
            if ((await splitOf(n)) === want) return performance.now() - t0;
            await sleep(5);
          }
          return Infinity;
        }),
    );
    delays.push(Math.max(...reached));
  }
  return delays;
}

async function failovers(nodes: Node[], env: (name: string) => Record<string, string>) {
  const kills: number[] = [];
  for (let i = 0; i < FAILOVERS; i++) {
    const leader = (await leaderOf(nodes))!;
    const survivors = nodes.filter((n) => n !== leader);
    leader.server.killGroup();
    const t0 = performance.now();
    let took = Infinity;
    while (performance.now() - t0 < 30_000) {
      if (await leaderOf(survivors)) {
        took = performance.now() - t0;
        break;
      }
      await sleep(20);
    }
    kills.push(took / 1000);
    // Bring the cluster back to three for the next round.
    await sleep(1000);
    nodes[nodes.indexOf(leader)] = await startNode(leader.name, env(leader.name));
  }
  const leader = (await leaderOf(nodes))!;
  const survivors = nodes.filter((n) => n !== leader);
  process.kill(leader.server.pid, 'SIGSTOP');
  const t0 = performance.now();
  let paused = Infinity;
  while (performance.now() - t0 < 30_000) {
    if (await leaderOf(survivors)) {
      paused = (performance.now() - t0) / 1000;
      break;
    }
    await sleep(20);
  }
  process.kill(leader.server.pid, 'SIGCONT');
  await sleep(3000);
  const metrics = (await get(leader.port, '/metrics')).body;
  const fenced = Number(/^vigil_leader_fenced_writes_total (\S+)$/m.exec(metrics)?.[1] ?? NaN);
  return { kills, paused, fencedAfterWaking: fenced, stillLeader: await isLeader(leader) };
}

async function saturate(node: Node): Promise<LoadResult> {
  return runScript<LoadResult>('bench/load.ts', [
    JSON.stringify({
      mode: 'saturate',
      port: node.port,
      payload: 'oip',
      connections: 8,
      seconds: LOAD_SECONDS,
      warmupSeconds: 2,
    }),
  ]);
}

async function main(): Promise<void> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  const dbName = `vigil_bench_${Date.now()}`;
  await admin.unsafe(`create database "${dbName}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const env = () => ({ DATABASE_URL: url.toString() });
  const nodes: Node[] = [];
  try {
    console.log(`[bench] ${cpus().length} cores; three nodes on ${url.host}/${dbName}`);
    // One at a time: the first applies the migrations, and starting three at once on two cores only slows each.
    for (const name of ['node-a', 'node-b', 'node-c']) nodes.push(await startNode(name, env()));
    const delays = await propagation(nodes);
    const sorted = Float64Array.from(delays).sort();
    console.log(
      `[bench] propagation over ${delays.length} changes: p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`,
    );
    const leader = (await leaderOf(nodes))!;
    const client = steadyLoad(nodes.find((n) => n !== leader)!.port);
    const fo = await failovers(nodes, env);
    const served = await client.stop();
    console.log(
      `[bench] failover after SIGKILL: ${fo.kills.map((s) => s.toFixed(2)).join(', ')} s; ` +
        `after SIGSTOP: ${fo.paused.toFixed(2)} s; fenced writes of the woken leader: ${fo.fencedAfterWaking}; ` +
        `requests to a surviving node: ${served.ok} ok, ${served.failed} failed`,
    );
    for (const n of nodes) await n.server.stop();
    nodes.length = 0;

    const alone = await startNode('alone', env());
    nodes.push(alone);
    const shared = await saturate(alone);
    await alone.server.stop();
    nodes.length = 0;
    const embedded = await startNode('embedded', {
      VIGIL_DATA_DIR: mkdtempSync(join(tmpdir(), 'vigil-bench-embedded-')),
    });
    nodes.push(embedded);
    const local = await saturate(embedded);
    await embedded.server.stop();
    nodes.length = 0;
    const ratio = shared.rps / local.rps;
    console.log(
      `[bench] one node saturated: on Postgres (cluster mode) ${shared.rps.toFixed(0)} req/s, on PGlite ${local.rps.toFixed(0)} req/s, ratio ${ratio.toFixed(3)}`,
    );

    const result = {
      date: new Date().toISOString(),
      cores: cpus().length,
      propagation_ms: {
        changes: delays.length,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted.at(-1),
      },
      failover_s: { sigkill: fo.kills, sigstop: fo.paused },
      woken_leader: { fenced_writes: fo.fencedAfterWaking, still_leader: fo.stillLeader },
      surviving_node_requests: served,
      throughput_rps: {
        postgres_cluster_mode: shared.rps,
        pglite: local.rps,
        ratio,
        non2xx: shared.non2xx + local.non2xx,
        errors: shared.errors + local.errors,
      },
    };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/cluster.json'), `${JSON.stringify(result, null, 2)}\n`);
    console.log(`propagation_max_ms=${sorted.at(-1)!.toFixed(1)}`);
    console.log(`failover_kill_max_s=${Math.max(...fo.kills).toFixed(2)}`);
    console.log(`failover_pause_s=${fo.paused.toFixed(2)}`);
    console.log(`shared_db_throughput_ratio=${ratio.toFixed(3)}`);
  } finally {
    for (const n of nodes) await n.server.stop().catch(() => undefined);
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`).catch(() => undefined);
    await admin.end({ timeout: 5 });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
