// Column helpers shared by every table, so timestamps and closed-set checks look the same
// everywhere.
import { sql, type SQL } from 'drizzle-orm';
import { timestamp, type PgColumn } from 'drizzle-orm/pg-core';

/** A `timestamptz` column read and written as a `Date`: every vigil timestamp is one. */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** `created_at timestamptz not null default now()`. */
export const createdAt = () => timestamptz('created_at').notNull().defaultNow();

/** `updated_at`, bumped by drizzle on every `update()` (upserts set it explicitly). */
export const updatedAt = () =>
  timestamptz('updated_at')
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());

/**
 * `column IN ('a', 'b')` built from one of the exported const arrays, for a CHECK constraint.
 * The values are inlined (not bound) because drizzle-kit writes the check into DDL.
 */
export function oneOf(column: PgColumn, values: readonly string[]): SQL {
  const list = values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ');
  return sql`${column} in (${sql.raw(list)})`;
}
