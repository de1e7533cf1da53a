/**
 * `vigil doctor`: what this machine is and what vigil will do on it, with the reasons, before
 * anything starts: the hardware and the container's limits, heat and pressure (and which sensors
 * are missing), each deployment's execution providers as a probe finds them now, and the defaults
 * vigil derives.
 */
import type { VigilConfig } from '../serving/config/schema.ts';
import { detectHardware } from '../serving/host/hardware.ts';
import { HostFiles } from '../serving/host/host-files.ts';
import { readHostSignals } from '../serving/host/host-signals.ts';
import { describeOutcome, probeProviders, probeRequest } from '../serving/replica/provider-probe.ts';

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
const pct = (r: number | null) => (r === null ? 'not available' : `${Math.round(r * 1000) / 10}%`);

export async function doctorCommand(config: VigilConfig, hostRoot: string, json: boolean): Promise<void> {
  const files = new HostFiles(hostRoot);
  const hw = detectHardware(files);
  const signals = readHostSignals(files);
  const requests = config.deployments.flatMap((d) => {
    const r = probeRequest(d.name, d.versions[0]?.model, 'auto');
    return r ? [r] : [];
  });
  const outcomes = await probeProviders(requests).catch((err: Error) => err);
  const providers = Object.fromEntries(
    config.deployments.map((d) => {
      if (outcomes instanceof Error) return [d.name, `probe failed: ${outcomes.message}`];
      const o = outcomes.get(d.name);
      const configured = d.execution_provider;
      const found = o ? describeOutcome(o) : d.versions[0]?.model ? 'cpu (not probed)' : 'a handler without a model';
      return [d.name, `${found}; configured: ${configured}`];
    }),
  );
  const doc = {
    hardware: hw,
    signals,
    providers,
    choices: {
      ingress_processes: config.ingress.processes,
      ingress_direct: config.ingress.direct,
      heat: config.heat,
    },
  };
  if (json) {
    console.log(JSON.stringify(doc, null, 2));
    return;
  }
  const line = (k: string, v: string) => console.log(`  ${k.padEnd(22)} ${v}`);
  console.log('machine');
  line('os', `${hw.os} ${hw.osRelease} (${hw.arch})`);
  line('cpu', hw.cpuModel);
  line(
    'cores',
    `${hw.logicalCores} logical, ${hw.physicalCores ?? 'unknown'} physical` +
      (hw.performanceCores !== null
        ? `, ${hw.performanceCores} performance + ${hw.efficiencyCores ?? 0} efficiency`
        : ''),
  );
  line('memory', `${gib(hw.memoryBytes)}${hw.unifiedMemory ? ' (unified: the GPU shares it)' : ''}`);
  line(
    'container',
    `cpu ${hw.cgroup.cpuLimit === null ? 'no limit' : `${hw.cgroup.cpuLimit} CPUs`}, memory ${hw.cgroup.memoryLimitBytes === null ? 'no limit' : gib(hw.cgroup.memoryLimitBytes)}`,
  );
  line('usable cores', `${hw.usableCores} (the fewer of the CPUs vigil may run on and the cgroup quota)`);
  console.log('heat and pressure');
  line(
    'temperature',
    signals.thermalZones.length === 0
      ? 'no sensor'
      : signals.thermalZones.map((z) => `${z.type} ${z.celsius.toFixed(1)} °C`).join(', '),
  );
  line(
    'cpu frequency',
    signals.frequencyRatio === null ? 'not available' : `${pct(signals.frequencyRatio)} of maximum`,
  );
  line('throttle events', signals.throttleCount === null ? 'not available' : String(signals.throttleCount));
  line('cpu pressure', pct(signals.cpuPressure));
  line('memory pressure', pct(signals.memoryPressure));
  if (signals.missing.length) line('missing', signals.missing.join('; '));
  console.log('execution providers');
  for (const [name, text] of Object.entries(providers)) line(name, text);
  console.log('what vigil will choose');
  line(
    'ingress',
    config.ingress.direct
      ? `direct: replicas serve the port; ${config.ingress.processes} dedicated process(es) stand by`
      : `${config.ingress.processes} dedicated processes (auto: half the usable cores, 1 to 8)`,
  );
  line(
    'heat cap',
    config.heat.enabled
      ? `at ${config.heat.max_celsius} °C, throttling, CPU pressure ${config.heat.cpu_pressure_pct}% ` +
          `or memory pressure ${config.heat.memory_pressure_pct}% for ${config.heat.sustain}; ` +
          `lifted after ${config.heat.recover} clear`
      : 'off (heat.enabled: false)',
  );
}
