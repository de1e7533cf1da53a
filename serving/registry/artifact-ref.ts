/** `name:version`, e.g. `cls:v3`: how a deployment refers to a packed model instead of a path. */
export const ARTIFACT_REF = /^([A-Za-z0-9][A-Za-z0-9._-]{0,62}):([A-Za-z0-9][A-Za-z0-9._-]{0,62})$/;

export function parseArtifactRef(ref: string): { name: string; version: string } | undefined {
  const m = ARTIFACT_REF.exec(ref);
  return m ? { name: m[1]!, version: m[2]! } : undefined;
}
