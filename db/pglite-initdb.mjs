// Creates a new PGlite data directory and exits: run as a short-lived child by db/client.ts, so
// that the WebAssembly memory this needs (about 400 MB more than opening an existing directory)
// is given back to the system when this process ends. A WebAssembly memory never shrinks, so
// done in the primary, that peak stayed with it for its whole life (issue 19).
//
// With a template (dist/pglite-template.tar.gz, which `npm install` makes: an empty database
// with vigil's migrations applied, from scripts/build-pglite-template.ts), the directory is
// unpacked from it, about 1.5 s, rather than made by Postgres's initdb, about 4 s, plus the
// migrations. A template that cannot be loaded is set aside and initdb runs as before.
// Plain JavaScript: it runs before, and without, tsx.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

const [dir, template] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: node db/pglite-initdb.mjs DIR [TEMPLATE.tar.gz]\n');
  process.exit(2);
}

async function fromTemplate() {
  if (!template || !existsSync(template)) return false;
  try {
    const db = await PGlite.create({ dataDir: dir, loadDataDir: new Blob([readFileSync(template)]) });
    await db.close();
    return true;
  } catch (err) {
    process.stderr.write(
      `vigil: the PGlite template ${template} could not be loaded (${err.message}); running initdb\n`,
    );
    for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
    return false;
  }
}

if (!(await fromTemplate())) {
  const db = await PGlite.create(dir);
  await db.close();
}
