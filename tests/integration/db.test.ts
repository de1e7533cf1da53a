// The data layer against real databases: PGlite always, Postgres when VIGIL_TEST_DATABASE_URL
// is set. Each kind gets one fresh, migrated database; every test starts from empty tables.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { getTableName, is, sql } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, PGLITE_TEMPLATE, type Db } from '../../db/client.ts';
import { MIGRATIONS_FOLDER, migrateDatabase } from '../../db/migrate.ts';
import {
  acknowledgeAlert,
  getAlert,
  listAlertEvents,
  listAlerts,
  silenceAlert,
  upsertAlertState,
  type AlertInput,
} from '../../db/queries/alerts.ts';
import { listAudit, recordAudit } from '../../db/queries/audit.ts';
import { claimDueWebhooks, enqueueWebhook, markDelivered, markFailed } from '../../db/queries/outbox.ts';
import { addSliCounts, sliBucketsBetween, sliTotalsSince, type SliCounts } from '../../db/queries/sli-buckets.ts';
import { deleteSlo, getSlo, listSlos, upsertSlo } from '../../db/queries/slos.ts';
import { createApiToken, findToken, revokeApiToken } from '../../db/queries/tokens.ts';
import * as schema from '../../db/schema/index.ts';
import { withTransaction } from '../../db/transaction.ts';
import { openTestDatabases, queryRows, truncateAll, type TestDatabase } from '../helpers/test-db.ts';

const kinds = openTestDatabases();
const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe.each(kinds)('data layer on $name', ({ name, open }) => {
  let database: TestDatabase;
  let db: Db;

  beforeAll(async () => {
    database = await open();
    db = database.db;
  });
  afterAll(async () => {
    await database?.dispose();
  });
  beforeEach(async () => {
    await truncateAll(db);
  });

  describe('migrations', () => {
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as {
      entries: unknown[];
    };
    const appliedCount = async () =>
      (await queryRows<{ n: number }>(db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`))[0]?.n;

    it('creates every table in the schema', async () => {
      const expected = (Object.values(schema) as unknown[])
        .filter((value): value is PgTable => is(value, PgTable))
        .map((table) => getTableName(table))
        .sort();
      const rows = await queryRows<{ table_name: string }>(
        db,
        sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
      );
      expect(rows.map((row) => row.table_name)).toEqual(expected);
      expect(await appliedCount()).toBe(journal.entries.length);
    });

    it('applying them again changes nothing and keeps the data', async () => {
      await upsertSlo(db, slo('kept'));
      await migrateDatabase(database);
      await migrateDatabase(database);
      expect(await appliedCount()).toBe(journal.entries.length);
      expect(await getSlo(db, 'kept')).toMatchObject({ id: 'kept' });
    });

    it.runIf(name === 'postgres')('two nodes migrating a fresh database at once both succeed', async () => {
      const fresh = await open({ migrate: false });
      const other = await openDatabase({ url: fresh.url! });
      try {
        await Promise.all([migrateDatabase(fresh), migrateDatabase(other)]);
        const rows = await queryRows<{ n: number }>(
          fresh.db,
          sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
        );
        expect(rows[0]?.n).toBe(journal.entries.length);
      } finally {
        await other.close();
        await fresh.dispose();
      }
    });

    it.runIf(name === 'postgres')('a database that cannot be reached fails at open, not at first use', async () => {
      await expect(openDatabase({ url: 'postgres://postgres@127.0.0.1:1/nowhere' })).rejects.toThrow();
    });
  });

  describe('sli buckets', () => {
    const counts = (over: Partial<SliCounts>): SliCounts => ({
      sloId: 'cls-availability',
      deployment: 'cls',
      version: 'v1',
      bucketStart: T0,
      bucketSeconds: 60,
      good: 0,
      total: 0,
      ...over,
    });

    it('accumulates across calls, within a batch and per node, and sums with a cutoff', async () => {
      await addSliCounts(db, [
        counts({ node: 'a', good: 9, total: 10 }),
        counts({ node: 'a', good: 1, total: 1 }), // same bucket twice in one batch
        counts({ node: 'b', good: 5, total: 5 }),
        counts({ version: 'v2', node: 'a', bucketStart: at(60), good: 3, total: 4 }),
        counts({ bucketStart: at(120), good: 2, total: 2 }), // default node ''
        counts({ sloId: 'other', good: 100, total: 100 }),
      ]);
      await addSliCounts(db, [counts({ node: 'a', good: 10, total: 10 })]);
      await addSliCounts(db, []);

      const buckets = await sliBucketsBetween(db, { sloId: 'cls-availability', from: T0, to: at(120) });
      expect(buckets.map((b) => [b.bucketStart.toISOString(), b.version, b.node, b.good, b.total])).toEqual([
        [T0.toISOString(), 'v1', 'a', 20, 21],
        [T0.toISOString(), 'v1', 'b', 5, 5],
        [at(60).toISOString(), 'v2', 'a', 3, 4],
      ]);
      expect(buckets[0]).toMatchObject({ deployment: 'cls', bucketSeconds: 60 });

      expect(await sliTotalsSince(db, { sloId: 'cls-availability', since: T0 })).toEqual({ good: 30, total: 32 });
      expect(await sliTotalsSince(db, { sloId: 'cls-availability', since: at(60) })).toEqual({ good: 5, total: 6 });
      expect(await sliTotalsSince(db, { sloId: 'cls-availability', since: at(61) })).toEqual({ good: 2, total: 2 });
      expect(await sliTotalsSince(db, { sloId: 'cls-availability', version: 'v1', since: T0 })).toEqual({
        good: 27,
        total: 28,
      });
      expect(await sliTotalsSince(db, { sloId: 'cls-availability', since: at(3600) })).toEqual({ good: 0, total: 0 });
      expect(await sliTotalsSince(db, { sloId: 'missing', since: T0 })).toEqual({ good: 0, total: 0 });
    });

    it('takes batches larger than one statement and counts past 2^31', async () => {
      const rows = Array.from({ length: 2500 }, (_, i) => counts({ bucketStart: at(i * 60), good: 1, total: 1 }));
      await addSliCounts(db, rows);
      await addSliCounts(db, [counts({ bucketStart: at(0), good: 2 ** 31, total: 2 ** 32 })]);
      expect(await sliTotalsSince(db, { sloId: 'cls-availability', since: T0 })).toEqual({
        good: 2500 + 2 ** 31,
        total: 2500 + 2 ** 32,
      });
    });
  });

  describe('webhook outbox', () => {
    const hook = (dedupeKey: string, notBefore = T0) => ({
      receiver: 'oncall',
      url: 'http://127.0.0.1:9/hook',
      payload: { alert: dedupeKey, labels: { severity: 'page' } },
      dedupeKey,
      notBefore,
    });

    it('enqueues once per dedupe key and stores the payload as a JSON object', async () => {
      expect(await withTransaction(db, (tx) => enqueueWebhook(tx, hook('a')))).toBe(true);
      expect(await enqueueWebhook(db, hook('a'))).toBe(false);
      const rows = await queryRows<{ kind: string; n: number }>(
        db,
        sql`select jsonb_typeof(payload) as kind, count(*)::int as n from webhook_outbox group by 1`,
      );
      expect(rows).toEqual([{ kind: 'object', n: 1 }]);
    });

    it('claims due rows oldest first under a lease, and records failures and deliveries', async () => {
      await enqueueWebhook(db, hook('first'));
      await enqueueWebhook(db, hook('second'));
      await enqueueWebhook(db, hook('later', at(60)));

      const claimed = await claimDueWebhooks(db, { now: at(1), limit: 10 });
      expect(claimed.map((row) => row.dedupeKey)).toEqual(['first', 'second']);
      expect(claimed[0]).toMatchObject({ payload: { alert: 'first' }, attempts: 0, nextAttemptAt: at(31) });
      // Leased: not due again until the lease (30 s) runs out.
      expect(await claimDueWebhooks(db, { now: at(2), limit: 10 })).toEqual([]);

      const [first, second] = claimed;
      await markFailed(db, first!.id, { error: 'connect ECONNREFUSED', nextAttemptAt: at(120) });
      await markDelivered(db, second!.id, at(3));

      // At 61 s: the lease on `first` has run out but its retry is at 120 s; `later` is due.
      expect((await claimDueWebhooks(db, { now: at(61), limit: 10 })).map((r) => r.dedupeKey)).toEqual(['later']);
      // At 120 s: `first` is due for its retry, and `later` was claimed but never marked.
      const retried = await claimDueWebhooks(db, { now: at(120), limit: 10 });
      expect(retried.map((r) => r.dedupeKey)).toEqual(['first', 'later']);
      expect(retried[0]).toMatchObject({ attempts: 1, lastError: 'connect ECONNREFUSED' });
      // Delivered rows are never claimed again.
      const muchLater = await claimDueWebhooks(db, { now: at(86_400), limit: 10 });
      expect(muchLater.map((r) => r.dedupeKey)).toEqual(['first', 'later']);
      const [delivered] = await queryRows<{ attempts: number }>(
        db,
        sql`select attempts from webhook_outbox where dedupe_key = 'second' and delivered_at is not null`,
      );
      expect(delivered).toEqual({ attempts: 1 });
    });

    it('never hands one row to two claimers', async () => {
      for (let i = 0; i < 20; i++) await enqueueWebhook(db, hook(`k${i}`));
      const now = at(1);
      let batches: { id: number }[][];
      if (name === 'postgres') {
        batches = await Promise.all([
          claimDueWebhooks(db, { now, limit: 8 }),
          claimDueWebhooks(db, { now, limit: 8 }),
          claimDueWebhooks(db, { now, limit: 8 }),
        ]);
      } else {
        // PGlite is one connection: claims run one after another anyway.
        batches = [];
        for (let i = 0; i < 3; i++) batches.push(await claimDueWebhooks(db, { now, limit: 8 }));
      }
      batches.push(await claimDueWebhooks(db, { now, limit: 20 }));
      const ids = batches.flat().map((row) => row.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(20);
    });

    it.runIf(name === 'postgres')('a claimer skips rows another claim holds locked instead of waiting', async () => {
      for (let i = 0; i < 10; i++) await enqueueWebhook(db, hook(`k${i}`));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let heldIds: number[] | undefined;
      // A claim whose transaction stays open: its row locks are held until `release()`.
      const holder = withTransaction(db, async (tx) => {
        heldIds = (await claimDueWebhooks(tx, { now: at(1), limit: 4 })).map((row) => row.id);
        await released;
      });
      try {
        await expect.poll(() => heldIds, { timeout: 5_000 }).toBeDefined();
        const other = await Promise.race([
          claimDueWebhooks(db, { now: at(1), limit: 10 }),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('claim waited on locked rows')), 5_000)),
        ]);
        expect(heldIds).toHaveLength(4);
        expect(other).toHaveLength(6);
        expect(other.some((row) => heldIds!.includes(row.id))).toBe(false);
      } finally {
        release();
        await holder;
      }
    });
  });

  describe('alerts', () => {
    const alert = (over: Partial<AlertInput> = {}): AlertInput => ({
      fingerprint: 'fp-1',
      source: 'vigil',
      name: 'SLOBurnRateFast',
      severity: 'page',
      sloId: 'cls-availability',
      labels: { deployment: 'cls' },
      annotations: { summary: 'burning' },
      state: 'pending',
      startsAt: T0,
      ...over,
    });

    it('writes exactly one event per state change', async () => {
      const created = await upsertAlertState(db, alert(), { at: at(0), details: { burnRate: 15 } });
      expect(created.event).toMatchObject({ fromState: null, toState: 'pending', details: { burnRate: 15 } });

      const same = await upsertAlertState(db, alert({ annotations: { summary: 'still burning' } }), { at: at(5) });
      expect(same.event).toBeUndefined();
      expect(same.alert.annotations).toEqual({ summary: 'still burning' });

      await withTransaction(db, (tx) => upsertAlertState(tx, alert({ state: 'firing' }), { at: at(60) }));
      await upsertAlertState(db, alert({ state: 'firing' }), { at: at(65) });
      await acknowledgeAlert(db, { fingerprint: 'fp-1', actor: 'alice', at: at(70) });
      expect(await getAlert(db, 'fp-1')).toMatchObject({ acknowledgedBy: 'alice', acknowledgedAt: at(70) });

      await upsertAlertState(db, alert({ state: 'resolved', endsAt: at(300) }), { at: at(300) });
      await upsertAlertState(db, alert({ state: 'resolved', endsAt: at(300) }), { at: at(305) });
      const reopened = await upsertAlertState(db, alert({ startsAt: at(900) }), { at: at(900) });
      // A new episode: the old acknowledgement does not carry over.
      expect(reopened.alert).toMatchObject({ state: 'pending', acknowledgedBy: null, endsAt: null });

      const events = await listAlertEvents(db, 'fp-1');
      expect(events.map((e) => [e.fromState, e.toState, e.at.toISOString()])).toEqual([
        [null, 'pending', at(0).toISOString()],
        ['pending', 'firing', at(60).toISOString()],
        ['firing', 'resolved', at(300).toISOString()],
        ['resolved', 'pending', at(900).toISOString()],
      ]);
    });

    it('records a new alert once even when writers race', async () => {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => upsertAlertState(db, alert({ fingerprint: 'fp-race', state: 'firing' }))),
      );
      expect(results.filter((r) => r.event)).toHaveLength(1);
      expect(await listAlertEvents(db, 'fp-race')).toHaveLength(1);
    });

    it('lists by state, gets, silences', async () => {
      await upsertAlertState(db, alert({ fingerprint: 'a', state: 'firing' }), { at: at(1) });
      await upsertAlertState(db, alert({ fingerprint: 'b', state: 'pending' }), { at: at(2) });
      await upsertAlertState(
        db,
        alert({ fingerprint: 'c', state: 'firing', source: 'alertmanager', severity: 'critical' }),
        { at: at(3) },
      );
      expect((await listAlerts(db, { states: ['firing'] })).map((a) => a.fingerprint)).toEqual(['c', 'a']);
      expect((await listAlerts(db)).map((a) => a.fingerprint)).toEqual(['c', 'b', 'a']);
      expect(await getAlert(db, 'c')).toMatchObject({ severity: 'critical', labels: { deployment: 'cls' } });
      expect(await getAlert(db, 'nope')).toBeUndefined();
      expect(await silenceAlert(db, { fingerprint: 'a', until: at(3600) })).toMatchObject({ silencedUntil: at(3600) });
      expect(await silenceAlert(db, { fingerprint: 'nope', until: at(3600) })).toBeUndefined();
      await expect(upsertAlertState(db, alert({ fingerprint: 'd', state: 'bogus' as never }))).rejects.toThrow();
    });
  });

  describe('audit and transactions', () => {
    it('rolls back every write of a transaction that throws', async () => {
      await expect(
        withTransaction(db, async (tx) => {
          await upsertSlo(tx, slo('half-written'));
          await recordAudit(tx, { actor: 'alice', action: 'slo.create', target: 'slo/half-written' });
          await enqueueWebhook(tx, {
            receiver: 'oncall',
            url: 'http://127.0.0.1:9/',
            payload: {},
            dedupeKey: 'half-written',
          });
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await listAudit(db, { limit: 10 })).toEqual([]);
      expect(await getSlo(db, 'half-written')).toBeUndefined();
      expect(await claimDueWebhooks(db, { now: new Date(), limit: 10 })).toEqual([]);
    });

    it('commits with the transaction and lists newest first with filters', async () => {
      await withTransaction(db, async (tx) => {
        await recordAudit(tx, {
          actor: 'alice',
          action: 'slo.create',
          target: 'slo/a',
          after: { objective: 0.99 },
          at: at(1),
        });
        await recordAudit(tx, { actor: 'bob', action: 'rollout.pause', target: 'deployment/cls', at: at(2) });
      });
      await recordAudit(db, {
        actor: 'alice',
        action: 'slo.update',
        target: 'slo/a',
        before: { objective: 0.99 },
        after: { objective: 0.999 },
        at: at(3),
      });
      await recordAudit(db, { actor: 'alice', action: 'token.create', target: 'token/1', at: at(3) });

      const all = await listAudit(db, { limit: 10 });
      expect(all.map((r) => r.action)).toEqual(['token.create', 'slo.update', 'rollout.pause', 'slo.create']);
      expect(all[1]).toMatchObject({ before: { objective: 0.99 }, after: { objective: 0.999 } });
      expect(all[3]).toMatchObject({ before: null, after: { objective: 0.99 } });
      expect((await listAudit(db, { actor: 'alice', limit: 2 })).map((r) => r.action)).toEqual([
        'token.create',
        'slo.update',
      ]);
      expect((await listAudit(db, { target: 'slo/a', limit: 10 })).map((r) => r.action)).toEqual([
        'slo.update',
        'slo.create',
      ]);
      expect((await listAudit(db, { action: 'rollout.pause', limit: 10 })).map((r) => r.actor)).toEqual(['bob']);
    });
  });

  describe('api tokens', () => {
    it('stores only a hash, finds active tokens and not revoked ones', async () => {
      const { token, row } = await createApiToken(db, { name: 'ci', role: 'operator' });
      expect(token).toMatch(/^vgl_[A-Za-z0-9_-]{43}$/);
      expect(row.tokenHash).toBe(createHash('sha256').update(token).digest('hex'));
      const stored = await queryRows<Record<string, unknown>>(db, sql`select * from api_tokens`);
      expect(JSON.stringify(stored)).not.toContain(token.slice(4));

      const found = await findToken(db, token);
      expect(found).toMatchObject({ id: row.id, name: 'ci', role: 'operator', revokedAt: null });
      expect(found?.lastUsedAt).toBeInstanceOf(Date);
      expect(await findToken(db, `${token}x`)).toBeUndefined();
      expect(await findToken(db, token.slice(4))).toBeUndefined();

      const other = await createApiToken(db, { name: 'console', role: 'viewer' });
      expect(other.token).not.toBe(token);
      expect(await revokeApiToken(db, row.id, at(10))).toBe(true);
      expect(await revokeApiToken(db, row.id, at(11))).toBe(false);
      expect(await findToken(db, token)).toBeUndefined();
      expect(await findToken(db, other.token)).toMatchObject({ name: 'console' });
      await expect(createApiToken(db, { name: 'x', role: 'root' as never })).rejects.toThrow();
    });
  });

  describe('slos', () => {
    it('upserts, lists, gets and deletes, and refuses impossible objectives', async () => {
      const created = await upsertSlo(db, slo('a'));
      await upsertSlo(db, slo('b', { deployment: 'other', kind: 'latency', latencyThresholdSeconds: 0.25 }));
      const updated = await upsertSlo(db, slo('a', { objective: 0.999, version: 'v2' }));
      expect(updated).toMatchObject({ objective: 0.999, version: 'v2', createdAt: created.createdAt });
      expect((await listSlos(db)).map((s) => s.id)).toEqual(['a', 'b']);
      expect((await listSlos(db, { deployment: 'other' })).map((s) => s.id)).toEqual(['b']);
      expect(await getSlo(db, 'b')).toMatchObject({ kind: 'latency', latencyThresholdSeconds: 0.25, version: null });
      expect(await deleteSlo(db, 'a')).toBe(true);
      expect(await deleteSlo(db, 'a')).toBe(false);
      await expect(upsertSlo(db, slo('c', { objective: 1 }))).rejects.toThrow();
      await expect(upsertSlo(db, slo('d', { kind: 'latency' }))).rejects.toThrow();
    });
  });
});

function slo(id: string, over: Partial<Parameters<typeof upsertSlo>[1]> = {}): Parameters<typeof upsertSlo>[1] {
  return { id, deployment: 'cls', kind: 'availability', objective: 0.99, windowSeconds: 28 * 86_400, ...over };
}

describe('db/migrations', () => {
  it('are up to date with db/schema (run `npm run db:generate -- --name <change>` if not)', async () => {
    // Generate into a copy of the migrations: nothing new may come out.
    const dir = await mkdtemp(join(tmpdir(), 'vigil-migrations-'));
    try {
      await cp(MIGRATIONS_FOLDER, dir, { recursive: true });
      const before = await readdir(dir, { recursive: true });
      const bin = fileURLToPath(new URL('../../node_modules/drizzle-kit/bin.cjs', import.meta.url));
      // drizzle-kit prefixes --out with './', so it must be relative.
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          bin,
          'generate',
          '--dialect',
          'postgresql',
          '--schema',
          './db/schema/index.ts',
          '--out',
          relative(process.cwd(), dir),
        ],
        { cwd: process.cwd() },
      );
      expect(stdout).toContain('No schema changes');
      expect(await readdir(dir, { recursive: true })).toEqual(before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a new PGlite directory', () => {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  const applied = async (db: Db) => {
    const exists = await queryRows<{ t: string | null }>(
      db,
      sql`select to_regclass('drizzle.__drizzle_migrations')::text as t`,
    );
    if (!exists[0]?.t) return 0;
    return (await queryRows<{ n: number }>(db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`))[0]?.n;
  };
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'vigil-pglite-new-'));
    // What `npm install` does (the prepare script): the template of an empty, migrated database.
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/build-pglite-template.ts'], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('is unpacked from the template, migrations included, or made by initdb without one', async () => {
    expect(existsSync(PGLITE_TEMPLATE)).toBe(true);
    const fromTemplate = await openDatabase({ dataDir: join(work, 'a') });
    try {
      expect(await applied(fromTemplate.db)).toBe(journal.entries.length);
    } finally {
      await fromTemplate.close();
    }
    const fromInitdb = await openDatabase({ dataDir: join(work, 'b'), template: false });
    try {
      expect(await applied(fromInitdb.db)).toBe(0);
      await migrateDatabase(fromInitdb);
      expect(await applied(fromInitdb.db)).toBe(journal.entries.length);
    } finally {
      await fromInitdb.close();
    }
  });

  it('falls back to initdb when the template cannot be loaded', async () => {
    const bad = join(work, 'bad.tar.gz');
    await writeFile(bad, 'not a tarball');
    const dir = join(work, 'c');
    await mkdir(dir);
    const script = fileURLToPath(new URL('../../db/pglite-initdb.mjs', import.meta.url));
    const { stderr } = await promisify(execFile)(process.execPath, [script, dir, bad]);
    expect(stderr).toContain('could not be loaded');
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
    const database = await openDatabase({ dataDir: dir });
    try {
      expect(await applied(database.db)).toBe(0);
    } finally {
      await database.close();
    }
  });
});

describe('PGlite data directory across processes', () => {
  const child = fileURLToPath(new URL('../helpers/pglite-child.ts', import.meta.url));
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vigil-pglite-reopen-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(`${dataDir}.lock`, { force: true });
  });

  it('after close(), a child process reads the data and exits by itself', async () => {
    const database = await openDatabase({ dataDir });
    await migrateDatabase(database);
    await recordAudit(database.db, { actor: 'parent', action: 'parent', target: 'test' });
    await database.close();
    await database.close(); // idempotent

    const read = await runChild([dataDir, 'read']);
    expect(read).toMatchObject({ timedOut: false, code: 0 });
    expect(JSON.parse(read.stdout)).toEqual(['parent']);
  });

  it('after a process dies without closing, the next one still reads the data and exits', async () => {
    const crashed = await runChild([dataDir, 'crash', 'crashed-child']);
    expect(crashed).toMatchObject({ timedOut: false, signal: 'SIGKILL' });
    expect(existsSync(`${dataDir}.lock`)).toBe(true); // left behind, its process gone

    const read = await runChild([dataDir, 'read']);
    expect(read).toMatchObject({ timedOut: false, code: 0 });
    expect(JSON.parse(read.stdout)).toEqual(['crashed-child', 'parent']);
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  });

  it('refuses a second open of a directory in use, and allows it after close()', async () => {
    const first = await openDatabase({ dataDir });
    try {
      await expect(openDatabase({ dataDir })).rejects.toThrow(`is in use by process ${process.pid}`);
      const child = await runChild([dataDir, 'read']);
      expect(child).toMatchObject({ timedOut: false, code: 1 });
      expect(child.stderr).toContain('is in use by process');
    } finally {
      await first.close();
    }
    const again = await openDatabase({ dataDir });
    expect(await listAudit(again.db, { limit: 10 })).toHaveLength(2);
    await again.close();
  });

  /** Runs the child script; a child still running after 10 s is killed and reported. */
  function runChild(args: string[]) {
    return new Promise<{
      code: number | null;
      signal: string | null;
      timedOut: boolean;
      stdout: string;
      stderr: string;
    }>((resolve, reject) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => {
        timedOut = true;
        proc.kill('SIGKILL');
      }, 10_000);
      proc.on('error', reject);
      proc.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, timedOut, stdout, stderr });
      });
    });
  }
});
