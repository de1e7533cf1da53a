// Run by tests/integration/db.test.ts in a child process, against a PGlite data directory the
// test process has written:
//   node --import tsx tests/helpers/pglite-child.ts <dataDir> read
//     opens the directory, prints the audit rows as JSON, closes, and must then exit by itself.
//   node --import tsx tests/helpers/pglite-child.ts <dataDir> crash <action>
//     records an audit row with that action and dies with SIGKILL, never closing.
import { openDatabase } from '../../db/client.ts';
import { migrateDatabase } from '../../db/migrate.ts';
import { listAudit, recordAudit } from '../../db/queries/audit.ts';

const [dataDir, mode, action] = process.argv.slice(2);
if (!dataDir || (mode !== 'read' && mode !== 'crash')) {
  console.error('usage: pglite-child.ts <dataDir> read|crash [action]');
  process.exit(2);
}

const database = await openDatabase({ dataDir });
await migrateDatabase(database);
if (mode === 'crash') {
  await recordAudit(database.db, { actor: 'child', action: action ?? 'crash', target: 'test' });
  process.kill(process.pid, 'SIGKILL');
} else {
  const rows = await listAudit(database.db, { limit: 100 });
  process.stdout.write(`${JSON.stringify(rows.map((row) => row.action))}\n`);
  await database.close();
}
