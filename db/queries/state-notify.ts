// Change notifications between nodes: every write to shared state notifies the `vigil_state`
// channel inside its own transaction, so the notice is delivered when (and only if) the change
// commits. Nodes listen (serving/cluster/state-listener.ts) and reload what changed.
import { sql } from 'drizzle-orm';
import type { Db } from '../client.ts';

export const STATE_CHANNEL = 'vigil_state';

/** What changed: the receiver reloads that part of the shared state from the database. */
export type StateNotice =
  | { kind: 'deployment'; name: string }
  | { kind: 'slos' }
  | { kind: 'rollouts'; deployment: string };

export async function notifyState(tx: Db, notice: StateNotice): Promise<void> {
  await tx.execute(sql`select pg_notify(${STATE_CHANNEL}, ${JSON.stringify(notice)})`);
}

/** Parses a notice's payload; undefined for anything vigil did not send. */
export function parseStateNotice(payload: string): StateNotice | undefined {
  try {
    const n = JSON.parse(payload) as Partial<StateNotice> & Record<string, unknown>;
    if (n.kind === 'deployment' && typeof n.name === 'string') return { kind: 'deployment', name: n.name };
    if (n.kind === 'slos') return { kind: 'slos' };
    if (n.kind === 'rollouts' && typeof n.deployment === 'string')
      return { kind: 'rollouts', deployment: n.deployment };
  } catch {
    // not JSON: not ours
  }
  return undefined;
}
