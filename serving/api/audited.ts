import { recordAudit } from '../../db/queries/audit.ts';
import { withTransaction } from '../../db/transaction.ts';
import type { Db } from '../../db/client.ts';
import type { ControlPlane } from '../control-plane.ts';
import type { Actor } from './auth.ts';

/** Runs a change and its audit row in one transaction. */
export async function audited<T>(
  ctx: { plane: ControlPlane },
  actor: Actor,
  action: string,
  target: string,
  change: (tx: Db) => Promise<{ before?: unknown; after?: unknown; result: T }>,
): Promise<T> {
  return withTransaction(ctx.plane.database.db, async (tx) => {
    const { before, after, result } = await change(tx);
    await recordAudit(tx, { actor: actor.name, action, target, before: before ?? null, after: after ?? null });
    return result;
  });
}
