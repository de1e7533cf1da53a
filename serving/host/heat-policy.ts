import type { HostSignals } from './host-signals.ts';

/**
 * When the machine's heat or pressure caps the replica count: pure, with the clock passed in.
 * A hot or throttling CPU, or sustained CPU or memory pressure, makes every replica slower; more
 * replicas then make it worse. The cap holds scale-ups (scale-downs go on as the autoscaler
 * decides, with draining). It takes `sustainMs` of a condition to cap, and `recoverMs` with every
 * condition below its clearing level (a margin under its threshold) to lift: hysteresis, so a
 * node at the edge does not flap.
 */
export interface HeatThresholds {
  /** The hottest thermal zone, °C. */
  maxCelsius: number;
  /**
   * Lowest current/max frequency ratio, or null (the default): an idle CPU runs slow to save
   * power, so frequency alone does not tell throttling from rest. The throttle counters do.
   */
  minFrequencyRatio: number | null;
  /** PSI some avg10, 0-1. */
  cpuPressure: number;
  memoryPressure: number;
  sustainMs: number;
  recoverMs: number;
}

/** A condition clears only this far below its threshold. */
export const RECOVER_MARGIN = { celsius: 5, frequencyRatio: 0.05, pressureRatio: 0.75 } as const;

export type HeatReason = 'thermal' | 'pressure';

export interface HeatState {
  capped: HeatReason | null;
  /** When the current run of hot (uncapped) or cool (capped) samples began. */
  since: number | undefined;
  /** What was last found hot, for the reason line. */
  detail: string | null;
}

export interface HeatDecision {
  state: HeatState;
  change: 'cap' | 'lift' | undefined;
}

export const coolState = (): HeatState => ({ capped: null, since: undefined, detail: null });

/** Which condition is hot now, if any: heat first (it is the cause), then pressure. */
export type HeatInput = HostSignals & {
  /** Throttle events per second since the previous sample; null without counters. */
  throttleRate: number | null;
};

export function hotNow(s: HeatInput, t: HeatThresholds): { reason: HeatReason; detail: string } | null {
  if (s.maxCelsius !== null && s.maxCelsius >= t.maxCelsius)
    return { reason: 'thermal', detail: `hottest zone at ${s.maxCelsius.toFixed(1)} °C (cap at ${t.maxCelsius} °C)` };
  if (s.osThrottled === true)
    return { reason: 'thermal', detail: 'the OS is holding the CPU back for heat (thermal pressure)' };
  if (s.throttleRate !== null && s.throttleRate > 0)
    return {
      reason: 'thermal',
      detail: `the CPU is throttling (${s.throttleRate.toFixed(1)} throttle events a second)`,
    };
  if (t.minFrequencyRatio !== null && s.frequencyRatio !== null && s.frequencyRatio < t.minFrequencyRatio)
    return {
      reason: 'thermal',
      detail: `CPU at ${Math.round(s.frequencyRatio * 100)}% of its maximum frequency (throttling below ${Math.round(t.minFrequencyRatio * 100)}%)`,
    };
  if (s.cpuPressure !== null && s.cpuPressure >= t.cpuPressure)
    return {
      reason: 'pressure',
      detail: `CPU pressure ${pct(s.cpuPressure)} of the last 10 s (cap at ${pct(t.cpuPressure)})`,
    };
  if (s.memoryPressure !== null && s.memoryPressure >= t.memoryPressure)
    return {
      reason: 'pressure',
      detail: `memory pressure ${pct(s.memoryPressure)} of the last 10 s (cap at ${pct(t.memoryPressure)})`,
    };
  return null;
}

/** Every condition below its clearing level (or unknown: a missing sensor never holds a cap). */
export function coolNow(s: HeatInput, t: HeatThresholds): boolean {
  return (
    (s.maxCelsius === null || s.maxCelsius < t.maxCelsius - RECOVER_MARGIN.celsius) &&
    (s.throttleRate === null || s.throttleRate === 0) &&
    s.osThrottled !== true &&
    (t.minFrequencyRatio === null ||
      s.frequencyRatio === null ||
      s.frequencyRatio >= t.minFrequencyRatio + RECOVER_MARGIN.frequencyRatio) &&
    (s.cpuPressure === null || s.cpuPressure < t.cpuPressure * RECOVER_MARGIN.pressureRatio) &&
    (s.memoryPressure === null || s.memoryPressure < t.memoryPressure * RECOVER_MARGIN.pressureRatio)
  );
}

export function decideHeat(state: HeatState, signals: HeatInput, t: HeatThresholds, now: number): HeatDecision {
  const hot = hotNow(signals, t);
  if (state.capped === null) {
    if (!hot) return { state: coolState(), change: undefined };
    const since = state.since ?? now;
    if (now - since >= t.sustainMs)
      return { state: { capped: hot.reason, since: undefined, detail: hot.detail }, change: 'cap' };
    return { state: { capped: null, since, detail: hot.detail }, change: undefined };
  }
  if (!coolNow(signals, t))
    return {
      state: { capped: hot?.reason ?? state.capped, since: undefined, detail: hot?.detail ?? state.detail },
      change: undefined,
    };
  const since = state.since ?? now;
  if (now - since >= t.recoverMs) return { state: coolState(), change: 'lift' };
  return { state: { ...state, since }, change: undefined };
}

function pct(r: number): string {
  return `${Math.round(r * 100)}%`;
}
