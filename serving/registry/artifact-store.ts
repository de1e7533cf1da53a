import { createHash } from 'node:crypto';
import { createReadStream, existsSync, realpathSync } from 'node:fs';
import { copyFile, mkdir, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { artifacts, deploymentVersions, type Artifact } from '../../db/schema/index.ts';
import { parseArtifactRef } from './artifact-ref.ts';

export { ARTIFACT_REF, parseArtifactRef } from './artifact-ref.ts';

export { ArtifactError } from './artifact-error.ts';
import { ArtifactError } from './artifact-error.ts';

/** Where artifact files live: content-addressed under <data dir>/artifacts/sha256/. */
export function artifactDir(dataDir: string): string {
  return join(dataDir, 'artifacts');
}

const fileFor = (dir: string, sha: string, ext: string) => join(dir, 'sha256', `${sha}${ext}`);

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Copies into the store under its hash; a file already there is kept (same hash, same bytes). */
async function store(dir: string, source: string, sha: string, ext: string): Promise<void> {
  const target = fileFor(dir, sha, ext);
  if (existsSync(target)) return;
  await mkdir(join(dir, 'sha256'), { recursive: true });
  // Copy then rename: a crash never leaves a half-written file under a hash name.
  const tmp = `${target}.tmp-${process.pid}`;
  await copyFile(source, tmp);
  await rename(tmp, target);
}

export interface PackRequest {
  modelPath: string;
  name: string;
  version: string;
  handlerPath?: string;
  createdBy: string;
}

/**
 * `vigil pack`: hashes the model (and handler), reads the model's inputs and outputs with ONNX
 * Runtime (so a file that is not a model is refused here, not at deploy time), stores the files
 * by hash and records name:version. Packing the same files under the same name again is a no-op;
 * different files under an existing name:version are refused: versions are immutable.
 */
export async function packArtifact(
  db: Db,
  dir: string,
  req: PackRequest,
): Promise<{ artifact: Artifact; created: boolean }> {
  if (!parseArtifactRef(`${req.name}:${req.version}`))
    throw new ArtifactError(
      `--name and --version must be 1-63 letters, digits, ".", "_" or "-", got ${JSON.stringify(`${req.name}:${req.version}`)}`,
    );
  if (!existsSync(req.modelPath)) throw new ArtifactError(`model file not found: ${req.modelPath}`);
  if (req.handlerPath && !existsSync(req.handlerPath))
    throw new ArtifactError(`handler file not found: ${req.handlerPath}`);
  let signature;
  try {
    // Loaded here only: the primary never needs ONNX Runtime otherwise.
    const ort = await import('onnxruntime-node');
    const { readSignature } = await import('../replica/onnx-runner.ts');
    const session = await ort.InferenceSession.create(req.modelPath, { executionProviders: ['cpu'] });
    signature = readSignature(session);
    await session.release();
  } catch (err) {
    throw new ArtifactError(
      `${req.modelPath} is not an ONNX model ONNX Runtime can load: ${String((err as Error).message)
        .split('\n')[0]!
        .slice(0, 200)}`,
    );
  }
  const sha = await sha256File(req.modelPath);
  const handlerSha = req.handlerPath ? await sha256File(req.handlerPath) : null;
  const [existing] = await db
    .select()
    .from(artifacts)
    .where(and(eq(artifacts.name, req.name), eq(artifacts.version, req.version)));
  if (existing) {
    if (existing.sha256 === sha && existing.handlerSha256 === handlerSha) return { artifact: existing, created: false };
    throw new ArtifactError(
      `${req.name}:${req.version} already exists with other contents (model sha256 ${existing.sha256.slice(0, 12)}…); versions are immutable, pack a new version`,
    );
  }
  await store(dir, req.modelPath, sha, '.onnx');
  if (req.handlerPath && handlerSha) await store(dir, req.handlerPath, handlerSha, '.ts');
  const size = (await stat(req.modelPath)).size;
  const [row] = await db
    .insert(artifacts)
    .values({
      name: req.name,
      version: req.version,
      sha256: sha,
      sizeBytes: size,
      handlerSha256: handlerSha,
      inputs: signature.inputs,
      outputs: signature.outputs,
      createdBy: req.createdBy,
    })
    .returning();
  return { artifact: row!, created: true };
}

export async function getArtifact(db: Db, ref: string): Promise<Artifact | undefined> {
  const parsed = parseArtifactRef(ref);
  if (!parsed) return undefined;
  const [row] = await db
    .select()
    .from(artifacts)
    .where(and(eq(artifacts.name, parsed.name), eq(artifacts.version, parsed.version)));
  return row;
}

export function listArtifacts(db: Db): Promise<Artifact[]> {
  return db.select().from(artifacts).orderBy(asc(artifacts.name), asc(artifacts.createdAt));
}

/** The files of `name:version`, after checking that they still have the hashes recorded at pack time. */
export async function resolveArtifact(
  db: Db,
  dir: string,
  ref: string,
): Promise<{ modelPath: string; handlerPath: string | undefined; artifact: Artifact }> {
  const artifact = await getArtifact(db, ref);
  if (!artifact) throw new ArtifactError(`no artifact ${ref}; \`vigil models list\` shows what is packed`);
  const modelPath = fileFor(dir, artifact.sha256, '.onnx');
  if (!existsSync(modelPath)) throw new ArtifactError(`artifact ${ref}: its file ${modelPath} is missing`);
  const actual = await sha256File(modelPath);
  if (actual !== artifact.sha256)
    throw new ArtifactError(
      `artifact ${ref} is corrupted: ${modelPath} has sha256 ${actual}, expected ${artifact.sha256}; pack it again`,
    );
  let handlerPath: string | undefined;
  if (artifact.handlerSha256) {
    handlerPath = fileFor(dir, artifact.handlerSha256, '.ts');
    if (!existsSync(handlerPath) || (await sha256File(handlerPath)) !== artifact.handlerSha256)
      throw new ArtifactError(
        `artifact ${ref} is corrupted: its handler ${handlerPath} is missing or changed; pack it again`,
      );
  }
  return { modelPath, handlerPath, artifact };
}

/** The file's real absolute path, or its absolute path when it does not exist. */
function canonicalPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolvePath(p);
  }
}

/**
 * `vigil models rm`: refused while a deployment version that is not retired serves the file
 * (as recorded by the running node in deployment_versions); the file goes when no other
 * name:version shares it.
 */
export async function removeArtifact(db: Db, dir: string, ref: string): Promise<void> {
  const artifact = await getArtifact(db, ref);
  if (!artifact) throw new ArtifactError(`no artifact ${ref}`);
  const path = fileFor(dir, artifact.sha256, '.onnx');
  // Compared as real paths: the node and this command may name the same data directory
  // differently (relative or absolute, through a symlink), and a string match would miss it.
  const file = canonicalPath(path);
  const active = await db.select().from(deploymentVersions).where(eq(deploymentVersions.state, 'active'));
  const users = active.filter((u) => canonicalPath(u.model) === file);
  if (users.length)
    throw new ArtifactError(
      `${ref} is in use by ${users.map((u) => `${u.deployment}/${u.version}`).join(', ')}; retire those versions first`,
    );
  await db.delete(artifacts).where(eq(artifacts.id, artifact.id));
  const shared = await db.select({ id: artifacts.id }).from(artifacts).where(eq(artifacts.sha256, artifact.sha256));
  if (shared.length === 0) await unlink(path).catch(() => undefined);
}
