// Real databases for data-layer tests: PGlite always, and Postgres when
// VIGIL_TEST_DATABASE_URL is set (.ci/run sets it). Each open() gets a database of its own,
// migrated, and dispose() removes it.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTableName, is, sql, type SQL } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import { openDatabase, type Db, type VigilDatabase } from '../../db/client.ts';
import { migrateDatabase } from '../../db/migrate.ts';
import * as schema from '../../db/schema/index.ts';

export interface TestDatabase extends VigilDatabase {
  /** PGlite: the data directory (a fresh temporary one). */
  dataDir?: string;
  /** Postgres: the URL of the fresh database. */
  url?: string;
  /** Closes the database and deletes it (its directory, or DROP DATABASE). */
  dispose(): Promise<void>;
}

export interface OpenTestDatabaseOptions {
  /** Apply db/migrations before returning (default true). */
  migrate?: boolean;
}

export interface TestDatabaseKind {
  name: 'pglite' | 'postgres';
  open(options?: OpenTestDatabaseOptions): Promise<TestDatabase>;
}

/** The databases to run data-layer tests against, for `describe.each`. */
export function openTestDatabases(): TestDatabaseKind[] {
  const kinds: TestDatabaseKind[] = [{ name: 'pglite', open: openTestPglite }];
  const url = process.env.VIGIL_TEST_DATABASE_URL;
  if (url) kinds.push({ name: 'postgres', open: (options) => openTestPostgres(url, options) });
  return kinds;
}

async function openTestPglite(options: OpenTestDatabaseOptions = {}): Promise<TestDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vigil-pglite-'));
  const database = await openDatabase({ dataDir });
  const dispose = async () => {
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    if (options.migrate !== false) await migrateDatabase(database);
  } catch (err) {
    await dispose();
    throw err;
  }
  return { ...database, dataDir, dispose };
}

async function openTestPostgres(adminUrl: string, options: OpenTestDatabaseOptions = {}): Promise<TestDatabase> {
  const name = `vigil_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let database: VigilDatabase | undefined;
  const dispose = async () => {
    try {
      await database?.close();
      // FORCE (Postgres 13+) ends connections a failed test may have left open.
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
    } finally {
      await admin.end({ timeout: 5 });
    }
  };
  try {
    await admin.unsafe(`create database "${name}"`);
    database = await openDatabase({ url: url.toString() });
    if (options.migrate !== false) await migrateDatabase(database);
  } catch (err) {
    await dispose();
    throw err;
  }
  return { ...database, url: url.toString(), dispose };
}

/** Empties every vigil table (and restarts their id sequences), for a clean test. */
export async function truncateAll(db: Db): Promise<void> {
  const tables = (Object.values(schema) as unknown[])
    .filter((value): value is PgTable => is(value, PgTable))
    .map((table) => `"${getTableName(table)}"`);
  await db.execute(sql.raw(`truncate ${tables.join(', ')} restart identity cascade`));
}

/** Rows of a raw query: postgres.js returns an array, PGlite an object with `rows`. */
export async function queryRows<T extends Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  if (Array.isArray(result)) return result as T[];
  return (result as { rows: T[] }).rows;
}

/**
 * A fresh, migrated Postgres database for processes the test starts (vigil nodes): its URL and
 * the function that drops it. Undefined without VIGIL_TEST_DATABASE_URL.
 */
export async function freshPostgresUrl(): Promise<
  { url: string; adminUrl: string; dispose(): Promise<void> } | undefined
> {
  const adminUrl = process.env.VIGIL_TEST_DATABASE_URL;
  if (!adminUrl) return undefined;
  const database = await openTestPostgres(adminUrl, { migrate: true });
  // The nodes open their own connections; this one is not needed meanwhile.
  await database.close();
  return { url: database.url!, adminUrl, dispose: () => database.dispose() };
}
