import { isDeepStrictEqual } from 'node:util';
import type { z } from 'zod';
import {
  SLUG_MAX,
  type Runbook as RunbookJson,
  type RunbookAction,
  type RunbookExecution as RunbookExecutionJson,
  type runbookInput,
  type runbookRoutes,
  type RunbookStep as RunbookStepJson,
} from '../../contract/control/runbooks.ts';
import {
  deleteRunbook,
  getRunbook,
  getRunbookDetail,
  insertRunbook,
  listRunbooks,
  recordRunbookExecution,
  replaceRunbook,
  type RunbookContent,
  type RunbookWithSteps,
} from '../../db/queries/runbooks.ts';
import type { RunbookExecution, RunbookStep } from '../../db/schema/index.ts';
import { isVigilError, VigilError, type ErrorCode } from '../errors.ts';
import { formatPath } from '../config/load-config.ts';
import { actionSpec, previewAction, runAction, type ActionSpec } from './actions.ts';
import type { ApiContext } from './api-context.ts';
import type { Actor } from './auth.ts';
import { audited } from './audited.ts';
import type { Handlers } from './handler.ts';

/** The slug a title gives: lowercase ASCII, every run of other characters one "-", at most 63. */
export function slugFromTitle(title: string): string {
  return title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents off: "Café" → "cafe"
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, SLUG_MAX)
    .replace(/-+$/, '');
}

function contentOf(b: z.output<typeof runbookInput>): RunbookContent {
  return {
    title: b.title,
    bodyMd: b.body_md,
    tags: b.tags,
    alertNames: b.alert_names,
    steps: b.steps.map((s) => ({ title: s.title, kind: s.kind, action: s.kind === 'action' ? s.action : null })),
  };
}

function stepJson(s: RunbookStep): RunbookStepJson {
  return { position: s.position, title: s.title, kind: s.kind, action: (s.action as RunbookAction | null) ?? null };
}

function runbookJson({ runbook, steps }: RunbookWithSteps): RunbookJson {
  return {
    slug: runbook.slug,
    title: runbook.title,
    body_md: runbook.bodyMd,
    tags: runbook.tags,
    alert_names: runbook.alertNames,
    steps: steps.map(stepJson),
    created_at: runbook.createdAt.toISOString(),
    updated_at: runbook.updatedAt.toISOString(),
  };
}

function executionJson(e: RunbookExecution, runbookSlug: string): RunbookExecutionJson {
  // The position is kept in the request: a step replaced by an edit no longer has a row
  // (step_id is then null), but the execution still says which step it was when it ran.
  const step = e.request.step;
  return {
    id: e.id,
    runbook: runbookSlug,
    step: typeof step === 'number' ? step : null,
    actor: e.actor,
    status: e.status === 'succeeded' ? 'succeeded' : 'failed',
    request: e.request,
    result: e.result ?? null,
    at: e.at.toISOString(),
  };
}

async function mustGet(ctx: ApiContext, runbookSlug: string): Promise<RunbookWithSteps> {
  const found = await getRunbook(ctx.plane.database.db, runbookSlug);
  if (!found) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `runbook "${runbookSlug.slice(0, 100)}"`);
  return found;
}

/** The runbook's action step at `position`, or a 404 (no such step) or 400 (a note). */
async function actionStep(
  ctx: ApiContext,
  runbookSlug: string,
  position: number,
): Promise<{ runbook: RunbookWithSteps; step: RunbookStep & { action: Record<string, unknown> } }> {
  const runbook = await mustGet(ctx, runbookSlug);
  const step = runbook.steps.find((s) => s.position === position);
  if (!step)
    throw new VigilError(
      'VIGIL_ERR_NO_SUCH_RESOURCE',
      `runbook "${runbookSlug}" has no step ${position} (it has ${runbook.steps.length})`,
    );
  if (step.kind !== 'action' || !step.action)
    throw new VigilError(
      'VIGIL_ERR_INVALID_BODY',
      `step ${position} of "${runbookSlug}" is a note; only action steps can be previewed or run`,
    );
  return { runbook, step: step as RunbookStep & { action: Record<string, unknown> } };
}

/**
 * The step's action with the caller's parameters filled in. A parameter may only fill a field
 * the step leaves out (or repeat the step's own value): what the runbook's author fixed stays fixed.
 */
export function mergeAction(stepAction: Record<string, unknown>, given: Partial<ActionSpec> | undefined): ActionSpec {
  const merged: Record<string, unknown> = { ...stepAction };
  const fixed: string[] = [];
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value === undefined) continue;
    if (stepAction[key] !== undefined && stepAction[key] !== null) {
      if (!isDeepStrictEqual(stepAction[key], value)) fixed.push(key);
      continue;
    }
    merged[key] = value;
  }
  if (fixed.length > 0)
    throw new VigilError(
      'VIGIL_ERR_INVALID_BODY',
      fixed.map((k) => `params.${k}: the step fixes "${k}"; it cannot be overridden`).join('; '),
    );
  const result = actionSpec.safeParse(merged);
  if (!result.success)
    throw new VigilError(
      'VIGIL_ERR_INVALID_BODY',
      result.error.issues.map((i) => `action.${formatPath(i.path)}: ${i.message}`).join('; '),
    );
  return result.data;
}

/** Runs the step's action, then records the execution and its audit row; a failure is recorded and rethrown. */
async function runStep(
  ctx: ApiContext,
  actor: Actor,
  runbook: RunbookWithSteps,
  step: RunbookStep,
  spec: ActionSpec,
  given: Partial<ActionSpec>,
): Promise<RunbookExecutionJson> {
  let outcome:
    | { ok: true; result: Record<string, unknown> }
    | { ok: false; err: unknown; code: ErrorCode; message: string };
  try {
    outcome = { ok: true, result: await runAction(ctx, actor, spec) };
  } catch (err) {
    // An unknown error keeps its message out of the record, as out of the response.
    outcome = isVigilError(err)
      ? { ok: false, err, code: err.code, message: err.message }
      : { ok: false, err, code: 'VIGIL_ERR_INTERNAL', message: 'internal error' };
  }
  const status = outcome.ok ? 'succeeded' : 'failed';
  const slugOf = runbook.runbook.slug;
  const row = await audited(ctx, actor, 'runbook.run', `runbook/${slugOf}`, async (tx) => {
    const execution = await recordRunbookExecution(tx, {
      runbookId: runbook.runbook.id,
      stepId: step.id,
      actor: actor.name,
      status,
      request: { step: step.position, title: step.title, action: spec, params: given },
      // JSON round trip: the action's result may hold Dates (a rollout row); store what the API showed.
      result: outcome.ok
        ? (JSON.parse(JSON.stringify(outcome.result)) as Record<string, unknown>)
        : { error: outcome.code, message: outcome.message },
    });
    return { after: { step: step.position, action: spec, status }, result: execution };
  });
  if (!outcome.ok) throw outcome.err;
  return executionJson(row, slugOf);
}

/**
 * Runbooks: list, read, create, edit, delete, and preview or run an action step. A step runs
 * through the same functions as the API's own actions (serving/api/actions.ts), which write
 * their own audit rows; the run adds a runbook_executions row and a `runbook.run` audit row.
 */
export const runbookHandlers: Handlers<typeof runbookRoutes> = {
  listRunbooks: async ({ ctx, query }) => {
    const found = await listRunbooks(ctx.plane.database.db, {
      tag: query.tag || undefined,
      alertName: query.alert || undefined,
    });
    return { runbooks: found.map(runbookJson) };
  },
  createRunbook: async ({ ctx, actor, body: b }) => {
    const newSlug = b.slug ?? slugFromTitle(b.title);
    if (!newSlug)
      throw new VigilError(
        'VIGIL_ERR_INVALID_BODY',
        'slug: the title has no letter or digit to make a slug from; give a slug',
      );
    return audited(ctx, actor, 'runbook.create', `runbook/${newSlug}`, async (tx) => {
      const made = await insertRunbook(tx, newSlug, contentOf(b));
      if (!made)
        throw new VigilError('VIGIL_ERR_CONFLICT', `a runbook with the slug "${newSlug}" exists; give another slug`);
      const json = runbookJson(made);
      return { after: json, result: json };
    });
  },
  getRunbook: async ({ ctx, params: { slug } }) => {
    const found = await getRunbookDetail(ctx.plane.database.db, slug);
    if (!found) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `runbook "${slug.slice(0, 100)}"`);
    return {
      ...runbookJson(found),
      executions: found.executions.map((e) => executionJson(e, found.runbook.slug)),
    };
  },
  replaceRunbook: async ({ ctx, actor, params: { slug }, body: b }) => {
    if (b.slug !== undefined && b.slug !== slug)
      throw new VigilError(
        'VIGIL_ERR_INVALID_BODY',
        `slug: a runbook keeps its slug ("${slug.slice(0, 100)}"); create a new one to change it`,
      );
    return audited(ctx, actor, 'runbook.update', `runbook/${slug}`, async (tx) => {
      const before = await getRunbook(tx, slug);
      if (!before) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `runbook "${slug.slice(0, 100)}"`);
      const after = runbookJson((await replaceRunbook(tx, slug, contentOf(b)))!);
      return { before: runbookJson(before), after, result: after };
    });
  },
  deleteRunbook: async ({ ctx, actor, params: { slug } }) => {
    await audited(ctx, actor, 'runbook.delete', `runbook/${slug}`, async (tx) => {
      const before = await getRunbook(tx, slug);
      const r = await deleteRunbook(tx, slug);
      if ('missing' in r) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `runbook "${slug.slice(0, 100)}"`);
      if ('executions' in r)
        throw new VigilError(
          'VIGIL_ERR_CONFLICT',
          `runbook "${slug}" has run ${r.executions} time(s) and is kept for that history; edit it instead`,
        );
      return { before: before ? runbookJson(before) : null, result: undefined };
    });
  },
  previewStep: async ({ ctx, params: { slug, position }, body }) => {
    const { step } = await actionStep(ctx, slug, position);
    return previewAction(ctx, mergeAction(step.action, body.params));
  },
  runStep: async ({ ctx, actor, params: { slug, position }, body: b }) => {
    if (b.confirm !== true)
      throw new VigilError('VIGIL_ERR_CONFIRMATION_REQUIRED', 'preview the step, then send "confirm": true to run it');
    const { runbook, step } = await actionStep(ctx, slug, position);
    const spec = mergeAction(step.action, b.params);
    return runStep(ctx, actor, runbook, step, spec, b.params ?? {});
  },
};
