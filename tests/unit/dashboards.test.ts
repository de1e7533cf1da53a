import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dashboard, Panel, RowPanel, VariableModel } from '@grafana/schema';
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DATASOURCE, DEFAULT_DATASOURCE_UID, UNITS } from '../../dashboards/builders.ts';
import { buildDashboards, OUTPUT_DIR, renderDashboard } from '../../dashboards/generate.ts';
import { VigilMetrics } from '../../serving/telemetry/metrics.ts';
import { haveProgram } from '../helpers/programs.ts';

/** vigil's metric families (serving/telemetry/metrics.ts), by Prometheus type. */
const FAMILIES: Record<string, 'counter' | 'gauge' | 'histogram'> = {
  vigil_traffic_weight: 'gauge',
  vigil_mirror_requests_total: 'counter',
  vigil_rollouts_total: 'counter',
  vigil_target_replicas: 'gauge',
  vigil_autoscaler_memory_capped: 'gauge',
  vigil_requests_total: 'counter',
  vigil_request_duration_seconds: 'histogram',
  vigil_queue_wait_seconds: 'histogram',
  vigil_inference_duration_seconds: 'histogram',
  vigil_batch_size: 'histogram',
  vigil_ongoing_requests: 'gauge',
  vigil_queued_requests: 'gauge',
  vigil_rejected_requests_total: 'counter',
  vigil_replicas: 'gauge',
  vigil_replica_restarts_total: 'counter',
  vigil_model_load_seconds: 'histogram',
  vigil_cold_starts_total: 'counter',
  vigil_replica_memory_bytes: 'gauge',
  vigil_replica_cpu_seconds_total: 'counter',
  vigil_event_loop_lag_seconds: 'gauge',
  vigil_build_info: 'gauge',
  vigil_leader: 'gauge',
  vigil_state_in_sync: 'gauge',
  vigil_leader_fenced_writes_total: 'counter',
  vigil_state_resyncs_total: 'counter',
  vigil_probe_results_total: 'counter',
  vigil_probe_duration_seconds: 'histogram',
  vigil_prediction_drift: 'gauge',
  vigil_host_temperature_celsius: 'gauge',
  vigil_host_cpu_frequency_ratio: 'gauge',
  vigil_host_pressure_ratio: 'gauge',
  vigil_host_throttle_events: 'gauge',
  vigil_heat_capped: 'gauge',
  vigil_node_info: 'gauge',
};

/** Series names a query may select: counters and gauges as named, histograms only through their suffixes. */
const VIGIL_SERIES = new Set(
  Object.entries(FAMILIES).flatMap(([name, type]) =>
    type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => name + s) : [name],
  ),
);

/** Recording rules dashboards may use before the rules exist (the panels say "No data" until then). */
const RECORDING_RULES = new Set(['slo:error_budget:remaining']);

/** prom-client's default process_* and nodejs_* metrics, as vigil's registry exports them. */
function defaultMetricSeries(): Set<string> {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const names = registry.getMetricsAsArray().map((m) => m.name);
  return new Set(names.flatMap((n) => [n, `${n}_bucket`, `${n}_sum`, `${n}_count`]));
}

const dashboards = buildDashboards();

type AnyPanel = Panel | RowPanel;
const isRow = (p: AnyPanel): p is RowPanel => p.type === 'row';

function panelsOf(d: Dashboard): AnyPanel[] {
  return d.panels ?? [];
}

interface Expr {
  where: string;
  expr: string;
}

/** Every PromQL expression in a dashboard: panel targets and query variables. */
function exprsOf(file: string, d: Dashboard): Expr[] {
  const out: Expr[] = [];
  for (const p of panelsOf(d)) {
    if (isRow(p)) continue;
    for (const t of p.targets ?? [])
      out.push({ where: `${file} panel "${p.title}" ${String(t.refId)}`, expr: String(t.expr) });
  }
  for (const v of d.templating?.list ?? []) {
    if (v.type === 'query')
      out.push({
        where: `${file} variable ${v.name}`,
        expr: typeof v.query === 'string' ? v.query : String((v.query as { query?: unknown })?.query),
      });
  }
  return out;
}

/** Grafana's variables replaced by stand-ins Prometheus accepts, so the PromQL can be parsed. */
function substitute(expr: string): string {
  const out = expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__range', '1h')
    .replaceAll('$__interval', '1m')
    .replaceAll('$deployment', '.*');
  if (out.includes('$')) throw new Error(`no stand-in for a variable in: ${expr}`);
  return out;
}

describe('generated Grafana dashboards', () => {
  it('match the committed JSON in dashboards/grafana (run `npm run dashboards` after editing dashboards/)', () => {
    const committed = existsSync(OUTPUT_DIR)
      ? readdirSync(OUTPUT_DIR)
          .filter((f) => f.endsWith('.json'))
          .sort()
      : [];
    expect(
      committed,
      'dashboards/grafana holds other files than the generator writes: run `npm run dashboards`',
    ).toEqual(Object.keys(dashboards).sort());
    for (const [file, d] of Object.entries(dashboards)) {
      const onDisk = readFileSync(join(OUTPUT_DIR, file), 'utf8');
      expect(
        onDisk,
        `dashboards/grafana/${file} is out of date with dashboards/definitions: run \`npm run dashboards\` and commit the result`,
      ).toBe(renderDashboard(d));
    }
  });

  it('have fixed uids and the datasource and deployment variables', () => {
    expect(Object.keys(dashboards).sort()).toEqual(['vigil-debug.json', 'vigil-executive.json', 'vigil-oncall.json']);
    for (const [file, d] of Object.entries(dashboards)) {
      expect(`${d.uid}.json`).toBe(file);
      const vars = new Map<string, VariableModel>((d.templating?.list ?? []).map((v) => [v.name, v]));
      expect(vars.get('datasource')).toMatchObject({
        type: 'datasource',
        query: 'prometheus',
        current: { value: DEFAULT_DATASOURCE_UID },
      });
      expect(vars.get('deployment')).toMatchObject({
        type: 'query',
        multi: true,
        includeAll: true,
        datasource: DATASOURCE,
        query: 'label_values(vigil_requests_total, deployment)',
      });
    }
  });

  it('give every panel the datasource variable, a unit, a description, a unique id and a grid position', () => {
    for (const [file, d] of Object.entries(dashboards)) {
      const ids = new Set<number>();
      const cells = new Set<string>();
      for (const p of panelsOf(d)) {
        const where = `${file} panel "${p.title}"`;
        expect(p.id, `${where} has no id`).toBeTypeOf('number');
        expect(ids.has(p.id!), `${where}: id ${p.id} is used twice`).toBe(false);
        ids.add(p.id!);
        expect(p.gridPos, `${where} has no gridPos`).toBeDefined();
        const { x, y, w, h } = p.gridPos!;
        expect(x + w, `${where} is wider than the grid`).toBeLessThanOrEqual(24);
        for (let i = x; i < x + w; i++) {
          for (let j = y; j < y + h; j++) {
            expect(cells.has(`${i},${j}`), `${where} overlaps another panel at ${i},${j}`).toBe(false);
            cells.add(`${i},${j}`);
          }
        }
        if (isRow(p)) continue;
        expect(p.datasource, `${where}: datasource`).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(p.description?.trim(), `${where} has no description`).toBeTruthy();
        expect(UNITS, `${where}: unit ${p.fieldConfig?.defaults.unit}`).toContain(p.fieldConfig?.defaults.unit);
        expect(p.targets?.length, `${where} has no query`).toBeGreaterThan(0);
        for (const t of p.targets ?? []) {
          expect(t.datasource, `${where} query ${String(t.refId)}: datasource`).toEqual({
            type: 'prometheus',
            uid: '${datasource}',
          });
          expect(String(t.expr).trim(), `${where} query ${String(t.refId)} is empty`).toBeTruthy();
        }
      }
    }
  });

  it('query only metrics vigil exports (and the SLO recording rule)', () => {
    const defaults = defaultMetricSeries();
    const unknown: string[] = [];
    for (const [file, d] of Object.entries(dashboards)) {
      for (const { where, expr } of exprsOf(file, d)) {
        for (const name of expr.match(/\bvigil_[a-z_]+/g) ?? [])
          if (!VIGIL_SERIES.has(name)) unknown.push(`${where}: ${name}`);
        for (const name of expr.match(/\b(?:process|nodejs)_[a-z_]+/g) ?? [])
          if (!defaults.has(name)) unknown.push(`${where}: ${name}`);
        for (const name of expr.match(/\bslo:[a-z_:]+/g) ?? [])
          if (!RECORDING_RULES.has(name)) unknown.push(`${where}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('group histogram_quantile by le', () => {
    for (const [file, d] of Object.entries(dashboards)) {
      for (const { where, expr } of exprsOf(file, d)) {
        for (const m of expr.matchAll(/histogram_quantile\(\s*[\d.]+\s*,\s*sum by \(([^)]*)\)/g)) {
          expect(
            m[1]!.split(',').map((s) => s.trim()),
            `${where}: ${expr}`,
          ).toContain('le');
        }
        if (expr.includes('histogram_quantile'))
          expect(expr, where).toMatch(/histogram_quantile\(\s*[\d.]+\s*,\s*sum by \(/);
      }
    }
  });

  it('use metric families that serving/telemetry/metrics.ts really registers, with the same types', () => {
    const metrics = new VigilMetrics(() => [], { deployments: () => [], memoryCapped: () => false });
    metrics.observeCluster(() => ({ isLeader: true, epoch: 1, fencedWrites: 0, inSync: true, resyncs: 0 }));
    try {
      const registered = new Map(
        metrics.registry.getMetricsAsArray().map((m) => [m.name, (m as unknown as { type: string }).type]),
      );
      for (const [name, type] of Object.entries(FAMILIES)) expect(registered.get(name), name).toBe(type);
    } finally {
      metrics.stop();
    }
  });

  it('contain only PromQL that promtool parses', async (ctx) => {
    if (!haveProgram('promtool', "checks the dashboards' PromQL")) return ctx.skip();
    const exprs = Object.entries(dashboards)
      .flatMap(([file, d]) => exprsOf(file, d))
      .filter((e) => !e.expr.startsWith('label_values('));
    expect(exprs.length).toBeGreaterThan(20);
    const rules = {
      groups: [
        {
          name: 'vigil-dashboards',
          rules: exprs.map((e, i) => ({ record: `vigil:test:expr_${i}`, expr: substitute(e.expr) })),
        },
      ],
    };
    const dir = mkdtempSync(join(tmpdir(), 'vigil-dashboards-'));
    const file = join(dir, 'rules.yml');
    writeFileSync(file, stringify(rules));
    let output: string;
    try {
      output = execFileSync('promtool', ['check', 'rules', file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      const text = `${e.stdout ?? ''}${e.stderr ?? ''}`;
      const failing = [...new Set([...text.matchAll(/vigil:test:expr_(\d+)/g)].map((m) => Number(m[1])))];
      const which = failing
        .map((i) => `  vigil:test:expr_${i} is ${exprs[i]!.where}:\n    ${exprs[i]!.expr.replaceAll('\n', ' ')}`)
        .join('\n');
      throw new Error(`promtool rejected a dashboard expression:\n${text}\n${which}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(output).toContain(`SUCCESS: ${exprs.length} rules found`);
  });
});
