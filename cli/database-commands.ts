import { openDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { createApiToken } from '../db/queries/tokens.ts';
import { recordAudit } from '../db/queries/audit.ts';
import { withTransaction } from '../db/transaction.ts';
import type { NodeEnv } from '../serving/config/data-dir.ts';
import { join } from 'node:path';

function open(env: NodeEnv) {
  return openDatabase(env.DATABASE_URL ? { url: env.DATABASE_URL } : { dataDir: join(env.VIGIL_DATA_DIR, 'pglite') });
}

/** `vigil migrate`: apply pending migrations (start does this too). */
export async function migrateCommand(env: NodeEnv): Promise<void> {
  const database = await open(env);
  try {
    await migrateDatabase(database);
    console.log(`migrations applied (${database.driver})`);
  } finally {
    await database.close();
  }
}

/**
 * `vigil token create --role R [--name N]`: through a running node's API when one answers at
 * `url` (the embedded database belongs to that process), else directly in the database.
 * The token is printed once; only its hash is stored.
 */
export async function tokenCreateCommand(
  env: NodeEnv,
  url: string,
  role: string,
  name: string,
  bearer?: string,
): Promise<void> {
  let res: Response | undefined;
  try {
    res = await fetch(new URL('/api/v1/tokens', url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify({ name, role }),
    });
  } catch {
    res = undefined;
  }
  if (res) {
    const doc = (await res.json()) as { token?: string; error?: string };
    if (!res.ok || !doc.token) throw new Error(`the node at ${url} refused: ${doc.error ?? res.status}`);
    printToken(doc.token, role, name);
    return;
  }
  if (!['viewer', 'operator', 'admin'].includes(role))
    throw new Error(`--role must be viewer, operator or admin, got ${JSON.stringify(role)}`);
  const database = await open(env);
  try {
    await migrateDatabase(database);
    const created = await withTransaction(database.db, async (tx) => {
      const c = await createApiToken(tx, { name, role: role as 'viewer' | 'operator' | 'admin' });
      await recordAudit(tx, {
        actor: 'cli',
        action: 'token.create',
        target: `token/${name}`,
        after: { id: c.row.id, name, role },
      });
      return c;
    });
    printToken(created.token, role, name);
  } finally {
    await database.close();
  }
}

function printToken(token: string, role: string, name: string): void {
  console.log(token);
  process.stderr.write(
    `created ${role} token "${name}"; it is shown once, store it now (send it as "Authorization: Bearer <token>")\n`,
  );
}
