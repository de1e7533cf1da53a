// The state of deployments that nodes share and that must survive a restart: each version's
// weight, place in the split, whether it is retired, its fault injection and hand-set replica
// count, plus the deployment's shadow (mirror) setting and a revision bumped by every change.
import { and, asc, eq, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { deployments, deploymentVersions, type DeploymentVersion, type VersionState } from '../schema/index.ts';
import { notifyState } from './state-notify.ts';

export interface VersionStateRow {
  version: string;
  model: string;
  weight: number;
  position: number;
  state: VersionState;
  fault: { errorRate: number; addedLatencyMs: number } | null;
  replicas: number | null;
  autoscaleTarget: number | null;
}

export interface StoredDeploymentState {
  versions: DeploymentVersion[];
  mirror: { version: string; percent: number; tolerance: number } | null;
  revision: number;
  /** What vigil.yaml said when it last seeded this state (serving/traffic/deployment-state.ts); null before it was recorded. */
  seed: FileSeed | null;
}

/** Hashes of what vigil.yaml said, per concern: the split, and each version's fault injection and replica count. */
export interface FileSeed {
  split: string;
  fault: Record<string, string>;
  replicas: Record<string, string>;
}

interface StoredConfig {
  mirror?: StoredDeploymentState['mirror'];
  seed?: FileSeed | string;
}

/** Every stored version of a deployment, in split order, and its stored mirror setting. */
export async function loadDeploymentState(db: Db, deployment: string): Promise<StoredDeploymentState | undefined> {
  const [row] = await db.select().from(deployments).where(eq(deployments.name, deployment));
  if (!row) return undefined;
  const versions = await db
    .select()
    .from(deploymentVersions)
    .where(eq(deploymentVersions.deployment, deployment))
    .orderBy(asc(deploymentVersions.position), asc(deploymentVersions.version));
  const config = row.config as StoredConfig;
  // A seed written as one string (an earlier vigil) is treated as none.
  return {
    versions,
    mirror: config.mirror ?? null,
    revision: row.revision,
    seed: typeof config.seed === 'object' && config.seed !== null ? config.seed : null,
  };
}

/**
 * Writes the whole state of one deployment: its versions (rows for versions no longer listed
 * are removed) and its mirror, bumps its revision, and notifies every node (the notification
 * is delivered when the transaction commits). `seed` records what vigil.yaml said, when the
 * write is vigil.yaml seeding the state; other writes keep the stored one. Pass the transaction
 * that makes the change it belongs to. Returns the new revision.
 */
export async function saveDeploymentState(
  tx: Db,
  deployment: string,
  versions: readonly VersionStateRow[],
  mirror: StoredDeploymentState['mirror'],
  seed?: FileSeed,
): Promise<number> {
  const configSql =
    seed === undefined
      ? sql`jsonb_set(${deployments.config}, '{mirror}', ${JSON.stringify(mirror)}::jsonb)`
      : sql`${JSON.stringify({ mirror, seed })}::jsonb`;
  const [saved] = await tx
    .insert(deployments)
    .values({ name: deployment, config: seed === undefined ? { mirror } : { mirror, seed }, revision: 1 })
    .onConflictDoUpdate({
      target: deployments.name,
      set: { config: configSql, revision: sql`${deployments.revision} + 1`, updatedAt: sql`now()` },
    })
    .returning({ revision: deployments.revision });
  for (const v of versions) {
    await tx
      .insert(deploymentVersions)
      .values({
        deployment,
        version: v.version,
        model: v.model,
        weight: v.weight,
        position: v.position,
        state: v.state,
        fault: v.fault,
        replicas: v.replicas,
        autoscaleTarget: v.autoscaleTarget,
      })
      .onConflictDoUpdate({
        target: [deploymentVersions.deployment, deploymentVersions.version],
        set: {
          model: v.model,
          weight: v.weight,
          position: v.position,
          state: v.state,
          fault: v.fault,
          replicas: v.replicas,
          autoscaleTarget: v.autoscaleTarget,
        },
      });
  }
  await tx.delete(deploymentVersions).where(
    and(
      eq(deploymentVersions.deployment, deployment),
      versions.length
        ? notInArray(
            deploymentVersions.version,
            versions.map((v) => v.version),
          )
        : undefined,
    ),
  );
  await notifyState(tx, { kind: 'deployment', name: deployment });
  return saved!.revision;
}
