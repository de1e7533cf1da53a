import {
  DEFAULT_BURN_POLICY,
  errorBudget,
  evaluateBurn,
  policyWindows,
  type BurnEvaluation,
  type BurnPolicy,
  type Counts,
} from './burn-rate.ts';
import { inactiveAlert, stepAlert, type AlertStatus, type Transition } from './alert-state.ts';
import type { SloDefinition } from './definition.ts';
import type { SliWindow } from './sli-window.ts';

export type Severity = 'page' | 'ticket';

export interface SloEvaluation {
  slo: SloDefinition;
  at: number;
  burn: BurnEvaluation;
  /** Counts per window, keyed by seconds, including the SLO window. */
  counts: Record<number, Counts>;
  budget: { remaining: number; secondsToExhaustion: number | null };
  alerts: Record<Severity, { status: AlertStatus; transitions: Transition[] }>;
}

export interface EvaluateOptions {
  policy?: BurnPolicy;
  forSeconds?: Record<Severity, number>;
  /** Totals over the whole SLO window when they come from the database rather than memory. */
  windowTotals?: Counts;
}

/** The key an SLO's counts are stored under in the SliWindow: `${sloId}|${version}`. */
export function sliKey(sloId: string, version: string): string {
  return `${sloId}|${version}`;
}

/**
 * One tick of the SLO engine for one SLO, pure: window totals → burn rates → page/ticket
 * conditions → alert state transitions, plus the error budget. `now` is injected.
 */
export function evaluateSlo(
  slo: SloDefinition,
  window: SliWindow,
  now: number,
  previous: Partial<Record<Severity, AlertStatus>>,
  options: EvaluateOptions = {},
): SloEvaluation {
  const policy = options.policy ?? DEFAULT_BURN_POLICY;
  const prefix = `${slo.id}|`;
  const matches =
    slo.version === null ? (k: string) => k.startsWith(prefix) : (k: string) => k === sliKey(slo.id, slo.version!);
  const counts: Record<number, Counts> = {};
  const byWindow = new Map<number, Counts>();
  for (const seconds of policyWindows(policy)) {
    const c = window.totals(now, seconds * 1000, matches);
    byWindow.set(seconds, c);
    counts[seconds] = c;
  }
  counts[slo.windowSeconds] = options.windowTotals ?? window.totals(now, slo.windowSeconds * 1000, matches);
  const burn = evaluateBurn(byWindow, slo.objective, policy);
  const oneHourBurn = burn.burnRates[3600] ?? burn.burnRates[policyWindows(policy)[0]!] ?? 0;
  const budget = errorBudget(counts[slo.windowSeconds]!, slo.objective, slo.windowSeconds, oneHourBurn);
  const forSeconds = options.forSeconds ?? { page: 0, ticket: 0 };
  const step = (sev: Severity) => stepAlert(previous[sev] ?? inactiveAlert, burn[sev], now, forSeconds[sev]);
  return { slo, at: now, burn, counts, budget, alerts: { page: step('page'), ticket: step('ticket') } };
}
