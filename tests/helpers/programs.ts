import { execFileSync } from 'node:child_process';

/**
 * Whether an outside program (promtool, prometheus, chromium) is installed. When it is missing
 * on a user's machine the calling test is skipped with a printed reason; under CI its absence is
 * an error, because .ci/run installs it.
 */
export function haveProgram(name: string, why: string): boolean {
  let found = true;
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
  } catch {
    found = false;
  }
  if (found) return true;
  if (process.env.CI) throw new Error(`${name} is required under CI (${why}); .ci/run should have installed it`);
  console.warn(
    `skipping: ${name} is not installed (${why}); install it with: apt-get install ${name === 'promtool' ? 'prometheus' : name}`,
  );
  return false;
}
