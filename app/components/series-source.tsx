import type { Series } from '../lib/series';

/** Says where a chart's numbers come from: they differ in how far back they reach. */
export function SeriesSource({ series }: { series: Series }) {
  return (
    <p className="muted">
      Source:{' '}
      {series.source === 'prometheus'
        ? 'Prometheus'
        : "vigil's request history (every node's requests, counted per minute)"}
      , one point per {series.step_seconds} s.
    </p>
  );
}
