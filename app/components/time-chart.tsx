'use client';

import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { trimNumber } from '../lib/format';

export interface ChartSeries {
  label: string;
  /** One value per time; null where there is nothing to plot (a gap, not a zero). */
  values: Array<number | null>;
}

export interface TimeChartProps {
  title: string;
  /** The y axis' unit, shown on the axis and after each value ("ms", "req/min", "%"). */
  unit: string;
  /** Epoch seconds, oldest first. */
  times: number[];
  series: ChartSeries[];
  /** True when the range holds no requests: then the chart says so instead of drawing nothing. */
  empty: boolean;
  kind?: 'line' | 'bars';
  height?: number;
}

const PALETTE = ['#1f5fbf', '#c2410c', '#15803d', '#7c3aed', '#b91c1c', '#0e7490', '#a16207'];

function options(props: TimeChartProps, width: number): uPlot.Options {
  const fmt = (v: number | null) => (v === null || v === undefined ? '–' : `${trimNumber(v)} ${props.unit}`);
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const halfStep = props.kind === 'bars' && props.times.length > 1 ? (props.times[1]! - props.times[0]!) / 2 : 0;
  return {
    width,
    height: props.height ?? 220,
    series: [
      {},
      ...props.series.map((s, i) => {
        const color = PALETTE[i % PALETTE.length]!;
        return props.kind === 'bars'
          ? {
              label: s.label,
              stroke: color,
              fill: `${color}99`,
              width: 1,
              paths: uPlot.paths.bars!({ size: [0.7, 40] }),
              points: { show: false },
              value: (_u: uPlot, v: number | null) => fmt(v),
            }
          : // Points drawn too: a minute with traffic between two without is a lone point, which a line alone would not show.
            {
              label: s.label,
              stroke: color,
              width: 2,
              spanGaps: false,
              points: { show: true, size: 5, fill: color },
              value: (_u: uPlot, v: number | null) => fmt(v),
            };
      }),
    ],
    scales: {
      // Half a step of room on each side, so the first and last bars are drawn whole.
      x: { time: true, range: (_u, min, max) => [min - halfStep, max + halfStep] },
      y: { range: (_u, min, max) => [Math.min(0, min ?? 0), max ? max * 1.1 : 1] },
    },
    axes: [
      { label: `local time (${tz})`, labelSize: 20 },
      { label: props.unit, labelSize: 20, size: 60, values: (_u, splits) => splits.map((v) => trimNumber(v)) },
    ],
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
  };
}

function alignedData(props: TimeChartProps): uPlot.AlignedData {
  return [props.times, ...props.series.map((s) => s.values)] as uPlot.AlignedData;
}

/**
 * A time-series chart (uPlot) that fills its container's width, with the unit on the y axis and
 * times in the browser's local zone. New data from a refresh is drawn in place; the chart is only
 * rebuilt when its set of series changes.
 */
export function TimeChart(props: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = `${props.kind ?? 'line'}|${props.unit}|${props.series.map((s) => s.label).join('\u0000')}`;
  const latest = useRef(props);
  latest.current = props;

  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuilt only when `shape` (the set of series) changes; data goes through setData below
  useEffect(() => {
    const el = box.current;
    if (!el || props.empty) return;
    const u = new uPlot(options(latest.current, el.clientWidth || 600), alignedData(latest.current), el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height: latest.current.height ?? 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape, props.empty]);

  useEffect(() => {
    plot.current?.setData(alignedData(props));
  }, [props]);

  return (
    <figure className="chart">
      <figcaption>
        {props.title} <span className="unit">({props.unit})</span>
      </figcaption>
      {props.empty ? (
        <p className="empty">no requests in this range</p>
      ) : (
        <div ref={box} className="chart-plot" role="img" aria-label={`${props.title}, chart`} />
      )}
    </figure>
  );
}
