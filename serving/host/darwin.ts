import { execFileSync } from 'node:child_process';

/**
 * What macOS says about the machine, through its own tools (Linux's files do not exist there):
 * `sysctl` for the chip and the performance and efficiency cores, `pmset -g therm` for thermal
 * pressure. Parsing is pure and tested with real outputs; running the tools happens only on
 * darwin, and a tool that fails leaves the field null.
 */

export interface DarwinFacts {
  chip: string | null;
  performanceCores: number | null;
  efficiencyCores: number | null;
}

export interface DarwinThermal {
  /** `CPU_Speed_Limit` / 100: below 1 the OS is holding the CPU back for heat. */
  speedLimit: number | null;
  /** The thermal warning level pmset reports, when it has recorded one. */
  warningLevel: number | null;
}

/** `sysctl -n hw.perflevel0.physicalcpu` → 8 (null for anything that is not a count). */
export function parseCount(text: string | undefined): number | null {
  const t = text?.trim();
  return t && /^\d+$/.test(t) ? Number(t) : null;
}

/**
 * `pmset -g therm`, e.g.
 *   CPU_Scheduler_Limit 	= 100
 *   CPU_Available_CPUs 	= 10
 *   CPU_Speed_Limit 	= 80
 * or "Note: No thermal warning level has been recorded". A recorded level reads
 * "Thermal Warning Level = 2" (or similar): any number there is kept.
 */
export function parsePmsetTherm(text: string | undefined): DarwinThermal {
  if (!text) return { speedLimit: null, warningLevel: null };
  const speed = /CPU_Speed_Limit\s*=\s*(\d+)/.exec(text);
  const level = /thermal warning level\s*=\s*(\d+)/i.exec(text);
  const limit = speed ? Number(speed[1]) : null;
  return {
    speedLimit: limit !== null && limit >= 0 && limit <= 100 ? limit / 100 : null,
    warningLevel: level ? Number(level[1]) : null,
  };
}

function run(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

export function darwinFacts(): DarwinFacts {
  if (process.platform !== 'darwin') return { chip: null, performanceCores: null, efficiencyCores: null };
  return {
    chip: run('sysctl', ['-n', 'machdep.cpu.brand_string'])?.trim() || null,
    performanceCores: parseCount(run('sysctl', ['-n', 'hw.perflevel0.physicalcpu'])),
    efficiencyCores: parseCount(run('sysctl', ['-n', 'hw.perflevel1.physicalcpu'])),
  };
}

export function darwinThermal(): DarwinThermal {
  if (process.platform !== 'darwin') return { speedLimit: null, warningLevel: null };
  return parsePmsetTherm(run('pmset', ['-g', 'therm']));
}
