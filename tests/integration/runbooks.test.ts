import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit } from '../../db/queries/audit.ts';
import {
  deleteRunbook,
  getRunbook,
  getRunbookDetail,
  insertRunbook,
  listRunbooks,
  recordRunbookExecution,
  replaceRunbook,
  type RunbookContent,
} from '../../db/queries/runbooks.ts';
import { withTransaction } from '../../db/transaction.ts';
import { seedRunbookList, seedRunbooks } from '../../serving/runbooks/seed-runbooks.ts';
import { openTestDatabases, type TestDatabase } from '../helpers/test-db.ts';
import { clsDeployment, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';

const SEED_SLUGS = [
  'canary-rolled-back',
  'error-budget-burn',
  'latency-burn',
  'model-load-failure',
  'node-hot',
  'overload',
  'prediction-drift',
  'replica-crash-loop',
  'wrong-answers',
];

async function call(vigil: RunningVigil, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${vigil.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const scaleRunbook = {
  title: 'Scale cls by hand',
  body_md: '# Scale\nAdd replicas when the queue grows.',
  tags: ['capacity', 'test'],
  alert_names: ['TestQueueGrowing'],
  steps: [
    { title: 'Look at the queue', kind: 'note' },
    { title: 'Scale cls', kind: 'action', action: { type: 'scale', deployment: 'cls' } },
  ],
};

describe('runbooks over the control API', () => {
  let vigil: RunningVigil;
  beforeAll(async () => {
    vigil = await startVigil({ deployments: [clsDeployment()] }, { env: { VIGIL_CONSOLE: '0' } });
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('seeds nine runbooks at first start, found by alert name and by tag', async () => {
    const all = await call(vigil, 'GET', '/api/v1/runbooks');
    expect(all.status).toBe(200);
    expect(all.body.runbooks.map((r: any) => r.slug)).toEqual(SEED_SLUGS);
    for (const r of all.body.runbooks) {
      expect(r.body_md.length).toBeGreaterThan(200);
      expect(r.steps.map((s: any) => s.position)).toEqual(r.steps.map((_: unknown, i: number) => i + 1));
      expect(typeof r.created_at).toBe('string');
    }
    const canary = await call(vigil, 'GET', '/api/v1/runbooks?alert=VigilCanaryRolledBack');
    expect(canary.body.runbooks.map((r: any) => r.slug)).toEqual(['canary-rolled-back']);
    // The SLO engine's alert names, as it fires them.
    const burn = await call(vigil, 'GET', '/api/v1/runbooks?alert=VigilErrorBudgetBurnPage');
    expect(burn.body.runbooks.map((r: any) => r.slug)).toEqual(['error-budget-burn', 'latency-burn']);
    const latency = await call(vigil, 'GET', '/api/v1/runbooks?tag=latency&alert=VigilErrorBudgetBurnTicket');
    expect(latency.body.runbooks.map((r: any) => r.slug)).toEqual(['latency-burn']);
    expect((await call(vigil, 'GET', '/api/v1/runbooks?alert=NoSuchAlert')).body.runbooks).toEqual([]);

    const detail = await call(vigil, 'GET', '/api/v1/runbooks/canary-rolled-back');
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      slug: 'canary-rolled-back',
      alert_names: ['VigilCanaryRolledBack'],
      executions: [],
    });
    expect(detail.body.steps.some((s: any) => s.kind === 'action' && s.action.type === 'scale')).toBe(true);
    expect((await call(vigil, 'GET', '/api/v1/runbooks/nope')).body.code).toBe('VIGIL_ERR_NO_SUCH_RESOURCE');
    const seeded = await call(vigil, 'GET', '/api/v1/audit?action=runbook.seed');
    expect(seeded.body.entries).toHaveLength(9);
    expect(seeded.body.entries[0].actor).toBe('vigil');
  });

  it('creates, reads, replaces and deletes a runbook, validating actions and auditing each change', async () => {
    const badType = await call(vigil, 'POST', '/api/v1/runbooks', undefined, {
      ...scaleRunbook,
      steps: [{ title: 'x', kind: 'action', action: { type: 'reboot_the_world' } }],
    });
    expect(badType.status).toBe(400);
    expect(badType.body.code).toBe('VIGIL_ERR_INVALID_BODY');
    expect(badType.body.error).toContain('steps[0].action.type');
    const badField = await call(vigil, 'POST', '/api/v1/runbooks', undefined, {
      ...scaleRunbook,
      steps: [{ title: 'x', kind: 'action', action: { type: 'scale', replicas: -1 } }],
    });
    expect(badField.body.error).toContain('steps[0].action.replicas');
    const noteWithAction = await call(vigil, 'POST', '/api/v1/runbooks', undefined, {
      ...scaleRunbook,
      steps: [{ title: 'x', kind: 'note', action: { type: 'scale' } }],
    });
    expect(noteWithAction.status).toBe(400);
    const actionWithout = await call(vigil, 'POST', '/api/v1/runbooks', undefined, {
      ...scaleRunbook,
      steps: [{ title: 'x', kind: 'action' }],
    });
    expect(actionWithout.status).toBe(400);
    const unknownKey = await call(vigil, 'POST', '/api/v1/runbooks', undefined, { ...scaleRunbook, owner: 'me' });
    expect(unknownKey.status).toBe(400);
    expect(unknownKey.body.error).toContain('owner');
    expect(
      (await call(vigil, 'POST', '/api/v1/runbooks', undefined, { ...scaleRunbook, slug: 'Not A Slug' })).status,
    ).toBe(400);

    const made = await call(vigil, 'POST', '/api/v1/runbooks', undefined, scaleRunbook);
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      slug: 'scale-cls-by-hand',
      title: 'Scale cls by hand',
      tags: ['capacity', 'test'],
      alert_names: ['TestQueueGrowing'],
      steps: [
        { position: 1, title: 'Look at the queue', kind: 'note', action: null },
        { position: 2, title: 'Scale cls', kind: 'action', action: { type: 'scale', deployment: 'cls' } },
      ],
    });
    const taken = await call(vigil, 'POST', '/api/v1/runbooks', undefined, scaleRunbook);
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe('VIGIL_ERR_CONFLICT');
    expect((await call(vigil, 'GET', '/api/v1/runbooks?tag=test')).body.runbooks.map((r: any) => r.slug)).toEqual([
      'scale-cls-by-hand',
    ]);

    const edited = await call(vigil, 'PUT', '/api/v1/runbooks/scale-cls-by-hand', undefined, {
      ...scaleRunbook,
      title: 'Scale cls (edited)',
      tags: ['capacity'],
      steps: [
        { title: 'Silence first', kind: 'action', action: { type: 'silence_alert', duration: '30m' } },
        ...scaleRunbook.steps,
      ],
    });
    expect(edited.status).toBe(200);
    expect(edited.body.slug).toBe('scale-cls-by-hand');
    expect(edited.body.title).toBe('Scale cls (edited)');
    expect(edited.body.steps.map((s: any) => [s.position, s.title])).toEqual([
      [1, 'Silence first'],
      [2, 'Look at the queue'],
      [3, 'Scale cls'],
    ]);
    expect((await call(vigil, 'GET', '/api/v1/runbooks?tag=test')).body.runbooks).toEqual([]);
    expect(
      (await call(vigil, 'PUT', '/api/v1/runbooks/scale-cls-by-hand', undefined, { ...scaleRunbook, slug: 'renamed' }))
        .status,
    ).toBe(400);
    expect((await call(vigil, 'PUT', '/api/v1/runbooks/nope', undefined, scaleRunbook)).status).toBe(404);

    expect((await call(vigil, 'DELETE', '/api/v1/runbooks/scale-cls-by-hand')).status).toBe(204);
    expect((await call(vigil, 'GET', '/api/v1/runbooks/scale-cls-by-hand')).status).toBe(404);
    expect((await call(vigil, 'DELETE', '/api/v1/runbooks/scale-cls-by-hand')).status).toBe(404);

    const audit = (await call(vigil, 'GET', '/api/v1/audit?target=runbook/scale-cls-by-hand')).body.entries as any[];
    expect(audit.map((e) => [e.action, e.actor])).toEqual([
      ['runbook.delete', 'local'],
      ['runbook.update', 'local'],
      ['runbook.create', 'local'],
    ]);
    expect(audit[1].before.title).toBe('Scale cls by hand');
    expect(audit[1].after.title).toBe('Scale cls (edited)');
    expect(audit[0].before.steps).toHaveLength(3);
  });

  it('previews a step against the live state and runs it only when confirmed, recording the execution and both audit rows', async () => {
    expect(
      (await call(vigil, 'POST', '/api/v1/runbooks', undefined, { ...scaleRunbook, slug: 'scale-cls' })).status,
    ).toBe(201);

    const preview = await call(vigil, 'POST', '/api/v1/runbooks/scale-cls/steps/2/preview', undefined, {
      params: { version: 'v1', replicas: 2 },
    });
    expect(preview.status).toBe(200);
    expect(preview.body).toEqual({
      action: { type: 'scale', deployment: 'cls', version: 'v1', replicas: 2 },
      target: 'deployment/cls/v1',
      description: 'Scale cls v1 from 1 to 2 replicas',
      before: { replicas: 1 },
      after: { replicas: 2 },
    });
    const note = await call(vigil, 'POST', '/api/v1/runbooks/scale-cls/steps/1/preview', undefined, {});
    expect(note.status).toBe(400);
    expect(note.body.code).toBe('VIGIL_ERR_INVALID_BODY');
    const override = await call(vigil, 'POST', '/api/v1/runbooks/scale-cls/steps/2/preview', undefined, {
      params: { deployment: 'other', replicas: 2 },
    });
    expect(override.status).toBe(400);
    expect(override.body.error).toContain('params.deployment');
    const missing = await call(vigil, 'POST', '/api/v1/runbooks/scale-cls/steps/2/preview', undefined, {});
    expect(missing.status).toBe(400);
    expect(missing.body.error).toContain('replicas');
    expect((await call(vigil, 'POST', '/api/v1/runbooks/scale-cls/steps/9/preview', undefined, {})).status).toBe(404);

    const unconfirmed = await call(vigil, 'POST', '/api/v1/runbooks/scale-cls/steps/2/run', undefined, {
      params: { version: 'v1', replicas: 2 },
    });
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.body.code).toBe('VIGIL_ERR_CONFIRMATION_REQUIRED');
    expect(
      (await call(vigil, 'POST', '/api/v1/runbooks/scale-cls/steps/1/run', undefined, { confirm: true })).status,
    ).toBe(400);

    const ran = await call(vigil, 'POST', '/api/v1/runbooks/scale-cls/steps/2/run', undefined, {
      params: { version: 'v1', replicas: 2 },
      confirm: true,
    });
    expect(ran.status).toBe(201);
    expect(ran.body).toMatchObject({
      runbook: 'scale-cls',
      step: 2,
      actor: 'local',
      status: 'succeeded',
      request: { step: 2, action: { type: 'scale', deployment: 'cls', version: 'v1', replicas: 2 } },
      result: { deployment: 'cls', version: 'v1', target_replicas: 2 },
    });
    const deployments = (await call(vigil, 'GET', '/api/v1/deployments')).body.deployments as any[];
    expect(
      deployments.find((d) => d.name === 'cls').versions.find((v: any) => v.version === 'v1').target_replicas,
    ).toBe(2);

    const detail = await call(vigil, 'GET', '/api/v1/runbooks/scale-cls');
    expect(detail.body.executions).toEqual([ran.body]);
    const runAudit = (await call(vigil, 'GET', '/api/v1/audit?action=runbook.run&target=runbook/scale-cls')).body
      .entries as any[];
    expect(runAudit).toHaveLength(1);
    expect(runAudit[0]).toMatchObject({
      actor: 'local',
      after: { step: 2, status: 'succeeded', action: { type: 'scale', replicas: 2 } },
    });
    const scaleAudit = (await call(vigil, 'GET', '/api/v1/audit?action=deployment.scale')).body.entries as any[];
    expect(scaleAudit[0]).toMatchObject({
      actor: 'local',
      target: 'deployment/cls/v1',
      before: { replicas: 1 },
      after: { replicas: 2 },
    });

    // A runbook that has run keeps its history: it cannot be deleted, but it can be edited, and
    // the execution still names the step it ran.
    const refused = await call(vigil, 'DELETE', '/api/v1/runbooks/scale-cls');
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('VIGIL_ERR_CONFLICT');
    expect(
      (await call(vigil, 'PUT', '/api/v1/runbooks/scale-cls', undefined, { ...scaleRunbook, steps: [] })).status,
    ).toBe(200);
    expect((await call(vigil, 'GET', '/api/v1/runbooks/scale-cls')).body.executions[0]).toMatchObject({
      id: ran.body.id,
      step: 2,
    });
  });

  it('records a failed run and returns its error', async () => {
    const made = await call(vigil, 'POST', '/api/v1/runbooks', undefined, {
      title: 'Roll cls back',
      body_md: '',
      tags: [],
      alert_names: [],
      steps: [{ title: 'Roll back', kind: 'action', action: { type: 'rollback_rollout', deployment: 'cls' } }],
    });
    expect(made.body.slug).toBe('roll-cls-back');
    const failed = await call(vigil, 'POST', '/api/v1/runbooks/roll-cls-back/steps/1/run', undefined, {
      confirm: true,
    });
    expect(failed.status).toBe(409);
    expect(failed.body.code).toBe('VIGIL_ERR_NO_ACTIVE_ROLLOUT');
    const detail = await call(vigil, 'GET', '/api/v1/runbooks/roll-cls-back');
    expect(detail.body.executions).toHaveLength(1);
    expect(detail.body.executions[0]).toMatchObject({
      step: 1,
      status: 'failed',
      result: { error: 'VIGIL_ERR_NO_ACTIVE_ROLLOUT', message: failed.body.error },
    });
    const audit = (await call(vigil, 'GET', '/api/v1/audit?action=runbook.run&target=runbook/roll-cls-back')).body
      .entries as any[];
    expect(audit[0].after).toMatchObject({
      step: 1,
      status: 'failed',
      action: { type: 'rollback_rollout', deployment: 'cls' },
    });
  });

  it('lets viewers read runbooks but not change or run them', async () => {
    // The first token ends the loopback trust, so make an admin first and the others with it.
    const admin = (await call(vigil, 'POST', '/api/v1/tokens', undefined, { name: 'root', role: 'admin' })).body
      .token as string;
    const operator = (await call(vigil, 'POST', '/api/v1/tokens', admin, { name: 'oncall', role: 'operator' })).body
      .token as string;
    const viewer = (await call(vigil, 'POST', '/api/v1/tokens', admin, { name: 'exec', role: 'viewer' })).body
      .token as string;
    expect((await call(vigil, 'GET', '/api/v1/runbooks')).status).toBe(401);

    expect((await call(vigil, 'GET', '/api/v1/runbooks', viewer)).status).toBe(200);
    expect((await call(vigil, 'GET', '/api/v1/runbooks/scale-cls', viewer)).status).toBe(200);
    const run = await call(vigil, 'POST', '/api/v1/runbooks/roll-cls-back/steps/1/run', viewer, { confirm: true });
    expect(run.status).toBe(403);
    expect(run.body.code).toBe('VIGIL_ERR_FORBIDDEN');
    expect((await call(vigil, 'POST', '/api/v1/runbooks/roll-cls-back/steps/1/preview', viewer, {})).status).toBe(403);
    expect((await call(vigil, 'POST', '/api/v1/runbooks', viewer, { ...scaleRunbook, slug: 'by-viewer' })).status).toBe(
      403,
    );
    expect((await call(vigil, 'DELETE', '/api/v1/runbooks/overload', viewer)).status).toBe(403);

    // An operator runs a step under its own name: scale cls back to one replica.
    const seeded = (await call(vigil, 'GET', '/api/v1/runbooks/overload', operator)).body;
    const scaleStep = seeded.steps.find((s: any) => s.action?.type === 'scale');
    const back = await call(vigil, 'POST', `/api/v1/runbooks/overload/steps/${scaleStep.position}/run`, operator, {
      params: { deployment: 'cls', version: 'v1', replicas: 1 },
      confirm: true,
    });
    expect(back.status).toBe(201);
    expect(back.body).toMatchObject({ runbook: 'overload', actor: 'oncall', status: 'succeeded' });
    await waitFor(
      async () => (await call(vigil, 'GET', '/api/v1/deployments/cls', viewer)).body.versions[0].target_replicas === 1,
      5000,
      'cls to be scaled back',
    );
  });
});

describe('seeded runbooks across restarts', () => {
  it('never overwrites an edit and never brings back a deleted seed runbook', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-data-'));
    const config = { deployments: [clsDeployment()] };
    const opts = { dataDir, waitReady: false, env: { VIGIL_CONSOLE: '0' } };
    let vigil = await startVigil(config, opts);
    try {
      const latency = (await call(vigil, 'GET', '/api/v1/runbooks/latency-burn')).body;
      const put = await call(vigil, 'PUT', '/api/v1/runbooks/latency-burn', undefined, {
        title: 'Our latency runbook',
        body_md: 'ours',
        tags: latency.tags,
        alert_names: latency.alert_names,
        steps: [],
      });
      expect(put.status).toBe(200);
      expect((await call(vigil, 'DELETE', '/api/v1/runbooks/overload')).status).toBe(204);
    } finally {
      await vigil.stop();
    }
    vigil = await startVigil(config, opts);
    try {
      const slugs = (await call(vigil, 'GET', '/api/v1/runbooks')).body.runbooks.map((r: any) => r.slug);
      expect(slugs).toEqual(SEED_SLUGS.filter((s) => s !== 'overload'));
      expect((await call(vigil, 'GET', '/api/v1/runbooks/latency-burn')).body).toMatchObject({
        title: 'Our latency runbook',
        body_md: 'ours',
        steps: [],
      });
    } finally {
      await vigil.stop();
    }
  });
});

describe.each(openTestDatabases())('runbook queries on $name', ({ open }) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await open();
  });
  afterAll(async () => {
    await database?.dispose();
  });

  const content = (over: Partial<RunbookContent> = {}): RunbookContent => ({
    title: 'T',
    bodyMd: '',
    tags: [],
    alertNames: [],
    steps: [
      { title: 'a', kind: 'note', action: null },
      { title: 'b', kind: 'action', action: { type: 'scale' } },
    ],
    ...over,
  });

  it('filters by tag and alert name with array containment', async () => {
    const db = database.db;
    await insertRunbook(db, 'q-one', content({ tags: ['red', 'blue'], alertNames: ['A1'] }));
    await insertRunbook(db, 'q-two', content({ tags: ['blue'], alertNames: ['A1', 'A2'] }));
    await insertRunbook(db, 'q-three', content({ tags: ['green'], alertNames: [] }));
    const slugs = async (p: { tag?: string; alertName?: string }) =>
      (await listRunbooks(db, p)).map((r) => r.runbook.slug);
    expect(await slugs({ tag: 'blue' })).toEqual(['q-one', 'q-two']);
    expect(await slugs({ alertName: 'A2' })).toEqual(['q-two']);
    expect(await slugs({ tag: 'red', alertName: 'A1' })).toEqual(['q-one']);
    expect(await slugs({ tag: 'bl' })).toEqual([]);
    const listed = await listRunbooks(db, { tag: 'green' });
    expect(listed[0]!.steps.map((s) => [s.position, s.title])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect(await insertRunbook(db, 'q-one', content())).toBeUndefined();
  });

  it('replaces a runbook and its steps all or nothing', async () => {
    const db = database.db;
    await insertRunbook(db, 'atomic', content({ title: 'before' }));
    // A step the database refuses (kind outside the check constraint) rolls the whole replace back.
    await expect(
      replaceRunbook(
        db,
        'atomic',
        content({ title: 'after', steps: [{ title: 'x', kind: 'bogus' as 'note', action: null }] }),
      ),
    ).rejects.toThrow();
    const kept = (await getRunbook(db, 'atomic'))!;
    expect(kept.runbook.title).toBe('before');
    expect(kept.steps.map((s) => s.title)).toEqual(['a', 'b']);
    // So does a failure after the replace, in the caller's transaction.
    await expect(
      withTransaction(db, async (tx) => {
        await replaceRunbook(tx, 'atomic', content({ title: 'after', steps: [] }));
        throw new Error('later failure');
      }),
    ).rejects.toThrow('later failure');
    expect((await getRunbook(db, 'atomic'))!.steps).toHaveLength(2);
    const replaced = (await replaceRunbook(
      db,
      'atomic',
      content({ title: 'after', steps: [{ title: 'only', kind: 'note', action: null }] }),
    ))!;
    expect(replaced.runbook.title).toBe('after');
    expect(replaced.steps.map((s) => [s.position, s.title])).toEqual([[1, 'only']]);
    expect(await replaceRunbook(db, 'missing', content())).toBeUndefined();
  });

  it('keeps a runbook that has run, and its executions newest first', async () => {
    const db = database.db;
    const r = (await insertRunbook(db, 'ran', content()))!;
    for (const status of ['failed', 'succeeded']) {
      await recordRunbookExecution(db, {
        runbookId: r.runbook.id,
        stepId: r.steps[1]!.id,
        actor: 't',
        status,
        request: { step: 2 },
        result: null,
      });
    }
    expect(await deleteRunbook(db, 'ran')).toEqual({ executions: 2 });
    // Replacing the steps leaves the executions, now without a step row.
    await replaceRunbook(db, 'ran', content({ steps: [] }));
    const detail = (await getRunbookDetail(db, 'ran'))!;
    expect(detail.executions.map((e) => [e.status, e.stepId])).toEqual([
      ['succeeded', null],
      ['failed', null],
    ]);
    expect(await deleteRunbook(db, 'nothing-here')).toEqual({ missing: true });
    await insertRunbook(db, 'unused', content());
    expect(await deleteRunbook(db, 'unused')).toMatchObject({ deleted: { slug: 'unused' } });
    expect(await getRunbook(db, 'unused')).toBeUndefined();
  });

  it('seeds each runbook once, even after it was deleted', async () => {
    const db = database.db;
    await seedRunbooks(db);
    await seedRunbooks(db);
    const seeded = await listRunbooks(db, {});
    for (const s of seedRunbookList) expect(seeded.filter((r) => r.runbook.slug === s.slug)).toHaveLength(1);
    await withTransaction(db, async (tx) => {
      await deleteRunbook(tx, 'overload');
      await recordAudit(tx, { actor: 't', action: 'runbook.delete', target: 'runbook/overload' });
    });
    await seedRunbooks(db);
    expect(await getRunbook(db, 'overload')).toBeUndefined();
  });
});
