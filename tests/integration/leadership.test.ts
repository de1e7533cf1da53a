import postgres from 'postgres';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLeadershipRow } from '../../db/queries/leadership.ts';
import { getRollout, insertRollout, updateRollout } from '../../db/queries/rollouts.ts';
import { withTransaction } from '../../db/transaction.ts';
import { PostgresLeaderElection, SoleLeadership, type Leadership } from '../../serving/cluster/leadership.ts';
import { openTestDatabases, type TestDatabase } from '../helpers/test-db.ts';
import { waitFor } from '../helpers/vigil-process.ts';

const log = pino({ level: 'silent' });
const rollout = (deployment: string) => ({
  deployment,
  stableVersion: 'v1',
  canaryVersion: 'v2',
  steps: [10, 100],
  intervalSeconds: 30,
  startedBy: 'test',
});

/** A leader write as the rollout controller makes one: fence first, then the change, in one transaction. */
function leaderWrite(database: TestDatabase, leader: Leadership, id: number, reason: string) {
  return withTransaction(database.db, async (tx) => {
    await leader.fence(tx);
    return updateRollout(tx, id, 'Progressing', { reason });
  });
}

const kinds = openTestDatabases();
const pg = kinds.find((k) => k.name === 'postgres');
const lite = kinds.find((k) => k.name === 'pglite')!;

// Fencing, proven where it happens: in the database, with a leader that still believes it leads.
describe.skipIf(!pg)('leader election and fencing on Postgres', () => {
  let database: TestDatabase;
  let admin: postgres.Sql;
  const electors: PostgresLeaderElection[] = [];
  const elector = (instance: string, renewIntervalMs: number) => {
    const e = new PostgresLeaderElection({
      url: database.url!,
      db: database.db,
      instance,
      log,
      renewIntervalMs,
      leaseMs: 5000,
      applicationName: `vigil-leader/${instance}`,
    });
    electors.push(e);
    return e;
  };
  beforeAll(async () => {
    database = await pg!.open();
    await ensureLeadershipRow(database.db);
    admin = postgres(database.url!, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    for (const e of electors) await e.stop().catch(() => undefined);
    await admin?.end({ timeout: 5 });
    await database?.dispose();
  });

  it('refuses the write of a leader whose lock session ended, once another node took the next epoch', async () => {
    const { id } = await insertRollout(database.db, rollout('fenced'));
    // a renews once a minute: between its checks it is as unaware as a paused process.
    const a = elector('a', 60_000);
    await a.start();
    expect(a.isLeader).toBe(true);
    const b = elector('b', 100);
    await b.start();
    expect(b.isLeader).toBe(false);
    expect(await leaderWrite(database, a, id, 'by a')).toMatchObject({ reason: 'by a' });

    await admin`select pg_terminate_backend(${a.lockSessionPid!})`;
    await waitFor(() => b.isLeader, 5000, 'b to take the lock');
    expect(b.epoch).toBe(a.epoch + 1);
    expect(a.isLeader).toBe(true); // a has not noticed

    await expect(leaderWrite(database, a, id, 'by stale a')).rejects.toMatchObject({ code: 'VIGIL_ERR_STALE_LEADER' });
    expect((await getRollout(database.db, id))!.reason).toBe('by a');
    expect(a.isLeader).toBe(false);
    expect(a.fencedWrites).toBe(1);
    expect(await leaderWrite(database, b, id, 'by b')).toMatchObject({ reason: 'by b' });
  });

  it('hands the lock over at once when the leader stops, without waiting for the lease', async () => {
    const leader = electors.find((e) => e.isLeader)!;
    const next = elector('c', 100);
    await next.start();
    expect(next.isLeader).toBe(false);
    const stoppedAt = performance.now();
    await leader.stop();
    await waitFor(() => next.isLeader, 3000, 'c to lead');
    expect(performance.now() - stoppedAt).toBeLessThan(3000);
  });

  it('a leader that finds its lock session replaced steps down at its next renewal', async () => {
    const leader = electors.find((e) => e.isLeader)!;
    const steps: boolean[] = [];
    leader.onChange((isLeader) => steps.push(isLeader));
    const fast = elector('d', 100);
    // The leader's renewal runs every 100 ms from here on (c was made with 100 ms).
    await admin`select pg_terminate_backend(${leader.lockSessionPid!})`;
    await fast.start();
    await waitFor(() => !leader.isLeader, 3000, 'the old leader to step down');
    await waitFor(() => electors.filter((e) => e.isLeader).length === 1, 3000, 'one leader again');
    expect(steps[0]).toBe(false);
  });
});

describe('leadership on the embedded database', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await lite.open();
    await ensureLeadershipRow(database.db);
  });
  afterAll(async () => {
    await database?.dispose();
  });

  it('is always this node, with a new epoch per start that fences the previous process', async () => {
    const { id } = await insertRollout(database.db, rollout('sole'));
    const first = new SoleLeadership(database.db, 'first', log);
    await first.start();
    expect(first.isLeader).toBe(true);
    expect(await leaderWrite(database, first, id, 'first')).toMatchObject({ reason: 'first' });
    const second = new SoleLeadership(database.db, 'second', log);
    await second.start();
    expect(second.epoch).toBe(first.epoch + 1);
    await expect(leaderWrite(database, first, id, 'stale')).rejects.toMatchObject({ code: 'VIGIL_ERR_STALE_LEADER' });
    expect(await leaderWrite(database, second, id, 'second')).toMatchObject({ reason: 'second' });
  });
});
