// One way to open vigil's database: Postgres (postgres.js) when a URL is configured, an
// embedded PGlite otherwise. Both give the same `Db` type, so queries are written once.
// docs/decisions/0003-database.md says why, and why close() matters so much for PGlite.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite, type PgliteDatabase } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { lockPgliteDir } from './pglite-lock.ts';
import * as schema from './schema/index.ts';

export type Schema = typeof schema;

/** A drizzle database over either driver; every query function takes one (or a transaction). */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export type DatabaseDriver = 'postgres' | 'pglite';

export interface VigilDatabase {
  db: Db;
  driver: DatabaseDriver;
  /** Ends the Postgres pool or shuts PGlite down cleanly. Idempotent; always await it on exit. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A Postgres URL (`postgres://user@host:5432/db`). When set, PGlite is not used. */
  url?: string;
  /** PGlite's data directory, relative to the working directory; `memory://` keeps it in memory. */
  dataDir?: string;
  /** Postgres: the pool's application_name (pg_stat_activity), e.g. `vigil/node-a`. */
  applicationName?: string;
  /** PGlite: make a new directory from PGLITE_TEMPLATE when there is one (default true). */
  template?: boolean;
}

/** An empty database with the migrations applied, made at install (scripts/build-pglite-template.ts). */
export const PGLITE_TEMPLATE = fileURLToPath(new URL('../dist/pglite-template.tar.gz', import.meta.url));

/** Where PGlite keeps its data when neither a URL nor a data directory is configured. */
export const DEFAULT_PGLITE_DIR = '.vigil/pglite';

/** The concrete driver behind a VigilDatabase, for the few places (migrations) that need it. */
export type DriverHandle =
  | { driver: 'postgres'; url: string; client: postgres.Sql; db: PostgresJsDatabase<Schema> }
  | { driver: 'pglite'; client: PGlite; db: PgliteDatabase<Schema> };

// Kept on the object under a symbol rather than in a WeakMap so that `{ ...database, more }`
// (as the test helpers do) still carries it.
const DRIVER = Symbol('vigil.db.driver');
type WithDriver = VigilDatabase & { [DRIVER]?: DriverHandle };

/** Opens (and for Postgres, checks by connecting) vigil's database. */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<VigilDatabase> {
  return options.url
    ? openPostgres(options.url, options.applicationName ?? 'vigil')
    : openPglite(options.dataDir ?? DEFAULT_PGLITE_DIR, options.template ?? true);
}

/** The driver objects behind `database`; only db/ should need this. */
export function driverHandle(database: VigilDatabase): DriverHandle {
  const handle = (database as WithDriver)[DRIVER];
  if (!handle) throw new Error('not a database opened by openDatabase()');
  return handle;
}

async function openPostgres(url: string, applicationName: string): Promise<VigilDatabase> {
  const client = postgres(url, {
    max: 10,
    // Postgres notices ("relation already exists, skipping" from migrations) are not errors
    // and would otherwise be printed to stdout, around the structured logs.
    onnotice: () => {},
    // Every vigil transaction is short. One left open by a paused or stuck process would hold
    // its row locks (the leadership row's, say) for ever; Postgres ends it after 10 s instead.
    connection: { application_name: applicationName, idle_in_transaction_session_timeout: 10_000 },
  });
  try {
    // postgres.js connects lazily; connect now so a bad URL fails at start, not at first use.
    await client`select 1`;
  } catch (err) {
    await client.end({ timeout: 0 });
    throw err;
  }
  const db = drizzlePostgres(client, { schema });
  // Give queries in flight up to 5 s to finish, then close their connections anyway.
  return register({ driver: 'postgres', url, client, db }, () => client.end({ timeout: 5 }));
}

async function openPglite(dataDir: string, template: boolean): Promise<VigilDatabase> {
  if (dataDir.startsWith('memory://')) {
    const client = await PGlite.create(dataDir);
    return register({ driver: 'pglite', client, db: drizzlePglite(client, { schema }) }, () => client.close());
  }
  const dir = resolve(process.cwd(), dataDir);
  await mkdir(dir, { recursive: true });
  const unlock = await lockPgliteDir(dir);
  let client: PGlite;
  try {
    if (!existsSync(join(dir, 'PG_VERSION'))) await initdbInChild(dir, template ? PGLITE_TEMPLATE : undefined);
    client = await PGlite.create(dir);
  } catch (err) {
    await unlock();
    throw err;
  }
  const db = drizzlePglite(client, { schema });
  // PGlite 0.5's close() waits for queries in flight (it takes the query and transaction
  // locks) and then shuts Postgres down cleanly. A process that skips it leaves the directory
  // needing recovery, and the next process to open it then never exits unless it closes.
  return register({ driver: 'pglite', client, db }, async () => {
    try {
      await client.close();
    } finally {
      await unlock();
    }
  });
}

/** A new PGlite directory, made in a process of its own (pglite-initdb.mjs says why). */
async function initdbInChild(dir: string, template: string | undefined): Promise<void> {
  const script = fileURLToPath(new URL('./pglite-initdb.mjs', import.meta.url));
  const args = template ? [script, dir, template] : [script, dir];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code !== 0)
    throw new Error(`could not create the PGlite database in ${dir} (${signal ?? code}): ${stderr.trim()}`);
}

function register(handle: DriverHandle, end: () => Promise<void>): VigilDatabase {
  let closing: Promise<void> | undefined;
  const database: WithDriver = {
    // Both drivers' databases are PgDatabase subclasses, so either one is a `Db`.
    db: handle.db,
    driver: handle.driver,
    close: () => (closing ??= end()),
    [DRIVER]: handle,
  };
  return database;
}
