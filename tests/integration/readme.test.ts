import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.ts';
import { REPO_ROOT, waitFor } from '../helpers/vigil-process.ts';

const run = promisify(execFile);

/** The shell code blocks of README.md, in order, each with the line of text before it. */
function shellBlocks(markdown: string): Array<{ before: string; code: string }> {
  const out: Array<{ before: string; code: string }> = [];
  const re = /([^\n]*)\n+```sh\n([\s\S]*?)\n```/g;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) out.push({ before: m[1]!.trim(), code: m[2]! });
  return out;
}

/**
 * Issue 19: the README runs as written. Its quick start starts the node with `npm start`, and its
 * "Try it" block runs, in order, as one shell script against that node. The one change is the
 * port, 8000 in the README, which becomes a free one here so that the test cannot collide with
 * anything on the machine; the state goes to a fresh data directory.
 */
describe('README.md', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const blocks = shellBlocks(readme);

  it('quick start: npm start serves, and the "Try it" commands work in order', async () => {
    const quickStart = blocks.find((b) => b.before === '## Quick start');
    expect(quickStart?.code).toMatch(/^npm install && npm start\s/m);
    const tryIt = blocks.find((b) => b.before === 'Try it:');
    expect(tryIt).toBeDefined();
    const port = await freePort();
    const script = tryIt!.code
      .replaceAll('localhost:8000', `localhost:${port}`)
      .replaceAll('127.0.0.1:8000', `127.0.0.1:${port}`);
    expect(script).not.toContain('8000');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      VIGIL_PORT: String(port),
      VIGIL_DATA_DIR: mkdtempSync(join(tmpdir(), 'vigil-readme-')),
    };
    const node = spawn('npm', ['start'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    node.stdout.on('data', (d) => (log += d));
    node.stderr.on('data', (d) => (log += d));
    const exited = new Promise<number | null>((resolve) => node.on('exit', (code) => resolve(code)));
    try {
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/v2/health/ready`)).ok,
        60_000,
        `npm start to serve:\n${log}`,
      );
      const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
        cwd: REPO_ROOT,
        env,
        timeout: 60_000,
      });
      // One line or table per command of the block, in its order.
      const marks = [
        /"name":"cls"/, // the model's metadata
        /"outputs":\[\{"name":"softmax_0\.tmp_0"/, // the inference
        /cls\s+v1\s+cls-v1-\d+\s+RUNNING/, // vigil status
        /^vigil_requests_total\{[^}]*deployment="cls"[^}]*\} [1-9]/m, // the request, counted
        /"slos":\[/, // the SLOs
        /is draining and will stop/, // vigil shutdown
      ];
      let from = 0;
      for (const mark of marks) {
        const at = stdout.slice(from).search(mark);
        expect(at, `${mark} after offset ${from} in:\n${stdout}`).toBeGreaterThanOrEqual(0);
        from += at;
      }
      expect(await exited).toBe(0);
    } finally {
      node.kill('SIGTERM');
    }
  }, 120_000);
});
