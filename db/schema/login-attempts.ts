import { check, index, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { oneOf, timestamptz } from './columns.ts';

/**
 * pending: counted before the password is checked, so parallel guesses cannot race past the
 * limit; failed: the password was wrong (or the user unknown or disabled); succeeded: a login;
 * cleared: a failure forgiven by a later success from the same address.
 */
export const loginOutcomes = ['pending', 'failed', 'succeeded', 'cleared'] as const;
export type LoginOutcome = (typeof loginOutcomes)[number];

/**
 * One row per console login attempt, kept for the failed-login limits (serving/api/login-limits.ts)
 * and pruned after the longest limit window.
 */
export const loginAttempts = pgTable(
  'login_attempts',
  {
    id: serial('id').primaryKey(),
    username: text('username').notNull(),
    /** The browser's address as the console saw it, or the caller's socket address; '' when unknown. */
    address: text('address').notNull(),
    at: timestamptz('at').notNull().defaultNow(),
    outcome: text('outcome').$type<LoginOutcome>().notNull(),
  },
  (t) => [
    // The three limits count recent attempts by user, by address, and by both.
    index('login_attempts_user_at_idx').on(t.username, t.at),
    index('login_attempts_address_at_idx').on(t.address, t.at),
    // Pruning deletes by age.
    index('login_attempts_at_idx').on(t.at),
    check('login_attempts_outcome_check', oneOf(t.outcome, loginOutcomes)),
  ],
);

export type LoginAttempt = typeof loginAttempts.$inferSelect;
