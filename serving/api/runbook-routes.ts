import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type {
  Runbook as RunbookJson,
  RunbookAction,
  RunbookDetail,
  RunbookExecution as RunbookExecutionJson,
  RunbookStep as RunbookStepJson,
} from '../../contract/runbooks.ts';
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
import { sendJson } from '../ingress/error-response.ts';
import { actionSpec, previewAction, runAction, type ActionSpec } from './actions.ts';
import type { ApiContext, Route } from './api-routes.ts';
import { authorize, type Actor } from './auth.ts';
import { audited } from './audited.ts';
import { readJson } from './read-json.ts';

/** Slugs are URL path segments: lowercase letters and digits in words joined by single dashes. */
const SLUG_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const SLUG_MAX = 63;

const slug = z
  .string()
  .max(SLUG_MAX)
  .regex(SLUG_RE, { error: 'lowercase letters and digits, words joined by single "-"' });
/** Tags and alert names: trimmed, non-empty, without duplicates (order kept). */
const labels = z
  .array(z.string().trim().min(1).max(200))
  .max(50)
  .transform((a) => [...new Set(a)]);

const stepInput = z.discriminatedUnion('kind', [
  z.strictObject({ title: z.string().trim().min(1).max(300), kind: z.literal('note'), action: z.null().optional() }),
  // Validated with the same schema the action runs through, so a saved step can always be run
  // once its missing fields are given.
  z.strictObject({ title: z.string().trim().min(1).max(300), kind: z.literal('action'), action: actionSpec }),
]);

/** RunbookInput (contract/runbooks.ts). */
const runbookInput = z.strictObject({
  slug: slug.optional(),
  title: z.string().trim().min(1).max(200),
  body_md: z.string().max(200_000),
  tags: labels,
  alert_names: labels,
  steps: z.array(stepInput).max(100),
});
type RunbookInputBody = z.infer<typeof runbookInput>;

/** Fields a caller gives when the step leaves them out; `type` is always the step's. */
const params = actionSpec.partial();
const previewBody = z.strictObject({ params: params.optional() });
const runBody = z.strictObject({ params: params.optional(), confirm: z.boolean().optional() });

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

function contentOf(b: RunbookInputBody): RunbookContent {
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
export const runbookRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/api\/v1\/runbooks$/,
    template: '/api/v1/runbooks',
    handler: async (req, res, ctx, _p, url) => {
      await authorize(req, ctx.plane, 'viewer');
      const tag = url.searchParams.get('tag') || undefined;
      const alertName = url.searchParams.get('alert') || undefined;
      const found = await listRunbooks(ctx.plane.database.db, { tag, alertName });
      sendJson(res, 200, { runbooks: found.map(runbookJson) });
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/runbooks$/,
    template: '/api/v1/runbooks',
    handler: async (req, res, ctx) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      const b = await readJson(req, runbookInput);
      const newSlug = b.slug ?? slugFromTitle(b.title);
      if (!newSlug)
        throw new VigilError(
          'VIGIL_ERR_INVALID_BODY',
          'slug: the title has no letter or digit to make a slug from; give a slug',
        );
      const created = await audited(ctx, actor, 'runbook.create', `runbook/${newSlug}`, async (tx) => {
        const made = await insertRunbook(tx, newSlug, contentOf(b));
        if (!made)
          throw new VigilError('VIGIL_ERR_CONFLICT', `a runbook with the slug "${newSlug}" exists; give another slug`);
        const json = runbookJson(made);
        return { after: json, result: json };
      });
      sendJson(res, 201, created);
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/runbooks\/([^/]+)$/,
    template: '/api/v1/runbooks/{slug}',
    handler: async (req, res, ctx, [runbookSlug]) => {
      await authorize(req, ctx.plane, 'viewer');
      const found = await getRunbookDetail(ctx.plane.database.db, runbookSlug!);
      if (!found) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `runbook "${runbookSlug!.slice(0, 100)}"`);
      const detail: RunbookDetail = {
        ...runbookJson(found),
        executions: found.executions.map((e) => executionJson(e, found.runbook.slug)),
      };
      sendJson(res, 200, detail);
    },
  },
  {
    method: 'PUT',
    pattern: /^\/api\/v1\/runbooks\/([^/]+)$/,
    template: '/api/v1/runbooks/{slug}',
    handler: async (req, res, ctx, [runbookSlug]) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      const b = await readJson(req, runbookInput);
      if (b.slug !== undefined && b.slug !== runbookSlug)
        throw new VigilError(
          'VIGIL_ERR_INVALID_BODY',
          `slug: a runbook keeps its slug ("${runbookSlug!.slice(0, 100)}"); create a new one to change it`,
        );
      const updated = await audited(ctx, actor, 'runbook.update', `runbook/${runbookSlug}`, async (tx) => {
        const before = await getRunbook(tx, runbookSlug!);
        if (!before) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `runbook "${runbookSlug!.slice(0, 100)}"`);
        const after = runbookJson((await replaceRunbook(tx, runbookSlug!, contentOf(b)))!);
        return { before: runbookJson(before), after, result: after };
      });
      sendJson(res, 200, updated);
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/api\/v1\/runbooks\/([^/]+)$/,
    template: '/api/v1/runbooks/{slug}',
    handler: async (req, res, ctx, [runbookSlug]) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      await audited(ctx, actor, 'runbook.delete', `runbook/${runbookSlug}`, async (tx) => {
        const before = await getRunbook(tx, runbookSlug!);
        const r = await deleteRunbook(tx, runbookSlug!);
        if ('missing' in r)
          throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `runbook "${runbookSlug!.slice(0, 100)}"`);
        if ('executions' in r)
          throw new VigilError(
            'VIGIL_ERR_CONFLICT',
            `runbook "${runbookSlug}" has run ${r.executions} time(s) and is kept for that history; edit it instead`,
          );
        return { before: before ? runbookJson(before) : null, result: undefined };
      });
      res.writeHead(204).end();
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/runbooks\/([^/]+)\/steps\/(\d{1,6})\/preview$/,
    template: '/api/v1/runbooks/{slug}/steps/{position}/preview',
    handler: async (req, res, ctx, [runbookSlug, position]) => {
      await authorize(req, ctx.plane, 'operator');
      const b = await readJson(req, previewBody);
      const { step } = await actionStep(ctx, runbookSlug!, Number(position));
      sendJson(res, 200, await previewAction(ctx, mergeAction(step.action, b.params)));
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/runbooks\/([^/]+)\/steps\/(\d{1,6})\/run$/,
    template: '/api/v1/runbooks/{slug}/steps/{position}/run',
    handler: async (req, res, ctx, [runbookSlug, position]) => {
      const actor = await authorize(req, ctx.plane, 'operator');
      const b = await readJson(req, runBody);
      if (b.confirm !== true)
        throw new VigilError(
          'VIGIL_ERR_CONFIRMATION_REQUIRED',
          'preview the step, then send "confirm": true to run it',
        );
      const { runbook, step } = await actionStep(ctx, runbookSlug!, Number(position));
      const spec = mergeAction(step.action, b.params);
      sendJson(res, 201, await runStep(ctx, actor, runbook, step, spec, b.params ?? {}));
    },
  },
];
