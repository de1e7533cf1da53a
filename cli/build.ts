/**
 * `vigil build -c vigil.yaml -o DIR`: a self-contained bundle that runs the config anywhere
 * Docker (or Node 20) runs, with nothing to fetch but npm packages:
 *
 *   DIR/Dockerfile            FROM node:20, installs vigil/ with `npm ci`, runs bundle/vigil.yaml
 *   DIR/vigil/                the vigil runtime (sources, package.json, package-lock.json, .npmrc)
 *   DIR/bundle/vigil.yaml     the config, every model pointing into bundle/artifacts/
 *   DIR/bundle/artifacts/     each model file once, named by its sha256
 *   DIR/bundle/handlers/      each handler with the files of its directory (node_modules left out)
 *   DIR/bundle/models/        the models directory of each multiplexed deployment
 *   DIR/bundle/vigil.lock.json  what went in: every file with its sha256 and where it came from
 *
 * Packed references (`model: cls:v3`) are resolved from the registry and their hashes checked.
 * The bundle sits inside the vigil package directory in the image (/app/bundle), so a handler's
 * `import ... from 'vigil/handler'` and its npm imports resolve there.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { NodeEnv } from '../serving/config/data-dir.ts';
import type { VigilConfig } from '../serving/config/schema.ts';
import { ARTIFACT_REF } from '../serving/registry/artifact-ref.ts';
import { ArtifactError, artifactDir, sha256File } from '../serving/registry/artifact-store.ts';
import { resolveConfigArtifacts } from '../serving/registry/resolve-config.ts';
import { VIGIL_VERSION } from '../serving/telemetry/version.ts';
import { loadConfigOrExit } from './load-config-or-exit.ts';
import { openDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..');
/** What the runtime needs; tests, benchmarks, docs and dashboards stay out of the image. */
const RUNTIME = ['package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'bin', 'cli', 'serving', 'slo', 'db'];

export interface LockEntry {
  kind: 'model' | 'handler' | 'models_dir';
  deployment: string;
  version?: string;
  /** Where it came from: a path, or name:version for a packed artifact. */
  source: string;
  /** Its path in the bundle, relative to bundle/. */
  path: string;
  sha256?: string;
  bytes?: number;
}

export async function buildCommand(env: NodeEnv, configFile: string, outDir: string): Promise<void> {
  const loaded = loadConfigOrExit(configFile);
  const sources = new Map<string, string>();
  for (const d of loaded.deployments)
    for (const v of d.versions)
      if (v.model !== undefined && ARTIFACT_REF.test(v.model)) sources.set(`${d.name}/${v.version}`, v.model);
  const config = sources.size
    ? await withRegistry(env, (db) => resolveConfigArtifacts(loaded, db, artifactDir(env.VIGIL_DATA_DIR)))
    : (structuredClone(loaded) as VigilConfig);

  const out = resolve(outDir);
  if (existsSync(out) && readdirSync(out).length > 0)
    throw new ArtifactError(`${out} is not empty; choose an empty or new directory`);
  const bundle = join(out, 'bundle');
  mkdirSync(join(bundle, 'artifacts'), { recursive: true });
  const lock: LockEntry[] = [];

  for (const d of config.deployments) {
    for (const v of d.versions) {
      if (v.model !== undefined) {
        const sha = await sha256File(v.model);
        const target = join('artifacts', `${sha}.onnx`);
        if (!existsSync(join(bundle, target))) cpSync(v.model, join(bundle, target));
        lock.push({
          kind: 'model',
          deployment: d.name,
          version: v.version,
          source: sources.get(`${d.name}/${v.version}`) ?? relative(process.cwd(), v.model),
          path: target,
          sha256: sha,
          bytes: statSync(v.model).size,
        });
        v.model = target;
      }
      if (v.handler !== undefined) {
        // The handler's whole directory, so its relative imports keep working.
        const dir = join('handlers', `${d.name}-${v.version}`);
        cpSync(dirname(v.handler), join(bundle, dir), {
          recursive: true,
          filter: (src) => basename(src) !== 'node_modules',
        });
        const target = join(dir, basename(v.handler));
        lock.push({
          kind: 'handler',
          deployment: d.name,
          version: v.version,
          source: relative(process.cwd(), v.handler),
          path: target,
          sha256: await sha256File(v.handler),
        });
        v.handler = target;
      }
    }
    if (d.multiplex) {
      const target = join('models', d.name);
      cpSync(d.multiplex.models_dir, join(bundle, target), { recursive: true });
      lock.push({
        kind: 'models_dir',
        deployment: d.name,
        source: relative(process.cwd(), d.multiplex.models_dir),
        path: target,
      });
      d.multiplex.models_dir = target;
    }
    // The normalised form lists versions; a fixed count next to autoscaling would not validate.
    if (d.autoscaling) delete (d as { num_replicas?: number }).num_replicas;
  }

  writeFileSync(
    join(bundle, 'vigil.yaml'),
    `# Written by \`vigil build\` from ${relative(process.cwd(), resolve(configFile))}; paths are relative to this file.\n${stringify(config)}`,
  );
  writeFileSync(
    join(bundle, 'vigil.lock.json'),
    `${JSON.stringify({ vigil: VIGIL_VERSION, built_at: new Date().toISOString(), files: lock }, null, 2)}\n`,
  );
  for (const entry of RUNTIME) cpSync(join(REPO_ROOT, entry), join(out, 'vigil', entry), { recursive: true });
  writeFileSync(join(out, 'Dockerfile'), DOCKERFILE);
  console.log(
    `bundle written to ${out}: ${lock.filter((l) => l.kind === 'model').length} model file(s), ${lock.filter((l) => l.kind === 'handler').length} handler(s)`,
  );
  console.log(
    `run it:  docker build -t my-vigil ${relative(process.cwd(), out) || '.'} && docker run -p 8000:8000 my-vigil`,
  );
}

export const DOCKERFILE = `# Written by \`vigil build\`. The runtime is installed from its lockfile; the bundle (config,
# artifacts, handlers) sits inside the package directory so handlers resolve 'vigil/handler'.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
RUN chown node:node /app
USER node
COPY --chown=node:node vigil/package.json vigil/package-lock.json vigil/.npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --chown=node:node vigil/ ./
COPY --chown=node:node bundle/ ./bundle/
EXPOSE 8000
CMD ["node", "bin/vigil.mjs", "start", "-c", "bundle/vigil.yaml", "--host", "0.0.0.0", "--port", "8000"]
`;

async function withRegistry<T>(
  env: NodeEnv,
  work: (db: Awaited<ReturnType<typeof openDatabase>>['db']) => Promise<T>,
): Promise<T> {
  const database = await openDatabase(
    env.DATABASE_URL ? { url: env.DATABASE_URL } : { dataDir: join(env.VIGIL_DATA_DIR, 'pglite') },
  );
  try {
    await migrateDatabase(database);
    return await work(database.db);
  } finally {
    await database.close();
  }
}
