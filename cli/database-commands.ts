import { openDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { createApiToken } from '../db/queries/tokens.ts';
import { recordAudit } from '../db/queries/audit.ts';
import { withTransaction } from '../db/transaction.ts';
import type { NodeEnv } from '../serving/config/data-dir.ts';
import { join } from 'node:path';
import { role as role_ } from '../contract/control/common.ts';
import { callNode, NodeUnreachable } from './node-client.ts';

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
  const checkedRole = role_.safeParse(role);
  if (!checkedRole.success)
    throw new Error(`--role must be viewer, operator, admin or alert-receiver, got ${JSON.stringify(role)}`);
  try {
    const created = await callNode(url, bearer, 'createToken', { body: { name, role: checkedRole.data } });
    printToken(created.token, role, name);
    return;
  } catch (err) {
    // No node runs: the token goes straight into the database.
    if (!(err instanceof NodeUnreachable)) throw new Error(`the node at ${url} refused: ${(err as Error).message}`);
  }
  const database = await open(env);
  try {
    await migrateDatabase(database);
    const created = await withTransaction(database.db, async (tx) => {
      const c = await createApiToken(tx, { name, role: checkedRole.data });
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
