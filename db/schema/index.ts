// The whole vigil schema: drizzle-kit reads this file to generate migrations, and both
// drivers (postgres.js and PGlite) are typed with it.
export * from './deployments.ts';
export * from './slos.ts';
export * from './sli-buckets.ts';
export * from './alerts.ts';
export * from './incidents.ts';
export * from './runbooks.ts';
export * from './rollouts.ts';
export * from './audit-log.ts';
export * from './webhook-outbox.ts';
export * from './api-tokens.ts';
export * from './artifacts.ts';
export * from './users.ts';
export * from './request-rollups.ts';
export * from './cluster.ts';
export * from './login-attempts.ts';
