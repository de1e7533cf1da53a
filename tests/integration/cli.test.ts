import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clsDeployment,
  REPO_ROOT,
  startVigil,
  VIGIL_BIN,
  waitFor,
  writeConfig,
  type RunningVigil,
} from '../helpers/vigil-process.ts';

const run = promisify(execFile);

async function vigilCli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [VIGIL_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('vigil start on a busy port', () => {
  it('says so in one line and exits 1 before opening the database or spawning a replica', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as AddressInfo).port;
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-busy-port-'));
    try {
      const file = writeConfig({ deployments: [clsDeployment()] });
      const res = await vigilCli(['start', '-c', file, '--host', '127.0.0.1', '--port', String(port)], {
        VIGIL_DATA_DIR: dataDir,
      });
      expect(res.code).toBe(1);
      expect(res.stderr.trim()).toBe(
        `vigil: cannot listen on 127.0.0.1:${port}: the address is in use (another vigil, or another program); ` +
          'choose another port with --port N or VIGIL_PORT',
      );
      // Nothing was started: no log line from a replica or the database, and no database files.
      expect(res.stdout).not.toMatch(/replica|listening|database/);
      expect(readdirSync(dataDir)).toEqual([]);
    } finally {
      holder.close();
    }
  });
});

describe('vigil start with execution_provider: auto', () => {
  it('probes the providers once, prints one line on the choice, and no native library noise', async () => {
    const node = await startVigil({ deployments: [clsDeployment({ execution_provider: 'auto', num_replicas: 2 })] });
    try {
      const output = node.lines.join('\n');
      // What ONNX Runtime and Dawn print when CUDA or Vulkan is missing, and the per-replica retries.
      expect(output).not.toMatch(/provider_bridge_ort|Couldn't load Vulkan|trying the next one/);
      const choices = node.lines.filter((l) => l.includes('execution provider for cls: '));
      expect(choices).toHaveLength(1);
      const chosen = (JSON.parse(choices[0]!) as { provider: string }).provider;
      // Ready means one replica runs; the second may still be loading (its provider unknown yet).
      const replicas = async () => (await node.status()).deployments[0]!.versions.flatMap((v) => v.replicas);
      await waitFor(
        async () => (await replicas()).filter((r) => r.state === 'RUNNING').length === 2,
        30_000,
        'both replicas running',
      );
      expect((await replicas()).map((r) => r.provider)).toEqual([chosen, chosen]);
    } finally {
      await node.stop();
    }
  });
});

describe('vigil start with a bad config', () => {
  it('names the path and the value, exits non-zero and starts nothing', async () => {
    const file = writeConfig({
      deployments: [clsDeployment({ max_ongoing_requests: -1, batching: { max_batch_size: 'big' }, colour: 'red' })],
    });
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
    // The machine, as the suite's empty VIGIL_HOST_ROOT shows it: cores known, sensors missing.
    expect(table.stdout).toMatch(/machine: .+, \d+ usable cores; no temperature sensor, no PSI/);
    const json = await vigilCli(['status', '--json', '--url', vigil.url]);
    const doc = JSON.parse(json.stdout);
    expect(doc.deployments[0].versions[0].replicas).toHaveLength(2);
    // A node started with --port is found with --port (on this host), as with --url.
    const byPort = await vigilCli(['status', '--json', '--port', new URL(vigil.url).port], { VIGIL_HOST: '127.0.0.1' });
    expect(byPort.code).toBe(0);
    expect(JSON.parse(byPort.stdout).deployments[0].versions[0].replicas).toHaveLength(2);
  });

  it('answers the same through the bundle that npm install builds as through tsx', async () => {
    // The bundle serves the commands that only talk to a node (scripts/build-bundles.mjs).
    const built = await run(process.execPath, ['scripts/build-bundles.mjs'], { cwd: REPO_ROOT });
    expect(built.stdout).toMatch(/bundled cli\/vigil.ts into dist\/cli/);
    const inputs = JSON.parse(readFileSync(join(REPO_ROOT, 'dist/cli/inputs.json'), 'utf8')) as string[];
    expect(inputs).toContain('cli/vigil.ts');
    expect(inputs).toContain('cli/remote.ts');
    const bundled = await run(process.execPath, [join(REPO_ROOT, 'dist/cli/vigil.mjs'), 'status', '--url', vigil.url]);
    const tsx = await vigilCli(['status', '--url', vigil.url], { VIGIL_BUNDLE: '0' });
    const rows = (out: string) => out.replace(/\d+MiB/g, 'MiB');
    expect(rows(bundled.stdout)).toBe(rows(tsx.stdout));
    expect(bundled.stdout).toMatch(/cls\s+v1\s+cls-v1-\d+\s+RUNNING/);
  });

  it('shutdown drains and stops the node, which exits 0', async () => {
    const res = await vigilCli(['shutdown', '--port', new URL(vigil.url).port], { VIGIL_HOST: '127.0.0.1' });
    expect(res.code).toBe(0);
    expect((await vigil.exited).code).toBe(0);
    const after = await vigilCli(['status', '--url', vigil.url]);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('cannot reach vigil');
  });
});

describe('vigil rollout and vigil weights', () => {
  let vigil: RunningVigil;
  beforeAll(async () => {
    const { model, ...base } = clsDeployment();
    vigil = await startVigil({
      deployments: [
        {
          ...base,
          versions: [
            { version: 'v1', model },
            { version: 'v2', model },
          ],
        },
      ],
    });
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('starts, shows, pauses and aborts a rollout, as the issue spells the command', async () => {
    const started = await vigilCli([
      'rollout',
      'start',
      'cls',
      '--version',
      'v2',
      '--steps',
      '5,25,50,100',
      '--interval',
      '30s',
      '--url',
      vigil.url,
    ]);
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(
      /rollout \d+ of cls: Progressing, canary v2 at 0% \(step 1\/4 of 5,25,50,100, every 30s\), stable v1/,
    );
    const status = await vigilCli(['rollout', 'status', 'cls', '--url', vigil.url]);
    expect(status.stdout).toContain('last decision:');
    expect((await vigilCli(['rollout', 'pause', 'cls', '--url', vigil.url])).stdout).toContain(': Paused,');
    const again = await vigilCli(['rollout', 'start', 'cls', '--version', 'v2', '--url', vigil.url]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('VIGIL_ERR_ROLLOUT_ACTIVE');
    const aborted = await vigilCli(['rollout', 'abort', 'cls', '--url', vigil.url]);
    expect(aborted.stdout).toMatch(/: Aborted, v1 stays stable \(canary v2 retired at step 1\/4 of 5,25,50,100/);
    expect(aborted.stdout).toContain('aborted by');
  });

  it('sets weights by hand, and refuses bad arguments before calling vigil', async () => {
    const set = await vigilCli(['weights', 'set', 'cls', 'v2=30', 'v1=70', '--url', vigil.url]);
    expect(set.code).toBe(0);
    expect(set.stdout.trim()).toBe('cls: v2=30 v1=70');
    expect((await vigilCli(['rollout', 'start', 'cls', '--url', vigil.url])).code).toBe(2);
    expect(
      (await vigilCli(['rollout', 'start', 'cls', '--version', 'v2', '--steps', '5,abc', '--url', vigil.url])).code,
    ).toBe(2);
    expect((await vigilCli(['weights', 'set', 'cls', 'v1', '--url', vigil.url])).stderr).toContain(
      'expected VERSION=WEIGHT',
    );
  });
});
