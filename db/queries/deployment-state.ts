// The runtime state of deployments that must survive a restart: each version's weight, place in
// the split and whether it is retired, plus the deployment's shadow (mirror) setting.
import { and, asc, eq, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { deployments, deploymentVersions, type DeploymentVersion, type VersionState } from '../schema/index.ts';

export interface VersionStateRow {
  version: string;
  model: string;
  weight: number;
  position: number;
  state: VersionState;
}

export interface StoredDeploymentState {
  versions: DeploymentVersion[];
  mirror: { version: string; percent: number; tolerance: number } | null;
}

/** Every stored version of a deployment, in split order, and its stored mirror setting. */
export async function loadDeploymentState(db: Db, deployment: string): Promise<StoredDeploymentState | undefined> {
  const [row] = await db.select().from(deployments).where(eq(deployments.name, deployment));
  if (!row) return undefined;
  const versions = await db.select().from(deploymentVersions).where(eq(deploymentVersions.deployment, deployment)).orderBy(asc(deploymentVersions.position), asc(deploymentVersions.version));
  const mirror = (row.config as { mirror?: StoredDeploymentState['mirror'] }).mirror ?? null;
  return { versions, mirror };
}

/**
 * Writes the whole state of one deployment: its versions (rows for versions no longer listed
 * are removed) and its mirror. Pass the transaction that makes the change it belongs to.
 */
export async function saveDeploymentState(tx: Db, deployment: string, versions: readonly VersionStateRow[], mirror: StoredDeploymentState['mirror']): Promise<void> {
  await tx
    .insert(deployments)
    .values({ name: deployment, config: { mirror } })
    .onConflictDoUpdate({ target: deployments.name, set: { config: { mirror }, updatedAt: sql`now()` } });
  for (const v of versions) {
    await tx
      .insert(deploymentVersions)
      .values({ deployment, version: v.version, model: v.model, weight: v.weight, position: v.position, state: v.state })
      .onConflictDoUpdate({
        target: [deploymentVersions.deployment, deploymentVersions.version],
        set: { model: v.model, weight: v.weight, position: v.position, state: v.state },
      });
  }
  await tx.delete(deploymentVersions).where(
    and(
      eq(deploymentVersions.deployment, deployment),
      versions.length ? notInArray(deploymentVersions.version, versions.map((v) => v.version)) : undefined,
    ),
  );
}
