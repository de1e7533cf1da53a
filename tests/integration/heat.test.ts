import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, startLoad } from '../helpers/load.ts';
import { parseSamples, sampleValue, scrape } from '../helpers/metrics-text.ts';
import { clsDeployment, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';

/**
 * Issue 21: a real node whose VIGIL_HOST_ROOT files (real formats) turn hot mid-run. Under load
 * its replicas stop growing, the cap is visible in the API, the metrics and the audit log, and
 * scaling resumes once the machine has cooled.
 */
describe('scaling by heat', () => {
  const root = mkdtempSync(join(tmpdir(), 'vigil-hot-'));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const setTemperature = (celsius: number) => {
    write('sys/class/thermal/thermal_zone0/type', 'x86_pkg_temp\n');
    write('sys/class/thermal/thermal_zone0/temp', `${celsius * 1000}\n`);
  };
  const psi = 'some avg10=2.00 avg60=1.00 avg300=0.50 total=1000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n';
  let vigil: RunningVigil;
  const status = () => getJson(`${vigil.url}/api/v1/status`);
  const cls = async () => (await status()).deployments[0].versions[0];

  beforeAll(async () => {
    setTemperature(55);
    write('proc/pressure/cpu', psi);
    write('proc/pressure/memory', psi);
    const { num_replicas: _fixed, ...base } = clsDeployment();
    vigil = await startVigil(
      {
        heat: { interval_s: 0.2, max_celsius: 85, sustain: '1s', recover: '2s', cpu_pressure_pct: 90 },
        deployments: [
          {
            ...base,
            autoscaling: {
              min_replicas: 1,
              max_replicas: 2,
              target_ongoing_requests: 1,
              upscale_delay_s: 1,
              downscale_delay_s: 600,
              look_back_period_s: 2,
            },
          },
        ],
      },
      { env: { VIGIL_HOST_ROOT: root } },
    );
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('reads the machine from VIGIL_HOST_ROOT and shows it', async () => {
    const host = (await status()).host;
    expect(host.signals.thermalZones).toEqual([{ zone: 'thermal_zone0', type: 'x86_pkg_temp', celsius: 55 }]);
    expect(host.signals.cpuPressure).toBe(0.02);
    expect(host.capped).toBeNull();
    expect(host.hardware.usableCores).toBeGreaterThan(0);
    const samples = parseSamples((await scrape(vigil.url)).text);
    expect(sampleValue(samples, 'vigil_host_temperature_celsius', { zone: 'thermal_zone0' })).toBe(55);
    expect(samples.some((s) => s.name === 'vigil_node_info' && s.value === 1)).toBe(true);
  });

  it('holds scale-ups while hot, and resumes them after cooling', async () => {
    setTemperature(95);
    await waitFor(async () => (await status()).host.capped === 'thermal', 15_000, 'the heat cap');
    const load = startLoad(vigil.url, { concurrency: 6 });
    try {
      // The load asks for 2 replicas; heat holds the count at 1 and says why.
      await waitFor(
        async () => (await cls()).autoscaling?.desired === 2 && (await cls()).autoscaling?.capped_by === 'thermal',
        20_000,
        'a scale-up held by heat',
      );
      const held = await cls();
      expect(held.target_replicas).toBe(1);
      expect(held.autoscaling.reason).toContain('blocked by heat: hottest zone at 95.0 °C (cap at 85 °C)');
      const samples = parseSamples((await scrape(vigil.url)).text);
      expect(sampleValue(samples, 'vigil_heat_capped', { reason: 'thermal' })).toBe(1);
      const audit = (await getJson(`${vigil.url}/api/v1/audit?action=heat.cap`)).entries;
      expect(audit[0]).toMatchObject({ actor: 'vigil/heat', after: { capped_by: 'thermal', reason: 'thermal' } });
      const alerts = (await getJson(`${vigil.url}/api/v1/alerts?state=firing`)).alerts;
      expect(alerts.find((a: any) => a.name === 'VigilNodeHot')).toMatchObject({ severity: 'ticket' });

      setTemperature(60);
      await waitFor(async () => (await status()).host.capped === null, 15_000, 'the cap to lift');
      await waitFor(async () => (await cls()).target_replicas === 2, 20_000, 'the scale-up to resume');
      expect((await getJson(`${vigil.url}/api/v1/audit?action=heat.lift`)).entries).toHaveLength(1);
      const after = parseSamples((await scrape(vigil.url)).text);
      expect(sampleValue(after, 'vigil_heat_capped', { reason: 'thermal' })).toBe(0);
    } finally {
      await load.stop();
    }
  });
});
