// Runbooks, their ordered steps, and the history of the steps that ran. A runbook's steps are
// replaced whole (delete and insert in one transaction), never edited in place, so a step row
// is immutable and an execution's step always means what it meant when it ran.
import { and, arrayContains, asc, count, desc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../client.ts';
import {
  runbookExecutions,
  runbooks,
  runbookSteps,
  type NewRunbookExecution,
  type Runbook,
  type RunbookExecution,
  type RunbookStep,
  type RunbookStepKind,
} from '../schema/index.ts';
import { withTransaction } from '../transaction.ts';

/** A runbook with its steps, by position (1-based). */
export interface RunbookWithSteps {
  runbook: Runbook;
  steps: RunbookStep[];
}

/** What a runbook is made of, as written by the API and the seed. */
export interface RunbookContent {
  title: string;
  bodyMd: string;
  tags: string[];
  alertNames: string[];
  /** In order; stored at positions 1, 2, ... */
  steps: Array<{ title: string; kind: RunbookStepKind; action: Record<string, unknown> | null }>;
}

/** Steps of several runbooks at once, grouped by runbook id, each group in position order. */
async function stepsOf(db: Db, runbookIds: number[]): Promise<Map<number, RunbookStep[]>> {
  const byRunbook = new Map<number, RunbookStep[]>(runbookIds.map((id) => [id, []]));
  if (runbookIds.length === 0) return byRunbook;
  const rows = await db
    .select()
    .from(runbookSteps)
    .where(inArray(runbookSteps.runbookId, runbookIds))
    .orderBy(asc(runbookSteps.runbookId), asc(runbookSteps.position));
  for (const s of rows) byRunbook.get(s.runbookId)!.push(s);
  return byRunbook;
}

/**
 * Runbooks by slug, with their steps; `tag` and `alertName` keep those whose arrays contain the
 * value (`@>`, which the GIN indexes serve).
 */
export async function listRunbooks(
  db: Db,
  params: { tag?: string; alertName?: string } = {},
): Promise<RunbookWithSteps[]> {
  const rows = await db
    .select()
    .from(runbooks)
    .where(
      and(
        params.tag === undefined ? undefined : arrayContains(runbooks.tags, [params.tag]),
        params.alertName === undefined ? undefined : arrayContains(runbooks.alertNames, [params.alertName]),
      ),
    )
    .orderBy(asc(runbooks.slug));
  const steps = await stepsOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((runbook) => ({ runbook, steps: steps.get(runbook.id)! }));
}

/** One runbook with its steps, or undefined. */
export async function getRunbook(db: Db, slug: string): Promise<RunbookWithSteps | undefined> {
  const [runbook] = await db.select().from(runbooks).where(eq(runbooks.slug, slug));
  if (!runbook) return undefined;
  return { runbook, steps: (await stepsOf(db, [runbook.id])).get(runbook.id)! };
}

/** A runbook's executions, newest first. */
export function listRunbookExecutions(db: Db, runbookId: number, limit = 50): Promise<RunbookExecution[]> {
  return db
    .select()
    .from(runbookExecutions)
    .where(eq(runbookExecutions.runbookId, runbookId))
    .orderBy(desc(runbookExecutions.at), desc(runbookExecutions.id))
    .limit(limit);
}

/** One runbook with its steps and its 50 newest executions, or undefined. */
export async function getRunbookDetail(
  db: Db,
  slug: string,
): Promise<(RunbookWithSteps & { executions: RunbookExecution[] }) | undefined> {
  const found = await getRunbook(db, slug);
  if (!found) return undefined;
  return { ...found, executions: await listRunbookExecutions(db, found.runbook.id, 50) };
}

async function insertSteps(tx: Db, runbookId: number, steps: RunbookContent['steps']): Promise<RunbookStep[]> {
  if (steps.length === 0) return [];
  return tx
    .insert(runbookSteps)
    .values(steps.map((s, i) => ({ runbookId, position: i + 1, title: s.title, kind: s.kind, action: s.action })))
    .returning();
}

/** Creates a runbook and its steps; undefined when the slug is taken. */
export function insertRunbook(db: Db, slug: string, content: RunbookContent): Promise<RunbookWithSteps | undefined> {
  return withTransaction(db, async (tx) => {
    const [runbook] = await tx
      .insert(runbooks)
      .values({
        slug,
        title: content.title,
        bodyMd: content.bodyMd,
        tags: content.tags,
        alertNames: content.alertNames,
      })
      .onConflictDoNothing({ target: runbooks.slug })
      .returning();
    if (!runbook) return undefined;
    const steps = await insertSteps(tx, runbook.id, content.steps);
    return { runbook, steps: steps.sort((a, b) => a.position - b.position) };
  });
}

/**
 * Replaces a runbook's title, body, tags, alert names and steps, all or nothing; undefined when
 * no runbook has this slug. Executions of the old steps keep their rows (step_id becomes null).
 */
export function replaceRunbook(db: Db, slug: string, content: RunbookContent): Promise<RunbookWithSteps | undefined> {
  return withTransaction(db, async (tx) => {
    const [runbook] = await tx
      .update(runbooks)
      .set({ title: content.title, bodyMd: content.bodyMd, tags: content.tags, alertNames: content.alertNames })
      .where(eq(runbooks.slug, slug))
      .returning();
    if (!runbook) return undefined;
    await tx.delete(runbookSteps).where(eq(runbookSteps.runbookId, runbook.id));
    const steps = await insertSteps(tx, runbook.id, content.steps);
    return { runbook, steps: steps.sort((a, b) => a.position - b.position) };
  });
}

export type DeleteRunbookResult = { deleted: Runbook } | { missing: true } | { executions: number };

/**
 * Deletes a runbook and its steps. A runbook that has run is kept for its history (the
 * executions' foreign key has no cascade): the result then says how many executions it has.
 */
export function deleteRunbook(db: Db, slug: string): Promise<DeleteRunbookResult> {
  return withTransaction(db, async (tx) => {
    // FOR UPDATE: an execution recorded concurrently waits for this delete (and then fails its
    // foreign key) rather than slipping in between the count and the delete.
    const [runbook] = await tx.select().from(runbooks).where(eq(runbooks.slug, slug)).for('update');
    if (!runbook) return { missing: true } as const;
    const [ran] = await tx
      .select({ n: count() })
      .from(runbookExecutions)
      .where(eq(runbookExecutions.runbookId, runbook.id));
    if (ran && ran.n > 0) return { executions: ran.n };
    await tx.delete(runbooks).where(eq(runbooks.id, runbook.id));
    return { deleted: runbook };
  });
}

/** Appends one execution; pass the transaction that writes its audit row. */
export async function recordRunbookExecution(tx: Db, execution: NewRunbookExecution): Promise<RunbookExecution> {
  const [row] = await tx.insert(runbookExecutions).values(execution).returning();
  return row!;
}
