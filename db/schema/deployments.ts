import { sql } from 'drizzle-orm';
import { bigint, check, foreignKey, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { createdAt, oneOf, timestamptz, updatedAt } from './columns.ts';

/** active: keeps its replicas; retired: rolled back or replaced by a promoted canary, no replicas. */
export const versionStates = ['active', 'retired'] as const;
export type VersionState = (typeof versionStates)[number];

/** A deployment as configured: its name and the config it was last applied with. */
export const deployments = pgTable('deployments', {
  name: text('name').primaryKey(),
  config: jsonb('config').$type<Record<string, unknown>>().notNull().default({}),
  /** Bumped by every change to the deployment's state; nodes apply a state only if it is newer than theirs. */
  revision: bigint('revision', { mode: 'number' }).notNull().default(0),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** One model version inside a deployment, with its share of traffic. */
export const deploymentVersions = pgTable(
  'deployment_versions',
  {
    deployment: text('deployment').notNull(),
    version: text('version').notNull(),
    model: text('model').notNull(),
    /** Traffic weight used by the version pick; 0 takes no unpinned traffic. */
    weight: integer('weight').notNull().default(0),
    /** Place in the traffic split; routing keys map onto versions in this order. */
    position: integer('position').notNull().default(0),
    state: text('state').$type<VersionState>().notNull(),
    /** Fault injection in force (vigil.yaml seeds it, the API changes it); null: none. */
    fault: jsonb('fault').$type<{ errorRate: number; addedLatencyMs: number }>(),
    /** Replicas per node set by hand (scale); null: vigil.yaml's num_replicas (or the autoscaler). */
    replicas: integer('replicas'),
    /** Replicas per node the leader's autoscaler decided for the whole cluster; null: not decided yet. */
    autoscaleTarget: integer('autoscale_target'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [
    // The primary key (deployment, version) also serves "all versions of a deployment",
    // the only lookup the router and the console make, so no extra index.
    primaryKey({ columns: [t.deployment, t.version] }),
    foreignKey({ columns: [t.deployment], foreignColumns: [deployments.name] }).onDelete('cascade'),
    check('deployment_versions_state_check', oneOf(t.state, versionStates)),
    check('deployment_versions_weight_check', sql`${t.weight} >= 0`),
  ],
);

export type Deployment = typeof deployments.$inferSelect;
export type NewDeployment = typeof deployments.$inferInsert;
export type DeploymentVersion = typeof deploymentVersions.$inferSelect;
export type NewDeploymentVersion = typeof deploymentVersions.$inferInsert;
