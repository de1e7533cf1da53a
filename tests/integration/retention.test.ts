import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneExpiredRows } from '../../db/queries/retention.ts';
import {
  auditLog,
  loginAttempts,
  requestRollups,
  rollouts,
  sessions,
  sliBuckets,
  users,
  webhookOutbox,
} from '../../db/schema/index.ts';
import { retentionSchema } from '../../serving/config/schema.ts';
import { RetentionJob } from '../../serving/retention/retention-job.ts';
import { retentionCutoffs } from '../../serving/retention/retention-policy.ts';
import { openTestDatabases, queryRows, type TestDatabase } from '../helpers/test-db.ts';

const DAY = 86_400_000;
const NOW = new Date('2026-12-01T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * DAY);
const defaults = retentionSchema.parse({});

describe('retention cutoffs', () => {
  it('keeps each table for its configured time, and SLI buckets at least a day past the longest SLO window', () => {
    const c = retentionCutoffs(defaults, NOW, 28 * 86400);
    expect(c.sliBuckets).toEqual(daysAgo(35));
    expect(c.requestRollups).toEqual(daysAgo(35));
    expect(c.auditLog).toEqual(daysAgo(365));
    expect(c.deliveredWebhooks).toEqual(daysAgo(7));
    expect(c.finishedRollouts).toEqual(daysAgo(90));
    const short = retentionCutoffs({ ...defaults, sli_buckets: '1d' }, NOW, 90 * 86400);
    expect(short.sliBuckets).toEqual(daysAgo(91));
  });
});

describe.each(openTestDatabases())('retention on $name', ({ open }) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await open();
  });
  afterAll(async () => {
    await database?.dispose();
  });

  async function count(table: string): Promise<number> {
    const [row] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from ${sql.identifier(table)}`,
    );
    return Number(row!.n);
  }

  it('deletes only what has expired: never an active rollout or an undelivered webhook', async () => {
    const db = database.db;
    const sli = (at: Date) => ({
      sloId: 's',
      deployment: 'cls',
      version: 'v1',
      node: '',
      bucketStart: at,
      bucketSeconds: 10,
      good: 1,
      total: 1,
    });
    await db.insert(sliBuckets).values([sli(daysAgo(40)), sli(daysAgo(1))]);
    const rollup = (at: Date) => ({
      deployment: 'cls',
      version: 'v1',
      node: '',
      bucketStart: at,
      bucketSeconds: 60,
      total: 1,
      errors: 0,
      latencyCounts: [1],
    });
    await db.insert(requestRollups).values([rollup(daysAgo(36)), rollup(daysAgo(2))]);
    // More old audit rows than one delete batch holds.
    await db.execute(
      sql`insert into audit_log (at, actor, action, target) select ${daysAgo(400).toISOString()}::timestamptz, 'x', 'old', 't' from generate_series(1, 5200)`,
    );
    await db.insert(auditLog).values({ at: daysAgo(10), actor: 'x', action: 'recent', target: 't' });
    const hook = (key: string, deliveredAt: Date | null, createdAt: Date) => ({
      receiver: 'r',
      url: 'http://x',
      payload: {},
      dedupeKey: key,
      deliveredAt,
      createdAt,
    });
    await db
      .insert(webhookOutbox)
      .values([
        hook('old-delivered', daysAgo(8), daysAgo(8)),
        hook('old-undelivered', null, daysAgo(30)),
        hook('new-delivered', daysAgo(1), daysAgo(1)),
      ]);
    const rollout = (deployment: string, status: 'Promoted' | 'RolledBack' | 'Progressing', updatedAt: Date) => ({
      deployment,
      stableVersion: 'v1',
      canaryVersion: 'v2',
      status,
      steps: [50, 100],
      intervalSeconds: 10,
      updatedAt,
    });
    await db
      .insert(rollouts)
      .values([
        rollout('a', 'Promoted', daysAgo(100)),
        rollout('b', 'RolledBack', daysAgo(5)),
        rollout('c', 'Progressing', daysAgo(200)),
      ]);
    await db.insert(loginAttempts).values([
      { username: 'u', address: 'a', at: daysAgo(2), outcome: 'failed' },
      { username: 'u', address: 'a', at: new Date(NOW.getTime() - 60_000), outcome: 'failed' },
    ]);
    const [user] = await db.insert(users).values({ username: 'u', passwordHash: 'h', role: 'viewer' }).returning();
    await db.insert(sessions).values([
      { tokenHash: 'old', userId: user!.id, csrfToken: 'c', expiresAt: daysAgo(40) },
      { tokenHash: 'live', userId: user!.id, csrfToken: 'c', expiresAt: new Date(NOW.getTime() + DAY) },
    ]);

    const deleted = await pruneExpiredRows(db, retentionCutoffs(defaults, NOW, 28 * 86400));
    expect(deleted).toEqual({
      sliBuckets: 1,
      requestRollups: 1,
      auditLog: 5200,
      deliveredWebhooks: 1,
      finishedRollouts: 1,
      loginAttempts: 1,
      sessions: 1,
    });
    expect(await count('sli_buckets')).toBe(1);
    expect(await count('request_rollups')).toBe(1);
    expect(await count('audit_log')).toBe(1);
    const hooks = await queryRows<{ dedupe_key: string }>(
      db,
      sql`select dedupe_key from webhook_outbox order by dedupe_key`,
    );
    expect(hooks.map((h) => h.dedupe_key)).toEqual(['new-delivered', 'old-undelivered']);
    const left = await queryRows<{ deployment: string }>(db, sql`select deployment from rollouts order by deployment`);
    expect(left.map((r) => r.deployment)).toEqual(['b', 'c']);
    expect(await count('login_attempts')).toBe(1);
    expect(await count('sessions')).toBe(1);

    // A second pass finds nothing more.
    expect(
      Object.values(await pruneExpiredRows(db, retentionCutoffs(defaults, NOW, 28 * 86400))).every((n) => n === 0),
    ).toBe(true);
  });

  it('runs on the leader only', async () => {
    await database.db.insert(auditLog).values({ at: daysAgo(500), actor: 'x', action: 'old', target: 't' });
    let leader = false;
    const job = new RetentionJob({
      db: database.db,
      config: defaults,
      log: pino({ level: 'silent' }),
      isLeader: () => leader,
      longestSloWindowSeconds: () => 0,
      now: () => NOW,
    });
    expect(await job.runOnce()).toBeNull();
    expect(await count('audit_log')).toBe(2);
    leader = true;
    expect((await job.runOnce())?.auditLog).toBe(1);
    expect(await count('audit_log')).toBe(1);
  });
});
