/**
 * How long `vigil status` takes against a running node, as a user types it: the bundled CLI that
 * `npm install` builds (scripts/build-bundles.mjs) against the same command run through tsx
 * (VIGIL_BUNDLE=0) and through npx, measured in one run. Issue 19's target: <= 0.5 s.
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

type Variant = 'bundled' | 'tsx' | 'npx';

/** Wall time of one `vigil status` in ms; it must succeed and name the node. */
function once(variant: Variant): number {
  const t = performance.now();
  const args = ['status', '--port', String(port)];
  const [cmd, argv] = variant === 'npx' ? ['npx', ['vigil', ...args]] : [process.execPath, ['bin/vigil.mjs', ...args]];
  const r = spawnSync(cmd as string, argv as string[], {
    cwd: ROOT,
    env: { ...process.env, VIGIL_BUNDLE: variant === 'tsx' ? '0' : '1' },
    encoding: 'utf8',
  });
  const ms = performance.now() - t;
  if (r.status !== 0 || !r.stdout.includes(`127.0.0.1:${port}`)) throw new Error(`vigil status failed: ${r.stderr}`);
  return ms;
}

try {
  await server.waitReady();
  // The bundle must be current, or the "bundled" variant would quietly measure tsx.
  execFileSync(process.execPath, ['scripts/build-bundles.mjs'], { cwd: ROOT, stdio: 'ignore' });
  const rows: string[] = [];
  const labels: Record<Variant, string> = {
    bundled: '`vigil status` (on the PATH, or node bin/vigil.mjs): the bundle npm install built',
    tsx: 'the same through tsx (VIGIL_BUNDLE=0)',
    npx: '`npx vigil status` (npm starting first, then the bundle)',
  };
  for (const variant of ['bundled', 'tsx', 'npx'] as const) {
    for (let i = 0; i < 2; i++) once(variant);
    const times = Array.from({ length: runs }, () => once(variant)).sort((a, b) => a - b);
    const label = labels[variant];
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
