import type { Db } from './client.ts';

/** A transaction; it is also a `Db`, so query functions accept either. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/**
 * Runs `fn` in a transaction: committed when `fn` resolves, rolled back when it throws (and
 * the error rethrown). Called with a transaction, it nests as a savepoint.
 */
export function withTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(fn);
}
