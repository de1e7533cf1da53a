// Bundles the CLI (cli/vigil.ts) into dist/cli/ with esbuild, so that the commands that only talk
// to a running node (status, shutdown, rollout, weights, user set/logout, help) start without
// tsx compiling TypeScript on every call: 0.6 s became about 0.2 s (issue 19). `npm install` runs
// it (the `prepare` script); bin/vigil.mjs uses the bundle only while every source it was built
// from is older than it, and falls back to tsx otherwise, so an edited checkout is never served
// stale code. A failed build never fails the install: the CLI works without the bundle.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist/cli');

try {
  const { build } = await import('esbuild');
  mkdirSync(OUT, { recursive: true });
  const result = await build({
    entryPoints: [join(ROOT, 'cli/vigil.ts')],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: OUT,
    outExtension: { '.js': '.mjs' },
    // Dependencies load from node_modules as they do under tsx; only vigil's own code is bundled.
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs).map((p) => relative(ROOT, resolve(ROOT, p)));
  writeFileSync(join(OUT, 'inputs.json'), `${JSON.stringify(inputs)}\n`);
  console.log(`vigil: CLI bundled into ${relative(ROOT, OUT)} (${inputs.length} sources)`);
} catch (err) {
  console.log(`vigil: CLI not bundled (${err.message ?? err}); the CLI runs through tsx instead`);
}
