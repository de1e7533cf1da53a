import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clsDeployment, REPO_ROOT, startVigil, VIGIL_BIN, writeConfig, type RunningVigil } from '../helpers/vigil-process.ts';

const run = promisify(execFile);

async function vigilCli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [VIGIL_BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('vigil start with a bad config', () => {
  it('names the path and the value, exits non-zero and starts nothing', async () => {
    const file = writeConfig({ deployments: [clsDeployment({ max_ongoing_requests: -1, batching: { max_batch_size: 'big' }, colour: 'red' })] });
    const res = await vigilCli(['start', '-c', file, '--port', '0']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('deployments[0].max_ongoing_requests: expected a positive integer, got -1');
    expect(res.stderr).toContain('deployments[0].batching.max_batch_size: expected a positive integer, got "big"');
    expect(res.stderr).toContain('deployments[0].colour: unknown key');
    expect(res.stdout).not.toContain('listening');
  });

  it('reports a missing model file and a missing config file', async () => {
    const file = writeConfig({ deployments: [clsDeployment({ model: './nowhere.onnx' })] });
    const res = await vigilCli(['start', '-c', file]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/deployments\[0\]\.model: file not found, got ".*nowhere\.onnx"/);
    const missing = await vigilCli(['start'], { VIGIL_CONFIG: '/nonexistent/vigil.yaml' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('config file not found: /nonexistent/vigil.yaml');
  });

  it('rejects a bad --port', async () => {
    const res = await vigilCli(['start', '--port', 'eighty']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--port');
  });
});

describe('vigil status and shutdown', () => {
  let vigil: RunningVigil;
  beforeAll(async () => {
    vigil = await startVigil({ deployments: [clsDeployment({ num_replicas: 2 })] });
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('status lists replicas with state, pid, ongoing, queued, memory and provider', async () => {
    const table = await vigilCli(['status', '--url', vigil.url]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/DEPLOYMENT\s+VERSION\s+REPLICA\s+STATE\s+PID\s+ONGOING\s+QUEUED\s+RSS\s+PROVIDER/);
    expect(table.stdout.match(/cls\s+v1\s+cls-v1-\d+\s+RUNNING\s+\d+\s+0\s+0\s+\d+MiB\s+cpu/g)?.length).toBe(2);
    const json = await vigilCli(['status', '--json', '--url', vigil.url]);
    const doc = JSON.parse(json.stdout);
    expect(doc.deployments[0].versions[0].replicas).toHaveLength(2);
  });

  it('shutdown drains and stops the node, which exits 0', async () => {
    const res = await vigilCli(['shutdown', '--url', vigil.url]);
    expect(res.code).toBe(0);
    expect((await vigil.exited).code).toBe(0);
    const after = await vigilCli(['status', '--url', vigil.url]);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('cannot reach vigil');
  });
});
