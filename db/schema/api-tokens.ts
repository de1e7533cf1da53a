import { check, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { createdAt, oneOf, timestamptz } from './columns.ts';

/**
 * People's roles, ranked: viewer reads; operator also acts (acknowledge, pause, roll back);
 * admin also manages tokens and users.
 */
export const userRoles = ['viewer', 'operator', 'admin'] as const;
export type UserRole = (typeof userRoles)[number];

/**
 * A token has a user role, or `alert-receiver`: it may only post Alertmanager webhooks, so a
 * credential kept in another system's configuration can do nothing else with vigil.
 */
export const apiTokenRoles = [...userRoles, 'alert-receiver'] as const;
export type ApiTokenRole = (typeof apiTokenRoles)[number];

/** Bearer tokens for /api/v1. Only a hash is stored (db/queries/tokens.ts says why sha256). */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: serial('id').primaryKey(),
    name: text('name').notNull(),
    role: text('role').$type<ApiTokenRole>().notNull(),
    // Unique: every request authenticates by looking its token up through this index.
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: createdAt(),
    lastUsedAt: timestamptz('last_used_at'),
    revokedAt: timestamptz('revoked_at'),
  },
  (t) => [check('api_tokens_role_check', oneOf(t.role, apiTokenRoles))],
);

export type ApiToken = typeof apiTokens.$inferSelect;
export type NewApiToken = typeof apiTokens.$inferInsert;
