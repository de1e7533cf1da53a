import { check, index, integer, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { createdAt, oneOf, timestamptz } from './columns.ts';
import { userRoles, type UserRole } from './api-tokens.ts';

/**
 * Console users. The password is stored as an argon2id hash (PHC string, salt included): people
 * choose guessable passwords, so unlike API tokens they need a deliberately slow hash.
 * Roles are the API's roles (viewer, operator, admin).
 */
export const users = pgTable(
  'users',
  {
    id: serial('id').primaryKey(),
    // Unique: a login looks its user up by name.
    username: text('username').notNull().unique(),
    passwordHash: text('password_hash').notNull(),
    role: text('role').$type<UserRole>().notNull(),
    createdAt: createdAt(),
    disabledAt: timestamptz('disabled_at'),
    lastLoginAt: timestamptz('last_login_at'),
  },
  (t) => [check('users_role_check', oneOf(t.role, userRoles))],
);

/**
 * Console sessions: the cookie holds a random token, the table its sha256 (as for API tokens, a
 * 256-bit random secret needs no slow hash) and the CSRF token every change must echo.
 */
export const sessions = pgTable(
  'sessions',
  {
    id: serial('id').primaryKey(),
    // Unique: every console request finds its session through this index.
    tokenHash: text('token_hash').notNull().unique(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    csrfToken: text('csrf_token').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamptz('expires_at').notNull(),
    revokedAt: timestamptz('revoked_at'),
    /** The address the login came from, as the console saw it. */
    clientAddress: text('client_address'),
  },
  (t) => [
    // Covers the foreign key (user deletion cascades) and "sessions of a user".
    index('sessions_user_idx').on(t.userId),
  ],
);

export type User = typeof users.$inferSelect;
export type Session = typeof sessions.$inferSelect;
