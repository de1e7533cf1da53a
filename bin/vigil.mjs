#!/usr/bin/env node
// Runs vigil's TypeScript sources through tsx, so a clone runs without a build step. The commands
// that only talk to a running node use the bundle `npm install` built (scripts/build-bundles.mjs)
// instead, while it is newer than every source it came from: they then answer in about 0.4 s
// rather than 0.6 s, most of which was tsx compiling.
import { readFileSync, statSync } from 'node:fs';

const ROOT = new URL('../', import.meta.url);
const BUNDLE = new URL('dist/cli/vigil.mjs', ROOT);

const [command, sub] = process.argv.slice(2);
const talksToNodeOnly =
  ['status', 'shutdown', 'rollout', 'weights', 'completion', 'help', '--help', '-h', undefined].includes(command) ||
  (command === 'user' && (sub === 'set' || sub === 'logout'));

function bundleIsFresh() {
  try {
    const built = statSync(BUNDLE).mtimeMs;
    const inputs = JSON.parse(readFileSync(new URL('dist/cli/inputs.json', ROOT), 'utf8'));
    return inputs.every((p) => statSync(new URL(p, ROOT)).mtimeMs <= built);
  } catch {
    return false;
  }
}

if (talksToNodeOnly && process.env.VIGIL_BUNDLE !== '0' && bundleIsFresh()) {
  await import(BUNDLE.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/vigil.ts');
}
