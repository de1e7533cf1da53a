import { arch, availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import { darwinFacts } from './darwin.ts';
import type { HostFiles } from './host-files.ts';

/**
 * What the machine is, detected once at start (and again for `vigil doctor`): the CPU, its cores
 * (physical, logical, performance and efficiency where the OS says), memory, and the container's
 * real size from its cgroup. Unknown is null, with the reason in `notes`.
 */
export interface Hardware {
  os: string;
  osRelease: string;
  arch: string;
  cpuModel: string;
  logicalCores: number;
  physicalCores: number | null;
  performanceCores: number | null;
  efficiencyCores: number | null;
  memoryBytes: number;
  /** Apple Silicon: the GPU shares the memory. */
  unifiedMemory: boolean;
  cgroup: {
    /** CPUs the cgroup's quota allows (quota / period), or null without a limit. */
    cpuLimit: number | null;
    memoryLimitBytes: number | null;
  };
  /** The cores vigil sizes itself by: the fewest of what the OS lets it run on and the quota. */
  usableCores: number;
  notes: string[];
}

/** cgroup v2 `cpu.max` ("max 100000" or "150000 100000") or v1 quota and period → CPUs, or null. */
export function cgroupCpuLimit(files: HostFiles): number | null {
  const v2 = files.text('sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 && v2.length === 2) {
    if (v2[0] === 'max') return null;
    const [quota, period] = v2.map(Number) as [number, number];
    return quota > 0 && period > 0 ? quota / period : null;
  }
  const quota = files.number('sys/fs/cgroup/cpu/cpu.cfs_quota_us');
  const period = files.number('sys/fs/cgroup/cpu/cpu.cfs_period_us');
  return quota !== undefined && period !== undefined && quota > 0 && period > 0 ? quota / period : null;
}

/** cgroup v2 `memory.max` or v1 `memory.limit_in_bytes`; v1's "no limit" is a huge number. */
export function cgroupMemoryLimit(files: HostFiles): number | null {
  const v2 = files.text('sys/fs/cgroup/memory.max')?.trim();
  if (v2 !== undefined) return v2 === 'max' || !/^\d+$/.test(v2) ? null : Number(v2);
  const v1 = files.number('sys/fs/cgroup/memory/memory.limit_in_bytes');
  return v1 === undefined || v1 >= 2 ** 60 ? null : v1;
}

/** The cores vigil sizes itself by: what it may run on, within the cgroup's CPU quota. */
export function usableCores(files: HostFiles): number {
  const limit = cgroupCpuLimit(files);
  return Math.max(1, Math.min(availableParallelism(), limit === null ? Number.POSITIVE_INFINITY : Math.ceil(limit)));
}

export function detectHardware(files: HostFiles): Hardware {
  const notes: string[] = [];
  const list = cpus();
  const logical = list.length || availableParallelism();
  // Physical cores: distinct (package, core) pairs in the topology files.
  const ids = new Set<string>();
  for (const cpu of files.list('sys/devices/system/cpu', /^cpu\d+$/)) {
    const core = files.number(`sys/devices/system/cpu/${cpu}/topology/core_id`);
    const pkg = files.number(`sys/devices/system/cpu/${cpu}/topology/physical_package_id`) ?? 0;
    if (core !== undefined) ids.add(`${pkg}:${core}`);
  }
  const physicalCores = ids.size > 0 ? ids.size : null;
  if (physicalCores === null) notes.push('physical cores unknown (no topology files)');
  // Hybrid CPUs: Intel lists its P and E cores under cpu_core and cpu_atom.
  const count = (path: string) => {
    const t = files.text(path)?.trim();
    if (!t) return null;
    let n = 0;
    for (const part of t.split(',')) {
      const [a, b] = part.split('-').map(Number);
      if (a === undefined || Number.isNaN(a)) return null;
      n += b === undefined ? 1 : b - a + 1;
    }
    return n;
  };
  // Apple Silicon says through sysctl (performance levels 0 and 1); Intel hybrids through sysfs.
  const darwin = darwinFacts();
  const performanceCores = darwin.performanceCores ?? count('sys/devices/cpu_core/cpus');
  const efficiencyCores = darwin.efficiencyCores ?? count('sys/devices/cpu_atom/cpus');
  if (performanceCores === null) notes.push('performance and efficiency cores: not a hybrid CPU, or not said');
  const cpuLimit = cgroupCpuLimit(files);
  const memoryLimitBytes = cgroupMemoryLimit(files);
  return {
    os: platform(),
    osRelease: release(),
    arch: arch(),
    cpuModel: darwin.chip ?? (list[0]?.model.trim() || 'unknown'),
    logicalCores: logical,
    physicalCores,
    performanceCores,
    efficiencyCores,
    memoryBytes: totalmem(),
    unifiedMemory: platform() === 'darwin' && arch() === 'arm64',
    cgroup: { cpuLimit, memoryLimitBytes },
    usableCores: usableCores(files),
    notes,
  };
}
