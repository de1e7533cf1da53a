import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = new URL('../', import.meta.url);
const SERVING_BUNDLES = new URL('dist/serving/', ROOT);

let fresh: boolean | undefined;

/** Whether dist/serving is newer than every source it was built from (checked once a process). */
function servingBundlesFresh(): boolean {
  fresh ??= staleServingSources().length === 0;
  return fresh;
}

/**
 * The sources edited since dist/serving was built from them (or its missing inputs.json, when it
 * was never built). Not cached: the benchmarks ask it before each start, to build again first rather than
 * measure processes that run through tsx.
 */
export function staleServingSources(): string[] {
  try {
    const inputs = JSON.parse(readFileSync(new URL('inputs.json', SERVING_BUNDLES), 'utf8')) as string[];
    const built = statSync(new URL('inputs.json', SERVING_BUNDLES)).mtimeMs;
    return inputs.filter((p) => {
      try {
        return statSync(new URL(p, ROOT)).mtimeMs > built;
      } catch {
        return true;
      }
    });
  } catch {
    return ['dist/serving/inputs.json'];
  }
}

/**
 * The bundled twin of a process entry point (serving/ingress/ingress-main.ts becomes
 * dist/serving/ingress-main.mjs), when `npm install` built it and no source changed since
 * (scripts/build-bundles.mjs); undefined otherwise, and the entry runs through tsx.
 */
export function bundledEntry(entry: URL): string | undefined {
  if (!servingBundlesFresh()) return undefined;
  const bundle = new URL(basename(fileURLToPath(entry)).replace(/\.ts$/, '.mjs'), SERVING_BUNDLES);
  try {
    statSync(bundle);
    return fileURLToPath(bundle);
  } catch {
    return undefined;
  }
}
