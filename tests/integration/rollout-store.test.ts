import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDeploymentState, saveDeploymentState } from '../../db/queries/deployment-state.ts';
import {
  getRollout,
  hasRolloutOf,
  insertRollout,
  listActiveRollouts,
  updateRollout,
} from '../../db/queries/rollouts.ts';
import { withTransaction } from '../../db/transaction.ts';
import { openTestDatabases, type TestDatabase } from '../helpers/test-db.ts';

// The rollout controller's guarantees rest on these: one active rollout per deployment even when
// writers race, compare-and-set status changes, and traffic state written whole or not at all.
describe.each(openTestDatabases())('rollout and traffic state on $name', ({ open }) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await open();
  });
  afterAll(async () => {
    await database?.dispose();
  });

  const rollout = (deployment: string, canary = 'v2') => ({
    deployment,
    stableVersion: 'v1',
    canaryVersion: canary,
    steps: [10, 100],
    intervalSeconds: 30,
    startedBy: 'test',
  });

  it('allows one active rollout per deployment, even when two writers race', async () => {
    const db = database.db;
    const results = await Promise.allSettled([insertRollout(db, rollout('race')), insertRollout(db, rollout('race'))]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const active = (await listActiveRollouts(db)).filter((r) => r.deployment === 'race');
    expect(active).toHaveLength(1);
    // Once it ends, a new one may start.
    expect(
      await updateRollout(db, active[0]!.id, 'Progressing', { status: 'RolledBack', reason: 'test' }),
    ).toBeDefined();
    await expect(insertRollout(db, rollout('race'))).resolves.toMatchObject({ status: 'Progressing' });
    expect(await hasRolloutOf(db, 'race', 'v2')).toBe(true);
    expect(await hasRolloutOf(db, 'race', 'v3')).toBe(false);
  });

  it('changes status only from the status the writer saw', async () => {
    const db = database.db;
    const row = await insertRollout(db, rollout('cas'));
    expect(await updateRollout(db, row.id, 'Progressing', { status: 'Paused' })).toMatchObject({ status: 'Paused' });
    // A second writer that still believes it is Progressing changes nothing.
    expect(await updateRollout(db, row.id, 'Progressing', { status: 'Promoted', canaryWeight: 100 })).toBeUndefined();
    expect(await getRollout(db, row.id)).toMatchObject({ status: 'Paused', canaryWeight: 0 });
    await expect(updateRollout(db, row.id, 'Paused', { canaryWeight: 101 })).rejects.toThrow();
  });

  it('stores a deployment’s versions whole, in order, and drops versions no longer listed', async () => {
    const db = database.db;
    await saveDeploymentState(
      db,
      'cls',
      [
        {
          version: 'v2',
          model: '/m2',
          weight: 10,
          position: 0,
          state: 'active',
          fault: null,
          replicas: null,
          autoscaleTarget: null,
        },
        {
          version: 'v1',
          model: '/m1',
          weight: 90,
          position: 1,
          state: 'active',
          fault: null,
          replicas: null,
          autoscaleTarget: null,
        },
        {
          version: 'v0',
          model: '/m0',
          weight: 0,
          position: 2,
          state: 'retired',
          fault: null,
          replicas: null,
          autoscaleTarget: null,
        },
      ],
      { version: 'v2', percent: 20, tolerance: 0.001 },
    );
    await saveDeploymentState(
      db,
      'cls',
      [
        {
          version: 'v2',
          model: '/m2',
          weight: 100,
          position: 0,
          state: 'active',
          fault: null,
          replicas: null,
          autoscaleTarget: null,
        },
        {
          version: 'v1',
          model: '/m1',
          weight: 0,
          position: 1,
          state: 'retired',
          fault: null,
          replicas: null,
          autoscaleTarget: null,
        },
      ],
      null,
    );
    const state = (await loadDeploymentState(db, 'cls'))!;
    expect(state.versions.map((v) => [v.version, v.weight, v.state])).toEqual([
      ['v2', 100, 'active'],
      ['v1', 0, 'retired'],
    ]);
    expect(state.mirror).toBeNull();
    // A failed transaction leaves the previous state.
    await expect(
      withTransaction(db, async (tx) => {
        await saveDeploymentState(
          tx,
          'cls',
          [
            {
              version: 'v1',
              model: '/m1',
              weight: 100,
              position: 0,
              state: 'active',
              fault: null,
              replicas: null,
              autoscaleTarget: null,
            },
          ],
          null,
        );
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await loadDeploymentState(db, 'cls'))!.versions.map((v) => v.version)).toEqual(['v2', 'v1']);
    await expect(
      saveDeploymentState(
        db,
        'cls',
        [
          {
            version: 'v1',
            model: '/m1',
            weight: -1,
            position: 0,
            state: 'active',
            fault: null,
            replicas: null,
            autoscaleTarget: null,
          },
        ],
        null,
      ),
    ).rejects.toThrow();
  });
});
