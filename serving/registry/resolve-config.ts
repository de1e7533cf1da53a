import type { Db } from '../../db/client.ts';
import type { VigilConfig } from '../config/schema.ts';
import { ARTIFACT_REF } from './artifact-ref.ts';
import { resolveArtifact } from './artifact-store.ts';

/**
 * Replaces every `model: name:version` in the config with the packed file's path (and its packed
 * handler, unless the version names its own), after checking the file's sha256. Returns a new
 * config; the loaded one stays frozen. Any problem is an ArtifactError naming the reference.
 */
export async function resolveConfigArtifacts(config: VigilConfig, db: Db, dir: string): Promise<VigilConfig> {
  const refs = config.deployments.some((d) =>
    d.versions.some((v) => v.model !== undefined && ARTIFACT_REF.test(v.model) && !v.model.startsWith('/')),
  );
  if (!refs) return config;
  const copy = structuredClone(config) as VigilConfig;
  for (const d of copy.deployments) {
    for (const v of d.versions) {
      if (v.model === undefined || v.model.startsWith('/') || !ARTIFACT_REF.test(v.model)) continue;
      const resolved = await resolveArtifact(db, dir, v.model);
      v.model = resolved.modelPath;
      v.handler ??= resolved.handlerPath;
    }
  }
  return copy;
}
