import { describe, expect, it } from 'vitest';
import { forkWorker } from '../../serving/controller/fork-worker.ts';
import { ingressSchema } from '../../serving/config/schema.ts';

const entry = new URL('../fixtures/report-exec-argv.mjs', import.meta.url);

/** Forks a real cluster worker and returns the execArgv it reports. */
function execArgvOf(heapFloorMb: number): Promise<string[]> {
  const worker = forkWorker(entry, {}, { loadsTypeScript: false, heapFloorMb });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { execArgv: string[] }) => resolve(m.execArgv));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before reporting`)));
  });
}

describe('forkWorker: the heap floor of data-plane processes', () => {
  it('starts a worker with the configured floor on the old generation', async () => {
    const argv = await execArgvOf(96);
    expect(argv).toContain('--initial-old-space-size=96');
  });

  it('leaves V8 its default with 0', async () => {
    const argv = await execArgvOf(0);
    expect(argv.some((a) => a.startsWith('--initial-old-space-size'))).toBe(false);
  });

  it('defaults to 128 MiB and refuses a negative floor', () => {
    expect(ingressSchema.parse({}).heap_floor_mb).toBe(128);
    expect(ingressSchema.safeParse({ heap_floor_mb: -1 }).success).toBe(false);
  });
});
