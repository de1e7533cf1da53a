import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { recordAudit } from '../db/queries/audit.ts';
import { createUser, findUserByName } from '../db/queries/users.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { withTransaction } from '../db/transaction.ts';
import { openDatabase } from '../db/client.ts';
import { hashPassword, passwordProblem } from '../serving/api/passwords.ts';
import { usernameSchema } from '../contract/control/access.ts';
import { userRole } from '../contract/control/common.ts';
import { callNode, NodeUnreachable } from './node-client.ts';
import type { NodeEnv } from '../serving/config/data-dir.ts';
import { join } from 'node:path';

/**
 * The password: typed twice at a terminal (not echoed), or the first line of standard input
 * when it is a pipe (`printf '%s\n' "$PW" | vigil user add ops --role operator`). Never an
 * argument: arguments end up in shell history and `ps`.
 */
export async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    return text.split(/\r?\n/)[0] ?? '';
  }
  const ask = async (prompt: string) => {
    let muted = false;
    const output = new Writable({
      write: (chunk, _enc, cb) => {
        if (!muted) process.stdout.write(chunk);
        cb();
      },
    });
    const rl = createInterface({ input: process.stdin, output, terminal: true });
    const answer = new Promise<string>((resolve) => rl.question(prompt, resolve));
    muted = true;
    const pw = await answer;
    rl.close();
    process.stdout.write('\n');
    return pw;
  };
  const first = await ask('password: ');
  const second = await ask('again: ');
  if (first !== second) throw new Error('the passwords differ');
  return first;
}

/**
 * `vigil user add NAME --admin | --role R`: a console user. Through a running node's API when
 * one answers at `url` (its embedded database belongs to that process), else directly in the
 * database. There is no default user and no default password: the first admin is made here.
 */
export async function userAddCommand(
  env: NodeEnv,
  url: string,
  username: string,
  role: string,
  bearer?: string,
): Promise<void> {
  const parsed = usernameSchema.safeParse(username);
  if (!parsed.success) throw new Error(parsed.error.issues[0]!.message);
  const password = await readPassword();
  const problem = passwordProblem(password);
  if (problem) throw new Error(problem);
  const checkedRole = userRole.safeParse(role);
  if (!checkedRole.success) throw new Error(`--role must be viewer, operator or admin, got ${JSON.stringify(role)}`);
  try {
    await callNode(url, bearer, 'createUser', { body: { username, password, role: checkedRole.data } });
    console.log(`created ${role} user "${username}" (through ${url})`);
    return;
  } catch (err) {
    // No node runs: the user goes straight into the database.
    if (!(err instanceof NodeUnreachable)) throw new Error(`the node at ${url} refused: ${(err as Error).message}`);
  }
  const database = await openDatabase(
    env.DATABASE_URL ? { url: env.DATABASE_URL } : { dataDir: join(env.VIGIL_DATA_DIR, 'pglite') },
  );
  try {
    await migrateDatabase(database);
    if (await findUserByName(database.db, username)) throw new Error(`user "${username}" exists`);
    const passwordHash = await hashPassword(password);
    await withTransaction(database.db, async (tx) => {
      const u = await createUser(tx, { username, passwordHash, role: checkedRole.data });
      await recordAudit(tx, {
        actor: 'cli',
        action: 'user.create',
        target: `user/${username}`,
        after: { id: u.id, username, role },
      });
    });
    console.log(`created ${role} user "${username}"`);
  } finally {
    await database.close();
  }
}
