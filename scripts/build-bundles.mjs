// Bundles vigil's entry points with esbuild at install (the `prepare` script), so that what runs
// often does not wait for tsx to compile TypeScript, and does not carry the `__name(...)` wrappers
// tsx adds around every function (a few per cent of an ingress process's CPU per request):
//   dist/cli/vigil.mjs: the CLI; bin/vigil.mjs runs the commands that only talk to a node from it,
//     `vigil status` in about 0.4 s instead of 0.7 s (issue 19);
//   dist/serving/ingress-main.mjs and replica-main.mjs: the processes `vigil start` forks
//     (serving/controller/fork-worker.ts). Two folders deep, like the sources, so that paths they
//     resolve from their own location (package.json, node_modules) resolve the same.
// A bundle is used only while every source it was built from is older than it (inputs.json beside
// it lists them), so an edited checkout falls back to tsx rather than running stale code. A failed
// build never fails the install: everything runs through tsx without it. VIGIL_BUNDLE=0 turns the
// bundles off.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const BUNDLES = [
  { out: 'dist/cli', entries: ['cli/vigil.ts'] },
  { out: 'dist/serving', entries: ['serving/ingress/ingress-main.ts', 'serving/replica/replica-main.ts'] },
];

try {
  const { build } = await import('esbuild');
  for (const b of BUNDLES) {
    const out = join(ROOT, b.out);
    mkdirSync(out, { recursive: true });
    const result = await build({
      entryPoints: b.entries.map((e) => join(ROOT, e)),
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outdir: out,
      // Entries and chunks side by side, two folders deep (see above).
      entryNames: '[name]',
      outExtension: { '.js': '.mjs' },
      // Dependencies load from node_modules as they do under tsx; only vigil's own code is bundled.
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs).map((p) => relative(ROOT, resolve(ROOT, p)));
    writeFileSync(join(out, 'inputs.json'), `${JSON.stringify(inputs)}\n`);
    console.log(`vigil: bundled ${b.entries.join(', ')} into ${b.out} (${inputs.length} sources)`);
  }
} catch (err) {
  console.log(`vigil: not bundled (${err.message ?? err}); everything runs through tsx instead`);
}
