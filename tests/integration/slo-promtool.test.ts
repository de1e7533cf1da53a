import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { AlertStatus } from '../../slo/alert-state.ts';
import type { SloDefinition } from '../../slo/definition.ts';
import { evaluateSlo, sliKey, type Severity } from '../../slo/evaluate-slo.ts';
import { buildRuleGroups, renderRules } from '../../slo/prometheus-rules.ts';
import { SliWindow } from '../../slo/sli-window.ts';
import { haveProgram } from '../helpers/programs.ts';

/** Requests per minute and how many of them fail, minute by minute. */
type Scenario = Array<{ total: number; bad: number }>;

function scenario(parts: Array<[minutes: number, total: number, badRatio: number]>): Scenario {
  return parts.flatMap(([minutes, total, ratio]) =>
    Array.from({ length: minutes }, () => ({ total, bad: Math.round(total * ratio) })),
  );
}

const SLO: SloDefinition = {
  id: 'cls-availability',
  deployment: 'cls',
  version: null,
  kind: 'availability',
  objective: 0.999,
  windowSeconds: 28 * 86400,
  latencyThresholdSeconds: null,
};

/** Runs the real engine (fake clock, one evaluation per minute) and returns, per minute, which alerts fire. */
function runEngine(traffic: Scenario): Array<Record<Severity, boolean>> {
  const window = new SliWindow(10_000);
  let previous: Partial<Record<Severity, AlertStatus>> = {};
  const out: Array<Record<Severity, boolean>> = [{ page: false, ticket: false }];
  traffic.forEach((m, i) => {
    // Minute i's events happen during (i, i+1]; Prometheus sees them in the sample at i+1.
    window.add(sliKey(SLO.id, 'v1'), i * 60_000 + 30_000, m.total - m.bad, m.total);
    const now = (i + 1) * 60_000;
    const e = evaluateSlo(SLO, window, now, previous);
    previous = { page: e.alerts.page.status, ticket: e.alerts.ticket.status };
    out.push({ page: e.alerts.page.status.state === 'firing', ticket: e.alerts.ticket.status.state === 'firing' });
  });
  return out;
}

function cumulative(values: number[]): string {
  let sum = 0;
  return [0, ...values.map((v) => (sum += v))].join(' ');
}

describe('the SLO engine and Prometheus agree on when alerts fire', () => {
  const cases: Array<[string, Scenario]> = [
    [
      'a sudden 20% failure for an hour, then recovery',
      scenario([
        [180, 1000, 0],
        [60, 1000, 0.2],
        [60, 1000, 0],
      ]),
    ],
    [
      'a slow 0.4% leak for four hours',
      scenario([
        [60, 1200, 0],
        [240, 1200, 0.004],
      ]),
    ],
    [
      'a 100% outage for ten minutes',
      scenario([
        [120, 600, 0],
        [10, 600, 1],
        [50, 600, 0],
      ]),
    ],
  ];

  for (const [name, traffic] of cases) {
    it(name, async (ctx) => {
      if (!haveProgram('promtool', 'evaluates the emitted rules')) return ctx.skip();
      const engine = runEngine(traffic);
      expect(engine.some((m) => m.page || m.ticket)).toBe(true);

      // Compare at every minute except the one right after the engine changes its mind:
      // rate() over samples 1 m apart can cross a threshold one evaluation later or sooner than
      // the engine's exact 10 s buckets. Everywhere else the answers must be identical.
      const times: number[] = [];
      for (let t = 2; t < engine.length; t++) {
        const changed = (['page', 'ticket'] as const).some(
          (s) => engine[t]![s] !== engine[t - 1]![s] || (t + 1 < engine.length && engine[t + 1]![s] !== engine[t]![s]),
        );
        if (!changed) times.push(t);
      }
      expect(times.length).toBeGreaterThan(engine.length * 0.8);

      const rules = buildRuleGroups([SLO]);
      const alertNames: Record<Severity, string> = {
        page: 'VigilErrorBudgetBurnPage',
        ticket: 'VigilErrorBudgetBurnTicket',
      };
      const annotations = (sev: Severity) =>
        (
          rules.groups[1]!.rules.find((r) => 'alert' in r && r.alert === alertNames[sev]) as {
            annotations: Record<string, string>;
          }
        ).annotations;
      const dir = mkdtempSync(join(tmpdir(), 'vigil-promtool-'));
      writeFileSync(join(dir, 'rules.yml'), renderRules([SLO]));
      const test = {
        rule_files: ['rules.yml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [
              {
                series: 'vigil_requests_total{deployment="cls",version="v1",code="200"}',
                values: cumulative(traffic.map((m) => m.total - m.bad)),
              },
              {
                series: 'vigil_requests_total{deployment="cls",version="v1",code="500"}',
                values: cumulative(traffic.map((m) => m.bad)),
              },
            ],
            alert_rule_test: times.flatMap((t) =>
              (['page', 'ticket'] as const).map((sev) => ({
                eval_time: `${t}m`,
                alertname: alertNames[sev],
                exp_alerts: engine[t]![sev]
                  ? [
                      {
                        exp_labels: { slo_id: SLO.id, deployment: 'cls', slo_kind: 'availability', severity: sev },
                        exp_annotations: annotations(sev),
                      },
                    ]
                  : [],
              })),
            ),
          },
        ],
      };
      writeFileSync(join(dir, 'test.yml'), stringify(test, { lineWidth: 0 }));
      try {
        execFileSync('promtool', ['test', 'rules', join(dir, 'test.yml')], { encoding: 'utf8', stdio: 'pipe' });
      } catch (err) {
        const e = err as { stdout: string; stderr: string };
        throw new Error(`promtool disagrees with the engine:\n${(e.stdout + e.stderr).slice(0, 3000)}`);
      }
    });
  }
});

describe('the committed promtool files', () => {
  it('match what `vigil slo rules` emits for the repo config, and their unit tests pass', async (ctx) => {
    const { readFileSync } = await import('node:fs');
    const { loadConfig } = await import('../../serving/config/load-config.ts');
    const { slosFromConfig } = await import('../../slo/definition.ts');
    const root = new URL('../..', import.meta.url).pathname;
    const expected = renderRules(loadConfig(join(root, 'vigil.yaml')).deployments.flatMap(slosFromConfig));
    const committed = readFileSync(join(root, 'tests/promtool/vigil-slo.rules.yml'), 'utf8');
    expect(committed, 'run: npx vigil slo rules -o tests/promtool/vigil-slo.rules.yml').toBe(expected);
    if (!haveProgram('promtool', 'runs the committed rule unit tests')) return ctx.skip();
    execFileSync('promtool', ['check', 'rules', join(root, 'tests/promtool/vigil-slo.rules.yml')], { stdio: 'pipe' });
    execFileSync('promtool', ['test', 'rules', join(root, 'tests/promtool/vigil-slo.test.yml')], { stdio: 'pipe' });
  });
});
