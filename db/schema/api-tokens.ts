import { check, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { createdAt, oneOf, timestamptz } from './columns.ts';

/** viewer reads; operator also acts (acknowledge, pause, roll back); admin also manages tokens. */
export const apiTokenRoles = ['viewer', 'operator', 'admin'] as const;
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
