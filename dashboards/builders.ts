/**
 * Small, typed builders for vigil's Grafana dashboards. Only *types* come from @grafana/schema
 * (its runtime package is large); the builders return plain objects that generate.ts serialises.
 *
 * Conventions every panel follows (tests/unit/dashboards.test.ts enforces them):
 * - the datasource is the `${datasource}` variable, on the panel and on each query;
 * - a unit is set (one of UNITS) and a description says what the panel shows and how to read it;
 * - ids and grid positions are assigned by `layout`, never by hand.
 */
import type {
  Dashboard,
  DashboardLink,
  DataSourceRef,
  FieldColorModeId,
  FieldConfigSource,
  GridPos,
  Panel,
  RowPanel,
  ThresholdsConfig,
  ThresholdsMode,
  VariableModel,
  VariableRefresh,
  VariableSort,
} from '@grafana/schema';

/** The datasource every panel and query uses: the dashboard's `datasource` variable. */
export const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/**
 * The uid the datasource variable selects by default; deploy/compose provisions Prometheus with
 * this uid (tests/unit/compose.test.ts checks they agree).
 */
export const DEFAULT_DATASOURCE_UID = 'prometheus';

/** Units a panel may use: seconds, requests per second, 0..1 ratios, bytes, plain numbers. */
export const UNITS = ['s', 'reqps', 'percentunit', 'bytes', 'short'] as const;
export type Unit = (typeof UNITS)[number];

/** The label matcher every vigil query carries, bound to the `deployment` variable. */
export const SEL = 'deployment=~"$deployment"';

/** Grafana schema version the generated JSON declares (Grafana 11.x); newer Grafanas migrate it. */
export const SCHEMA_VERSION = 39;

export interface Query {
  expr: string;
  /** Legend template, e.g. `{{deployment}}`. */
  legend?: string;
  /** Evaluate once at the end of the range (stat panels over `$__range`). */
  instant?: boolean;
  /** `heatmap` for `_bucket` series drawn as a heatmap or as bars. */
  format?: 'time_series' | 'heatmap' | 'table';
  /** Ask Prometheus for exemplars (trace ids) along with the series. */
  exemplar?: boolean;
}

export interface PanelOptions {
  title: string;
  description: string;
  unit: Unit;
  queries: Query[];
  decimals?: number;
  min?: number;
  max?: number;
  thresholds?: Array<[number | null, string]>;
}

function targets(queries: Query[]): Array<Record<string, unknown>> {
  return queries.map((q, i) => ({
    datasource: DATASOURCE,
    editorMode: 'code',
    exemplar: q.exemplar ?? false,
    expr: q.expr,
    format: q.format ?? 'time_series',
    instant: q.instant ?? false,
    legendFormat: q.legend ?? '__auto',
    range: !(q.instant ?? false),
    refId: String.fromCharCode(65 + i),
  }));
}

function thresholds(steps: Array<[number | null, string]> | undefined): ThresholdsConfig {
  const list = steps ?? [[null, 'green']];
  return { mode: 'absolute' as ThresholdsMode, steps: list.map(([value, color]) => ({ color, value })) };
}

function fieldDefaults(o: PanelOptions, custom: Record<string, unknown> = {}): FieldConfigSource {
  return {
    defaults: {
      color: { mode: (o.thresholds ? 'thresholds' : 'palette-classic') as FieldColorModeId },
      custom,
      ...(o.decimals === undefined ? {} : { decimals: o.decimals }),
      ...(o.min === undefined ? {} : { min: o.min }),
      ...(o.max === undefined ? {} : { max: o.max }),
      thresholds: thresholds(o.thresholds),
      unit: o.unit,
    },
    overrides: [],
  };
}

/** A line chart of one or more queries over time. */
export function timeseries(o: PanelOptions & { stack?: boolean; legendCalcs?: string[] }): Panel {
  return {
    datasource: DATASOURCE,
    description: o.description,
    fieldConfig: fieldDefaults(o, {
      drawStyle: 'line',
      fillOpacity: o.stack ? 40 : 10,
      lineWidth: 1,
      showPoints: 'never',
      spanNulls: false,
      stacking: { group: 'A', mode: o.stack ? 'normal' : 'none' },
    }),
    options: {
      legend: {
        calcs: o.legendCalcs ?? [],
        displayMode: o.legendCalcs?.length ? 'table' : 'list',
        placement: 'bottom',
        showLegend: true,
      },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
    targets: targets(o.queries),
    title: o.title,
    type: 'timeseries',
  };
}

/** One big number (the last value), with an optional sparkline and threshold colours. */
export function stat(o: PanelOptions & { sparkline?: boolean }): Panel {
  return {
    datasource: DATASOURCE,
    description: o.description,
    fieldConfig: fieldDefaults(o),
    options: {
      colorMode: o.thresholds ? 'background' : 'value',
      graphMode: o.sparkline ? 'area' : 'none',
      justifyMode: 'auto',
      orientation: 'auto',
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      textMode: 'auto',
    },
    targets: targets(o.queries),
    title: o.title,
    type: 'stat',
  };
}

/**
 * A Prometheus histogram drawn as a heatmap over time: the query must return `_bucket` series
 * (`sum by (le) (increase(x_bucket[...]))`), which `format: heatmap` turns into per-bucket counts.
 * `unit` is the cell (count) unit; `bucketUnit` the unit of the `le` axis.
 */
export function heatmap(o: PanelOptions & { bucketUnit: Unit }): Panel {
  return {
    datasource: DATASOURCE,
    description: o.description,
    fieldConfig: fieldDefaults(o, {
      hideFrom: { legend: false, tooltip: false, viz: false },
      scaleDistribution: { type: 'linear' },
    }),
    options: {
      calculate: false,
      cellGap: 1,
      color: {
        exponent: 0.5,
        fill: 'dark-orange',
        mode: 'scheme',
        reverse: false,
        scale: 'exponential',
        scheme: 'Oranges',
        steps: 64,
      },
      exemplars: { color: 'rgba(255,0,255,0.7)' },
      filterValues: { le: 1e-9 },
      legend: { show: true },
      rowsFrame: { layout: 'auto' },
      tooltip: { mode: 'single', show: true, yHistogram: true },
      yAxis: { axisPlacement: 'left', reverse: false, unit: o.bucketUnit },
    },
    targets: targets(o.queries.map((q) => ({ ...q, format: 'heatmap', legend: q.legend ?? '{{le}}' }))),
    title: o.title,
    type: 'heatmap',
  };
}

/**
 * A Prometheus histogram's distribution over the whole time range, one bar per bucket: the query
 * must return `_bucket` series summed by `le` (usually `increase(...[$__range])`, instant).
 */
export function histogramBars(o: PanelOptions): Panel {
  return {
    datasource: DATASOURCE,
    description: o.description,
    fieldConfig: fieldDefaults(o),
    options: {
      displayMode: 'gradient',
      maxVizHeight: 300,
      minVizHeight: 16,
      minVizWidth: 8,
      namePlacement: 'auto',
      orientation: 'vertical',
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      showUnfilled: true,
      sizing: 'auto',
      valueMode: 'color',
    },
    targets: targets(
      o.queries.map((q) => ({ ...q, format: 'heatmap', instant: q.instant ?? true, legend: q.legend ?? '{{le}}' })),
    ),
    title: o.title,
    type: 'bargauge',
  };
}

/** A panel with its size on the 24-column grid. */
export interface Sized {
  panel: Panel;
  w: number;
  h: number;
}

export function size(panel: Panel, w: number, h = 8): Sized {
  if (w < 1 || w > 24) throw new Error(`panel "${panel.title}": width ${w} is outside 1..24`);
  return { panel, w, h };
}

/** A titled, expanded row followed by its panels. */
export interface Row {
  title: string;
  panels: Sized[];
}

export function row(title: string, ...panels: Sized[]): Row {
  return { title, panels };
}

/**
 * Lays rows out top to bottom and their panels left to right, wrapping at 24 columns, and numbers
 * every panel (rows included) from 1, so ids are unique and positions never overlap.
 */
export function layout(rows: Row[]): Array<Panel | RowPanel> {
  const out: Array<Panel | RowPanel> = [];
  let id = 1;
  let y = 0;
  for (const r of rows) {
    const rowPanel: RowPanel = {
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      id: id++,
      panels: [],
      title: r.title,
      type: 'row',
    };
    out.push(rowPanel);
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const { panel, w, h } of r.panels) {
      if (x + w > 24) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      const gridPos: GridPos = { h, w, x, y };
      out.push({ ...panel, gridPos, id: id++ });
      x += w;
      lineHeight = Math.max(lineHeight, h);
    }
    y += lineHeight;
  }
  return out;
}

/** The `datasource` variable: any Prometheus datasource, defaulting to the provisioned one. */
export function datasourceVariable(): VariableModel {
  return {
    current: { selected: true, text: 'Prometheus', value: DEFAULT_DATASOURCE_UID },
    hide: 0,
    includeAll: false,
    label: 'Data source',
    multi: false,
    name: 'datasource',
    options: [],
    query: 'prometheus',
    refresh: 1 as VariableRefresh,
    regex: '',
    type: 'datasource',
  };
}

/** Where the `deployment` variable's values come from. */
export const DEPLOYMENT_QUERY = 'label_values(vigil_requests_total, deployment)';

/** The `deployment` variable: every deployment vigil has answered requests for; All by default. */
export function deploymentVariable(): VariableModel {
  return {
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    datasource: DATASOURCE,
    hide: 0,
    includeAll: true,
    label: 'Deployment',
    multi: true,
    name: 'deployment',
    options: [],
    query: DEPLOYMENT_QUERY,
    refresh: 2 as VariableRefresh,
    regex: '',
    sort: 1 as VariableSort,
    type: 'query',
  };
}

export interface DashboardOptions {
  uid: string;
  title: string;
  description: string;
  rows: Row[];
  /** Default time range, e.g. `now-6h`. */
  from?: string;
}

/** A vigil dashboard: both variables, links to the other vigil dashboards, 30 s refresh. */
export function dashboard(o: DashboardOptions): Dashboard {
  const links: DashboardLink[] = [
    {
      asDropdown: true,
      icon: 'external link',
      includeVars: true,
      keepTime: true,
      tags: ['vigil'],
      targetBlank: false,
      title: 'vigil',
      tooltip: '',
      type: 'dashboards',
      url: '',
    },
  ];
  return {
    annotations: { list: [] },
    description: o.description,
    editable: false,
    graphTooltip: 1,
    id: null,
    links,
    panels: layout(o.rows),
    refresh: '30s',
    schemaVersion: SCHEMA_VERSION,
    tags: ['vigil'],
    templating: { list: [datasourceVariable(), deploymentVariable()] },
    time: { from: o.from ?? 'now-3h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    title: o.title,
    uid: o.uid,
    version: 1,
  };
}
