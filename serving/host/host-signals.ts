import { darwinThermal } from './darwin.ts';
import type { HostFiles } from './host-files.ts';

/**
 * What the machine says about heat and pressure, read the way Linux offers it. Every field is null
 * when the machine does not say (no sensor, no PSI, not Linux), never a made-up 0.
 */
export interface HostSignals {
  /** Each thermal zone with a readable temperature, °C. */
  thermalZones: { zone: string; type: string; celsius: number }[];
  /** The hottest zone, °C. */
  maxCelsius: number | null;
  /** Current over maximum frequency, lowest of the CPUs (below ~0.7 under load suggests throttling). */
  frequencyRatio: number | null;
  /** Package and core throttle events so far (Intel's thermal_throttle counters). */
  throttleCount: number | null;
  /** The OS says it holds the CPU back for heat (macOS: CPU_Speed_Limit below 100, or a thermal warning). */
  osThrottled: boolean | null;
  /** PSI `some avg10` of the CPU and of memory: the share of the last 10 s some task waited, 0-1. */
  cpuPressure: number | null;
  memoryPressure: number | null;
  /** What could not be read, in words, for `vigil doctor` and the status. */
  missing: string[];
}

/** `some avg10=1.23 avg60=... total=...` → 0.0123. */
export function parsePressure(text: string | undefined): number | null {
  if (text === undefined) return null;
  const m = /^some\s+avg10=(\d+(?:\.\d+)?)\b/m.exec(text);
  if (!m) return null;
  const pct = Number(m[1]);
  return Number.isFinite(pct) && pct >= 0 && pct <= 100 ? pct / 100 : null;
}

/** Plausible temperatures only: a sensor that says -273 or 1000 °C is broken, not hot. */
const PLAUSIBLE_C = { min: -40, max: 150 };

export function readHostSignals(files: HostFiles): HostSignals {
  const missing: string[] = [];
  const thermalZones: HostSignals['thermalZones'] = [];
  const zones = files.list('sys/class/thermal', /^thermal_zone\d+$/);
  for (const zone of zones) {
    const milli = files.number(`sys/class/thermal/${zone}/temp`);
    if (milli === undefined) continue;
    const celsius = milli / 1000;
    if (celsius < PLAUSIBLE_C.min || celsius > PLAUSIBLE_C.max) continue;
    const type = files.text(`sys/class/thermal/${zone}/type`)?.trim() || zone;
    thermalZones.push({ zone, type, celsius });
  }
  if (thermalZones.length === 0)
    missing.push(
      zones.length === 0 ? 'no thermal zones (/sys/class/thermal)' : 'thermal zones without a readable temperature',
    );

  const cpus = files.list('sys/devices/system/cpu', /^cpu\d+$/);
  let frequencyRatio: number | null = null;
  let throttleCount: number | null = null;
  for (const cpu of cpus) {
    const cur = files.number(`sys/devices/system/cpu/${cpu}/cpufreq/scaling_cur_freq`);
    const max = files.number(`sys/devices/system/cpu/${cpu}/cpufreq/cpuinfo_max_freq`);
    if (cur !== undefined && max !== undefined && max > 0 && cur >= 0) {
      const r = Math.min(1, cur / max);
      frequencyRatio = frequencyRatio === null ? r : Math.min(frequencyRatio, r);
    }
    for (const counter of ['core_throttle_count', 'package_throttle_count']) {
      const n = files.number(`sys/devices/system/cpu/${cpu}/thermal_throttle/${counter}`);
      if (n !== undefined && n >= 0) throttleCount = (throttleCount ?? 0) + n;
    }
  }
  if (frequencyRatio === null) missing.push('no CPU frequency (cpufreq)');
  if (throttleCount === null) missing.push('no throttle counters (thermal_throttle)');

  // macOS has no /sys: its thermal pressure comes from pmset (a CPU speed limit below 100%).
  const darwin = darwinThermal();
  let osThrottled: boolean | null = null;
  if (darwin.speedLimit !== null || darwin.warningLevel !== null) {
    osThrottled = (darwin.speedLimit !== null && darwin.speedLimit < 1) || (darwin.warningLevel ?? 0) > 0;
    if (darwin.speedLimit !== null) frequencyRatio = darwin.speedLimit;
    const i = missing.indexOf('no CPU frequency (cpufreq)');
    if (i >= 0) missing.splice(i, 1);
  }

  const cpuPressure = parsePressure(files.text('proc/pressure/cpu'));
  const memoryPressure = parsePressure(files.text('proc/pressure/memory'));
  if (cpuPressure === null) missing.push('no CPU pressure (/proc/pressure/cpu)');
  if (memoryPressure === null) missing.push('no memory pressure (/proc/pressure/memory)');
  const maxCelsius = thermalZones.length ? Math.max(...thermalZones.map((z) => z.celsius)) : null;
  return { thermalZones, maxCelsius, frequencyRatio, throttleCount, osThrottled, cpuPressure, memoryPressure, missing };
}
