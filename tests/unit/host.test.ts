import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupCpuLimit, cgroupMemoryLimit, detectHardware } from '../../serving/host/hardware.ts';
import { parseCount, parsePmsetTherm } from '../../serving/host/darwin.ts';
import { coolState, decideHeat, type HeatInput, type HeatThresholds } from '../../serving/host/heat-policy.ts';
import { HostFiles } from '../../serving/host/host-files.ts';
import { parsePressure, readHostSignals } from '../../serving/host/host-signals.ts';

/** A folder standing in for / with the given files, in the formats Linux writes them. */
function machine(files: Record<string, string>): HostFiles {
  const root = mkdtempSync(join(tmpdir(), 'vigil-host-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return new HostFiles(root);
}

const PSI = (some: number) =>
  `some avg10=${some.toFixed(2)} avg60=1.50 avg300=0.80 total=123456789\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`;

describe('host readers', () => {
  it('read thermal zones, cpufreq, throttle counters and PSI in their real formats', () => {
    const s = readHostSignals(
      machine({
        'sys/class/thermal/thermal_zone0/type': 'x86_pkg_temp\n',
        'sys/class/thermal/thermal_zone0/temp': '67000\n',
        'sys/class/thermal/thermal_zone1/type': 'acpitz\n',
        'sys/class/thermal/thermal_zone1/temp': '45500\n',
        'sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq': '2400000\n',
        'sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq': '3000000\n',
        'sys/devices/system/cpu/cpu1/cpufreq/scaling_cur_freq': '1500000\n',
        'sys/devices/system/cpu/cpu1/cpufreq/cpuinfo_max_freq': '3000000\n',
        'sys/devices/system/cpu/cpu0/thermal_throttle/core_throttle_count': '3\n',
        'sys/devices/system/cpu/cpu0/thermal_throttle/package_throttle_count': '4\n',
        'proc/pressure/cpu': PSI(12.34),
        'proc/pressure/memory': PSI(0),
      }),
    );
    expect(s.thermalZones).toEqual([
      { zone: 'thermal_zone0', type: 'x86_pkg_temp', celsius: 67 },
      { zone: 'thermal_zone1', type: 'acpitz', celsius: 45.5 },
    ]);
    expect(s.maxCelsius).toBe(67);
    expect(s.frequencyRatio).toBe(0.5);
    expect(s.throttleCount).toBe(7);
    expect(s.cpuPressure).toBeCloseTo(0.1234, 6);
    expect(s.memoryPressure).toBe(0);
    expect(s.missing).toEqual([]);
  });

  it('say what is missing, skip garbage and unreadable files, and never make a number up', () => {
    const files = machine({
      'sys/class/thermal/thermal_zone0/type': 'broken\n',
      'sys/class/thermal/thermal_zone0/temp': 'N/A\n',
      'sys/class/thermal/thermal_zone1/temp': '-273150\n', // a dead sensor, not a cold machine
      'sys/class/thermal/thermal_zone2/temp': '71000\n', // no type file: named by its zone
      'sys/class/thermal/thermal_zone3/temp': '50000\n',
      'proc/pressure/cpu': 'garbage\n',
    });
    chmodSync(join(files.root, 'sys/class/thermal/thermal_zone3/temp'), 0o000);
    const s = readHostSignals(files);
    const unreadable = process.getuid?.() === 0 ? 1 : 0; // root reads a mode-000 file anyway
    expect(s.thermalZones.map((z) => z.zone)).toEqual(['thermal_zone2', ...(unreadable ? ['thermal_zone3'] : [])]);
    expect(s.thermalZones[0]!.type).toBe('thermal_zone2');
    expect(s.cpuPressure).toBeNull();
    expect(s.memoryPressure).toBeNull();
    expect(s.frequencyRatio).toBeNull();
    expect(s.missing).toEqual([
      'no CPU frequency (cpufreq)',
      'no throttle counters (thermal_throttle)',
      'no CPU pressure (/proc/pressure/cpu)',
      'no memory pressure (/proc/pressure/memory)',
    ]);
    const empty = readHostSignals(machine({}));
    expect(empty.maxCelsius).toBeNull();
    expect(empty.missing[0]).toBe('no thermal zones (/sys/class/thermal)');
    expect(parsePressure('some avg10=250.00 avg60=0 avg300=0 total=0')).toBeNull();
  });

  it('read the container’s size from cgroup v2 and v1', () => {
    expect(cgroupCpuLimit(machine({ 'sys/fs/cgroup/cpu.max': '150000 100000\n' }))).toBe(1.5);
    expect(cgroupCpuLimit(machine({ 'sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeNull();
    expect(
      cgroupCpuLimit(
        machine({
          'sys/fs/cgroup/cpu/cpu.cfs_quota_us': '200000\n',
          'sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
        }),
      ),
    ).toBe(2);
    expect(
      cgroupCpuLimit(
        machine({ 'sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n', 'sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' }),
      ),
    ).toBeNull();
    expect(cgroupMemoryLimit(machine({ 'sys/fs/cgroup/memory.max': '2147483648\n' }))).toBe(2 ** 31);
    expect(cgroupMemoryLimit(machine({ 'sys/fs/cgroup/memory.max': 'max\n' }))).toBeNull();
    expect(
      cgroupMemoryLimit(machine({ 'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n' })),
    ).toBeNull();
    const hw = detectHardware(machine({ 'sys/fs/cgroup/cpu.max': '50000 100000\n' }));
    expect(hw.usableCores).toBe(1);
    expect(hw.cgroup.cpuLimit).toBe(0.5);
  });

  it('read this machine’s real files', () => {
    // The suite's own machine: whatever it has is read, and what it lacks is said (not asserted
    // away): PSI exists on any recent Linux kernel.
    const real = new HostFiles('/');
    const s = readHostSignals(real);
    const hw = detectHardware(real);
    console.log(
      `this machine: ${hw.cpuModel}, ${hw.usableCores} usable cores; lacks: ${s.missing.join('; ') || 'nothing'}`,
    );
    expect(hw.logicalCores).toBeGreaterThan(0);
    if (process.platform === 'linux' && real.text('proc/pressure/cpu') !== undefined)
      expect(s.cpuPressure).not.toBeNull();
  });
});

describe('macOS readings', () => {
  it('parse sysctl counts and pmset’s thermal report as macOS prints them', () => {
    expect(parseCount('8\n')).toBe(8);
    expect(parseCount('')).toBeNull();
    expect(parseCount('sysctl: unknown oid')).toBeNull();
    const limited = parsePmsetTherm(
      'Note: No thermal warning level has been recorded\nNote: No performance warning level has been recorded\n' +
        'CPU_Scheduler_Limit \t= 100\nCPU_Available_CPUs \t= 10\nCPU_Speed_Limit \t= 70\n',
    );
    expect(limited).toEqual({ speedLimit: 0.7, warningLevel: null });
    expect(parsePmsetTherm('Note: No thermal warning level has been recorded\n')).toEqual({
      speedLimit: null,
      warningLevel: null,
    });
    expect(parsePmsetTherm('Thermal Warning Level = 2\n').warningLevel).toBe(2);
    expect(parsePmsetTherm(undefined)).toEqual({ speedLimit: null, warningLevel: null });
  });
});

describe('the heat policy', () => {
  const T: HeatThresholds = {
    maxCelsius: 85,
    minFrequencyRatio: null,
    cpuPressure: 0.6,
    memoryPressure: 0.2,
    sustainMs: 30_000,
    recoverMs: 60_000,
  };
  const calm: HeatInput = {
    thermalZones: [],
    maxCelsius: 60,
    frequencyRatio: 0.5,
    throttleCount: 0,
    throttleRate: 0,
    osThrottled: null,
    cpuPressure: 0.1,
    memoryPressure: 0,
    missing: [],
  };
  const hot: HeatInput = { ...calm, maxCelsius: 92 };

  it('caps after the condition is sustained, naming it', () => {
    let d = decideHeat(coolState(), hot, T, 0);
    expect(d.change).toBeUndefined();
    d = decideHeat(d.state, hot, T, 29_999);
    expect(d.change).toBeUndefined();
    d = decideHeat(d.state, hot, T, 30_000);
    expect(d.change).toBe('cap');
    expect(d.state).toMatchObject({ capped: 'thermal', detail: 'hottest zone at 92.0 °C (cap at 85 °C)' });
    // A blip below the threshold resets the clock.
    let e = decideHeat(coolState(), hot, T, 0);
    e = decideHeat(e.state, calm, T, 20_000);
    e = decideHeat(e.state, hot, T, 40_000);
    expect(e.change).toBeUndefined();
  });

  it('caps on pressure and on throttling, and a slow idle CPU alone is not throttling', () => {
    const pressured = decideHeat({ capped: null, since: 0, detail: null }, { ...calm, cpuPressure: 0.75 }, T, 30_000);
    expect(pressured.state.capped).toBe('pressure');
    const throttled = decideHeat({ capped: null, since: 0, detail: null }, { ...calm, throttleRate: 2 }, T, 30_000);
    expect(throttled.state.capped).toBe('thermal');
    const idle = decideHeat({ capped: null, since: 0, detail: null }, { ...calm, frequencyRatio: 0.2 }, T, 30_000);
    expect(idle.change).toBeUndefined();
  });

  it('lifts only after every condition is clear below its margin for the whole recovery', () => {
    const capped = { capped: 'thermal' as const, since: undefined, detail: 'hot' };
    // 82 °C is under 85 but not under 85 - 5: still capped.
    expect(decideHeat(capped, { ...calm, maxCelsius: 82 }, T, 0).state.capped).toBe('thermal');
    let d = decideHeat(capped, calm, T, 0);
    expect(d.change).toBeUndefined();
    d = decideHeat(d.state, calm, T, 59_999);
    expect(d.change).toBeUndefined();
    d = decideHeat(d.state, calm, T, 60_000);
    expect(d.change).toBe('lift');
    expect(d.state.capped).toBeNull();
    // A missing sensor never holds a cap.
    const blind: HeatInput = { ...calm, maxCelsius: null, cpuPressure: null, memoryPressure: null, throttleRate: null };
    let b = decideHeat(capped, blind, T, 0);
    b = decideHeat(b.state, blind, T, 60_000);
    expect(b.change).toBe('lift');
  });
});

describe('the heat policy on macOS', () => {
  it('caps when the OS itself says it holds the CPU back', () => {
    const T: HeatThresholds = {
      maxCelsius: 85,
      minFrequencyRatio: null,
      cpuPressure: 0.6,
      memoryPressure: 0.2,
      sustainMs: 0,
      recoverMs: 0,
    };
    const mac: HeatInput = {
      thermalZones: [],
      maxCelsius: null,
      frequencyRatio: 0.7,
      throttleCount: null,
      throttleRate: null,
      osThrottled: true,
      cpuPressure: null,
      memoryPressure: null,
      missing: [],
    };
    const d = decideHeat(coolState(), mac, T, 0);
    expect(d.change).toBe('cap');
    expect(d.state.detail).toContain('thermal pressure');
  });
});

describe('auto defaults from the usable cores', () => {
  it('share the cores among replicas, and count the cgroup’s cores rather than the host’s', async () => {
    const { autoIntraOpThreads, autoReplicas, defaultIngressProcesses } = await import(
      '../../serving/config/schema.ts'
    );
    expect(autoReplicas(16)).toBe(16);
    expect(autoReplicas(3)).toBe(3);
    expect(autoReplicas(0)).toBe(1);
    expect(autoIntraOpThreads(8, 2)).toBe(4);
    expect(autoIntraOpThreads(2, 4)).toBe(1);
    expect(autoIntraOpThreads(3, 0)).toBe(3);
    // Direct ingress (the default): one dedicated process, which stands by while replicas serve.
    expect(defaultIngressProcesses(16)).toBe(1);
    expect(defaultIngressProcesses(16, false)).toBe(8);
    expect(defaultIngressProcesses(3, false)).toBe(1);
    // A 1.5-CPU pod on a big host: 2 usable cores, whatever os.cpus() says.
    const { usableCores } = await import('../../serving/host/hardware.ts');
    expect(usableCores(machine({ 'sys/fs/cgroup/cpu.max': '150000 100000\n' }))).toBe(
      Math.min(2, (await import('node:os')).availableParallelism()),
    );
    const { configSchema } = await import('../../serving/config/schema.ts');
    const parsed = configSchema.parse({
      deployments: [{ name: 'a', model: 'm.onnx', num_replicas: 2, intra_op_threads: 'auto' }],
    });
    expect(parsed.deployments[0]!.intra_op_threads).toBe(autoIntraOpThreads(usableCores(new HostFiles('/')), 2));
    const auto = configSchema.parse({ deployments: [{ name: 'a', model: 'm.onnx', num_replicas: 'auto' }] });
    expect(auto.deployments[0]!.versions[0]!.num_replicas).toBe(autoReplicas(usableCores(new HostFiles('/'))));
  });
});
