import { afterEach, describe, expect, it } from 'vitest';
import { getJson, startLoad } from '../helpers/load.ts';
import { parseSamples, sampleValue, scrape } from '../helpers/metrics-text.ts';
import { clsInput, inferJson } from '../helpers/tensors.ts';
import { clsDeployment, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';

interface VersionDoc {
  target_replicas: number;
  replicas: { state: string }[];
  autoscaling: {
    target: number;
    desired: number | null;
    reason: string | null;
    capped_by: string | null;
    cap_detail: string | null;
    min: number;
    max: number;
  } | null;
}

function autoscaled(autoscaling: Record<string, unknown>): Record<string, unknown> {
  const { num_replicas: _fixed, ...base } = clsDeployment();
  return { ...base, autoscaling };
}

const version = async (v: RunningVigil) =>
  (await getJson<{ versions: VersionDoc[] }>(`${v.url}/api/v1/deployments/cls`)).versions[0]!;
const live = (v: VersionDoc) => v.replicas.filter((r) => r.state === 'STARTING' || r.state === 'RUNNING').length;

describe('autoscaling', () => {
  let vigil: RunningVigil | undefined;
  afterEach(async () => {
    await vigil?.stop();
    vigil = undefined;
  });

  it('scales from zero: the first request waits for a cold start and succeeds, then the version scales back to zero', async () => {
    vigil = await startVigil({
      deployments: [
        autoscaled({
          min_replicas: 0,
          max_replicas: 2,
          upscale_delay_s: 1,
          downscale_delay_s: 2,
          look_back_period_s: 2,
        }),
      ],
    });
    const idle = await version(vigil);
    expect(idle.target_replicas).toBe(0);
    expect(live(idle)).toBe(0);
    const res = await inferJson(vigil.url, clsInput(1), { headers: { 'x-vigil-timeout-ms': '30000' } });
    expect(res.status).toBe(200);
    expect((await version(vigil)).target_replicas).toBeGreaterThanOrEqual(1);
    await waitFor(
      async () => live(await version(vigil!)) === 0 && (await version(vigil!)).target_replicas === 0,
      20_000,
      'the scale back to zero',
    );
    const audit = await getJson<{ entries: { actor: string; after: { target: number; reason: string } }[] }>(
      `${vigil.url}/api/v1/audit?action=autoscale`,
    );
    const targets = audit.entries.map((e) => e.after.target).reverse();
    expect(targets[0]).toBe(1);
    expect(targets.at(-1)).toBe(0);
    expect(audit.entries.every((e) => e.actor === 'vigil/autoscaler')).toBe(true);
    expect(audit.entries.at(-1)!.after.reason).toContain('scale from zero');
  });

  it('scales up under load after the delay, within max_replicas', async () => {
    vigil = await startVigil({
      deployments: [
        autoscaled({
          min_replicas: 1,
          max_replicas: 2,
          target_ongoing_requests: 1,
          upscale_delay_s: 1,
          downscale_delay_s: 600,
          look_back_period_s: 2,
        }),
      ],
    });
    const load = startLoad(vigil.url, { concurrency: 6 });
    await waitFor(async () => (await version(vigil!)).target_replicas === 2, 20_000, 'the scale-up');
    await waitFor(
      async () => (await version(vigil!)).replicas.filter((r) => r.state === 'RUNNING').length === 2,
      20_000,
      'the second replica',
    );
    const results = await load.stop();
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    const samples = parseSamples((await scrape(vigil.url)).text);
    expect(sampleValue(samples, 'vigil_target_replicas', { deployment: 'cls', version: 'v1' })).toBe(2);
    expect(sampleValue(samples, 'vigil_replicas', { deployment: 'cls', version: 'v1', state: 'RUNNING' })).toBe(2);
  });

  it('never starts a replica past the memory budget, and says why', async () => {
    vigil = await startVigil({
      autoscaler: { memory_budget_bytes: 1 },
      deployments: [
        autoscaled({
          min_replicas: 1,
          max_replicas: 3,
          target_ongoing_requests: 1,
          upscale_delay_s: 1,
          look_back_period_s: 2,
        }),
      ],
    });
    const load = startLoad(vigil.url, { concurrency: 6 });
    let capped: Awaited<ReturnType<typeof version>> | undefined;
    await waitFor(
      async () => {
        const v = await version(vigil!);
        if (v.autoscaling?.capped_by === 'memory_budget' && /each replica uses/.test(v.autoscaling.cap_detail ?? ''))
          capped = v;
        return capped !== undefined;
      },
      20_000,
      'the memory cap, with a measured replica',
    );
    expect(capped!.autoscaling!.desired).toBeGreaterThan(1);
    expect(capped!.autoscaling!.cap_detail).toMatch(/each replica uses ~\d+ MiB/);
    // Hold the load a little longer: the cap must stay in force. (Whether the decision at this
    // instant names it depends on the load of the last 2 s: on a busy machine a stall of the
    // load generator restarts the upscale delay, and the decision says "waits" instead.)
    await new Promise((r) => setTimeout(r, 2500));
    const v = await version(vigil);
    await load.stop();
    expect(v.target_replicas).toBe(1);
    expect(live(v)).toBe(1);
    const samples = parseSamples((await scrape(vigil.url)).text);
    expect(sampleValue(samples, 'vigil_autoscaler_memory_capped', { deployment: 'cls', version: 'v1' })).toBe(1);
  });
});
