/**
 * Error budgets and multiwindow, multi-burn-rate alerting, as the SRE Workbook (chapter 5,
 * "Alerting on SLOs") defines them. Pure functions: the caller supplies the counts per window.
 */

export interface Counts {
  good: number;
  total: number;
}

/** One alerting condition: both windows must burn faster than `factor`. */
export interface WindowPair {
  longSeconds: number;
  shortSeconds: number;
  factor: number;
}

export interface BurnPolicy {
  page: WindowPair[];
  ticket: WindowPair[];
}

/** The Workbook's table for a 30-day budget: 2% in 1h or 5% in 6h pages; 10% in 1d or 3d tickets. */
export const DEFAULT_BURN_POLICY: BurnPolicy = {
  page: [
    { longSeconds: 3600, shortSeconds: 300, factor: 14.4 },
    { longSeconds: 6 * 3600, shortSeconds: 1800, factor: 6 },
  ],
  ticket: [
    { longSeconds: 86400, shortSeconds: 2 * 3600, factor: 3 },
    { longSeconds: 3 * 86400, shortSeconds: 6 * 3600, factor: 1 },
  ],
};

/** Every window a policy reads, shortest first. */
export function policyWindows(policy: BurnPolicy): number[] {
  const all = new Set<number>();
  for (const p of [...policy.page, ...policy.ticket]) {
    all.add(p.longSeconds);
    all.add(p.shortSeconds);
  }
  return [...all].sort((a, b) => a - b);
}

/** Bad events over all events; 0 when there were none (no traffic burns no budget). */
export function errorRatio(c: Counts): number {
  return c.total > 0 ? (c.total - c.good) / c.total : 0;
}

/** How many times faster than "exactly on budget" the budget is being spent. */
export function burnRate(ratio: number, objective: number): number {
  return ratio / (1 - objective);
}

export interface PairResult extends WindowPair {
  longBurn: number;
  shortBurn: number;
  firing: boolean;
}

export interface BurnEvaluation {
  page: boolean;
  ticket: boolean;
  pairs: { page: PairResult[]; ticket: PairResult[] };
  /** Burn rate per window, keyed by seconds. */
  burnRates: Record<number, number>;
}

/**
 * The error ratio at which a pair triggers: factor × (1 − objective), rounded to 12 significant
 * digits so that the engine and the PromQL literal vigil prints compare against the same double
 * (14.4 × (1 − 0.999) is 0.014400000000000013 in floating point, the intent is 0.0144).
 */
export function burnThreshold(factor: number, objective: number): number {
  return Number((factor * (1 - objective)).toPrecision(12));
}

/**
 * Evaluates the policy: AND within a pair, OR across pairs. A pair triggers when both windows
 * burn *at or above* its factor: spending exactly 2% of a 30-day budget in an hour is the
 * Workbook's definition of the page threshold. The emitted PromQL uses `>=` to match.
 */
export function evaluateBurn(
  countsByWindow: ReadonlyMap<number, Counts>,
  objective: number,
  policy: BurnPolicy = DEFAULT_BURN_POLICY,
): BurnEvaluation {
  const burnRates: Record<number, number> = {};
  const burnOf = (seconds: number) => {
    const c = countsByWindow.get(seconds);
    if (!c) throw new Error(`no counts for the ${seconds}s window`);
    return (burnRates[seconds] ??= burnRate(errorRatio(c), objective));
  };
  const judge = (pairs: WindowPair[]): PairResult[] =>
    pairs.map((p) => {
      const longBurn = burnOf(p.longSeconds);
      const shortBurn = burnOf(p.shortSeconds);
      // Compare ratios, not burns, exactly as the PromQL does: ratio >= factor * (1 - objective).
      const threshold = burnThreshold(p.factor, objective);
      const longRatio = errorRatio(countsByWindow.get(p.longSeconds)!);
      const shortRatio = errorRatio(countsByWindow.get(p.shortSeconds)!);
      return { ...p, longBurn, shortBurn, firing: longRatio >= threshold && shortRatio >= threshold };
    });
  const page = judge(policy.page);
  const ticket = judge(policy.ticket);
  return { page: page.some((p) => p.firing), ticket: ticket.some((p) => p.firing), pairs: { page, ticket }, burnRates };
}

export interface BudgetStatus {
  /** Fraction of the window's error budget left; negative once overspent. */
  remaining: number;
  /** Seconds until the budget is gone at the current burn rate; null when not burning. */
  secondsToExhaustion: number | null;
}

/**
 * Budget left over the SLO window and when it runs out if the recent burn rate (e.g. the 1h
 * window's) continues.
 */
export function errorBudget(
  windowCounts: Counts,
  objective: number,
  windowSeconds: number,
  currentBurnRate: number,
): BudgetStatus {
  const remaining = 1 - burnRate(errorRatio(windowCounts), objective);
  if (currentBurnRate <= 0) return { remaining, secondsToExhaustion: null };
  // Burning at rate b spends the whole budget in windowSeconds / b.
  return { remaining, secondsToExhaustion: Math.max(0, (remaining * windowSeconds) / currentBurnRate) };
}

/** A policy from vigil.yaml's slo_engine.burn_windows (durations as text). */
export function policyFromConfig(
  windows: Record<'page' | 'ticket', Array<{ long: string; short: string; factor: number }>>,
  parse: (d: string) => number,
): BurnPolicy {
  const pairs = (list: Array<{ long: string; short: string; factor: number }>) =>
    list.map((p) => ({ longSeconds: parse(p.long), shortSeconds: parse(p.short), factor: p.factor }));
  return { page: pairs(windows.page), ticket: pairs(windows.ticket) };
}
