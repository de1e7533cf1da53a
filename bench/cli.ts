/**
 * How long `vigil status` takes against a running node, as a user types it: the bundled CLI that
 * `npm install` builds (scripts/build-cli.mjs) against the same command run through tsx
 * (VIGIL_CLI_BUNDLE=0), measured in one run. Issue 19's target: <= 0.5 s.
 *
 *   npm run bench:cli            (BENCH_CLI_RUNS, default 15 per variant, after 2 warm-ups)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, get, percentile, ROOT, startServer } from './proc.ts';

const runs = Number(process.env.BENCH_CLI_RUNS ?? 15);
const port = await freePort();
const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-cli-'));
const server = startServer({
  name: 'vigil',
  args: ['bin/vigil.mjs', 'start', '--port', String(port)],
  port,
  env: { VIGIL_DATA_DIR: dataDir },
  ready: async (p) => (await get(p, '/v2/health/ready')).status === 200,
});

/** Wall time of one `vigil status` in ms; it must succeed and name the node. */
function once(bundle: boolean): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['bin/vigil.mjs', 'status', '--port', String(port)], {
    cwd: ROOT,
    env: { ...process.env, VIGIL_CLI_BUNDLE: bundle ? '1' : '0' },
    encoding: 'utf8',
  });
  const ms = performance.now() - t;
  if (r.status !== 0 || !r.stdout.includes(`127.0.0.1:${port}`)) throw new Error(`vigil status failed: ${r.stderr}`);
  return ms;
}

try {
  await server.waitReady();
  // The bundle must be current, or the "bundled" variant would quietly measure tsx.
  execFileSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: ROOT, stdio: 'ignore' });
  const rows: string[] = [];
  for (const bundle of [true, false]) {
    for (let i = 0; i < 2; i++) once(bundle);
    const times = Array.from({ length: runs }, () => once(bundle)).sort((a, b) => a - b);
    const label = bundle ? 'bundled (dist/cli, the default after npm install)' : 'through tsx (VIGIL_CLI_BUNDLE=0)';
    rows.push(`| ${label} | ${runs} | ${percentile(times, 50).toFixed(0)} | ${percentile(times, 90).toFixed(0)} |`);
  }
  console.log('## vigil status latency\n');
  console.log('| CLI | runs | median ms | p90 ms |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) console.log(r);
} finally {
  await server.stop(10_000);
  rmSync(dataDir, { recursive: true, force: true });
}
