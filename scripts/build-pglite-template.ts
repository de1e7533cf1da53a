/**
 * Makes dist/pglite-template.tar.gz: an empty PGlite database with vigil's migrations applied,
 * dumped by PGlite itself. A first `vigil start` unpacks it (db/pglite-initdb.mjs) rather than
 * running Postgres's initdb and every migration, which took about 5 of the 10 s before a new
 * node was ready. `npm install` runs it (the `prepare` script); nothing is downloaded. It holds
 * no node, config or seed data (those are written at start), and a template older than the
 * migrations is still correct: start applies the ones it lacks. A failure never fails the
 * install; a first start then runs initdb as before.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { driverHandle, openDatabase, PGLITE_TEMPLATE } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';

const work = mkdtempSync(join(tmpdir(), 'vigil-pglite-template-'));
try {
  const database = await openDatabase({ dataDir: join(work, 'pglite'), template: false });
  try {
    await migrateDatabase(database);
    const handle = driverHandle(database);
    if (handle.driver !== 'pglite') throw new Error('expected PGlite');
    const dump = await handle.client.dumpDataDir('gzip');
    mkdirSync(join(PGLITE_TEMPLATE, '..'), { recursive: true });
    writeFileSync(PGLITE_TEMPLATE, Buffer.from(await dump.arrayBuffer()));
  } finally {
    await database.close();
  }
  console.log(`vigil: PGlite template written to ${PGLITE_TEMPLATE}`);
} catch (err) {
  console.log(`vigil: no PGlite template (${(err as Error).message}); a first start runs initdb instead`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
