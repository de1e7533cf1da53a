/** `vigil pack` and `vigil models list|show|rm`: the model registry, in the database and the artifact directory. */
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { openDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { join } from 'node:path';
import type { NodeEnv } from '../serving/config/data-dir.ts';
import {
  ArtifactError,
  artifactDir,
  getArtifact,
  listArtifacts,
  packArtifact,
  removeArtifact,
} from '../serving/registry/artifact-store.ts';

/**
 * Opens the database the node uses. With the embedded PGlite, a running node holds it: the
 * registry commands then say so (stop the node, or use Postgres through DATABASE_URL).
 */
async function withDb<T>(env: NodeEnv, work: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  let database;
  try {
    database = await openDatabase(
      env.DATABASE_URL ? { url: env.DATABASE_URL } : { dataDir: join(env.VIGIL_DATA_DIR, 'pglite') },
    );
  } catch (err) {
    throw new ArtifactError(
      `cannot open the database: ${(err as Error).message} (with the embedded database, stop the running node first, or use Postgres via DATABASE_URL)`,
    );
  }
  try {
    await migrateDatabase(database);
    return await work(database);
  } finally {
    await database.close();
  }
}

export async function packCommand(
  env: NodeEnv,
  model: string,
  name: string,
  version: string,
  handler: string | undefined,
): Promise<void> {
  await withDb(env, async ({ db }) => {
    const { artifact, created } = await packArtifact(db, artifactDir(env.VIGIL_DATA_DIR), {
      modelPath: resolve(model),
      name,
      version,
      handlerPath: handler && resolve(handler),
      createdBy: userInfo().username,
    });
    const handlerNote = artifact.handlerSha256 ? `, handler sha256:${artifact.handlerSha256.slice(0, 12)}…` : '';
    const what = `${artifact.name}:${artifact.version} sha256:${artifact.sha256}`;
    console.log(`${created ? 'packed' : 'already packed'} ${what} (${artifact.sizeBytes} bytes${handlerNote})`);
    console.log(`use it in vigil.yaml as   model: ${artifact.name}:${artifact.version}`);
  });
}

export async function modelsListCommand(env: NodeEnv, json: boolean): Promise<void> {
  await withDb(env, async ({ db }) => {
    const rows = await listArtifacts(db);
    if (json) return console.log(JSON.stringify(rows, null, 2));
    const table = [
      ['MODEL', 'SHA256', 'SIZE', 'HANDLER', 'CREATED', 'BY'],
      ...rows.map((r) => [
        `${r.name}:${r.version}`,
        r.sha256.slice(0, 12),
        `${(r.sizeBytes / 2 ** 20).toFixed(1)}MiB`,
        r.handlerSha256 ? 'yes' : '-',
        r.createdAt.toISOString().slice(0, 19),
        r.createdBy,
      ]),
    ];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    for (const r of table) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  });
}

export async function modelsShowCommand(env: NodeEnv, ref: string): Promise<void> {
  await withDb(env, async ({ db }) => {
    const row = await getArtifact(db, ref);
    if (!row) throw new ArtifactError(`no artifact ${ref}`);
    console.log(JSON.stringify(row, null, 2));
  });
}

export async function modelsRmCommand(env: NodeEnv, ref: string): Promise<void> {
  await withDb(env, async ({ db }) => {
    await removeArtifact(db, artifactDir(env.VIGIL_DATA_DIR), ref);
    console.log(`removed ${ref}`);
  });
}
