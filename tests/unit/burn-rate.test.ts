import { describe, expect, it } from 'vitest';
import {
  burnRate,
  burnThreshold,
  DEFAULT_BURN_POLICY,
  errorBudget,
  errorRatio,
  evaluateBurn,
  policyWindows,
  type Counts,
} from '../../slo/burn-rate.ts';
import { SliWindow } from '../../slo/sli-window.ts';

const countsAt = (ratios: Record<number, number>, total = 100_000): Map<number, Counts> =>
  new Map(
    policyWindows(DEFAULT_BURN_POLICY).map((w) => [w, { good: Math.round(total * (1 - (ratios[w] ?? 0))), total }]),
  );

describe('burn-rate math (SRE Workbook, chapter 5)', () => {
  it('burn = error ratio / (1 - objective)', () => {
    expect(burnRate(0.0144, 0.999)).toBeCloseTo(14.4, 9);
    expect(burnRate(0.001, 0.999)).toBeCloseTo(1, 9);
    expect(errorRatio({ good: 0, total: 0 })).toBe(0);
    expect(burnThreshold(14.4, 0.999)).toBe(0.0144);
    expect(burnThreshold(6, 0.999)).toBe(0.006);
  });

  it('a 99.9% SLO at a constant 1.44% error ratio pages through the 1h/5m pair (burn exactly 14.4)', () => {
    const all = Object.fromEntries(policyWindows(DEFAULT_BURN_POLICY).map((w) => [w, 0.0144]));
    const e = evaluateBurn(countsAt(all), 0.999);
    expect(e.page).toBe(true);
    expect(e.pairs.page[0]!.firing).toBe(true);
    expect(e.pairs.page[0]!.longBurn).toBeCloseTo(14.4, 6);
    // It is also far above the ticket thresholds.
    expect(e.ticket).toBe(true);
  });

  it('1.43% does not page through the 1h/5m pair, but 6h/30m at 6x does', () => {
    const e = evaluateBurn(countsAt({ 3600: 0.0143, 300: 0.0143, 21600: 0.0143, 1800: 0.0143 }), 0.999);
    expect(e.pairs.page[0]!.firing).toBe(false);
    expect(e.pairs.page[1]!.firing).toBe(true);
    expect(e.page).toBe(true);
  });

  it('needs both windows of a pair: a short spike alone does not page', () => {
    const e = evaluateBurn(countsAt({ 300: 0.5, 1800: 0.5 }), 0.999);
    expect(e.page).toBe(false);
    // ...and a long burn that has already stopped does not page either.
    expect(evaluateBurn(countsAt({ 3600: 0.05, 21600: 0.05 }), 0.999).page).toBe(false);
  });

  it('tickets when 1d and 2h burn at 3x, or 3d and 6h at 1x', () => {
    expect(evaluateBurn(countsAt({ 86400: 0.003, 7200: 0.003 }), 0.999).ticket).toBe(true);
    expect(evaluateBurn(countsAt({ 86400: 0.0029, 7200: 0.003 }), 0.999).ticket).toBe(false);
    expect(evaluateBurn(countsAt({ 259200: 0.001, 21600: 0.001 }), 0.999).ticket).toBe(true);
  });

  it('reports budget remaining and time to exhaustion', () => {
    // 28-day window, 99.9%: 0.05% errors so far spends half the budget.
    const b = errorBudget({ good: 999_500, total: 1_000_000 }, 0.999, 28 * 86400, 2);
    expect(b.remaining).toBeCloseTo(0.5, 9);
    // At burn 2 the whole budget lasts 14 days; half of it lasts 7.
    expect(b.secondsToExhaustion).toBeCloseTo(7 * 86400, 3);
    expect(errorBudget({ good: 10, total: 10 }, 0.999, 86400, 0).secondsToExhaustion).toBeNull();
    expect(errorBudget({ good: 990, total: 1000 }, 0.999, 86400, 1).remaining).toBeCloseTo(-9, 9);
  });
});

describe('SliWindow', () => {
  it('sums buckets inside a window and filters by key', () => {
    const w = new SliWindow(10_000);
    const t0 = 1_000_000_000;
    for (let i = 0; i < 60; i++) w.add(i % 2 ? 'a' : 'b', t0 + i * 10_000, 9, 10);
    const now = t0 + 59 * 10_000;
    expect(w.totals(now, 60_000)).toEqual({ good: 9 * 7, total: 70 });
    expect(w.totals(now, 600_000)).toEqual({ good: 540, total: 600 });
    expect(w.totals(now, 600_000, (k) => k === 'a')).toEqual({ good: 270, total: 300 });
    w.prune(now + 3 * 86_400_000 + 3_600_000 + 1);
    expect(w.totals(now, 600_000)).toEqual({ good: 0, total: 0 });
  });
});

describe('configurable burn windows', () => {
  it('reads the table from vigil.yaml and rejects pairs whose short window is not shorter', async () => {
    const { configSchema } = await import('../../serving/config/schema.ts');
    const { policyFromConfig } = await import('../../slo/burn-rate.ts');
    const { parseDuration } = await import('../../slo/duration.ts');
    const base = { deployments: [{ name: 'a', model: 'm.onnx' }] };
    const defaults = configSchema.parse(base);
    expect(policyFromConfig(defaults.slo_engine.burn_windows, parseDuration)).toEqual(DEFAULT_BURN_POLICY);
    const custom = configSchema.parse({
      ...base,
      slo_engine: {
        burn_windows: {
          page: [{ long: '30m', short: '2m', factor: 20 }],
          ticket: [{ long: '1d', short: '1h', factor: 2 }],
        },
      },
    });
    const policy = policyFromConfig(custom.slo_engine.burn_windows, parseDuration);
    expect(policy.page).toEqual([{ longSeconds: 1800, shortSeconds: 120, factor: 20 }]);
    expect(policyWindows(policy)).toEqual([120, 1800, 3600, 86400]);
    const bad = configSchema.safeParse({
      ...base,
      slo_engine: {
        burn_windows: {
          page: [{ long: '5m', short: '1h', factor: 2 }],
          ticket: [{ long: '7d', short: '1h', factor: 1 }],
        },
      },
    });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.'))).toEqual([
      'slo_engine.burn_windows.page.0.short',
      'slo_engine.burn_windows.ticket.0.long',
    ]);
  });
});
