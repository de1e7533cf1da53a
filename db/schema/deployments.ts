import { sql } from 'drizzle-orm';
import { check, foreignKey, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { createdAt, oneOf, timestamptz, updatedAt } from './columns.ts';

/** active: keeps its replicas; retired: rolled back or replaced by a promoted canary, no replicas. */
export const versionStates = ['active', 'retired'] as const;
export type VersionState = (typeof versionStates)[number];

/** A deployment as configured: its name and the config it was last applied with. */
export const deployments = pgTable('deployments', {
  name: text('name').primaryKey(),
  config: jsonb('config').$type<Record<string, unknown>>().notNull().default({}),
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
