import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, sendJsonTo, startLoad } from '../helpers/load.ts';
import { parseSamples, sampleValue, scrape } from '../helpers/metrics-text.ts';
import { clsInput, jsonInferBody } from '../helpers/tensors.ts';
import { freshPostgresUrl } from '../helpers/test-db.ts';
import { CLS_MODEL, clsDeployment, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';

/**
 * Several vigil nodes on one real Postgres, as real processes on loopback ports: shared state
 * over LISTEN/NOTIFY, leader election with fencing, SLO numbers summed across nodes, and a node
 * cut off by Postgres catching up. Needs VIGIL_TEST_DATABASE_URL (.ci/run sets it).
 */
const adminUrl = process.env.VIGIL_TEST_DATABASE_URL;
if (!adminUrl)
  console.log('skipping the multi-node tests: VIGIL_TEST_DATABASE_URL is not set (they need a real Postgres)');

interface ClusterDoc {
  node: { name: string; instance: string; leader: boolean; epoch: number; in_sync: boolean };
  leader: { instance: string; epoch: number } | null;
  nodes: Array<{ name: string; instance: string; healthy: boolean; leader: boolean }>;
}
interface DeploymentDoc {
  split: { version: string; weight: number }[];
  versions: { version: string; fault_injection: { error_rate: number } }[];
}

const NAMES = ['node-a', 'node-b', 'node-c'] as const;
const cluster = (v: RunningVigil) => getJson<ClusterDoc>(`${v.url}/api/v1/cluster`);

function config() {
  const { model: _model, ...base } = clsDeployment();
  return {
    slo_engine: { evaluation_interval_s: 1, flush_interval_s: 1 },
    rollouts: { min_requests: 20, latency_min_requests: 20, short_window_s: 5 },
    deployments: [
      {
        ...base,
        versions: [
          { version: 'v1', model: CLS_MODEL, weight: 100 },
          { version: 'v2', model: CLS_MODEL, weight: 0 },
        ],
        slos: [{ kind: 'availability', objective: 0.99, window: '1h' }],
      },
    ],
  };
}

describe.skipIf(!adminUrl)('several nodes on one Postgres', () => {
  let db: Awaited<ReturnType<typeof freshPostgresUrl>>;
  let admin: postgres.Sql;
  /** node-c connects as a role of its own, so the test can refuse it logins for a while. */
  const roleC = `vigil_test_c_${randomBytes(4).toString('hex')}`;
  const nodes = new Map<string, RunningVigil>();
  /** Every inference request the test sent, so totals can be checked exactly. */
  const sent = { total: 0, bad: 0 };

  const node = (name: string) => nodes.get(name)!;
  const alive = () => [...nodes.entries()].filter(([, v]) => v.proc.exitCode === null && v.proc.signalCode === null);
  const deployment = (v: RunningVigil) => getJson<DeploymentDoc>(`${v.url}/api/v1/deployments/cls`);
  const splitOf = async (v: RunningVigil) =>
    Object.fromEntries((await deployment(v)).split.map((e) => [e.version, e.weight]));
  const metric = async (v: RunningVigil, name: string) =>
    sampleValue(parseSamples((await scrape(v.url)).text), name, {});
  const leaderName = async () => {
    for (const [name, v] of alive()) if ((await cluster(v)).node.leader) return name;
    return undefined;
  };
  const body = jsonInferBody(clsInput(5));
  async function infer(v: RunningVigil, headers: Record<string, string> = {}) {
    const res = await fetch(`${v.url}/v2/models/cls/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    await res.arrayBuffer();
    sent.total++;
    if (res.status >= 500) sent.bad++;
    return res;
  }
  async function setWeights(v: RunningVigil, weights: Record<string, number>) {
    const res = await sendJsonTo('PUT', `${v.url}/api/v1/deployments/cls/weights`, { weights });
    expect(res.status).toBe(200);
  }
  async function waitSplit(weights: Record<string, number>, timeoutMs = 10_000) {
    for (const [name, v] of alive())
      await waitFor(
        async () => JSON.stringify(await splitOf(v)) === JSON.stringify(weights),
        timeoutMs,
        `${name} to route ${JSON.stringify(weights)}`,
      );
  }

  beforeAll(async () => {
    db = await freshPostgresUrl();
    admin = postgres(adminUrl!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create role "${roleC}" login superuser`);
    const started = await Promise.all(
      NAMES.map((name) => {
        const url = new URL(db!.url);
        if (name === 'node-c') url.username = roleC;
        return startVigil(config(), { env: { DATABASE_URL: url.toString(), VIGIL_NODE_NAME: name } });
      }),
    );
    NAMES.forEach((name, i) => nodes.set(name, started[i]!));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(
      [...nodes.values()].map((v) => {
        // A stopped (SIGSTOP) process cannot handle SIGTERM.
        v.proc.kill('SIGCONT');
        return v.stop();
      }),
    );
    await db?.dispose();
    await admin?.unsafe(`drop role if exists "${roleC}"`);
    await admin?.end({ timeout: 5 });
  }, 60_000);

  it('elects one leader, and every node lists the three nodes and agrees who leads', async () => {
    await waitFor(
      async () =>
        (await Promise.all(alive().map(([, v]) => cluster(v)))).every(
          (c) => c.nodes.filter((n) => n.healthy).length === 3,
        ),
      15_000,
      'every node to see three healthy nodes',
    );
    const docs = await Promise.all(alive().map(([, v]) => cluster(v)));
    expect(docs.filter((d) => d.node.leader)).toHaveLength(1);
    const leader = docs.find((d) => d.node.leader)!;
    for (const d of docs) {
      expect(d.leader?.instance).toBe(leader.node.instance);
      expect(d.nodes.filter((n) => n.leader).map((n) => n.instance)).toEqual([leader.node.instance]);
      expect(d.nodes.map((n) => n.name).sort()).toEqual([...NAMES]);
    }
  });

  it('a weight change on one node reaches the routing of all three within 1 s', async () => {
    const t0 = performance.now();
    await setWeights(node('node-a'), { v2: 50, v1: 50 });
    const answered = performance.now();
    const reached = await Promise.all(
      alive().map(async ([name, v]) => {
        for (;;) {
          if ((await splitOf(v)).v2 === 50) return { name, ms: performance.now() - answered };
          if (performance.now() - t0 > 5000) return { name, ms: Infinity };
          await new Promise((r) => setTimeout(r, 20));
        }
      }),
    );
    for (const r of reached)
      expect(r.ms, `${r.name} applied the new split after ${r.ms.toFixed(0)} ms`).toBeLessThan(1000);
    console.log(
      `a weight change reached every node's routing in ${reached.map((r) => `${r.name} ${r.ms.toFixed(0)} ms`).join(', ')}`,
    );
    // Routing follows: node-c now sends unpinned requests to both versions.
    const versions = new Set<string>();
    for (let i = 0; i < 30; i++) versions.add((await infer(node('node-c'))).headers.get('x-vigil-version')!);
    expect([...versions].sort()).toEqual(['v1', 'v2']);
    await setWeights(node('node-b'), { v1: 100, v2: 0 });
    await waitSplit({ v1: 100, v2: 0 });
  });

  it('shares fault injection, and sums the SLO numbers of every node', async () => {
    // Earlier tests' requests are counted too; on a loaded machine one of them may have been a
    // 5xx (a replica replaced after missing its health checks), which the SLO must count as well.
    const badBefore = sent.bad;
    expect(
      (
        await sendJsonTo('PUT', `${node('node-a').url}/api/v1/deployments/cls/versions/v2/fault-injection`, {
          error_rate: 1,
        })
      ).status,
    ).toBe(200);
    for (const [name, v] of alive())
      await waitFor(
        async () => (await deployment(v)).versions.find((x) => x.version === 'v2')!.fault_injection.error_rate === 1,
        5000,
        `${name} to inject faults into v2`,
      );
    for (let i = 0; i < 12; i++) expect((await infer(node('node-a'))).status).toBe(200);
    for (let i = 0; i < 8; i++) expect((await infer(node('node-b'))).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const res = await infer(node('node-c'), { 'x-vigil-version': 'v2' });
      expect(res.status).toBe(500);
      expect(res.headers.get('x-vigil-fault')).toBe('error');
    }
    // Every node's SLO (and console) numbers count what all three served, exactly.
    for (const [name, v] of alive()) {
      await waitFor(
        async () => {
          const slo = (
            await getJson<{ slos: { id: string; events: { good: number; total: number } | null }[] }>(
              `${v.url}/api/v1/slos`,
            )
          ).slos.find((s) => s.id === 'cls-availability')!;
          return slo.events?.total === sent.total && slo.events.good === sent.total - sent.bad;
        },
        15_000,
        `${name}'s SLO to count ${sent.total} requests, ${sent.bad} bad`,
      );
      await waitFor(
        async () =>
          (await getJson<{ deployments: { requests_1h: number }[] }>(`${v.url}/api/v1/console/summary`)).deployments[0]!
            .requests_1h === sent.total,
        15_000,
        `${name}'s console to count ${sent.total} requests`,
      );
    }
    expect(sent.bad - badBefore).toBe(5);
    expect(
      (
        await sendJsonTo('PUT', `${node('node-b').url}/api/v1/deployments/cls/versions/v2/fault-injection`, {
          error_rate: 0,
        })
      ).status,
    ).toBe(200);
  });

  it('keeps serving when Postgres cuts a node off, and catches up with what it missed', async () => {
    const c = node('node-c');
    // No new logins for node-c, then every connection it has is ended.
    await admin.unsafe(`alter role "${roleC}" nologin`);
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where usename = ${roleC}`;
    await waitFor(
      async () => (await metric(c, 'vigil_state_in_sync')) === 0,
      10_000,
      'node-c to notice it lost its subscription',
    );
    // A change node-c cannot hear about.
    await setWeights(node('node-a'), { v1: 80, v2: 20 });
    await waitFor(async () => (await splitOf(node('node-b'))).v2 === 20, 5000, 'node-b to apply the change');
    // Inference goes on, on the state node-c had.
    for (let i = 0; i < 20; i++) expect((await infer(c)).status).toBe(200);
    expect(await splitOf(c)).toEqual({ v1: 100, v2: 0 });
    // Postgres lets it back in: it resubscribes, reloads everything, and has the change.
    await admin.unsafe(`alter role "${roleC}" login`);
    await waitFor(async () => (await splitOf(c)).v2 === 20, 20_000, 'node-c to catch up');
    await waitFor(async () => (await metric(c, 'vigil_state_in_sync')) === 1, 10_000, 'node-c to be in sync');
    expect(await metric(c, 'vigil_state_resyncs_total')).toBeGreaterThanOrEqual(1);
    await setWeights(node('node-c'), { v1: 100, v2: 0 });
    await waitSplit({ v1: 100, v2: 0 });
  });

  it('moves leadership within 10 s when the leader dies, and a rollout started before goes on to the end', async () => {
    // One node, and only one, believes it leads (a node cut off just before may take a moment to notice it does not).
    await waitFor(
      async () => (await Promise.all(alive().map(([, v]) => cluster(v)))).filter((c) => c.node.leader).length === 1,
      5000,
      'exactly one node to believe it leads',
    );
    let leader = (await leaderName())!;
    const followers = alive().filter(([name]) => name !== leader);
    // Traffic only reaches the followers: the leader judges the canary on counts that other nodes shared.
    const loads = new Map(followers.map(([name, v]) => [name, startLoad(v.url, { concurrency: 1, pauseMs: 10 })]));
    try {
      const started = await sendJsonTo('POST', `${followers[0]![1].url}/api/v1/deployments/cls/rollouts`, {
        version: 'v2',
        steps: [30, 100],
        interval: '3s',
      });
      expect(started.status).toBe(201);
      const rolloutPath = `/api/v1/rollouts/${started.body.id}`;
      let rolloutUrl = `${followers[0]![1].url}${rolloutPath}`;
      await waitFor(async () => (await getJson(rolloutUrl)).canaryWeight === 30, 20_000, 'the first step');
      // On a loaded machine a lease can lapse meanwhile and move the lead to a follower: kill
      // whoever leads now, after its load stops (requests in flight on a killed node fail).
      leader = (await leaderName()) ?? leader;
      await loads.get(leader)?.stop();
      loads.delete(leader);
      const before = (await cluster(node(leader))).node.epoch;
      node(leader).proc.kill('SIGKILL');
      const killedAt = performance.now();
      // Until it has exited, the killed node can still answer that it leads.
      await node(leader).exited;
      let newLeader: string | undefined;
      await waitFor(async () => (newLeader = await leaderName()) !== undefined, 10_000, 'a new leader');
      const movedMs = performance.now() - killedAt;
      expect(movedMs).toBeLessThan(10_000);
      expect(newLeader).not.toBe(leader);
      expect((await cluster(node(newLeader!))).node.epoch).toBeGreaterThan(before);
      rolloutUrl = `${node(newLeader!).url}${rolloutPath}`;
      await waitFor(
        async () => (await getJson(rolloutUrl)).status === 'Promoted',
        60_000,
        'the rollout to be promoted by the new leader',
      );
      await waitSplit({ v2: 100, v1: 0 });
      // The first step was the old leader's decision, the rest the new one's.
      const steps = (
        await getJson<{ entries: { after: { canary_weight: number; epoch: number } }[] }>(
          `${node(newLeader!).url}/api/v1/audit?action=rollout.step`,
        )
      ).entries;
      expect(steps.find((e) => e.after.canary_weight === 30)!.after.epoch).toBeLessThanOrEqual(before);
      expect(steps.find((e) => e.after.canary_weight === 100)!.after.epoch).toBeGreaterThan(before);
      console.log(`leadership moved ${movedMs.toFixed(0)} ms after the leader was killed`);
    } finally {
      for (const l of loads.values()) await l.stop();
    }
    for (const l of loads.values()) expect(l.results.filter((r) => r.status !== 200)).toEqual([]);
    // Its waits add up to 105 s: on a loaded two-core machine the rollout's steps take their time.
  }, 120_000);

  it('refuses the writes of a leader that was paused (SIGSTOP) and woke up (SIGCONT) after another took over', async () => {
    const stale = (await leaderName())!;
    const others = alive()
      .map(([name]) => name)
      .filter((name) => name !== stale);
    const staleEpoch = (await cluster(node(stale))).node.epoch;
    const fencedBefore = await metric(node(stale), 'vigil_leader_fenced_writes_total');
    node(stale).proc.kill('SIGSTOP');
    const pausedAt = performance.now();
    // Either of the others may win the lock; whichever does is the new leader.
    let other = '';
    await waitFor(
      async () => {
        for (const name of others) if ((await cluster(node(name))).node.leader) other = name;
        return other !== '';
      },
      15_000,
      'another node to take over',
    );
    const tookOverMs = performance.now() - pausedAt;
    const newEpoch = (await cluster(node(other))).node.epoch;
    expect(newEpoch).toBeGreaterThan(staleEpoch);
    node(stale).proc.kill('SIGCONT');
    // Its first leader write after waking (the renewal) is refused by the epoch compare-and-set.
    // (Counted from before the pause: a node cut off earlier in this file may have been fenced then.)
    await waitFor(
      async () => (await metric(node(stale), 'vigil_leader_fenced_writes_total')) > fencedBefore,
      10_000,
      'the stale leader to be fenced',
    );
    // The log line travels through the node's stdout pipe and may trail the metric a little.
    await waitFor(
      () => node(stale).lines.some((l) => l.includes('leader write refused')),
      5_000,
      'the stale leader to log the refused write',
    );
    expect(await metric(node(stale), 'vigil_leader')).toBe(0);
    expect((await cluster(node(stale))).leader!.epoch).toBe(newEpoch);
    // Still a working node: it serves, and sees the other as the leader.
    expect((await infer(node(stale))).status).toBe(200);
    expect((await cluster(node(stale))).nodes.find((n) => n.leader)!.name).toBe(other);
    console.log(`a paused leader was replaced ${tookOverMs.toFixed(0)} ms after SIGSTOP`);
    expect(tookOverMs).toBeLessThan(10_000);
  });
});

describe.skipIf(!adminUrl)('autoscaling across nodes', () => {
  let db: Awaited<ReturnType<typeof freshPostgresUrl>>;
  const nodes: RunningVigil[] = [];
  const version = async (v: RunningVigil) =>
    (
      await getJson<{
        versions: Array<{ target_replicas: number; replicas: { state: string }[]; dispatched: number }>;
      }>(`${v.url}/api/v1/deployments/cls`)
    ).versions[0]!;

  beforeAll(async () => {
    db = await freshPostgresUrl();
    const { num_replicas: _fixed, ...base } = clsDeployment();
    const config = {
      deployments: [
        {
          ...base,
          autoscaling: {
            min_replicas: 1,
            max_replicas: 3,
            target_ongoing_requests: 1,
            upscale_delay_s: 1,
            downscale_delay_s: 3,
            look_back_period_s: 2,
          },
        },
      ],
    };
    nodes.push(
      ...(await Promise.all(
        ['auto-a', 'auto-b'].map((name) =>
          startVigil(config, { env: { DATABASE_URL: db!.url, VIGIL_NODE_NAME: name } }),
        ),
      )),
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all(nodes.map((v) => v.stop()));
    await db?.dispose();
  }, 60_000);

  it('sizes every node from the load of the whole cluster, decided once by the leader', async () => {
    const [busy, idle] = nodes as [RunningVigil, RunningVigil];
    expect((await version(idle)).target_replicas).toBe(1);
    // Only one node gets requests; the leader adds both nodes' load and gives each node its share.
    const load = startLoad(busy.url, { concurrency: 6 });
    try {
      await waitFor(
        async () => (await version(idle)).target_replicas >= 2,
        30_000,
        'the idle node to scale up with the cluster',
      );
    } finally {
      await load.stop();
    }
    expect((await version(idle)).dispatched).toBe(0);
    // Each node applies the leader's per-node target when its notice arrives: on a loaded machine
    // one node may still be a decision behind the other for a moment.
    await waitFor(
      async () => (await version(busy)).target_replicas === (await version(idle)).target_replicas,
      10_000,
      'both nodes to follow the same per-node target',
    );
    const decisions = (
      await getJson<{ entries: { actor: string; after: { target: number; per: string; epoch: number } }[] }>(
        `${idle.url}/api/v1/audit?action=autoscale`,
      )
    ).entries;
    expect(decisions.length).toBeGreaterThan(0);
    for (const d of decisions) expect(d).toMatchObject({ actor: 'vigil/autoscaler', after: { per: 'node' } });
    // One decision per change for the cluster, not one per node: every row carries the leader's epoch.
    expect(new Set(decisions.map((d) => d.after.epoch)).size).toBe(1);
    // Idle again: after the downscale delay both nodes go back to min_replicas.
    await waitFor(
      async () => (await version(idle)).target_replicas === 1 && (await version(busy)).target_replicas === 1,
      30_000,
      'both nodes to scale back down',
    );
  });
});

describe('the embedded database is one node', () => {
  it('refuses a second node on the same data directory, saying why and what to use instead', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-one-node-'));
    const first = await startVigil({ deployments: [clsDeployment()] }, { dataDir, waitReady: false });
    try {
      const second = startVigil({ deployments: [clsDeployment()] }, { dataDir, waitReady: false });
      await expect(second).rejects.toThrow(/vigil exited with 1 before listening/);
      await expect(second).rejects.toThrow(
        new RegExp(
          `PGlite data directory .* is in use by process ${first.proc.pid}.*use Postgres to share a database between processes`,
        ),
      );
      // The first node is untouched.
      expect((await cluster(first)).nodes).toHaveLength(1);
    } finally {
      await first.stop();
    }
  });
});
