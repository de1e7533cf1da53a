import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLS_MODEL, REPO_ROOT, startVigil, VIGIL_BIN, type RunningVigil } from '../helpers/vigil-process.ts';

const run = promisify(execFile);

/** The CLI as a user runs it: no --url, no --port, no VIGIL_DATA_DIR; only -c. */
async function vigilCli(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.VIGIL_DATA_DIR;
  delete env.VIGIL_PORT;
  try {
    const { stdout, stderr } = await run(process.execPath, [VIGIL_BIN, ...args], {
      cwd: REPO_ROOT,
      env,
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The two configs a newcomer tries one after the other, as files side by side in one folder. */
function examples(dir: string): { canary: string; plain: string } {
  const model = (text: string) =>
    text
      .replaceAll(/model: \S+\.onnx/g, `model: ${CLS_MODEL}`)
      .replaceAll('request_file: examples/', `request_file: ${REPO_ROOT}/examples/`);
  const canary = join(dir, 'canary.yaml');
  writeFileSync(canary, model(readFileSync(join(REPO_ROOT, 'examples/canary/vigil.yaml'), 'utf8')));
  const plain = join(dir, 'vigil.yaml');
  writeFileSync(plain, model(readFileSync(join(REPO_ROOT, 'vigil.yaml'), 'utf8')));
  return { canary, plain };
}

/**
 * Issue 19: each config keeps its own state beside it, so the canary example leaves nothing in
 * the default config's node, and the CLI finds the node that `vigil start -c FILE` recorded.
 */
describe('state per config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-first-run-'));
  const { canary, plain } = examples(dir);
  let node: RunningVigil | undefined;
  afterAll(async () => {
    await node?.stop();
  });

  it('keeps the canary example apart from the default config, and the CLI finds each node by -c', async () => {
    node = await startVigil(canary, { configFile: true, dataDir: null });
    expect(node.lines.join('\n')).toContain(`state of ${canary} in ${join(dir, '.vigil-canary')}`);
    const recorded = JSON.parse(readFileSync(join(dir, '.vigil-canary/node.json'), 'utf8')) as { url: string };
    expect(recorded.url).toBe(node.url);

    // Found without --port: the record in the config's data directory names the node.
    const status = await vigilCli(['status', '-c', canary, '--json']);
    expect(status.code).toBe(0);
    const versions = (
      JSON.parse(status.stdout) as { deployments: { versions: { version: string }[] }[] }
    ).deployments[0]!.versions.map((v) => v.version);
    expect(versions).toEqual(['v1', 'v2']);
    const started = await vigilCli(['rollout', 'start', 'cls', '--version', 'v2', '-c', canary]);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const aborted = await vigilCli(['rollout', 'abort', 'cls', '-c', canary]);
    expect(aborted.code).toBe(0);
    const shutdown = await vigilCli(['shutdown', '-c', canary]);
    expect(shutdown.stdout).toContain(node.url);
    expect(await node.exited).toEqual({ code: 0, signal: null });
    // A node that stopped leaves no record behind for the next command to trust.
    expect(existsSync(join(dir, '.vigil-canary/node.json'))).toBe(false);

    node = await startVigil(plain, { configFile: true, dataDir: null });
    expect(node.lines.join('\n')).toContain(`in ${join(dir, '.vigil')}`);
    const get = async (path: string) => (await fetch(`${node!.url}${path}`)).json();
    const rollouts = (await get('/api/v1/rollouts')) as { rollouts: unknown[] };
    expect(rollouts.rollouts).toEqual([]);
    const audit = (await get('/api/v1/audit')) as { entries: { action: string }[] };
    expect(audit.entries.map((e) => e.action).filter((a) => a.startsWith('rollout.'))).toEqual([]);
    const deployment = (await get('/api/v1/deployments/cls')) as { versions: { version: string }[] };
    expect(deployment.versions.map((v) => v.version)).toEqual(['v1']);
    const plainStatus = await vigilCli(['status', '-c', plain]);
    expect(plainStatus.stdout).toContain(node.url);
    expect(plainStatus.stdout).not.toContain('v2');
  });
});

describe('a deployment removed from the config', () => {
  it('keeps its SLO readable, marked as no longer served', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-removed-'));
    const deployment = (name: string) => ({
      name,
      model: CLS_MODEL,
      execution_provider: 'cpu',
      num_replicas: 1,
      slos: [{ kind: 'availability', objective: 0.99 }],
    });
    let node = await startVigil({ deployments: [deployment('old'), deployment('kept')] }, { dataDir });
    await node.stop();
    node = await startVigil({ deployments: [deployment('kept')] }, { dataDir });
    try {
      const { slos } = (await (await fetch(`${node.url}/api/v1/slos`)).json()) as {
        slos: { deployment: string; deployment_served: boolean }[];
      };
      const served = Object.fromEntries(slos.map((s) => [s.deployment, s.deployment_served]));
      expect(served).toEqual({ old: false, kept: true });
    } finally {
      await node.stop();
    }
  });
});
